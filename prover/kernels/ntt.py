"""Numba kernels of the NTT over Fr: twiddles, bit reversal with scaling, radix-4/2 butterflies.

They work on (n, 4) C-contiguous uint64 arrays of canonical Montgomery Fr elements, in place or
into an array they are given; prover.ntt validates inputs and chains the kernels into transforms.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..constants import R, to_limbs
from .ir import fr_add, fr_mul, fr_one_like, fr_sub, load_fe, store_fe

# Elements per parallel task: 128 KiB, small enough to stay in L2 and large enough that scheduling
# costs nothing next to 4096 multiplications.
CHUNK = 4096
# The first stages of a transform run inside blocks of 2^LOG_BLOCK elements (128 KiB, in one core's
# L2) so that they cost one pass over memory; only the later stages stream the whole array. Blocks
# of 2^12 to 2^15 measured alike; an even size keeps every in-block stage in radix-4 pairs.
LOG_BLOCK = 12

# How permute_bit_reversed scales element j on the way: not at all, by `first`, or by
# first * ratio^j.
SCALE_NONE = 0
SCALE_CONSTANT = 1
SCALE_GEOMETRIC = 2

_R0, _R1, _R2, _R3 = (np.uint64(limb) for limb in to_limbs(R))


@njit(cache=True)
def _like():
    zero = np.uint64(0)
    return (zero, zero, zero, zero)


@njit(cache=True)
def _fr_pow(base, exponent):
    result = fr_one_like(base)
    while exponent > 0:
        if exponent & 1:
            result = fr_mul(result, base)
        base = fr_mul(base, base)
        exponent >>= 1
    return result


@njit(cache=True)
def _bit_reverse(index, bits):
    # Domains are at most 2^28, so reversing 32 bits and shifting back is enough.
    x = index
    x = ((x >> 1) & 0x55555555) | ((x & 0x55555555) << 1)
    x = ((x >> 2) & 0x33333333) | ((x & 0x33333333) << 2)
    x = ((x >> 4) & 0x0F0F0F0F) | ((x & 0x0F0F0F0F) << 4)
    x = ((x >> 8) & 0x00FF00FF) | ((x & 0x00FF00FF) << 8)
    x = ((x >> 16) & 0xFFFF) | ((x & 0xFFFF) << 16)
    return x >> (32 - bits)


@njit(parallel=True, cache=True)
def fr_powers(out, base_array, first_exponent):
    """out[i] = base^(first_exponent + i), base = base_array[0]."""
    n = out.shape[0]
    base = load_fe(base_array, 0, _like())
    for task in prange((n + CHUNK - 1) // CHUNK):
        start = task * CHUNK
        stop = min(start + CHUNK, n)
        # Each task starts from its own exponentiation, so the tasks need nothing from each other.
        x = _fr_pow(base, first_exponent + start)
        for i in range(start, stop):
            store_fe(out, i, x)
            x = fr_mul(x, base)


@njit(parallel=True, cache=True)
def permute_bit_reversed(src, dst, log_n, negate_index, scale_mode, first_array, ratio_array):
    """dst[bitrev(k)] = src[j] * factor_j, with k = j, or k = -j mod n when negate_index.

    factor_j is 1, first, or first * ratio^j as scale_mode says. Negating the index turns the
    forward transform that follows into the inverse one (sum_j y_j w^(-ij) = sum_j y_(-j) w^(ij)).
    """
    n = src.shape[0]
    mask = n - 1
    first = load_fe(first_array, 0, _like())
    ratio = load_fe(ratio_array, 0, first)
    for task in prange((n + CHUNK - 1) // CHUNK):
        start = task * CHUNK
        stop = min(start + CHUNK, n)
        factor = first
        if scale_mode == SCALE_GEOMETRIC:
            factor = fr_mul(first, _fr_pow(ratio, start))
        for j in range(start, stop):
            k = ((n - j) & mask) if negate_index else j
            x = load_fe(src, j, first)
            if scale_mode != SCALE_NONE:
                x = fr_mul(x, factor)
                if scale_mode == SCALE_GEOMETRIC:
                    factor = fr_mul(factor, ratio)
            store_fe(dst, _bit_reverse(k, log_n), x)


# Butterflies. The array is in bit-reversed order and the stages run decimation-in-time, half-size
# m = 1, 2, 4, ...; twiddles[k] = w^k for a primitive 2^twiddle_log-th root w, so w_(2m)^j sits at
# k = j * 2^(twiddle_log - log2(2m)) (`shift` below). Stages go two at a time (radix 4): that saves
# no multiplication in Fr (w_4 is no cheaper than any other twiddle), but it halves the loads and
# stores: 15 % faster than radix 2 at 2^18, measured. The helpers are inlined because a real call
# that passes arrays updates their reference counts, and two cores contending for those counts
# cost a third more CPU time (measured at 2^18).

@njit(cache=True, inline="always")
def _radix2(a, twiddles, i, j, m, shift, like):
    """The butterfly of position j in a 2m-block, on elements i and i + m."""
    u = load_fe(a, i, like)
    v = load_fe(a, i + m, like)
    if j != 0:
        v = fr_mul(v, load_fe(twiddles, j << shift, like))
    store_fe(a, i, fr_add(u, v))
    store_fe(a, i + m, fr_sub(u, v))


@njit(cache=True, inline="always")
def _radix4(a, twiddles, i, j, m, shift, like):
    """Stages m and 2m at position j of a 4m-block, on elements i, i + m, i + 2m, i + 3m."""
    x0 = load_fe(a, i, like)
    x1 = load_fe(a, i + m, like)
    x2 = load_fe(a, i + 2 * m, like)
    x3 = load_fe(a, i + 3 * m, like)
    if j != 0:
        w = load_fe(twiddles, j << (shift + 1), like)  # w_(2m)^j
        x1 = fr_mul(x1, w)
        x3 = fr_mul(x3, w)
    y0, y1 = fr_add(x0, x1), fr_sub(x0, x1)
    y2, y3 = fr_add(x2, x3), fr_sub(x2, x3)
    if j != 0:
        y2 = fr_mul(y2, load_fe(twiddles, j << shift, like))  # w_(4m)^j
    y3 = fr_mul(y3, load_fe(twiddles, (j + m) << shift, like))  # w_(4m)^(j+m)
    store_fe(a, i, fr_add(y0, y2))
    store_fe(a, i + 2 * m, fr_sub(y0, y2))
    store_fe(a, i + m, fr_add(y1, y3))
    store_fe(a, i + 3 * m, fr_sub(y1, y3))


@njit(parallel=True, cache=True)
def butterflies_in_blocks(a, twiddles, twiddle_log, log_block):
    """All stages with half-size below 2^log_block, each block of 2^log_block elements alone."""
    n = a.shape[0]
    block = 1 << log_block
    like = _like()
    for b in prange(n >> log_block):
        base = b << log_block
        log_m = 0
        while log_m + 2 <= log_block:
            m = 1 << log_m
            shift = twiddle_log - log_m - 2
            for start in range(base, base + block, 4 * m):
                for j in range(m):
                    _radix4(a, twiddles, start + j, j, m, shift, like)
            log_m += 2
        if log_m < log_block:
            m = 1 << log_m
            shift = twiddle_log - log_m - 1
            for start in range(base, base + block, 2 * m):
                for j in range(m):
                    _radix2(a, twiddles, start + j, j, m, shift, like)


@njit(parallel=True, cache=True)
def butterfly_stage(a, twiddles, twiddle_log, log_m):
    """The stage with half-size m = 2^log_m, over the whole array."""
    n = a.shape[0]
    m = 1 << log_m
    shift = twiddle_log - log_m - 1
    chunk = min(CHUNK, m)
    like = _like()
    for task in prange((n >> 1) // chunk):
        # Butterflies are numbered block by block; a chunk never straddles two blocks.
        first = task * chunk
        j0 = first & (m - 1)
        i0 = ((first >> log_m) << (log_m + 1)) + j0
        for t in range(chunk):
            _radix2(a, twiddles, i0 + t, j0 + t, m, shift, like)


@njit(parallel=True, cache=True)
def butterfly_stage_pair(a, twiddles, twiddle_log, log_m):
    """The stages with half-sizes m = 2^log_m and 2m, in one pass over the whole array."""
    n = a.shape[0]
    m = 1 << log_m
    shift = twiddle_log - log_m - 2
    chunk = min(CHUNK, m)
    like = _like()
    for task in prange((n >> 2) // chunk):
        first = task * chunk
        j0 = first & (m - 1)
        i0 = ((first >> log_m) << (log_m + 2)) + j0
        for t in range(chunk):
            _radix4(a, twiddles, i0 + t, j0 + t, m, shift, like)


@njit(parallel=True, cache=True)
def scale_by_powers(a, first_array, ratio_array):
    """a[i] *= first * ratio^i, in place."""
    n = a.shape[0]
    first = load_fe(first_array, 0, _like())
    ratio = load_fe(ratio_array, 0, first)
    for task in prange((n + CHUNK - 1) // CHUNK):
        start = task * CHUNK
        stop = min(start + CHUNK, n)
        factor = fr_mul(first, _fr_pow(ratio, start))
        for i in range(start, stop):
            store_fe(a, i, fr_mul(load_fe(a, i, factor), factor))
            factor = fr_mul(factor, ratio)


@njit(parallel=True, cache=True)
def count_not_below_r(a):
    """How many rows of `a`, read as 256-bit little-endian integers, are >= r.

    The multiplication is only correct on inputs below r, so the wrappers refuse anything else.
    """
    count = 0
    for i in prange(a.shape[0]):
        x0, x1, x2, x3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        if x3 > _R3 or (x3 == _R3 and (x2 > _R2 or (x2 == _R2 and (
                x1 > _R1 or (x1 == _R1 and x0 >= _R0))))):
            count += 1
    return count
