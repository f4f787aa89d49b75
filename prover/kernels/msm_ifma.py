"""G1 bucket accumulation with eight-lane IFMA arithmetic: the same Pippenger window as
`kernels.msm.window_sum`, with the batch-affine additions done eight at a time.

Points are converted once per MSM to R52 form (see `kernels.ifma`); a window keeps its buckets in
that form, queues additions exactly as the scalar kernel does, and flushes them in groups of eight
lanes, each lane with its own chain of prefix products and one vector inversion for all eight.
Doublings and additions into a bucket already queued go to the same Jacobian overflow as in the
scalar kernel, on the original points. Used only where `ifma.AVAILABLE`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..constants import Q
from .curve import jac_add, jac_add_mixed, jac_from_affine, jac_infinity, load_jac, store_jac
from .ifma import (BLOCK, LANES, LIMBS52, P52, v_copy, v_gather, v_load_r52, v_load_r64, v_mul,
                   v_scatter, v_set_one, v_set_to_r52, v_set_to_r64, v_store_r52, v_store_r64, v_sub)
from .ir import load_fe
from .msm import _load_signed, bucket_sum

_P52 = np.array(P52, dtype=np.uint64)
_MASK52 = np.uint64((1 << 52) - 1)
_INV_EXPONENT_BITS = np.array([(Q - 2) >> i & 1 for i in range(254)], dtype=np.uint8)

# Scratch block numbers used by the flush; denominators and prefixes follow them.
_ONE, _ACC, _INV, _T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7, _CONV = range(12)
_FIXED_BLOCKS = 12


@njit(cache=True)
def points_to_r52(points64, out52, lo, hi):
    """R52 form of the 4x64-limb Montgomery-2^256 elements lo .. hi-1 (flat element numbers)."""
    scratch = np.empty(3 * BLOCK, np.uint64)
    v_set_to_r52(scratch, 2)
    for first in range(lo, hi, LANES):
        v_load_r64(scratch, 0, points64, first, hi)
        v_mul(scratch, 1, 0, 2)
        v_store_r52(scratch, 1, out52, first, hi)


@njit(cache=True)
def r52_to_points(src52, out64, n_elements):
    """4x64-limb Montgomery-2^256 form of n_elements consecutive R52 elements."""
    scratch = np.empty(3 * BLOCK, np.uint64)
    v_set_to_r64(scratch, 2)
    for first in range(0, n_elements, LANES):
        v_load_r52(scratch, 0, src52, first, n_elements)
        v_mul(scratch, 1, 0, 2)
        v_store_r64(scratch, 1, out64, first, n_elements)


@njit(cache=True, inline='always')
def _equal52(a, ai, b, bi):
    for j in range(LIMBS52):
        if a[ai + j] != b[bi + j]:
            return False
    return True


@njit(cache=True, inline='always')
def _copy_point52(points52, entry, buckets52, k):
    """bucket k = point (entry >= 0) or its negation (entry = ~index)."""
    index = entry if entry >= 0 else ~entry
    src = 10 * index
    dst = 10 * k
    for j in range(LIMBS52):
        buckets52[dst + j] = points52[src + j]
    if entry >= 0:
        for j in range(LIMBS52):
            buckets52[dst + 5 + j] = points52[src + 5 + j]
        return
    # y -> q - y (and 0 stays 0), limb by limb with borrows
    is_zero = True
    for j in range(LIMBS52):
        if points52[src + 5 + j] != 0:
            is_zero = False
    borrow = np.int64(0)
    for j in range(LIMBS52):
        if is_zero:
            buckets52[dst + 5 + j] = np.uint64(0)
            continue
        v = np.int64(_P52[j]) - np.int64(points52[src + 5 + j]) + borrow
        borrow = -1 if v < 0 else 0
        buckets52[dst + 5 + j] = np.uint64(v) & _MASK52


@njit(cache=True, inline='always')
def _overflow_add(points, entry, k, overflow, has_overflow, like):
    """Jacobian overflow of bucket k += the (signed) point: doublings, and conflicts past the rounds."""
    x2, y2 = _load_signed(points, entry, like)
    if has_overflow[k]:
        acc = jac_add_mixed(load_jac(overflow, k, like), x2, y2)
    else:
        acc = jac_from_affine(x2, y2)
        has_overflow[k] = True
    store_jac(overflow, k, acc)


@njit(cache=True, inline='always')
def _y_equal_signed(points52, entry, buckets52, k):
    """Is bucket k's y equal to the y of the (possibly negated) point?"""
    tmp = np.empty(10, np.uint64)
    _copy_point52(points52, entry, tmp, 0)
    return _equal52(tmp, 5, buckets52, 10 * k + 5)


@njit(cache=True)
def _vector_inverse(scratch, out, x):
    """out = 1/x lane by lane, x^(q-2) by square-and-multiply in Montgomery-2^260 form."""
    v_copy(scratch, out, _ONE)
    for bit in range(253, -1, -1):
        v_mul(scratch, out, out, out)
        if _INV_EXPONENT_BITS[bit]:
            v_mul(scratch, out, out, x)


@njit(cache=True)
def _flush(points52, buckets52, batch_bucket, batch_entry, count, scratch, busy):
    """bucket[k] += P for the count queued pairs, eight lanes at a time.

    Lane l of group g holds addition 8 g + l; each lane keeps its own running product of the
    denominators x2 - x1 (blocks DEN + g, prefixes PRE + g), one vector inversion covers all.
    """
    groups = (count + LANES - 1) // LANES
    den0 = _FIXED_BLOCKS
    pre0 = _FIXED_BLOCKS + groups
    v_copy(scratch, _ACC, _ONE)
    for g in range(groups):
        start = g * LANES
        v_gather(scratch, _T0, buckets52, batch_bucket, start, count, 0, False)
        v_gather(scratch, _T1, points52, batch_entry, start, count, 0, False)
        v_sub(scratch, den0 + g, _T1, _T0)
        v_copy(scratch, pre0 + g, _ACC)
        v_mul(scratch, _ACC, _ACC, den0 + g)
    _vector_inverse(scratch, _INV, _ACC)
    for g in range(groups - 1, -1, -1):
        start = g * LANES
        v_mul(scratch, _T2, _INV, pre0 + g)          # 1 / (x2 - x1) of this group
        v_mul(scratch, _INV, _INV, den0 + g)
        v_gather(scratch, _T0, buckets52, batch_bucket, start, count, 0, False)   # x1
        v_gather(scratch, _T3, buckets52, batch_bucket, start, count, 1, False)   # y1
        v_gather(scratch, _T1, points52, batch_entry, start, count, 0, False)     # x2
        v_gather(scratch, _T4, points52, batch_entry, start, count, 1, True)      # y2 (signed)
        v_sub(scratch, _T5, _T4, _T3)
        v_mul(scratch, _T5, _T5, _T2)                 # lambda
        v_mul(scratch, _T6, _T5, _T5)
        v_sub(scratch, _T6, _T6, _T0)
        v_sub(scratch, _T6, _T6, _T1)                 # x3 = lambda^2 - x1 - x2
        v_sub(scratch, _T7, _T0, _T6)
        v_mul(scratch, _T7, _T5, _T7)
        v_sub(scratch, _T7, _T7, _T3)                 # y3 = lambda (x1 - x3) - y1
        v_scatter(scratch, _T6, buckets52, batch_bucket, start, count, 0)
        v_scatter(scratch, _T7, buckets52, batch_bucket, start, count, 1)
    for j in range(count):
        busy[batch_bucket[j]] = False


MAX_ROUNDS = 4  # conflict rounds before the rest goes through the Jacobian overflow


@njit(cache=True)
def window_sum(points, points52, digits_row, nbuckets, copies, batch_size, like):
    """Sum over i of digit_i * P_i for one window, as a Jacobian point (G1 only).

    Digit d of point i goes to bucket (|d| - 1) * copies + i % copies: a window whose digits are
    few (the top one) spreads them over several copies of each bucket, so batches stay full.
    """
    buckets52 = np.zeros(nbuckets * 10, np.uint64)
    filled = np.zeros(nbuckets, np.bool_)
    busy = np.zeros(nbuckets, np.bool_)
    overflow = np.zeros(nbuckets * 3 * 4, np.uint64)
    has_overflow = np.zeros(nbuckets, np.bool_)
    batch_bucket = np.empty(batch_size, np.int64)
    batch_entry = np.empty(batch_size, np.int64)
    groups = (batch_size + LANES - 1) // LANES
    scratch = np.empty((_FIXED_BLOCKS + 2 * groups) * BLOCK, np.uint64)
    v_set_one(scratch, _ONE)
    # Round 0 takes every nonzero digit; an addition whose bucket is already queued is kept for
    # the next round (cheaper than adding it in Jacobian), until no conflicts remain.
    entries = np.empty(digits_row.size, np.int64)
    conflicts = np.empty(digits_row.size, np.int64)
    n_entries = 0
    for i in range(digits_row.size):
        d = digits_row[i]
        if d != 0:
            entries[n_entries] = i if d > 0 else ~i
            n_entries += 1
    rounds = 0
    while n_entries:
        count = 0
        n_conflicts = 0
        for t in range(n_entries):
            entry = entries[t]
            i = entry if entry >= 0 else ~entry
            d = digits_row[i]
            k = ((d if d > 0 else -d) - 1) * copies + i % copies
            if not filled[k]:
                _copy_point52(points52, entry, buckets52, k)
                filled[k] = True
                continue
            if busy[k]:
                if rounds < MAX_ROUNDS:
                    conflicts[n_conflicts] = entry
                    n_conflicts += 1
                    continue
                _overflow_add(points, entry, k, overflow, has_overflow, like)
                continue
            if not _equal52(buckets52, 10 * k, points52, 10 * i):
                busy[k] = True
                batch_bucket[count] = k
                batch_entry[count] = entry
                count += 1
                if count == batch_size:
                    _flush(points52, buckets52, batch_bucket, batch_entry, count, scratch, busy)
                    count = 0
                continue
            if not _y_equal_signed(points52, entry, buckets52, k):  # P + (-P): the bucket empties
                filled[k] = False
                continue
            _overflow_add(points, entry, k, overflow, has_overflow, like)  # P + P (rare): a doubling
        if count:
            _flush(points52, buckets52, batch_bucket, batch_entry, count, scratch, busy)
        entries, conflicts = conflicts, entries
        n_entries = n_conflicts
        rounds += 1

    buckets = np.empty(nbuckets * 2 * 4, np.uint64)
    r52_to_points(buckets52, buckets, 2 * nbuckets)
    return bucket_sum(buckets, filled, overflow, has_overflow, nbuckets // copies, copies, like)


@njit(cache=True, parallel=True)
def window_sums(points, points52, digits, c, top_copies, batch_size, like, sums):
    nwin = digits.shape[0]
    nbuckets = 1 << (c - 1)
    for w in prange(nwin):
        copies = top_copies if w == nwin - 1 else 1
        store_jac(sums, w, window_sum(points, points52, digits[w], nbuckets, copies, batch_size, like))


@njit(cache=True, parallel=True)
def all_points_to_r52(points64, out52):
    """Both coordinates of every point, converted in parallel chunks of eight-element blocks."""
    n_elements = out52.size // LIMBS52
    chunks = max(1, min(64, n_elements // 4096))
    per = ((n_elements + chunks - 1) // chunks + LANES - 1) // LANES * LANES
    for c in prange(chunks):
        lo = c * per
        hi = min(n_elements, lo + per)
        if lo < hi:
            points_to_r52(points64, out52, lo, hi)
