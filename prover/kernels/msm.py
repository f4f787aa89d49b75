"""Numba multi-scalar multiplication: Pippenger with signed digits and batch-affine buckets.

One kernel serves G1 and G2 (the element width comes from `like`). Windows run in parallel over
the cores; inside a window, additions into buckets are queued in batches that share one field
inversion (affine addition then costs about 6 multiplications instead of 11 for mixed Jacobian).
A point whose bucket already has an addition queued goes to a per-bucket Jacobian overflow
accumulator instead of waiting, so repeated scalars stay linear.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .curve import (affine_is_infinity, jac_add, jac_add_mixed, jac_double, jac_from_affine, jac_infinity,
                    jac_to_affine, load_jac, store_jac)
from .field import fq_inv
from .ir import fe_equal, fq_mul, fq_neg, fq_one_like, fq_sqr, fq_sub, load_fe, store_fe


@njit(cache=True, parallel=True)
def signed_digits(scalars, points, c, digits, ones, like):
    """Split each 4-limb scalar into digits in [-2^(c-1), 2^(c-1)], one row per window.

    A digit above 2^(c-1) becomes digit - 2^c with a carry into the next window; the caller sizes
    the windows so the last one cannot carry out (nwin * c >= 255 > bits of r). A point at
    infinity gets all-zero digits, so the windows never load it. A scalar equal to 1 (rollup
    witnesses are mostly bits) also gets zero digits and is flagged in `ones` for a direct sum.
    """
    nwin, n = digits.shape
    mask = np.uint64((1 << c) - 1)
    half = 1 << (c - 1)
    full = 1 << c
    for i in prange(n):
        is_one = (scalars[i, 0] == 1 and scalars[i, 1] == 0 and scalars[i, 2] == 0 and scalars[i, 3] == 0)
        ones[i] = is_one
        if is_one or affine_is_infinity(load_fe(points, 2 * i, like), load_fe(points, 2 * i + 1, like)):
            for w in range(nwin):
                digits[w, i] = 0
            continue
        carry = 0
        for w in range(nwin):
            bit = w * c
            limb = bit >> 6
            offset = bit & 63
            v = np.uint64(0)
            if limb < 4:
                v = scalars[i, limb] >> np.uint64(offset)
                if offset + c > 64 and limb + 1 < 4:  # the window straddles two limbs
                    v |= scalars[i, limb + 1] << np.uint64(64 - offset)
            d = np.int64(v & mask) + carry
            if d > half:
                d -= full
                carry = 1
            else:
                carry = 0
            digits[w, i] = d


@njit(cache=True)
def _load_signed(points, entry, like):
    """Point number `entry` (or its negation, encoded as ~index) as affine (x, y)."""
    index = entry if entry >= 0 else ~entry
    x = load_fe(points, 2 * index, like)
    y = load_fe(points, 2 * index + 1, like)
    if entry < 0:
        y = fq_neg(y)
    return x, y


@njit(cache=True)
def _flush(points, buckets, batch_bucket, batch_point, scratch, count, batch_size, busy, like):
    """Apply the queued additions bucket[k] += P with one inversion for all of them.

    scratch holds the denominators x2 - x1 at [0, B) and their prefix products at [B, 2B); the
    backward pass of Montgomery's trick yields each 1/(x2 - x1) just when its addition needs it.
    """
    acc = fq_one_like(like)
    for j in range(count):
        store_fe(scratch, batch_size + j, acc)
        acc = fq_mul(acc, load_fe(scratch, j, like))
    inv = fq_inv(acc)
    j = count - 1
    # Two additions per iteration: each is a chain of dependent products (lambda, lambda^2, x3, y3)
    # too long for the CPU to overlap with the next on its own; side by side, they interleave.
    # Within one batch every bucket appears once, so the pair never touches the same bucket.
    while j >= 1:
        den_a = load_fe(scratch, j, like)
        den_b = load_fe(scratch, j - 1, like)
        inv_a = fq_mul(inv, load_fe(scratch, batch_size + j, like))
        inv = fq_mul(inv, den_a)
        inv_b = fq_mul(inv, load_fe(scratch, batch_size + j - 1, like))
        inv = fq_mul(inv, den_b)
        ka = batch_bucket[j]
        kb = batch_bucket[j - 1]
        xa1, ya1 = load_fe(buckets, 2 * ka, like), load_fe(buckets, 2 * ka + 1, like)
        xb1, yb1 = load_fe(buckets, 2 * kb, like), load_fe(buckets, 2 * kb + 1, like)
        xa2, ya2 = _load_signed(points, batch_point[j], like)
        xb2, yb2 = _load_signed(points, batch_point[j - 1], like)
        lam_a = fq_mul(fq_sub(ya2, ya1), inv_a)
        lam_b = fq_mul(fq_sub(yb2, yb1), inv_b)
        xa3 = fq_sub(fq_sub(fq_sqr(lam_a), xa1), xa2)
        xb3 = fq_sub(fq_sub(fq_sqr(lam_b), xb1), xb2)
        ya3 = fq_sub(fq_mul(lam_a, fq_sub(xa1, xa3)), ya1)
        yb3 = fq_sub(fq_mul(lam_b, fq_sub(xb1, xb3)), yb1)
        store_fe(buckets, 2 * ka, xa3)
        store_fe(buckets, 2 * ka + 1, ya3)
        store_fe(buckets, 2 * kb, xb3)
        store_fe(buckets, 2 * kb + 1, yb3)
        busy[ka] = False
        busy[kb] = False
        j -= 2
    if j == 0:
        den_inv = fq_mul(inv, load_fe(scratch, batch_size, like))
        k = batch_bucket[0]
        x1, y1 = load_fe(buckets, 2 * k, like), load_fe(buckets, 2 * k + 1, like)
        x2, y2 = _load_signed(points, batch_point[0], like)
        lam = fq_mul(fq_sub(y2, y1), den_inv)
        x3 = fq_sub(fq_sub(fq_sqr(lam), x1), x2)
        y3 = fq_sub(fq_mul(lam, fq_sub(x1, x3)), y1)
        store_fe(buckets, 2 * k, x3)
        store_fe(buckets, 2 * k + 1, y3)
        busy[k] = False


@njit(cache=True)
def bucket_sum(buckets, filled, overflow, has_overflow, n_digits, copies, like):
    """sum_k (k + 1) * B_k with B_k the sum of bucket copies k * copies .. k * copies + copies - 1
    (affine where filled, plus the Jacobian overflow): a running sum from the top digit down."""
    running = jac_infinity(like)
    total = jac_infinity(like)
    for k in range(n_digits - 1, -1, -1):
        for b in range(k * copies, (k + 1) * copies):
            if filled[b]:
                running = jac_add_mixed(running, load_fe(buckets, 2 * b, like), load_fe(buckets, 2 * b + 1, like))
            if has_overflow[b]:
                running = jac_add(running, load_jac(overflow, b, like))
        total = jac_add(total, running)
    return total


@njit(cache=True)
def window_sum(points, digits_row, nbuckets, copies, batch_size, like):
    """Sum over i of digit_i * P_i for one window, as a Jacobian point.

    Digit d of point i goes to bucket (|d| - 1) * copies + i % copies (see msm_ifma.window_sum).
    """
    width = len(like)
    buckets = np.zeros(nbuckets * 2 * width, np.uint64)
    filled = np.zeros(nbuckets, np.bool_)
    busy = np.zeros(nbuckets, np.bool_)
    overflow = np.zeros(nbuckets * 3 * width, np.uint64)
    has_overflow = np.zeros(nbuckets, np.bool_)
    batch_bucket = np.empty(batch_size, np.int64)
    batch_point = np.empty(batch_size, np.int64)  # index, or ~index to subtract the point
    scratch = np.empty(batch_size * 2 * width, np.uint64)
    count = 0
    for i in range(digits_row.size):
        d = digits_row[i]
        if d == 0:
            continue
        entry = i if d > 0 else ~i
        k = ((d if d > 0 else -d) - 1) * copies + i % copies
        if not filled[k]:
            x2, y2 = _load_signed(points, entry, like)
            store_fe(buckets, 2 * k, x2)
            store_fe(buckets, 2 * k + 1, y2)
            filled[k] = True
            continue
        if not busy[k]:
            x1 = load_fe(buckets, 2 * k, like)
            x2 = load_fe(points, 2 * i, like)
            if not fe_equal(x1, x2):
                busy[k] = True
                batch_bucket[count] = k
                batch_point[count] = entry
                store_fe(scratch, count, fq_sub(x2, x1))
                count += 1
                if count == batch_size:
                    _flush(points, buckets, batch_bucket, batch_point, scratch, count, batch_size, busy, like)
                    count = 0
                continue
            y1 = load_fe(buckets, 2 * k + 1, like)
            _, y2 = _load_signed(points, entry, like)
            if not fe_equal(y1, y2):  # P + (-P): the bucket empties
                filled[k] = False
                continue
            # P + P (rare): the doubling goes through the Jacobian overflow below
        # bucket k has an addition queued, or needs a doubling: accumulate in Jacobian instead
        x2, y2 = _load_signed(points, entry, like)
        if has_overflow[k]:
            acc = jac_add_mixed(load_jac(overflow, k, like), x2, y2)
        else:
            acc = jac_from_affine(x2, y2)
            has_overflow[k] = True
        store_jac(overflow, k, acc)
    if count:
        _flush(points, buckets, batch_bucket, batch_point, scratch, count, batch_size, busy, like)

    return bucket_sum(buckets, filled, overflow, has_overflow, nbuckets // copies, copies, like)


@njit(cache=True, parallel=True)
def window_sums(points, digits, c, top_copies, batch_size, like, sums):
    """Every window's sum, windows spread over the threads; sums holds nwin Jacobian points.
    The top window, whose digits are few, spreads them over `top_copies` copies of each bucket."""
    nwin = digits.shape[0]
    nbuckets = 1 << (c - 1)
    for w in prange(nwin):
        copies = top_copies if w == nwin - 1 else 1
        store_jac(sums, w, window_sum(points, digits[w], nbuckets, copies, batch_size, like))


@njit(cache=True, parallel=True)
def sum_flagged(points, flags, chunks, partial, like):
    """partial[j] = the sum of the flagged points in chunk j (Jacobian), chunks spread over threads."""
    n = flags.size
    per = (n + chunks - 1) // chunks
    for j in prange(chunks):
        acc = jac_infinity(like)
        for i in range(j * per, min(n, (j + 1) * per)):
            if flags[i]:
                acc = jac_add_mixed(acc, load_fe(points, 2 * i, like), load_fe(points, 2 * i + 1, like))
        store_jac(partial, j, acc)


@njit(cache=True)
def combine_windows(sums, nwin, c, extra, n_extra, like, out):
    """Horner over the windows: result = sum_w 2^(w c) S_w, plus the n_extra Jacobian points in
    `extra` (the directly summed ones); writes the affine result to out."""
    result = load_jac(sums, nwin - 1, like)
    for w in range(nwin - 2, -1, -1):
        for _ in range(c):
            result = jac_double(result)
        result = jac_add(result, load_jac(sums, w, like))
    for j in range(n_extra):
        result = jac_add(result, load_jac(extra, j, like))
    x, y = jac_to_affine(result)
    store_fe(out, 0, x)
    store_fe(out, 1, y)
