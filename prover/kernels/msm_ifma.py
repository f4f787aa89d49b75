"""G1 and G2 bucket accumulation with eight-lane IFMA arithmetic: the same Pippenger window as
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
from .curve import jac_add_mixed, jac_from_affine, load_jac, store_jac
from .ifma import (BLOCK, LANES, LIMBS52, P52, v2_conj_scale, v2_mul, v2_norm, v2_sub, v_copy, v_gather,
                   v_load_r52, v_load_r64, v_mul, v_scatter, v_set_one, v_set_to_r52, v_set_to_r64, v_store_r52,
                   v_store_r64, v_sub)
from .msm import _load_signed, bucket_sum

_P52 = np.array(P52, dtype=np.uint64)
_MASK52 = np.uint64((1 << 52) - 1)
_INV_EXPONENT_BITS = np.array([(Q - 2) >> i & 1 for i in range(254)], dtype=np.uint8)

# Scratch slots used by the flush (a slot is one block for Fq, two for Fq2); denominators and
# prefixes follow them. _NORM takes two slots: the norm, then its inverse.
_ONE, _ACC, _INV, _T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7, _NORM = range(12)
_FIXED_SLOTS = 14


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
def _equal52(a, ai, b, bi, n):
    for j in range(n):
        if a[ai + j] != b[bi + j]:
            return False
    return True


@njit(cache=True, inline='always')
def _copy_point52(points52, entry, buckets52, k, width):
    """bucket k = point (entry >= 0) or its negation (entry = ~index); coordinates `width` long."""
    index = entry if entry >= 0 else ~entry
    src = 2 * width * index
    dst = 2 * width * k
    for j in range(width):
        buckets52[dst + j] = points52[src + j]
    if entry >= 0:
        for j in range(width):
            buckets52[dst + width + j] = points52[src + width + j]
        return
    for part in range(0, width, LIMBS52):  # each Fq component: y -> q - y (0 stays 0)
        is_zero = True
        for j in range(LIMBS52):
            if points52[src + width + part + j] != 0:
                is_zero = False
        borrow = np.int64(0)
        for j in range(LIMBS52):
            if is_zero:
                buckets52[dst + width + part + j] = np.uint64(0)
                continue
            v = np.int64(_P52[j]) - np.int64(points52[src + width + part + j]) + borrow
            borrow = -1 if v < 0 else 0
            buckets52[dst + width + part + j] = np.uint64(v) & _MASK52


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
def _y_equal_signed(points52, entry, buckets52, k, width):
    """Is bucket k's y equal to the y of the (possibly negated) point?"""
    tmp = np.empty(2 * width, np.uint64)
    _copy_point52(points52, entry, tmp, 0, width)
    return _equal52(tmp, width, buckets52, 2 * width * k + width, width)


@njit(cache=True)
def _vector_inverse(scratch, out, x):
    """out = 1/x lane by lane, x^(q-2) by square-and-multiply in Montgomery-2^260 form."""
    v_copy(scratch, out, _ONE)
    for bit in range(253, -1, -1):
        v_mul(scratch, out, out, out)
        if _INV_EXPONENT_BITS[bit]:
            v_mul(scratch, out, out, x)


# Element operations on slots: a slot is `span` blocks (1 for Fq, 2 for Fq2: c0 then c1).

@njit(cache=True, inline='always')
def _e_mul(s, o, a, b, span):
    if span == 1:
        v_mul(s, o, a, b)
    else:
        v2_mul(s, o, a, b)


@njit(cache=True, inline='always')
def _e_sub(s, o, a, b, span):
    if span == 1:
        v_sub(s, o, a, b)
    else:
        v2_sub(s, o, a, b)


@njit(cache=True, inline='always')
def _e_copy(s, o, a, span):
    v_copy(s, o, a)
    if span == 2:
        v_copy(s, o + 1, a + 1)


@njit(cache=True, inline='always')
def _e_gather(s, o, src, idx, start, count, coord, negate, span):
    v_gather(s, o, src, idx, start, count, coord, negate, LIMBS52 * span, 0)
    if span == 2:
        v_gather(s, o + 1, src, idx, start, count, coord, negate, LIMBS52 * span, 1)


@njit(cache=True, inline='always')
def _e_scatter(s, o, dst, idx, start, count, coord, span):
    v_scatter(s, o, dst, idx, start, count, coord, LIMBS52 * span, 0)
    if span == 2:
        v_scatter(s, o + 1, dst, idx, start, count, coord, LIMBS52 * span, 1)


@njit(cache=True)
def _e_inverse(s, o, x, span):
    if span == 1:
        _vector_inverse(s, o, x)
        return
    # 1 / (x0 + x1 u) = (x0 - x1 u) / (x0^2 + x1^2): one Fq inversion per lane
    norm = _NORM * span
    v2_norm(s, norm, x)
    _vector_inverse(s, norm + 2, norm)
    v2_conj_scale(s, o, x, norm + 2)


@njit(cache=True)
def _flush(points52, buckets52, batch_bucket, batch_entry, count, scratch, busy, span):
    """bucket[k] += P for the count queued pairs, eight lanes at a time.

    Lane l of group g holds addition 8 g + l; each lane keeps its own running product of the
    denominators x2 - x1 (slots DEN + g, prefixes PRE + g), one vector inversion covers all.
    """
    groups = (count + LANES - 1) // LANES
    den0 = _FIXED_SLOTS
    pre0 = _FIXED_SLOTS + groups
    acc, inv = _ACC * span, _INV * span
    t0, t1, t2, t3, t4, t5, t6, t7 = (_T0 * span, _T1 * span, _T2 * span, _T3 * span, _T4 * span,
                                      _T5 * span, _T6 * span, _T7 * span)
    _e_copy(scratch, acc, _ONE * span, span)
    for g in range(groups):
        start = g * LANES
        _e_gather(scratch, t0, buckets52, batch_bucket, start, count, 0, False, span)
        _e_gather(scratch, t1, points52, batch_entry, start, count, 0, False, span)
        _e_sub(scratch, (den0 + g) * span, t1, t0, span)
        _e_copy(scratch, (pre0 + g) * span, acc, span)
        _e_mul(scratch, acc, acc, (den0 + g) * span, span)
    _e_inverse(scratch, inv, acc, span)
    for g in range(groups - 1, -1, -1):
        start = g * LANES
        _e_mul(scratch, t2, inv, (pre0 + g) * span, span)     # 1 / (x2 - x1) of this group
        _e_mul(scratch, inv, inv, (den0 + g) * span, span)
        _e_gather(scratch, t0, buckets52, batch_bucket, start, count, 0, False, span)   # x1
        _e_gather(scratch, t3, buckets52, batch_bucket, start, count, 1, False, span)   # y1
        _e_gather(scratch, t1, points52, batch_entry, start, count, 0, False, span)     # x2
        _e_gather(scratch, t4, points52, batch_entry, start, count, 1, True, span)      # y2 (signed)
        _e_sub(scratch, t5, t4, t3, span)
        _e_mul(scratch, t5, t5, t2, span)               # lambda
        _e_mul(scratch, t6, t5, t5, span)
        _e_sub(scratch, t6, t6, t0, span)
        _e_sub(scratch, t6, t6, t1, span)               # x3 = lambda^2 - x1 - x2
        _e_sub(scratch, t7, t0, t6, span)
        _e_mul(scratch, t7, t5, t7, span)
        _e_sub(scratch, t7, t7, t3, span)               # y3 = lambda (x1 - x3) - y1
        _e_scatter(scratch, t6, buckets52, batch_bucket, start, count, 0, span)
        _e_scatter(scratch, t7, buckets52, batch_bucket, start, count, 1, span)
    for j in range(count):
        busy[batch_bucket[j]] = False


MAX_ROUNDS = 4  # conflict rounds before the rest goes through the Jacobian overflow


@njit(cache=True)
def window_sum(points, points52, digits_row, nbuckets, copies, batch_size, like):
    """Sum over i of digit_i * P_i for one window, as a Jacobian point (G1 or G2 by `like`).

    Digit d of point i goes to bucket (|d| - 1) * copies + i % copies: a window whose digits are
    few (the top one) spreads them over several copies of each bucket, so batches stay full.
    """
    span = len(like) // 4
    width = LIMBS52 * span
    buckets52 = np.zeros(nbuckets * 2 * width, np.uint64)
    filled = np.zeros(nbuckets, np.bool_)
    busy = np.zeros(nbuckets, np.bool_)
    overflow = np.zeros(nbuckets * 3 * len(like), np.uint64)
    has_overflow = np.zeros(nbuckets, np.bool_)
    batch_bucket = np.empty(batch_size, np.int64)
    batch_entry = np.empty(batch_size, np.int64)
    groups = (batch_size + LANES - 1) // LANES
    scratch = np.empty((_FIXED_SLOTS + 2 * groups) * span * BLOCK, np.uint64)
    v_set_one(scratch, _ONE * span)
    if span == 2:
        v_sub(scratch, 1, 0, 0)  # the Fq2 one is (1, 0)
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
                _copy_point52(points52, entry, buckets52, k, width)
                filled[k] = True
                continue
            if busy[k]:
                if rounds < MAX_ROUNDS:
                    conflicts[n_conflicts] = entry
                    n_conflicts += 1
                    continue
                _overflow_add(points, entry, k, overflow, has_overflow, like)
                continue
            if not _equal52(buckets52, 2 * width * k, points52, 2 * width * i, width):
                busy[k] = True
                batch_bucket[count] = k
                batch_entry[count] = entry
                count += 1
                if count == batch_size:
                    _flush(points52, buckets52, batch_bucket, batch_entry, count, scratch, busy, span)
                    count = 0
                continue
            if not _y_equal_signed(points52, entry, buckets52, k, width):  # P + (-P): the bucket empties
                filled[k] = False
                continue
            _overflow_add(points, entry, k, overflow, has_overflow, like)  # P + P (rare): a doubling
        if count:
            _flush(points52, buckets52, batch_bucket, batch_entry, count, scratch, busy, span)
        entries, conflicts = conflicts, entries
        n_entries = n_conflicts
        rounds += 1

    buckets = np.empty(nbuckets * 2 * len(like), np.uint64)
    r52_to_points(buckets52, buckets, 2 * span * nbuckets)
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
