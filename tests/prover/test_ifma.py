"""The eight-lane AVX-512 IFMA arithmetic and the G1 MSM built on it (skipped on CPUs without it)."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from py_ecc import optimized_bn128 as ob

from prover import convert, msm
from prover.constants import Q, R
from prover.kernels import ifma

pytestmark = pytest.mark.skipif(not ifma.AVAILABLE, reason="this CPU has no AVX-512 IFMA")

M52 = (1 << 52) - 1
R52 = 1 << 260


def _block(values):
    out = np.zeros(ifma.BLOCK, np.uint64)
    for lane, v in enumerate(values):
        for i in range(ifma.LIMBS52):
            out[i * 8 + lane] = (v >> (52 * i)) & M52
    return out


def _values(block):
    return [sum(int(block[i * 8 + lane]) << (52 * i) for i in range(ifma.LIMBS52)) for lane in range(8)]


@njit
def _ops(scratch):
    ifma.v_mul(scratch, 2, 0, 1)
    ifma.v_add(scratch, 3, 0, 1)
    ifma.v_sub(scratch, 4, 0, 1)


lanes = st.lists(st.one_of(st.integers(0, Q - 1), st.sampled_from([0, 1, Q - 1, Q - 2, M52, M52 + 1])),
                 min_size=8, max_size=8)


@settings(max_examples=60, deadline=None)
@given(xs=lanes, ys=lanes)
def test_lane_arithmetic_equals_python_ints(xs, ys):
    scratch = np.concatenate([_block(xs), _block(ys), np.zeros(3 * ifma.BLOCK, np.uint64)])
    _ops(scratch)
    blocks = scratch.reshape(5, ifma.BLOCK)
    r_inv = pow(R52, -1, Q)
    assert _values(blocks[2]) == [x * y * r_inv % Q for x, y in zip(xs, ys)]
    assert _values(blocks[3]) == [(x + y) % Q for x, y in zip(xs, ys)]
    assert _values(blocks[4]) == [(x - y) % Q for x, y in zip(xs, ys)]


def test_conversion_to_r52_and_back_round_trips():
    from prover.kernels import msm_ifma

    rng = random.Random(5)
    values = [0, 1, Q - 1] + [rng.randrange(Q) for _ in range(18)]  # 21: a partial last block
    mont = convert.fq_from_ints(values)
    r52 = np.zeros(len(values) * 5, np.uint64)
    msm_ifma.points_to_r52(mont.reshape(-1), r52, 0, len(values))
    got = [sum(int(r52[5 * e + i]) << (52 * i) for i in range(5)) for e in range(len(values))]
    assert got == [v * R52 % Q for v in values]
    back = np.zeros_like(mont)
    msm_ifma.r52_to_points(r52, back.reshape(-1), len(values))
    assert np.array_equal(back, mont)


def _points(ks):
    return convert.g1_from_py_ecc([ob.multiply(ob.G1, k % R) if k % R else None for k in ks])


def _expected(ks, ss):
    total = sum(k * s for k, s in zip(ks, ss)) % R
    return None if total == 0 else convert._py_ecc_affine(ob.multiply(ob.G1, total))


@pytest.mark.parametrize("window", [2, 4, 7, 10, 13])
def test_vectorised_msm_equals_py_ecc_and_the_scalar_kernel(window):
    rng = random.Random(window)
    ks = [rng.randrange(1, R) for _ in range(40)] * 8
    ss = [rng.choice([0, 1, 2, rng.randrange(R), rng.randrange(1 << 20), R - 1]) for _ in range(len(ks))]
    points, scalars = _points(ks[:40]), convert.scalars_from_ints(ss)
    points = np.tile(points, (8, 1, 1))
    vec = msm.msm_g1(points, scalars, window=window, vectorised=True)
    assert np.array_equal(vec, msm.msm_g1(points, scalars, window=window, vectorised=False))
    assert convert.g1_to_ints(vec[None])[0] == _expected(ks, ss)


def test_vectorised_msm_with_cancellations_doublings_and_infinity():
    k = 123456789
    ks = [k, R - k, k, k, 0, 7, 7, 7] * 30
    ss = [5, 5, 9, 9, 3, 1, 1, R - 2] * 30
    out = msm.msm_g1(_points(ks), convert.scalars_from_ints(ss), window=5, vectorised=True)
    assert convert.g1_to_ints(out[None])[0] == _expected(ks, ss)


def test_vectorised_msm_with_every_scalar_equal_stays_linear_and_correct():
    n = 3000
    points = np.tile(_points([11, 13, 17]), (n // 3, 1, 1))
    out = msm.msm_g1(points, convert.scalars_from_ints([987654321] * n), vectorised=True)
    assert convert.g1_to_ints(out[None])[0] == _expected([11, 13, 17] * (n // 3), [987654321] * n)


@pytest.mark.parametrize("window", [3, 6, 9])
def test_vectorised_g2_msm_equals_py_ecc_and_the_scalar_kernel(window):
    rng = random.Random(100 + window)
    ks = [rng.randrange(1, R) for _ in range(16)]
    ss = [rng.choice([0, 1, 3, rng.randrange(R), R - 1]) for _ in range(16 * 6)]
    points = np.tile(convert.g2_from_py_ecc([ob.multiply(ob.G2, k) for k in ks]), (6, 1, 1, 1))
    scalars = convert.scalars_from_ints(ss)
    vec = msm.msm_g2(points, scalars, window=window, vectorised=True)
    assert np.array_equal(vec, msm.msm_g2(points, scalars, window=window, vectorised=False))
    total = sum(k * s for k, s in zip(ks * 6, ss)) % R
    assert convert.g2_to_ints(vec[None])[0] == (convert._py_ecc_affine(ob.multiply(ob.G2, total)) if total else None)


def test_vectorised_g2_msm_with_a_point_beside_its_negation():
    k = 987654321
    points = convert.g2_from_py_ecc([ob.multiply(ob.G2, k), ob.neg(ob.multiply(ob.G2, k)), ob.G2] * 20)
    scalars = convert.scalars_from_ints([5, 5, 2] * 20)
    out = msm.msm_g2(points, scalars, window=4, vectorised=True)
    assert convert.g2_to_ints(out[None])[0] == convert._py_ecc_affine(ob.multiply(ob.G2, 40))
