"""Multi-scalar multiplication: both twins against py_ecc, with every edge case the issue names."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as ob

import prover.msm
from prover import convert
from prover.constants import R

GENERATORS = {"g1": ob.G1, "g2": ob.G2}
FROM_PY = {"g1": convert.g1_from_py_ecc, "g2": convert.g2_from_py_ecc}
TO_INTS = {"g1": convert.g1_to_ints, "g2": convert.g2_to_ints}


def _points(group, multipliers):
    """Points k_i * G (None for k = 0): then sum s_i P_i = (sum s_i k_i) G is cheap to check."""
    gen = GENERATORS[group]
    return FROM_PY[group]([ob.multiply(gen, k % R) if k % R else None for k in multipliers])


def _expected(group, multipliers, scalars):
    total = sum(k * s for k, s in zip(multipliers, scalars)) % R
    return None if total == 0 else convert._py_ecc_affine(ob.multiply(GENERATORS[group], total))


def _run(module, group, multipliers, scalars, **kw):
    fn = getattr(module, f"msm_{group}")
    out = fn(_points(group, multipliers), convert.scalars_from_ints(scalars), **kw)
    return TO_INTS[group](out[None])[0]


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_msm_of_random_inputs_equals_py_ecc(msm, group, rng):
    ks = [rng.randrange(1, R) for _ in range(9)]
    ss = [rng.randrange(R) for _ in range(9)]
    assert _run(msm, group, ks, ss) == _expected(group, ks, ss)


@pytest.mark.parametrize("group", ["g1", "g2"])
@pytest.mark.parametrize("case", [
    "empty", "single", "zero_scalars", "max_scalar", "repeated_points",
    "point_and_its_negation", "point_at_infinity", "all_scalars_equal", "bits",
])
def test_msm_edge_cases(msm, group, case, rng):
    k = rng.randrange(1, R)
    s = rng.randrange(1, R)
    ks, ss = {
        "empty": ([], []),
        "single": ([k], [s]),
        "zero_scalars": ([k, k + 1, k + 2], [0, 0, 0]),
        "max_scalar": ([k, 1], [R - 1, R - 1]),
        "repeated_points": ([k] * 5, [s, s, 3, R - 1, 1]),
        "point_and_its_negation": ([k, R - k, k + 5], [s, s, 7]),
        "point_at_infinity": ([0, k, 0], [s, s, R - 1]),
        "all_scalars_equal": ([rng.randrange(1, R) for _ in range(6)], [s] * 6),
        "bits": ([rng.randrange(1, R) for _ in range(40)], [rng.randrange(2) for _ in range(39)] + [1]),
    }[case]
    assert _run(msm, group, ks, ss) == _expected(group, ks, ss)


def test_msm_of_nothing_is_the_point_at_infinity(msm):
    out = msm.msm_g1(np.zeros((0, 2, 4), np.uint64), np.zeros((0, 4), np.uint64))
    assert out.shape == (2, 4) and not out.any()
    out = msm.msm_g2(np.zeros((0, 2, 2, 4), np.uint64), np.zeros((0, 4), np.uint64))
    assert out.shape == (2, 2, 4) and not out.any()


@pytest.mark.parametrize("bad_scalar", [R, R + 1, (1 << 256) - 1])
def test_scalars_not_below_r_are_refused(msm, bad_scalar):
    points = _points("g1", [1, 2])
    scalars = convert.ints_to_limbs([5, bad_scalar])
    with pytest.raises(ValueError, match=r"scalars\[1\] is not below r"):
        msm.msm_g1(points, scalars)


def test_msm_refuses_mismatched_lengths_and_shapes(msm):
    with pytest.raises(ValueError, match="2 points but 1 scalars"):
        msm.msm_g1(_points("g1", [1, 2]), convert.scalars_from_ints([1]))
    with pytest.raises(ValueError):
        msm.msm_g2(_points("g1", [1]), convert.scalars_from_ints([1]))
    with pytest.raises(TypeError):
        msm.msm_g1(_points("g1", [1]), np.zeros((1, 4), np.int64))


@pytest.mark.parametrize("vectorised", [None, False], ids=["default-kernel", "scalar-kernel"])
@pytest.mark.parametrize("window", [2, 3, 5, 8, 11, 16])
def test_every_window_width_gives_the_same_sum(window, vectorised, rng):
    n = 300
    ks = [rng.randrange(1, R) for _ in range(n)]
    ss = [rng.randrange(R) for _ in range(n - 40)] + [R - 1] * 20 + [rng.randrange(1 << 20)] * 20
    assert _run(prover.msm, "g1", ks, ss, window=window, vectorised=vectorised) == _expected("g1", ks, ss)


@pytest.mark.parametrize("case", ["repeated", "negation", "infinity", "equal", "bits"])
def test_scalar_kernel_edge_cases_on_any_cpu(case, rng):
    k = rng.randrange(1, R)
    ks, ss = {
        "repeated": ([k] * 50, [rng.randrange(R) for _ in range(50)]),
        "negation": ([k, R - k] * 25, [9] * 50),
        "infinity": ([0, k] * 25, [rng.randrange(R) for _ in range(50)]),
        "equal": ([rng.randrange(1, R) for _ in range(50)], [77] * 50),
        "bits": ([rng.randrange(1, R) for _ in range(50)], [rng.randrange(2) for _ in range(50)]),
    }[case]
    assert _run(prover.msm, "g1", ks, ss, window=4, vectorised=False) == _expected("g1", ks, ss)


@pytest.mark.parametrize("window", [3, 7])
def test_g2_windows_with_bucket_conflicts(window, rng):
    # Few buckets and many points: the batch-affine path meets conflicts, doublings and cancellations.
    ks = [rng.randrange(1, 50) for _ in range(120)]
    ss = [rng.randrange(1, 30) for _ in range(120)]
    assert _run(prover.msm, "g2", ks, ss, window=window) == _expected("g2", ks, ss)


def test_witness_made_of_bits_and_a_few_big_values(rng):
    # The shape of rollup witnesses: mostly 0 and 1, which take the direct-sum path, plus others.
    ks = [rng.randrange(1, R) for _ in range(500)]
    ss = [rng.choice([0, 1, 1, 1, rng.randrange(R)]) for _ in range(500)]
    assert _run(prover.msm, "g1", ks, ss) == _expected("g1", ks, ss)
    assert _run(prover.msm, "g2", ks[:60], ss[:60]) == _expected("g2", ks[:60], ss[:60])


@pytest.mark.parametrize("vectorised", [None, False], ids=["default-kernel", "scalar-kernel"])
def test_many_repeated_points_with_one_scalar_stay_correct(vectorised):
    # Every addition lands in one bucket: the overflow accumulator carries the work.
    n = 2000
    got = _run(prover.msm, "g1", [7] * n, [123456789] * n, vectorised=vectorised)
    assert got == _expected("g1", [7] * n, [123456789] * n)


def test_larger_msm_equals_py_ecc(rng):
    n = 1 << 12
    distinct = [rng.randrange(1, R) for _ in range(64)]
    points = np.tile(_points("g1", distinct), (n // 64, 1, 1))  # py_ecc is slow: reuse 64 points
    ss = [rng.randrange(R) for _ in range(n)]
    out = prover.msm.msm_g1(points, convert.scalars_from_ints(ss))
    assert convert.g1_to_ints(out[None])[0] == _expected("g1", distinct * (n // 64), ss)


@settings(max_examples=20, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, R - 1), st.integers(0, R - 1)), max_size=12),
       window=st.integers(2, 12))
def test_msm_property_random_inputs_and_windows(pairs, window):
    ks = [k for k, _ in pairs]
    ss = [s for _, s in pairs]
    assert _run(prover.msm, "g1", ks, ss, window=window) == _expected("g1", ks, ss)


def test_window_choice_grows_with_size():
    sizes = [1, 1 << 8, 1 << 12, 1 << 16, 1 << 20]
    widths = [prover.msm.window_bits(n, threads=2) for n in sizes]
    assert widths == sorted(widths) and 2 <= widths[0] and widths[-1] <= prover.msm.MAX_WINDOW
