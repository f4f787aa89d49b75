"""Fq, Fq2 and Fr arithmetic on arrays of Montgomery-form elements, backed by Numba kernels.

Shapes: Fq and Fr vectors are (n, 4) uint64, Fq2 vectors (n, 2, 4). The plain-Python twin with
the same names is `prover.reference.field`. Conversions to ints live in `prover.convert`.
"""

from __future__ import annotations

import numpy as np

from .arrays import check_elements, same_length
from .constants import MONT_R, Q, R, to_limbs
from .kernels import field as k

_MUL, _ADD, _SUB = 0, 1, 2
_NEG, _INV, _SQR = 0, 1, 2


def _binary(kernel, like, trailing, op, name):
    def fn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = check_elements(a, trailing, "a")
        b = check_elements(b, trailing, "b")
        same_length(a, b)
        out = np.empty_like(a)
        if a.size:
            kernel(a, b, out, op, like)
        return out

    fn.__name__ = name
    return fn


def _unary(kernel, like, trailing, op, name, refuse_zero=False):
    def fn(a: np.ndarray) -> np.ndarray:
        a = check_elements(a, trailing, "a")
        if refuse_zero and a.size and not a.reshape(len(a), -1).any(axis=1).all():
            raise ZeroDivisionError("zero has no inverse")
        out = np.empty_like(a)
        if a.size:
            kernel(a, out, op, like)
        return out

    fn.__name__ = name
    return fn


def _batch_inv(kernel, like, trailing, name):
    def fn(a: np.ndarray) -> np.ndarray:
        """Inverses of all elements with one field inversion; zeros map to zero."""
        a = check_elements(a, trailing, "a")
        buf = np.concatenate([a, np.empty_like(a)])  # the values, then room for the prefix products
        if a.size:
            kernel(buf, 0, len(a), like)
        return buf[:len(a)].copy()

    fn.__name__ = name
    return fn


_FQ, _FQ2 = (4,), (2, 4)
fq_mul = _binary(k.fq_binary_arrays, k.FQ_LIKE, _FQ, _MUL, "fq_mul")
fq_add = _binary(k.fq_binary_arrays, k.FQ_LIKE, _FQ, _ADD, "fq_add")
fq_sub = _binary(k.fq_binary_arrays, k.FQ_LIKE, _FQ, _SUB, "fq_sub")
fq_neg = _unary(k.fq_unary_arrays, k.FQ_LIKE, _FQ, _NEG, "fq_neg")
fq_square = _unary(k.fq_unary_arrays, k.FQ_LIKE, _FQ, _SQR, "fq_square")
fq_inv = _unary(k.fq_unary_arrays, k.FQ_LIKE, _FQ, _INV, "fq_inv", refuse_zero=True)
fq_batch_inv = _batch_inv(k.fq_batch_inv_run, k.FQ_LIKE, _FQ, "fq_batch_inv")

fq2_mul = _binary(k.fq_binary_arrays, k.FQ2_LIKE, _FQ2, _MUL, "fq2_mul")
fq2_add = _binary(k.fq_binary_arrays, k.FQ2_LIKE, _FQ2, _ADD, "fq2_add")
fq2_sub = _binary(k.fq_binary_arrays, k.FQ2_LIKE, _FQ2, _SUB, "fq2_sub")
fq2_neg = _unary(k.fq_unary_arrays, k.FQ2_LIKE, _FQ2, _NEG, "fq2_neg")
fq2_square = _unary(k.fq_unary_arrays, k.FQ2_LIKE, _FQ2, _SQR, "fq2_square")
fq2_inv = _unary(k.fq_unary_arrays, k.FQ2_LIKE, _FQ2, _INV, "fq2_inv", refuse_zero=True)
fq2_batch_inv = _batch_inv(k.fq_batch_inv_run, k.FQ2_LIKE, _FQ2, "fq2_batch_inv")

fr_mul = _binary(k.fr_binary_arrays, k.FR_LIKE, _FQ, _MUL, "fr_mul")
fr_add = _binary(k.fr_binary_arrays, k.FR_LIKE, _FQ, _ADD, "fr_add")
fr_sub = _binary(k.fr_binary_arrays, k.FR_LIKE, _FQ, _SUB, "fr_sub")
fr_neg = _unary(k.fr_unary_arrays, k.FR_LIKE, _FQ, _NEG, "fr_neg")
fr_square = _unary(k.fr_unary_arrays, k.FR_LIKE, _FQ, _SQR, "fr_square")
fr_inv = _unary(k.fr_unary_arrays, k.FR_LIKE, _FQ, _INV, "fr_inv", refuse_zero=True)
fr_batch_inv = _batch_inv(k.fr_batch_inv_run, k.FR_LIKE, _FQ, "fr_batch_inv")


def _const_vector(value: int, n: int) -> np.ndarray:
    return np.tile(np.array(to_limbs(value), dtype=np.uint64), (n, 1))


def fr_to_montgomery(standard: np.ndarray) -> np.ndarray:
    """Standard-form Fr limbs (each < r) to Montgomery form: x -> x * 2^256 mod r."""
    standard = check_elements(standard, _FQ, "standard", modulus=R)
    return fr_mul(standard, _const_vector(MONT_R * MONT_R % R, len(standard)))


def fr_from_montgomery(mont: np.ndarray) -> np.ndarray:
    """Montgomery-form Fr limbs to standard form (what MSM scalars and .wtns files hold)."""
    mont = check_elements(mont, _FQ, "mont")
    return fr_mul(mont, _const_vector(1, len(mont)))


def fq_to_montgomery(standard: np.ndarray) -> np.ndarray:
    standard = check_elements(standard, _FQ, "standard", modulus=Q)
    return fq_mul(standard, _const_vector(MONT_R * MONT_R % Q, len(standard)))


def fq_from_montgomery(mont: np.ndarray) -> np.ndarray:
    mont = check_elements(mont, _FQ, "mont")
    return fq_mul(mont, _const_vector(1, len(mont)))
