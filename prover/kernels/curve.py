"""Numba point arithmetic on y^2 = x^3 + b, written once for G1 (Fq) and G2 (Fq2 twist).

Points are tuples of field elements: Jacobian (X, Y, Z) with Z = 0 at infinity; affine (x, y)
with (0, 0) at infinity. Formulas are the a = 0 ones of the Explicit-Formulas Database
(dbl-2009-l, madd-2007-bl, add-2007-bl). The curve constant b enters only `is_on_curve`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..constants import G1_B, G2_B, MONT_R, Q, R, to_limbs
from .ir import (constant_fn, fe_equal, fe_zero_like, fq_add, fq_double, fq_mul,
                 fq_one_like, fq_sqr, fq_sub, is_zero, load_fe, store_fe)
from .field import fq_batch_inv_run, fq_inv

curve_b = constant_fn("curve_b", {  # b in Montgomery form: G1's for Fq, the twist's for Fq2
    4: to_limbs(G1_B * MONT_R % Q),
    8: to_limbs(G2_B[0] * MONT_R % Q) + to_limbs(G2_B[1] * MONT_R % Q),
})
_R_LIMBS = np.array(to_limbs(R), dtype=np.uint64)


@njit(cache=True)
def jac_infinity(like):
    return (fq_one_like(like), fq_one_like(like), fe_zero_like(like))


@njit(cache=True)
def jac_is_infinity(p):
    return is_zero(p[2])


@njit(cache=True)
def affine_is_infinity(x, y):
    return is_zero(x) and is_zero(y)


@njit(cache=True)
def jac_from_affine(x, y):
    if affine_is_infinity(x, y):
        return jac_infinity(x)
    return (x, y, fq_one_like(x))


@njit(cache=True)
def jac_double(p):
    X1, Y1, Z1 = p
    if is_zero(Z1) or is_zero(Y1):
        return jac_infinity(X1)
    A = fq_sqr(X1)
    B = fq_sqr(Y1)
    C = fq_sqr(B)
    D = fq_double(fq_sub(fq_sub(fq_sqr(fq_add(X1, B)), A), C))
    E = fq_add(fq_double(A), A)
    F = fq_sqr(E)
    X3 = fq_sub(F, fq_double(D))
    C8 = fq_double(fq_double(fq_double(C)))
    Y3 = fq_sub(fq_mul(E, fq_sub(D, X3)), C8)
    Z3 = fq_double(fq_mul(Y1, Z1))
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_add_mixed(p, x2, y2):
    """Jacobian p plus affine (x2, y2)."""
    if affine_is_infinity(x2, y2):
        return p
    X1, Y1, Z1 = p
    if is_zero(Z1):
        return (x2, y2, fq_one_like(x2))
    Z1Z1 = fq_sqr(Z1)
    U2 = fq_mul(x2, Z1Z1)
    S2 = fq_mul(y2, fq_mul(Z1, Z1Z1))
    H = fq_sub(U2, X1)
    r = fq_double(fq_sub(S2, Y1))
    if is_zero(H):
        if is_zero(r):
            return jac_double(p)
        return jac_infinity(x2)
    HH = fq_sqr(H)
    I = fq_double(fq_double(HH))
    J = fq_mul(H, I)
    V = fq_mul(X1, I)
    X3 = fq_sub(fq_sub(fq_sqr(r), J), fq_double(V))
    Y3 = fq_sub(fq_mul(r, fq_sub(V, X3)), fq_double(fq_mul(Y1, J)))
    Z3 = fq_sub(fq_sub(fq_sqr(fq_add(Z1, H)), Z1Z1), HH)
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_add(p, q):
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    if is_zero(Z1):
        return q
    if is_zero(Z2):
        return p
    Z1Z1 = fq_sqr(Z1)
    Z2Z2 = fq_sqr(Z2)
    U1 = fq_mul(X1, Z2Z2)
    U2 = fq_mul(X2, Z1Z1)
    S1 = fq_mul(Y1, fq_mul(Z2, Z2Z2))
    S2 = fq_mul(Y2, fq_mul(Z1, Z1Z1))
    H = fq_sub(U2, U1)
    r = fq_double(fq_sub(S2, S1))
    if is_zero(H):
        if is_zero(r):
            return jac_double(p)
        return jac_infinity(X1)
    I = fq_sqr(fq_double(H))
    J = fq_mul(H, I)
    V = fq_mul(U1, I)
    X3 = fq_sub(fq_sub(fq_sqr(r), J), fq_double(V))
    Y3 = fq_sub(fq_mul(r, fq_sub(V, X3)), fq_double(fq_mul(S1, J)))
    Z3 = fq_mul(fq_sub(fq_sub(fq_sqr(fq_add(Z1, Z2)), Z1Z1), Z2Z2), H)
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_to_affine(p):
    X, Y, Z = p
    if is_zero(Z):
        zero = fe_zero_like(X)
        return (zero, zero)
    z_inv = fq_inv(Z)
    z_inv2 = fq_sqr(z_inv)
    return (fq_mul(X, z_inv2), fq_mul(Y, fq_mul(z_inv2, z_inv)))


@njit(cache=True)
def jac_scalar_mul_limbs(p, scalar):
    """[k] p for k given as little-endian uint64 limbs; double-and-add (not constant time)."""
    result = jac_infinity(p[0])
    for bit in range(scalar.size * 64 - 1, -1, -1):
        result = jac_double(result)
        if (scalar[bit >> 6] >> np.uint64(bit & 63)) & np.uint64(1):
            result = jac_add(result, p)
    return result


@njit(cache=True)
def affine_on_curve(x, y, b):
    """y^2 == x^3 + b for a finite point; (0, 0) counts as the point at infinity."""
    if affine_is_infinity(x, y):
        return True
    return fe_equal(fq_sqr(y), fq_add(fq_mul(fq_sqr(x), x), b))


# --- Array kernels --------------------------------------------------------------------------------
# Arrays are flat runs of elements: Jacobian point i is elements 3i..3i+2, affine point i 2i..2i+1.

@njit(cache=True)
def load_jac(arr, i, like):
    return (load_fe(arr, 3 * i, like), load_fe(arr, 3 * i + 1, like), load_fe(arr, 3 * i + 2, like))


@njit(cache=True)
def store_jac(arr, i, p):
    store_fe(arr, 3 * i, p[0])
    store_fe(arr, 3 * i + 1, p[1])
    store_fe(arr, 3 * i + 2, p[2])


@njit(cache=True, parallel=True)
def jac_binary_arrays(a, b, out, op, like):
    """op 0: a + b (Jacobian both); op 1: a + b with b affine."""
    n = out.size // (3 * len(like))
    for i in prange(n):
        p = load_jac(a, i, like)
        if op == 0:
            r = jac_add(p, load_jac(b, i, like))
        else:
            r = jac_add_mixed(p, load_fe(b, 2 * i, like), load_fe(b, 2 * i + 1, like))
        store_jac(out, i, r)


@njit(cache=True, parallel=True)
def jac_double_arrays(a, out, like):
    n = out.size // (3 * len(like))
    for i in prange(n):
        store_jac(out, i, jac_double(load_jac(a, i, like)))


@njit(cache=True, parallel=True)
def jac_to_affine_arrays(a, out, like):
    n = out.size // (2 * len(like))
    for i in prange(n):
        x, y = jac_to_affine(load_jac(a, i, like))
        store_fe(out, 2 * i, x)
        store_fe(out, 2 * i + 1, y)


@njit(cache=True, parallel=True)
def affine_to_jac_arrays(a, out, like):
    n = out.size // (3 * len(like))
    for i in prange(n):
        store_jac(out, i, jac_from_affine(load_fe(a, 2 * i, like), load_fe(a, 2 * i + 1, like)))


@njit(cache=True, parallel=True)
def on_curve_arrays(a, out, like):
    n = out.size
    b = curve_b(like)
    for i in prange(n):
        out[i] = affine_on_curve(load_fe(a, 2 * i, like), load_fe(a, 2 * i + 1, like), b)


@njit(cache=True, parallel=True)
def in_subgroup_arrays(a, out, like):
    """[r] P == infinity: the definition of membership in the order-r subgroup."""
    n = out.size
    for i in prange(n):
        p = jac_from_affine(load_fe(a, 2 * i, like), load_fe(a, 2 * i + 1, like))
        out[i] = jac_is_infinity(jac_scalar_mul_limbs(p, _R_LIMBS))


@njit(cache=True)
def batch_affine_add_arrays(a, b, out, scratch, like):
    """out[i] = a[i] + b[i] for affine points, with one field inversion for the whole batch.

    Each pair needs lambda = num / den: (y2 - y1) / (x2 - x1), or 3 x^2 / 2 y when the points are
    equal. Pairs with an infinity, or with P + (-P), need no inversion and get den = 0, which the
    batch inverse skips. `scratch` holds 3n elements: num, den, and the inverse's prefix products.
    """
    n = out.size // (2 * len(like))
    zero = fe_zero_like(like)
    for i in range(n):
        x1, y1 = load_fe(a, 2 * i, like), load_fe(a, 2 * i + 1, like)
        x2, y2 = load_fe(b, 2 * i, like), load_fe(b, 2 * i + 1, like)
        num = zero
        den = zero
        if not affine_is_infinity(x1, y1) and not affine_is_infinity(x2, y2):
            if not fe_equal(x1, x2):
                num = fq_sub(y2, y1)
                den = fq_sub(x2, x1)
            elif fe_equal(y1, y2) and not is_zero(y1):
                xx = fq_sqr(x1)
                num = fq_add(fq_double(xx), xx)
                den = fq_double(y1)
        store_fe(scratch, i, num)
        store_fe(scratch, n + i, den)
    fq_batch_inv_run(scratch, n, n, like)
    for i in range(n):
        x1, y1 = load_fe(a, 2 * i, like), load_fe(a, 2 * i + 1, like)
        x2, y2 = load_fe(b, 2 * i, like), load_fe(b, 2 * i + 1, like)
        den_inv = load_fe(scratch, n + i, like)
        if affine_is_infinity(x1, y1):
            x3, y3 = x2, y2
        elif affine_is_infinity(x2, y2):
            x3, y3 = x1, y1
        elif is_zero(den_inv):  # P + (-P), or doubling a point with y = 0
            x3, y3 = zero, zero
        else:
            lam = fq_mul(load_fe(scratch, i, like), den_inv)
            x3 = fq_sub(fq_sub(fq_sqr(lam), x1), x2)
            y3 = fq_sub(fq_mul(lam, fq_sub(x1, x3)), y1)
        store_fe(out, 2 * i, x3)
        store_fe(out, 2 * i + 1, y3)
