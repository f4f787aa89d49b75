"""Numba kernels for R1CS -> QAP: the prover's A·z and B·z from .zkey coefficients (read in the
file's own record layout), the setup's column sums of A, B, C against Lagrange values, powers in
Fr, and fixed-base scalar multiplication.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .curve import jac_add, jac_add_mixed, jac_from_affine, jac_infinity, load_jac, store_jac
from .field import fq_batch_inv_run
from ..constants import R, to_limbs
from .ir import (fe_zero_like, fq_mul, fq_sqr, fr_add, fr_mul, fr_one_like, is_zero, load_fe, load_fe_at,
                 load_u32_at, store_fe)

_FR = (np.uint64(0),) * 4
_R0, _R1, _R2, _R3 = (np.uint64(limb) for limb in to_limbs(R))
# A .zkey coefficient record (snarkjs zkey_utils.js): matrix, constraint, signal as uint32, then the
# value as 32 bytes; 44 bytes, so every other field is unaligned.
RECORD_BYTES = 44


@njit(cache=True)
def build_ab(records, n_vars, domain_size, witness, a_out, b_out):
    """a_out[c] += value * z[s] for the records of matrix 0, b_out likewise for matrix 1; returns -1,
    or the number of the first record that cannot be used (matrix > 1, row >= domain_size, wire >=
    n_vars, value >= r), having stopped there.

    `records` is the .zkey coefficient section after its count, as bytes. `value` is stored as
    v * R^2 (snarkjs), `witness` is standard form, so one Montgomery product gives v * z in
    Montgomery form. Wires equal to 0 are skipped: rollup witnesses are mostly bits.
    """
    for k in range(records.size // RECORD_BYTES):
        base = k * RECORD_BYTES
        matrix = load_u32_at(records, base)
        row = load_u32_at(records, base + 4)
        signal = load_u32_at(records, base + 8)
        value = load_fe_at(records, base + 12, _FR)
        v0, v1, v2, v3 = value
        if (matrix > 1 or row >= domain_size or signal >= n_vars or v3 > _R3 or (v3 == _R3 and (
                v2 > _R2 or (v2 == _R2 and (v1 > _R1 or (v1 == _R1 and v0 >= _R0)))))):
            return k
        z = load_fe(witness, signal, _FR)
        if is_zero(z):
            continue
        term = fr_mul(value, z)
        if matrix == 0:
            store_fe(a_out, row, fr_add(load_fe(a_out, row, _FR), term))
        else:
            store_fe(b_out, row, fr_add(load_fe(b_out, row, _FR), term))
    return -1


@njit(cache=True)
def accumulate_columns(indptr, indices, coeffs_mont, row_values, out):
    """out[j] += M[i][j] * row_values[i] over a CSR matrix M: M^T times a vector."""
    for i in range(indptr.size - 1):
        x = load_fe(row_values, i, _FR)
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            store_fe(out, j, fr_add(load_fe(out, j, _FR), fr_mul(load_fe(coeffs_mont, k, _FR), x)))


@njit(cache=True, parallel=True)
def fr_powers(base, start, out):
    """out[i] = start * base^i, in chunks that each begin with one exponentiation by squaring."""
    n = out.size // 4
    chunks = 64 if n >= 4096 else 1
    per = (n + chunks - 1) // chunks
    for c in prange(chunks):
        lo = c * per
        hi = min(n, lo + per)
        if lo >= hi:
            continue
        # base^lo by square-and-multiply on the bits of lo
        acc = fr_one_like(base)
        sq = base
        e = lo
        while e > 0:
            if e & 1:
                acc = fr_mul(acc, sq)
            sq = fr_mul(sq, sq)
            e >>= 1
        acc = fr_mul(acc, start)
        for i in range(lo, hi):
            store_fe(out, i, acc)
            acc = fr_mul(acc, base)


@njit(cache=True, parallel=True)
def fixed_base_mul(table, window, nwin, scalars, out, scratch, like):
    """out[i] = scalars[i] * G (affine) from a table of table[w * 2^window + d] = d * 2^(w window) G.

    Each product is at most nwin mixed additions; the results are normalised to affine with one
    inversion per chunk (Montgomery's trick). Zero scalars give the point at infinity (0, 0).
    `scratch` holds 3 elements per point (Jacobian results) plus 2 per point for the inversion.
    """
    n = scalars.shape[0]
    size = 1 << window
    mask = np.uint64(size - 1)
    for i in prange(n):
        acc = jac_infinity(like)
        for w in range(nwin):
            bit = w * window
            limb = bit >> 6
            offset = bit & 63
            d = (scalars[i, limb] >> np.uint64(offset)) & mask
            if offset + window > 64 and limb + 1 < 4:
                d |= (scalars[i, limb + 1] << np.uint64(64 - offset)) & mask
            if d != 0:
                k = w * size + np.int64(d)
                acc = jac_add_mixed(acc, load_fe(table, 2 * k, like), load_fe(table, 2 * k + 1, like))
        store_jac(scratch, i, acc)
    chunks = 64 if n >= 4096 else 1
    per = (n + chunks - 1) // chunks
    base = 3 * n
    for c in prange(chunks):
        lo = c * per
        hi = min(n, lo + per)
        if lo >= hi:
            continue
        _normalise_range(scratch, out, lo, hi, base, like)


@njit(cache=True)
def _normalise_range(jac, out, lo, hi, base, like):
    """Affine forms of Jacobian points lo..hi-1 with one inversion: x = X/Z^2, y = Y/Z^3."""
    count = hi - lo
    # Z values into jac's spare room at [base + 2 lo, base + 2 lo + count), prefix after them.
    zs = base + 2 * lo
    for i in range(count):
        store_fe(jac, zs + i, load_fe(jac, 3 * (lo + i) + 2, like))
    fq_batch_inv_run(jac, zs, count, like)
    zero = fe_zero_like(like)
    for i in range(count):
        z_inv = load_fe(jac, zs + i, like)
        if is_zero(z_inv):
            store_fe(out, 2 * (lo + i), zero)
            store_fe(out, 2 * (lo + i) + 1, zero)
            continue
        p = load_jac(jac, lo + i, like)
        z_inv2 = fq_sqr(z_inv)
        store_fe(out, 2 * (lo + i), fq_mul(p[0], z_inv2))
        store_fe(out, 2 * (lo + i) + 1, fq_mul(p[1], fq_mul(z_inv2, z_inv)))


@njit(cache=True)
def fixed_base_table(generator, window, nwin, table, scratch, like):
    """table[w * 2^window + d] = d * 2^(w * window) * G as affine points (d = 0 gives (0, 0)).

    `scratch` holds 5 elements per table entry (Jacobian points, then room for the inversion).
    """
    size = 1 << window
    base = jac_from_affine(load_fe(generator, 0, like), load_fe(generator, 1, like))
    for w in range(nwin):
        acc = jac_infinity(like)
        for d in range(size):
            store_jac(scratch, w * size + d, acc)
            acc = jac_add(acc, base)
        base = acc  # size * base = 2^window * base: the next window's unit
    _normalise_range(scratch, table, 0, nwin * size, 3 * nwin * size, like)
