"""Fq, Fq2, Fr arithmetic: both twins against galois (Fq, Fr) and py_ecc (Fq2), and each other."""

import galois
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.fields import bn128_FQ2 as FQ2

import prover.field
import prover.reference.field
from prover import convert
from prover.constants import MONT_R, Q, R

GF_Q = galois.GF(Q, primitive_element=3, verify=False)
GF_R = galois.GF(R, primitive_element=5, verify=False)

fq_values = st.lists(st.one_of(st.integers(0, Q - 1), st.sampled_from([0, 1, 2, Q - 1, Q - 2, MONT_R % Q])),
                     min_size=1, max_size=12)
fr_values = st.lists(st.one_of(st.integers(0, R - 1), st.sampled_from([0, 1, R - 1, MONT_R % R])),
                     min_size=1, max_size=12)
TWINS = [prover.field, prover.reference.field]


def _gf(GF, values):
    return GF(np.array(values, dtype=object))


@pytest.mark.parametrize("F", TWINS, ids=["numba", "python"])
@settings(max_examples=40, deadline=None)
@given(xs=fq_values, data=st.data())
def test_fq_operations_equal_galois(F, xs, data):
    ys = data.draw(st.lists(st.integers(0, Q - 1), min_size=len(xs), max_size=len(xs)))
    a, b = convert.fq_from_ints(xs), convert.fq_from_ints(ys)
    ga, gb = _gf(GF_Q, xs), _gf(GF_Q, ys)
    assert convert.fq_to_ints(F.fq_mul(a, b)) == [int(v) for v in ga * gb]
    assert convert.fq_to_ints(F.fq_add(a, b)) == [int(v) for v in ga + gb]
    assert convert.fq_to_ints(F.fq_sub(a, b)) == [int(v) for v in ga - gb]
    assert convert.fq_to_ints(F.fq_neg(a)) == [int(v) for v in -ga]
    assert convert.fq_to_ints(F.fq_square(a)) == [int(v) for v in ga * ga]
    nonzero = [x for x in xs if x]
    if nonzero:
        inv = F.fq_inv(convert.fq_from_ints(nonzero))
        assert convert.fq_to_ints(inv) == [int(v) for v in _gf(GF_Q, nonzero) ** -1]


@pytest.mark.parametrize("F", TWINS, ids=["numba", "python"])
@settings(max_examples=40, deadline=None)
@given(xs=fr_values, data=st.data())
def test_fr_operations_equal_galois(F, xs, data):
    ys = data.draw(st.lists(st.integers(0, R - 1), min_size=len(xs), max_size=len(xs)))
    a, b = convert.fr_from_ints(xs), convert.fr_from_ints(ys)
    ga, gb = _gf(GF_R, xs), _gf(GF_R, ys)
    assert convert.fr_to_ints(F.fr_mul(a, b)) == [int(v) for v in ga * gb]
    assert convert.fr_to_ints(F.fr_add(a, b)) == [int(v) for v in ga + gb]
    assert convert.fr_to_ints(F.fr_sub(a, b)) == [int(v) for v in ga - gb]
    assert convert.fr_to_ints(F.fr_neg(a)) == [int(v) for v in -ga]
    nonzero = [x for x in xs if x]
    if nonzero:
        inv = F.fr_inv(convert.fr_from_ints(nonzero))
        assert convert.fr_to_ints(inv) == [int(v) for v in _gf(GF_R, nonzero) ** -1]


@pytest.mark.parametrize("F", TWINS, ids=["numba", "python"])
@settings(max_examples=30, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, Q - 1), st.integers(0, Q - 1),
                                st.integers(0, Q - 1), st.integers(0, Q - 1)), min_size=1, max_size=8))
def test_fq2_operations_equal_py_ecc(F, pairs):
    xs = [(p[0], p[1]) for p in pairs]
    ys = [(p[2], p[3]) for p in pairs]
    a, b = convert.fq2_from_ints(xs), convert.fq2_from_ints(ys)

    def expect(op):
        return [tuple(int(c) for c in op(FQ2(list(x)), FQ2(list(y))).coeffs) for x, y in zip(xs, ys)]

    assert convert.fq2_to_ints(F.fq2_mul(a, b)) == expect(lambda x, y: x * y)
    assert convert.fq2_to_ints(F.fq2_add(a, b)) == expect(lambda x, y: x + y)
    assert convert.fq2_to_ints(F.fq2_sub(a, b)) == expect(lambda x, y: x - y)
    assert convert.fq2_to_ints(F.fq2_square(a)) == expect(lambda x, y: x * x)
    assert convert.fq2_to_ints(F.fq2_neg(a)) == expect(lambda x, y: -x)
    nonzero = [x for x in xs if x != (0, 0)]
    if nonzero:
        got = convert.fq2_to_ints(F.fq2_inv(convert.fq2_from_ints(nonzero)))
        assert got == [tuple(int(c) for c in FQ2(list(x)).inv().coeffs) for x in nonzero]


def test_numba_and_python_twins_agree_bit_for_bit(rng):
    xs = [rng.randrange(Q) for _ in range(64)]
    ys = [rng.randrange(Q) for _ in range(64)]
    a, b = convert.fq_from_ints(xs), convert.fq_from_ints(ys)
    for name in ("fq_mul", "fq_add", "fq_sub"):
        assert np.array_equal(getattr(prover.field, name)(a, b), getattr(prover.reference.field, name)(a, b))
    a2, b2 = a.reshape(32, 2, 4), b.reshape(32, 2, 4)
    for name in ("fq2_mul", "fq2_add", "fq2_sub"):
        assert np.array_equal(getattr(prover.field, name)(a2, b2), getattr(prover.reference.field, name)(a2, b2))


def test_batch_inverse_maps_zero_to_zero_and_inverts_the_rest(field, rng):
    values = [0, 1, Q - 1] + [rng.randrange(1, Q) for _ in range(13)] + [0]
    got = convert.fq_to_ints(field.fq_batch_inv(convert.fq_from_ints(values)))
    assert got == [pow(v, -1, Q) if v else 0 for v in values]
    rvalues = [rng.randrange(R) for _ in range(9)] + [0]
    got = convert.fr_to_ints(field.fr_batch_inv(convert.fr_from_ints(rvalues)))
    assert got == [pow(v, -1, R) if v else 0 for v in rvalues]
    pairs = [(0, 0), (1, 0), (0, 1), (rng.randrange(Q), rng.randrange(Q))]
    got = convert.fq2_to_ints(field.fq2_batch_inv(convert.fq2_from_ints(pairs)))
    assert got[0] == (0, 0)
    assert got[1:] == [tuple(int(c) for c in FQ2(list(p)).inv().coeffs) for p in pairs[1:]]


def test_inverse_of_zero_is_refused(field):
    with pytest.raises(ZeroDivisionError):
        field.fq_inv(convert.fq_from_ints([3, 0]))
    with pytest.raises(ZeroDivisionError):
        field.fr_inv(convert.fr_from_ints([0]))
    with pytest.raises(ZeroDivisionError):
        field.fq2_inv(convert.fq2_from_ints([(0, 0)]))


def test_montgomery_conversion_round_trips(field, rng):
    values = [0, 1, R - 1] + [rng.randrange(R) for _ in range(10)]
    standard = convert.ints_to_limbs(values)
    mont = field.fr_to_montgomery(standard)
    assert convert.fr_to_ints(mont) == values
    assert np.array_equal(field.fr_from_montgomery(mont), standard)
    qvalues = [0, Q - 1, rng.randrange(Q)]
    qmont = field.fq_to_montgomery(convert.ints_to_limbs(qvalues))
    assert convert.fq_to_ints(qmont) == qvalues
    assert convert.limbs_to_ints(field.fq_from_montgomery(qmont)) == qvalues


def test_to_montgomery_refuses_values_not_below_the_modulus(field):
    with pytest.raises(ValueError, match="not below"):
        field.fr_to_montgomery(convert.ints_to_limbs([1, R]))
    with pytest.raises(ValueError, match="not below"):
        field.fq_to_montgomery(convert.ints_to_limbs([(1 << 256) - 1]))


@pytest.mark.parametrize("bad, error", [
    (np.zeros((3, 4), dtype=np.int64), TypeError),
    (np.zeros((3, 5), dtype=np.uint64), ValueError),
    (np.zeros((4,), dtype=np.uint64), ValueError),
    ([[0, 0, 0, 0]], TypeError),
])
def test_arrays_of_the_wrong_shape_or_dtype_are_refused(field, bad, error):
    with pytest.raises(error):
        field.fq_mul(bad, bad)


def test_operands_of_different_lengths_are_refused(field):
    with pytest.raises(ValueError, match="differ"):
        field.fr_add(convert.fr_from_ints([1, 2]), convert.fr_from_ints([1]))


def test_empty_arrays_give_empty_results(field):
    empty = np.zeros((0, 4), dtype=np.uint64)
    assert field.fq_mul(empty, empty).shape == (0, 4)
    assert field.fr_batch_inv(empty).shape == (0, 4)


def test_non_contiguous_input_is_accepted(field, rng):
    values = [rng.randrange(Q) for _ in range(8)]
    a = convert.fq_from_ints(values)[::2]
    assert convert.fq_to_ints(field.fq_square(a)) == [v * v % Q for v in values[::2]]
