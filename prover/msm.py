"""Multi-scalar multiplication in G1 and G2: sum_i s_i * P_i, on both cores.

Points are affine Montgomery arrays ((n, 2, 4) for G1, (n, 2, 2, 4) for G2, (0, 0) for infinity),
scalars standard-form (n, 4) limbs. A scalar >= r is refused (ValueError), never silently reduced:
it almost always means a Montgomery-form or garbage array was passed. Points are not checked
against the curve here (callers validate untrusted input with prover.curve.g*_validate).
The plain-Python twin is `prover.reference.msm`.
"""

from __future__ import annotations

import math

import numpy as np

from .constants import R
from .arrays import check_elements, scalars_below_r
from .kernels import msm as k
from .kernels.field import FQ2_LIKE, FQ_LIKE
from .kernels.msm import signed_digits

SCALAR_BITS = 254
MAX_WINDOW = 20
ONES_CHUNKS = 16  # scalars equal to 1 are summed directly, in this many parallel chunks


def window_bits(n: int, threads: int | None = None, reduction_weight: float = 3.5,
                inversion_weight: float = 46.0, vectorised: bool = False) -> int:
    """The window width c minimising a simple cost model of the parallel bucket method.

    Per window and in units of one batch-affine addition: n additions, each also carrying its share
    of the batch's field inversion (`inversion_weight` / batch size: ~46 for the scalar kernel,
    ~150 for the eight-lane one, whose additions are cheaper than its vector inversion; batches are
    capped by the bucket count, so small windows pay this heavily), plus about 2^(c-1) bucket-
    reduction steps (`reduction_weight` each: ~3.5 for the scalar kernels, ~5 for G1 and ~12 for G2
    on IFMA). Windows run `threads` at a time.
    """
    if threads is None:
        import numba

        threads = numba.get_num_threads()
    best, best_cost = 2, math.inf
    for c in range(2, MAX_WINDOW + 1):
        nwin = -(-(SCALAR_BITS + 1) // c)
        batch = _batch_size_ifma(c) if vectorised else _batch_size(c)
        per_window = n * (1 + inversion_weight / batch) + reduction_weight * (1 << (c - 1))
        cost = -(-nwin // threads) * per_window + nwin * c * 0.1
        if cost < best_cost:
            best, best_cost = c, cost
    return best


def _top_window_copies(c: int, nwin: int) -> int:
    """The top window holds the scalars' last bits: its digits reach only about 2^top_bits, so
    its 2^(c-1) buckets are shared out as that many copies of each digit's bucket."""
    top_bits = SCALAR_BITS - (nwin - 1) * c
    used = 1 << max(top_bits, 0)  # |digit| <= 2^top_bits, carry included
    copies = 1
    while (copies * 2) * used <= (1 << (c - 1)):
        copies *= 2
    return copies


def _batch_size(c: int) -> int:
    return int(min(1024, max(4, (1 << (c - 1)) // 8)))


def _batch_size_ifma(c: int) -> int:
    # a vector inversion (~380 eight-lane products) is shared by the batch: keep batches large
    return int(min(2048, max(8, (1 << (c - 1)) // 4)))


def _use_ifma(vectorised) -> bool:
    from .kernels import ifma

    if vectorised is None:
        return ifma.AVAILABLE
    if vectorised and not ifma.AVAILABLE:
        raise ValueError("the eight-lane IFMA kernel needs a CPU with avx512ifma")
    return bool(vectorised)


def _msm(points, scalars, like, point_shape, window, vectorised=None):
    points = check_elements(points, point_shape, "points")
    scalars = check_elements(scalars, (4,), "scalars")
    if len(points) != len(scalars):
        raise ValueError(f"{len(points)} points but {len(scalars)} scalars")
    out = np.zeros(point_shape, np.uint64)
    n = len(points)
    if n == 0:
        return out
    scalars_below_r(scalars, R)
    vector = _use_ifma(vectorised)
    if vector:  # measured: eight-lane additions are ~3x cheaper, so reductions weigh more
        weights = dict(reduction_weight=12.0 if like is FQ2_LIKE else 5.0, inversion_weight=150.0)
    else:
        weights = dict(reduction_weight=3.5, inversion_weight=46.0)
    c = window or window_bits(n, vectorised=vector, **weights)
    nwin = -(-(SCALAR_BITS + 1) // c)
    digits = np.empty((nwin, n), np.int32 if c < 31 else np.int64)
    top_copies = _top_window_copies(c, nwin)
    ones = np.empty(n, np.bool_)
    signed_digits(scalars, points, c, digits, ones, like)
    sums = np.empty((nwin, 3) + point_shape[1:], np.uint64)
    if vector:
        from .kernels import msm_ifma

        points52 = np.empty(points.size // 4 * 5, np.uint64)
        msm_ifma.all_points_to_r52(points.reshape(-1), points52)
        msm_ifma.window_sums(points, points52, digits, c, top_copies, _batch_size_ifma(c), like, sums)
    else:
        k.window_sums(points, digits, c, top_copies, _batch_size(c), like, sums)
    chunks = ONES_CHUNKS if ones.any() else 0
    partial = np.empty((max(chunks, 1), 3) + point_shape[1:], np.uint64)
    if chunks:
        k.sum_flagged(points, ones, chunks, partial, like)
    k.combine_windows(sums, nwin, c, partial, chunks, like, out)
    return out


def msm_g1(points: np.ndarray, scalars: np.ndarray, window: int | None = None,
           vectorised: bool | None = None) -> np.ndarray:
    """sum_i scalars[i] * points[i] in G1, as one affine point (2, 4).

    `vectorised` picks the eight-lane AVX-512 IFMA bucket kernel (default: when the CPU has it;
    True on a CPU without it is refused).
    """
    return _msm(points, scalars, FQ_LIKE, (2, 4), window, vectorised)


def msm_g2(points: np.ndarray, scalars: np.ndarray, window: int | None = None,
           vectorised: bool | None = None) -> np.ndarray:
    """sum_i scalars[i] * points[i] in G2, as one affine point (2, 2, 4). `vectorised` as in msm_g1."""
    return _msm(points, scalars, FQ2_LIKE, (2, 2, 4), window, vectorised)
