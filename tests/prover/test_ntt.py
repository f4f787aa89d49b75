"""The NTT over Fr, as a specification: both twins (Numba and plain Python) against galois."""

from __future__ import annotations

import random

import galois
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import prover.kernels.ntt
import prover.ntt
import prover.reference.ntt
from prover.constants import FR_TWO_ADICITY, MAX_NTT_LOG_SIZE, R, root_of_unity
from prover.convert import fr_from_ints, fr_to_ints, ints_to_limbs

# Building GF(r) the default way verifies primality and searches a generator (about 97 s);
# 5 is the generator snarkjs uses, so galois's NTT uses the same roots of unity as ours.
GF = galois.GF(R, primitive_element=5, verify=False)

SHIFT = 7  # a coset shift outside the 2-adic subgroup, like the one a prover would use


# Module scope: the twins are stateless, and hypothesis refuses function-scoped fixtures.
@pytest.fixture(scope="module", params=[prover.ntt, prover.reference.ntt], ids=["numba", "python"])
def ntt_module(request):
    return request.param


def random_fr(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(R) for _ in range(n)]


def galois_ntt(coefficients: list[int]) -> list[int]:
    return [int(v) for v in np.fft.fft(GF(coefficients))]


def evaluate(coefficients: list[int], point: int) -> int:
    """Horner's rule on Python ints: the definition of evaluation, independent of any FFT."""
    acc = 0
    for c in reversed(coefficients):
        acc = (acc * point + c) % R
    return acc


fr_lists = st.integers(min_value=0, max_value=6).flatmap(
    lambda log_n: st.lists(st.integers(min_value=0, max_value=R - 1),
                           min_size=1 << log_n, max_size=1 << log_n))


# --- The transforms ---------------------------------------------------------------------------

@pytest.mark.parametrize("log_n", range(11))
def test_ntt_matches_galois_on_every_size_up_to_2_pow_10(ntt_module, log_n):
    coefficients = random_fr(1 << log_n, seed=log_n)
    evaluations = ntt_module.ntt(fr_from_ints(coefficients))
    assert fr_to_ints(evaluations) == galois_ntt(coefficients)


@pytest.mark.parametrize("log_n", range(11))
def test_intt_matches_galois_on_every_size_up_to_2_pow_10(ntt_module, log_n):
    evaluations = random_fr(1 << log_n, seed=100 + log_n)
    coefficients = ntt_module.intt(fr_from_ints(evaluations))
    assert fr_to_ints(coefficients) == [int(v) for v in np.fft.ifft(GF(evaluations))]


@pytest.mark.parametrize("log_n", range(11))
def test_coset_ntt_is_the_ntt_of_coefficients_times_powers_of_the_shift(ntt_module, log_n):
    coefficients = random_fr(1 << log_n, seed=300 + log_n)
    shift_powers = [pow(SHIFT, i, R) for i in range(1 << log_n)]
    evaluations = ntt_module.coset_ntt(fr_from_ints(coefficients), SHIFT)
    shifted = [c * s % R for c, s in zip(coefficients, shift_powers)]
    assert fr_to_ints(evaluations) == galois_ntt(shifted)
    restored = ntt_module.coset_intt(evaluations, SHIFT)
    assert fr_to_ints(restored) == coefficients


@pytest.mark.parametrize("log_n", [0, 1, 2, 5, 8])
def test_coset_ntt_evaluates_on_the_shifted_subgroup(ntt_module, log_n):
    coefficients = random_fr(1 << log_n, seed=200 + log_n)
    evaluations = fr_to_ints(ntt_module.coset_ntt(fr_from_ints(coefficients), SHIFT))
    omega = root_of_unity(log_n)
    points = GF([SHIFT * pow(omega, i, R) % R for i in range(1 << log_n)])
    polynomial = galois.Poly(coefficients[::-1], field=GF)  # galois wants the highest degree first
    assert evaluations == [int(v) for v in polynomial(points)]


@settings(max_examples=60, deadline=None)
@given(coefficients=fr_lists)
def test_ntt_evaluates_the_polynomial_at_the_roots_of_unity(ntt_module, coefficients):
    n = len(coefficients)
    omega = root_of_unity(n.bit_length() - 1)
    evaluations = fr_to_ints(ntt_module.ntt(fr_from_ints(coefficients)))
    assert evaluations == [evaluate(coefficients, pow(omega, i, R)) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(values=fr_lists)
def test_intt_undoes_ntt_and_ntt_undoes_intt(ntt_module, values):
    array = fr_from_ints(values)
    assert np.array_equal(ntt_module.intt(ntt_module.ntt(array)), array)
    assert np.array_equal(ntt_module.ntt(ntt_module.intt(array)), array)


@settings(max_examples=60, deadline=None)
@given(values=fr_lists, shift=st.integers(min_value=1, max_value=R - 1))
def test_coset_transforms_round_trip_and_evaluate_at_shifted_points(ntt_module, values, shift):
    array = fr_from_ints(values)
    evaluations = ntt_module.coset_ntt(array, shift)
    assert np.array_equal(ntt_module.coset_intt(evaluations, shift), array)
    assert np.array_equal(ntt_module.coset_ntt(ntt_module.coset_intt(array, shift), shift), array)
    omega = root_of_unity(len(values).bit_length() - 1)
    i = len(values) - 1
    assert fr_to_ints(evaluations)[i] == evaluate(values, shift * pow(omega, i, R) % R)


def test_coset_ntt_with_shift_one_is_the_plain_ntt(ntt_module):
    array = fr_from_ints(random_fr(64, seed=3))
    assert np.array_equal(ntt_module.coset_ntt(array, 1), ntt_module.ntt(array))
    assert np.array_equal(ntt_module.coset_intt(array, 1), ntt_module.intt(array))


def test_inputs_are_not_modified_and_outputs_are_new_arrays(ntt_module):
    array = fr_from_ints(random_fr(32, seed=4))
    before = array.copy()
    for out in (ntt_module.ntt(array), ntt_module.intt(array),
                ntt_module.coset_ntt(array, SHIFT), ntt_module.coset_intt(array, SHIFT)):
        assert out.shape == (32, 4) and out.dtype == np.uint64 and out.flags.c_contiguous
        assert not np.shares_memory(out, array)
    assert np.array_equal(array, before)


def test_non_contiguous_input_is_accepted(ntt_module):
    array = fr_from_ints(random_fr(16, seed=5))
    strided = np.repeat(array, 2, axis=0)[::2]
    fortran = np.asfortranarray(array)
    assert not strided.flags.c_contiguous and not fortran.flags.c_contiguous
    assert np.array_equal(ntt_module.ntt(strided), ntt_module.ntt(array))
    assert np.array_equal(ntt_module.ntt(fortran), ntt_module.ntt(array))


def test_numba_ntt_of_2_pow_16_evaluates_and_round_trips():
    log_n = 16
    coefficients = random_fr(1 << log_n, seed=16)
    array = fr_from_ints(coefficients)
    evaluations = prover.ntt.ntt(array)
    coset_evaluations = prover.ntt.coset_ntt(array, SHIFT)
    omega = root_of_unity(log_n)
    plain, shifted = fr_to_ints(evaluations), fr_to_ints(coset_evaluations)
    for i in [0, 1, 2, 3, 1 << 15, (1 << 16) - 1] + random.Random(0).sample(range(1 << 16), 4):
        assert plain[i] == evaluate(coefficients, pow(omega, i, R))
        assert shifted[i] == evaluate(coefficients, SHIFT * pow(omega, i, R) % R)
    assert np.array_equal(prover.ntt.intt(evaluations), array)
    assert np.array_equal(prover.ntt.coset_intt(coset_evaluations, SHIFT), array)


def test_numba_and_reference_agree_just_past_the_in_cache_block():
    # One stage beyond the blocks the kernel transforms in cache: exercises the lone radix-2 stage.
    log_n = prover.kernels.ntt.LOG_BLOCK + 1
    array = fr_from_ints(random_fr(1 << log_n, seed=log_n))
    for name in ("ntt", "intt"):
        assert np.array_equal(getattr(prover.ntt, name)(array),
                              getattr(prover.reference.ntt, name)(array))
    for name in ("coset_ntt", "coset_intt"):
        assert np.array_equal(getattr(prover.ntt, name)(array, SHIFT),
                              getattr(prover.reference.ntt, name)(array, SHIFT))


# --- Domains up to 2^28 ---------------------------------------------------------------------------

def test_root_of_unity_for_2_pow_28_has_exact_order_2_pow_28():
    assert MAX_NTT_LOG_SIZE == FR_TWO_ADICITY == 28
    omega = root_of_unity(28)
    assert pow(omega, 1 << 27, R) == R - 1  # so the order is not a proper divisor of 2^28
    assert pow(omega, 1 << 28, R) == 1
    for log_n in range(28):
        assert root_of_unity(log_n) == pow(omega, 1 << (28 - log_n), R)


def test_numba_twiddles_of_the_2_pow_28_domain_are_powers_of_its_root():
    # The table of a 2^28 domain holds w^0 .. w^(2^27 - 1); compute a few entries from its far end
    # (and across the middle) through the same kernel, without allocating the table.
    omega = root_of_unity(28)
    start = (1 << 27) - 3
    twiddles = fr_to_ints(prover.ntt._twiddle_range(28, start, 6))
    assert twiddles == [pow(omega, start + i, R) for i in range(6)]
    assert twiddles[3] == R - 1


# --- Bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    np.zeros((4, 3), dtype=np.uint64),
    np.zeros((4,), dtype=np.uint64),
    np.zeros((4, 4, 1), dtype=np.uint64),
    np.zeros((4, 4), dtype=np.int64),
    np.zeros((4, 4), dtype=np.uint32),
    np.zeros((4, 4), dtype=">u8"),
    np.zeros((3, 4), dtype=np.uint64),
    np.zeros((6, 4), dtype=np.uint64),
    np.zeros((0, 4), dtype=np.uint64),
    [[0, 0, 0, 0]],
], ids=["3-limbs", "flat", "3-d", "int64", "uint32", "big-endian", "size-3", "size-6", "empty",
        "list"])
def test_malformed_input_is_rejected(ntt_module, bad):
    for transform in (ntt_module.ntt, ntt_module.intt):
        with pytest.raises(ValueError):
            transform(bad)
    for transform in (ntt_module.coset_ntt, ntt_module.coset_intt):
        with pytest.raises(ValueError):
            transform(bad, SHIFT)


def test_size_above_2_pow_28_is_rejected_without_touching_the_data(ntt_module):
    # A zero-stride view: 2^29 rows of shape (n, 4) and dtype uint64, backed by 32 bytes.
    huge = np.broadcast_to(np.zeros((1, 4), dtype=np.uint64), (1 << 29, 4))
    with pytest.raises(ValueError, match="2\\^28"):
        ntt_module.ntt(huge)
    with pytest.raises(ValueError, match="2\\^28"):
        ntt_module.coset_intt(huge, SHIFT)


def test_values_not_below_r_are_rejected(ntt_module):
    for bad_value in (R, R + 1, (1 << 256) - 1):
        array = np.concatenate([fr_from_ints([1, 2, 3]), ints_to_limbs([bad_value])])
        with pytest.raises(ValueError, match="below r"):
            ntt_module.ntt(array)
        with pytest.raises(ValueError, match="below r"):
            ntt_module.coset_intt(array, SHIFT)


@pytest.mark.parametrize("bad_shift", [0, R, R + 5, -1, 2.0, True, "7"])
def test_coset_shift_must_be_a_nonzero_element_of_fr(ntt_module, bad_shift):
    array = fr_from_ints([1, 2, 3, 4])
    with pytest.raises(ValueError):
        ntt_module.coset_ntt(array, bad_shift)
    with pytest.raises(ValueError):
        ntt_module.coset_intt(array, bad_shift)
