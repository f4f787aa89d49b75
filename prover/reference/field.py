"""Plain-Python twin of `prover.field`: the same functions on the same Montgomery arrays, computed
with Python ints. It is the specification of what the Numba kernels compute, and a test oracle.
"""

from __future__ import annotations


from .. import convert
from ..arrays import check_elements, same_length
from ..constants import Q, R, fq2_inv_ints, fq2_mul_ints

_FQ, _FQ2 = (4,), (2, 4)


def _fq_binary(op):
    def fn(a, b):
        a, b = check_elements(a, _FQ, "a"), check_elements(b, _FQ, "b")
        same_length(a, b)
        return convert.fq_from_ints(op(x, y) % Q for x, y in zip(convert.fq_to_ints(a), convert.fq_to_ints(b)))
    return fn


def _fr_binary(op):
    def fn(a, b):
        a, b = check_elements(a, _FQ, "a"), check_elements(b, _FQ, "b")
        same_length(a, b)
        return convert.fr_from_ints(op(x, y) % R for x, y in zip(convert.fr_to_ints(a), convert.fr_to_ints(b)))
    return fn


def _fq2_binary(op):
    def fn(a, b):
        a, b = check_elements(a, _FQ2, "a"), check_elements(b, _FQ2, "b")
        same_length(a, b)
        out = [op(x, y) for x, y in zip(convert.fq2_to_ints(a), convert.fq2_to_ints(b))]
        return convert.fq2_from_ints(out).reshape(a.shape)
    return fn


def _inverse(x: int, modulus: int) -> int:
    if x == 0:
        raise ZeroDivisionError("zero has no inverse")
    return pow(x, -1, modulus)


def _batch(values, inverse):
    """Zeros map to zero; everything else to its inverse."""
    return [inverse(v) if v not in (0, (0, 0)) else v for v in values]


def fq_mul(a, b): return _fq_binary(lambda x, y: x * y)(a, b)
def fq_add(a, b): return _fq_binary(lambda x, y: x + y)(a, b)
def fq_sub(a, b): return _fq_binary(lambda x, y: x - y)(a, b)
def fr_mul(a, b): return _fr_binary(lambda x, y: x * y)(a, b)
def fr_add(a, b): return _fr_binary(lambda x, y: x + y)(a, b)
def fr_sub(a, b): return _fr_binary(lambda x, y: x - y)(a, b)
def fq2_mul(a, b): return _fq2_binary(fq2_mul_ints)(a, b)
def fq2_add(a, b): return _fq2_binary(lambda x, y: ((x[0] + y[0]) % Q, (x[1] + y[1]) % Q))(a, b)
def fq2_sub(a, b): return _fq2_binary(lambda x, y: ((x[0] - y[0]) % Q, (x[1] - y[1]) % Q))(a, b)


def fq_neg(a):
    return convert.fq_from_ints(-x % Q for x in convert.fq_to_ints(check_elements(a, _FQ, "a")))


def fq_square(a):
    return fq_mul(a, a)


def fq_inv(a):
    return convert.fq_from_ints(_inverse(x, Q) for x in convert.fq_to_ints(check_elements(a, _FQ, "a")))


def fq_batch_inv(a):
    values = convert.fq_to_ints(check_elements(a, _FQ, "a"))
    return convert.fq_from_ints(_batch(values, lambda x: pow(x, -1, Q)))


def fr_neg(a):
    return convert.fr_from_ints(-x % R for x in convert.fr_to_ints(check_elements(a, _FQ, "a")))


def fr_square(a):
    return fr_mul(a, a)


def fr_inv(a):
    return convert.fr_from_ints(_inverse(x, R) for x in convert.fr_to_ints(check_elements(a, _FQ, "a")))


def fr_batch_inv(a):
    values = convert.fr_to_ints(check_elements(a, _FQ, "a"))
    return convert.fr_from_ints(_batch(values, lambda x: pow(x, -1, R)))


def fq2_neg(a):
    a = check_elements(a, _FQ2, "a")
    return convert.fq2_from_ints((-x % Q, -y % Q) for x, y in convert.fq2_to_ints(a)).reshape(a.shape)


def fq2_square(a):
    return fq2_mul(a, a)


def fq2_inv(a):
    a = check_elements(a, _FQ2, "a")
    values = convert.fq2_to_ints(a)
    if any(v == (0, 0) for v in values):
        raise ZeroDivisionError("zero has no inverse")
    return convert.fq2_from_ints(fq2_inv_ints(v) for v in values).reshape(a.shape)


def fq2_batch_inv(a):
    a = check_elements(a, _FQ2, "a")
    return convert.fq2_from_ints(_batch(convert.fq2_to_ints(a), fq2_inv_ints)).reshape(a.shape)


def fr_to_montgomery(standard):
    standard = check_elements(standard, _FQ, "standard", modulus=R)
    return convert.fr_from_ints(convert.limbs_to_ints(standard))


def fr_from_montgomery(mont):
    return convert.ints_to_limbs(convert.fr_to_ints(check_elements(mont, _FQ, "mont")))


def fq_to_montgomery(standard):
    standard = check_elements(standard, _FQ, "standard", modulus=Q)
    return convert.fq_from_ints(convert.limbs_to_ints(standard))


def fq_from_montgomery(mont):
    return convert.ints_to_limbs(convert.fq_to_ints(check_elements(mont, _FQ, "mont")))


