"""Numba field kernels on element tuples and on flat element arrays: powers, inverses, batch inverse.

`fq_*` functions accept Fq (4-tuples) and Fq2 (8-tuples) alike, the `fr_*` ones Fr. Array
kernels take C-contiguous uint64 arrays viewed as flat runs of elements of `like`'s width.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.extending import overload

from ..constants import Q, R, to_limbs
from .ir import (fq2_mul_fq, fq_add, fq_mul, fq_neg, fq_one_like, fq_sqr, fq_sub,
                 fr_add, fr_mul, fr_neg, fr_one_like, fr_sub, is_zero, load_fe, store_fe)

_FQ_INV_EXPONENT = np.array(to_limbs(Q - 2), dtype=np.uint64)  # Fermat: x^(q-2) = 1/x
_FR_INV_EXPONENT = np.array(to_limbs(R - 2), dtype=np.uint64)
_ONE = np.uint64(1)


@njit(cache=True)
def fq_pow_limbs(x, exponent):
    """x^e for an Fq element x and e given as uint64 limbs (little-endian), square-and-multiply."""
    result = fq_one_like(x)
    for bit in range(exponent.size * 64 - 1, -1, -1):
        result = fq_sqr(result)
        if (exponent[bit >> 6] >> np.uint64(bit & 63)) & _ONE:
            result = fq_mul(result, x)
    return result


@njit(cache=True)
def fr_pow_limbs(x, exponent):
    result = fr_one_like(x)
    for bit in range(exponent.size * 64 - 1, -1, -1):
        result = fr_mul(result, result)
        if (exponent[bit >> 6] >> np.uint64(bit & 63)) & _ONE:
            result = fr_mul(result, x)
    return result


@njit(cache=True)
def fq_inv_base(x):
    """1/x in Fq (0 maps to 0)."""
    return fq_pow_limbs(x, _FQ_INV_EXPONENT)


@njit(cache=True)
def fr_inv(x):
    """1/x in Fr (0 maps to 0)."""
    return fr_pow_limbs(x, _FR_INV_EXPONENT)


@njit(cache=True)
def _fq2_inv(x):
    # 1/(c0 + c1 u) = (c0 - c1 u) / (c0^2 + c1^2)
    c0 = (x[0], x[1], x[2], x[3])
    c1 = (x[4], x[5], x[6], x[7])
    norm_inv = fq_inv_base(fq_add(fq_sqr(c0), fq_sqr(c1)))
    conj = c0 + fq_neg(c1)
    return fq2_mul_fq(conj, norm_inv)


def fq_inv(x):
    """1/x for an Fq or Fq2 element tuple (0 maps to 0). Resolved by width inside Numba."""
    raise NotImplementedError("fq_inv is only callable from Numba-compiled code")


@overload(fq_inv, jit_options={"cache": True})
def _fq_inv_overload(x):
    if x.count == 4:
        return lambda x: fq_inv_base(x)
    if x.count == 8:
        return lambda x: _fq2_inv(x)
    return None


@njit(cache=True)
def fq_batch_inv_run(buf, start, count, like):
    """Montgomery's trick: invert elements start .. start+count-1 of buf in place with one field
    inversion (Fq or Fq2 by like's width). Zeros are skipped and stay zero. Elements
    start+count .. start+2*count-1 of buf hold the prefix products."""
    acc = fq_one_like(like)
    for i in range(count):
        store_fe(buf, start + count + i, acc)
        v = load_fe(buf, start + i, like)
        if not is_zero(v):
            acc = fq_mul(acc, v)
    inv = fq_inv(acc)
    for i in range(count - 1, -1, -1):
        v = load_fe(buf, start + i, like)
        if not is_zero(v):
            store_fe(buf, start + i, fq_mul(inv, load_fe(buf, start + count + i, like)))
            inv = fq_mul(inv, v)


@njit(cache=True)
def fr_batch_inv_run(buf, start, count, like):
    """fq_batch_inv_run over Fr."""
    acc = fr_one_like(like)
    for i in range(count):
        store_fe(buf, start + count + i, acc)
        v = load_fe(buf, start + i, like)
        if not is_zero(v):
            acc = fr_mul(acc, v)
    inv = fr_inv(acc)
    for i in range(count - 1, -1, -1):
        v = load_fe(buf, start + i, like)
        if not is_zero(v):
            store_fe(buf, start + i, fr_mul(inv, load_fe(buf, start + count + i, like)))
            inv = fr_mul(inv, v)


# --- Element-wise array kernels ---------------------------------------------------------------------
# `op` codes keep one compiled kernel per field and arity: 0 mul, 1 add, 2 sub (binary);
# 0 neg, 1 inv, 2 square (unary).

@njit(cache=True, parallel=True)
def fq_binary_arrays(a, b, out, op, like):
    n = out.size // len(like)
    for i in prange(n):
        x = load_fe(a, i, like)
        y = load_fe(b, i, like)
        if op == 0:
            z = fq_mul(x, y)
        elif op == 1:
            z = fq_add(x, y)
        else:
            z = fq_sub(x, y)
        store_fe(out, i, z)


@njit(cache=True, parallel=True)
def fq_unary_arrays(a, out, op, like):
    n = out.size // len(like)
    for i in prange(n):
        x = load_fe(a, i, like)
        if op == 0:
            z = fq_neg(x)
        elif op == 1:
            z = fq_inv(x)
        else:
            z = fq_sqr(x)
        store_fe(out, i, z)


@njit(cache=True, parallel=True)
def fr_binary_arrays(a, b, out, op, like):
    n = out.size // len(like)
    for i in prange(n):
        x = load_fe(a, i, like)
        y = load_fe(b, i, like)
        if op == 0:
            z = fr_mul(x, y)
        elif op == 1:
            z = fr_add(x, y)
        else:
            z = fr_sub(x, y)
        store_fe(out, i, z)


@njit(cache=True, parallel=True)
def fr_unary_arrays(a, out, op, like):
    n = out.size // len(like)
    for i in prange(n):
        x = load_fe(a, i, like)
        if op == 0:
            z = fr_neg(x)
        elif op == 1:
            z = fr_inv(x)
        else:
            z = fr_mul(x, x)
        store_fe(out, i, z)


@njit(cache=True)
def fq_mul_chain(x, y, rounds):
    """x * y * y * ... (rounds times): a latency-bound loop for timing one multiplication."""
    for _ in range(rounds):
        x = fq_mul(x, y)
    return x


FQ_LIKE = (np.uint64(0),) * 4
FQ2_LIKE = (np.uint64(0),) * 8
FR_LIKE = FQ_LIKE
