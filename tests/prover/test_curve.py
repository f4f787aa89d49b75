"""G1 and G2 arithmetic and validation: both twins against py_ecc, every special case of the formulas."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as ob

import prover.curve
import prover.reference.curve
from prover import convert
from prover.constants import G2_B, Q, R, fq2_mul_ints
from prover.curve import PointNotOnCurve

GROUPS = {
    "g1": (ob.G1, convert.g1_from_py_ecc, convert.g1_to_ints),
    "g2": (ob.G2, convert.g2_from_py_ecc, convert.g2_to_ints),
}


def _affine(p):
    return convert._py_ecc_affine(p)


def _multiples(group, scalars):
    gen = GROUPS[group][0]
    return [ob.multiply(gen, k) if k % R else None for k in scalars]


def _ops(module, group):
    return {name: getattr(module, f"{group}_{name}") for name in (
        "add", "add_mixed", "double", "to_affine", "from_affine", "batch_affine_add",
        "is_on_curve", "is_in_subgroup", "validate")}


def _py_add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    return ob.add(p, q)


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_addition_covers_every_special_case(curve, group, rng):
    gen, from_py, to_ints = GROUPS[group]
    ops = _ops(curve, group)
    k = [rng.randrange(1, R) for _ in range(4)]
    # pairs: generic, P + P, P + (-P), O + P, P + O, O + O
    lhs = [k[0], k[1], k[2], 0, k[3], 0]
    rhs = [k[1], k[1], R - k[2], k[3], 0, 0]
    a = from_py(_multiples(group, lhs))
    b = from_py(_multiples(group, rhs))
    expected = [_affine(_py_add(p, q)) for p, q in zip(_multiples(group, lhs), _multiples(group, rhs))]
    ja, jb = ops["from_affine"](a), ops["from_affine"](b)
    assert to_ints(ops["to_affine"](ops["add"](ja, jb))) == expected
    assert to_ints(ops["to_affine"](ops["add_mixed"](ja, b))) == expected
    assert to_ints(ops["batch_affine_add"](a, b)) == expected
    doubled = [_affine(ob.double(p)) if p is not None else None for p in _multiples(group, lhs)]
    assert to_ints(ops["to_affine"](ops["double"](ja))) == doubled


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_jacobian_outputs_of_the_twins_agree_coordinate_for_coordinate(group, rng):
    _, from_py, _ = GROUPS[group]
    fast, ref = _ops(prover.curve, group), _ops(prover.reference.curve, group)
    pts = from_py(_multiples(group, [rng.randrange(1, R) for _ in range(6)]))
    j = fast["double"](fast["from_affine"](pts))  # Z != 1
    assert np.array_equal(fast["add"](j[:3], j[3:]), ref["add"](j[:3], j[3:]))
    assert np.array_equal(fast["add_mixed"](j[:3], pts[3:]), ref["add_mixed"](j[:3], pts[3:]))
    assert np.array_equal(fast["double"](j), ref["double"](j))


@settings(max_examples=15, deadline=None)
@given(ks=st.lists(st.integers(0, R - 1), min_size=2, max_size=10).filter(lambda v: len(v) % 2 == 0))
def test_g1_batch_affine_addition_equals_py_ecc_on_random_points(ks):
    pts = _multiples("g1", ks)
    half = len(ks) // 2
    arr = convert.g1_from_py_ecc(pts)
    got = convert.g1_to_ints(prover.curve.g1_batch_affine_add(arr[:half], arr[half:]))
    assert got == [_affine(_py_add(p, q)) for p, q in zip(pts[:half], pts[half:])]


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_points_on_the_curve_pass_validation(curve, group, rng):
    _, from_py, _ = GROUPS[group]
    ops = _ops(curve, group)
    pts = from_py(_multiples(group, [rng.randrange(1, R) for _ in range(3)] + [0]))
    assert ops["is_on_curve"](pts).all()
    assert ops["is_in_subgroup"](pts).all()
    ops["validate"](pts, subgroup=True)


def test_g1_point_off_the_curve_is_rejected(curve):
    good = convert.g1_from_ints([(1, 2)])
    bad = convert.g1_from_ints([(1, 3)])
    assert curve.g1_is_on_curve(good).tolist() == [True]
    assert curve.g1_is_on_curve(bad).tolist() == [False]
    with pytest.raises(PointNotOnCurve, match=r"points\[1\] is not on the curve"):
        curve.g1_validate(np.concatenate([good, bad]))


def test_non_canonical_coordinates_are_rejected(curve):
    # (1 + q, 2) is "the generator" only if coordinates were reduced: refuse it.
    raw = convert.ints_to_limbs([1 + Q, 2]).reshape(1, 2, 4)
    mont_like = curve.g1_is_on_curve(raw)
    assert mont_like.tolist() == [False]


def _fq_sqrt(a):
    s = pow(a, (Q + 1) // 4, Q)
    return s if s * s % Q == a else None


def _fq2_sqrt(a):
    """Square root in Fq2 = Fq[u]/(u^2+1) (q = 3 mod 4), or None."""
    a0, a1 = a
    if a1 == 0:
        s = _fq_sqrt(a0)
        if s is not None:
            return (s, 0)
        s = _fq_sqrt(-a0 % Q)
        return None if s is None else (0, s)
    alpha = _fq_sqrt((a0 * a0 + a1 * a1) % Q)
    if alpha is None:
        return None
    inv2 = pow(2, -1, Q)
    for delta in ((a0 + alpha) * inv2 % Q, (a0 - alpha) * inv2 % Q):
        x0 = _fq_sqrt(delta)
        if x0:
            return (x0, a1 * pow(2 * x0, -1, Q) % Q)
    return None


def _twist_point_outside_subgroup():
    for x0 in range(1, 100):
        x = (x0, 1)
        rhs = fq2_mul_ints(fq2_mul_ints(x, x), x)
        rhs = ((rhs[0] + G2_B[0]) % Q, (rhs[1] + G2_B[1]) % Q)
        y = _fq2_sqrt(rhs)
        if y is not None:
            return (x, y)
    raise AssertionError("no point found")


def test_g2_point_on_the_twist_but_outside_the_subgroup_is_rejected(curve):
    point = convert.g2_from_ints([_twist_point_outside_subgroup()])
    assert curve.g2_is_on_curve(point).tolist() == [True]
    assert curve.g2_is_in_subgroup(point).tolist() == [False]
    curve.g2_validate(point)  # on the curve: fine without the subgroup check
    with pytest.raises(PointNotOnCurve, match="subgroup"):
        curve.g2_validate(point, subgroup=True)


def test_g2_point_off_the_twist_is_rejected(curve):
    (x, y) = _twist_point_outside_subgroup()
    bad = convert.g2_from_ints([(x, (y[0], (y[1] + 1) % Q))])
    assert curve.g2_is_on_curve(bad).tolist() == [False]


def test_curve_functions_refuse_wrong_shapes(curve):
    with pytest.raises(ValueError):
        curve.g1_add(np.zeros((2, 2, 4), np.uint64), np.zeros((2, 2, 4), np.uint64))
    with pytest.raises(ValueError):
        curve.g2_is_on_curve(np.zeros((2, 2, 4), np.uint64))
    with pytest.raises(ValueError, match="differ"):
        curve.g1_batch_affine_add(np.zeros((2, 2, 4), np.uint64), np.zeros((3, 2, 4), np.uint64))
