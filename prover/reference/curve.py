"""Plain-Python twin of `prover.curve`: the same formulas (EFD dbl-2009-l, madd-2007-bl,
add-2007-bl for a = 0) on Python ints, so Jacobian outputs agree coordinate for coordinate.
"""

from __future__ import annotations

import numpy as np

from .. import convert
from ..arrays import below_modulus, check_elements, same_length
from ..constants import G1_B, G2_B, Q, R, fq2_inv_ints, fq2_mul_ints


class _Fq:
    zero, one = 0, 1
    add = staticmethod(lambda a, b: (a + b) % Q)
    sub = staticmethod(lambda a, b: (a - b) % Q)
    mul = staticmethod(lambda a, b: a * b % Q)
    neg = staticmethod(lambda a: -a % Q)
    inv = staticmethod(lambda a: pow(a, -1, Q))
    b = G1_B
    shape = (4,)
    to_ints = staticmethod(convert.fq_to_ints)

    @staticmethod
    def from_ints(values):
        return convert.fq_from_ints(values)


class _Fq2:
    zero, one = (0, 0), (1, 0)
    add = staticmethod(lambda a, b: ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q))
    sub = staticmethod(lambda a, b: ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q))
    mul = staticmethod(fq2_mul_ints)
    neg = staticmethod(lambda a: (-a[0] % Q, -a[1] % Q))
    inv = staticmethod(fq2_inv_ints)
    b = G2_B
    shape = (2, 4)
    to_ints = staticmethod(convert.fq2_to_ints)

    @staticmethod
    def from_ints(values):
        return convert.fq2_from_ints(values)


def _double(F, p):
    X1, Y1, Z1 = p
    if Z1 == F.zero or Y1 == F.zero:
        return (F.one, F.one, F.zero)
    A, B = F.mul(X1, X1), F.mul(Y1, Y1)
    C = F.mul(B, B)
    XB = F.add(X1, B)
    D = F.add(*(2 * [F.sub(F.sub(F.mul(XB, XB), A), C)]))
    E = F.add(F.add(A, A), A)
    X3 = F.sub(F.mul(E, E), F.add(D, D))
    C8 = F.mul(C, 8 if F is _Fq else (8, 0))
    Y3 = F.sub(F.mul(E, F.sub(D, X3)), C8)
    Z3 = F.mul(F.add(Y1, Y1), Z1)
    return (X3, Y3, Z3)


def _add_mixed(F, p, x2, y2):
    if x2 == F.zero and y2 == F.zero:
        return p
    X1, Y1, Z1 = p
    if Z1 == F.zero:
        return (x2, y2, F.one)
    Z1Z1 = F.mul(Z1, Z1)
    U2 = F.mul(x2, Z1Z1)
    S2 = F.mul(y2, F.mul(Z1, Z1Z1))
    H = F.sub(U2, X1)
    r = F.add(*(2 * [F.sub(S2, Y1)]))
    if H == F.zero:
        return _double(F, p) if r == F.zero else (F.one, F.one, F.zero)
    HH = F.mul(H, H)
    I = F.add(*(2 * [F.add(HH, HH)]))
    J = F.mul(H, I)
    V = F.mul(X1, I)
    X3 = F.sub(F.sub(F.mul(r, r), J), F.add(V, V))
    YJ = F.mul(Y1, J)
    Y3 = F.sub(F.mul(r, F.sub(V, X3)), F.add(YJ, YJ))
    ZH = F.add(Z1, H)
    Z3 = F.sub(F.sub(F.mul(ZH, ZH), Z1Z1), HH)
    return (X3, Y3, Z3)


def _add(F, p, q):
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    if Z1 == F.zero:
        return q
    if Z2 == F.zero:
        return p
    Z1Z1, Z2Z2 = F.mul(Z1, Z1), F.mul(Z2, Z2)
    U1, U2 = F.mul(X1, Z2Z2), F.mul(X2, Z1Z1)
    S1 = F.mul(Y1, F.mul(Z2, Z2Z2))
    S2 = F.mul(Y2, F.mul(Z1, Z1Z1))
    H = F.sub(U2, U1)
    r = F.add(*(2 * [F.sub(S2, S1)]))
    if H == F.zero:
        return _double(F, p) if r == F.zero else (F.one, F.one, F.zero)
    H2 = F.add(H, H)
    I = F.mul(H2, H2)
    J = F.mul(H, I)
    V = F.mul(U1, I)
    X3 = F.sub(F.sub(F.mul(r, r), J), F.add(V, V))
    SJ = F.mul(S1, J)
    Y3 = F.sub(F.mul(r, F.sub(V, X3)), F.add(SJ, SJ))
    ZZ = F.add(Z1, Z2)
    Z3 = F.mul(F.sub(F.sub(F.mul(ZZ, ZZ), Z1Z1), Z2Z2), H)
    return (X3, Y3, Z3)


def _to_affine(F, p):
    X, Y, Z = p
    if Z == F.zero:
        return (F.zero, F.zero)
    z_inv = F.inv(Z)
    z_inv2 = F.mul(z_inv, z_inv)
    return (F.mul(X, z_inv2), F.mul(Y, F.mul(z_inv2, z_inv)))


def _from_affine(F, x, y):
    if x == F.zero and y == F.zero:
        return (F.one, F.one, F.zero)
    return (x, y, F.one)


def _scalar_mul(F, p, k: int):
    result = (F.one, F.one, F.zero)
    for bit in reversed(range(k.bit_length())):
        result = _double(F, result)
        if (k >> bit) & 1:
            result = _add(F, result, p)
    return result


def _on_curve(F, x, y) -> bool:
    if x == F.zero and y == F.zero:
        return True
    return F.mul(y, y) == F.add(F.mul(F.mul(x, x), x), F.b)


def _batch_affine_add(F, p, q):
    (x1, y1), (x2, y2) = p, q
    if x1 == F.zero and y1 == F.zero:
        return q
    if x2 == F.zero and y2 == F.zero:
        return p
    if x1 == x2:
        if y1 != y2 or y1 == F.zero:
            return (F.zero, F.zero)
        xx = F.mul(x1, x1)
        lam = F.mul(F.add(F.add(xx, xx), xx), F.inv(F.add(y1, y1)))
    else:
        lam = F.mul(F.sub(y2, y1), F.inv(F.sub(x2, x1)))
    x3 = F.sub(F.sub(F.mul(lam, lam), x1), x2)
    return (x3, F.sub(F.mul(lam, F.sub(x1, x3)), y1))


# --- Array boundary -------------------------------------------------------------------------------

def _read(F, array, per_point):
    flat = F.to_ints(array)
    return [tuple(flat[i:i + per_point]) for i in range(0, len(flat), per_point)]


def _write(F, points, per_point):
    flat = [c for p in points for c in p]
    return F.from_ints(flat).reshape((len(points), per_point) + F.shape)


def _group(F):
    affine_shape, jac_shape = (2,) + F.shape, (3,) + F.shape

    def add(p, q):
        p, q = check_elements(p, jac_shape, "p"), check_elements(q, jac_shape, "q")
        same_length(p, q)
        return _write(F, [_add(F, a, b) for a, b in zip(_read(F, p, 3), _read(F, q, 3))], 3)

    def add_mixed(p, q):
        p, q = check_elements(p, jac_shape, "p"), check_elements(q, affine_shape, "q")
        same_length(p, q)
        return _write(F, [_add_mixed(F, a, *b) for a, b in zip(_read(F, p, 3), _read(F, q, 2))], 3)

    def double(p):
        p = check_elements(p, jac_shape, "p")
        return _write(F, [_double(F, a) for a in _read(F, p, 3)], 3)

    def to_affine(p):
        p = check_elements(p, jac_shape, "p")
        return _write(F, [_to_affine(F, a) for a in _read(F, p, 3)], 2)

    def from_affine(p):
        p = check_elements(p, affine_shape, "p")
        return _write(F, [_from_affine(F, *a) for a in _read(F, p, 2)], 3)

    def batch_affine_add(p, q):
        p, q = check_elements(p, affine_shape, "p"), check_elements(q, affine_shape, "q")
        same_length(p, q)
        return _write(F, [_batch_affine_add(F, a, b) for a, b in zip(_read(F, p, 2), _read(F, q, 2))], 2)

    def is_on_curve(p):
        p = check_elements(p, affine_shape, "p")
        canonical = below_modulus(p, Q).reshape(len(p), -1).all(axis=1)
        return np.array([c and _on_curve(F, *a) for c, a in zip(canonical, _read(F, p, 2))], dtype=bool)

    def is_in_subgroup(p):
        on = is_on_curve(p)
        members = [_scalar_mul(F, _from_affine(F, *a), R)[2] == F.zero for a in _read(F, p, 2)]
        return np.array([a and b for a, b in zip(on, members)], dtype=bool)

    def validate(p, name="points", subgroup=False):
        from ..curve import PointNotOnCurve

        p = check_elements(p, affine_shape, name)
        ok = is_in_subgroup(p) if subgroup else is_on_curve(p)
        if not ok.all():
            what = "in the subgroup of order r" if subgroup else "on the curve"
            raise PointNotOnCurve(f"{name}[{int(np.flatnonzero(~ok)[0])}] is not {what}")
        return p

    return add, add_mixed, double, to_affine, from_affine, batch_affine_add, is_on_curve, is_in_subgroup, validate


(g1_add, g1_add_mixed, g1_double, g1_to_affine, g1_from_affine, g1_batch_affine_add,
 g1_is_on_curve, g1_is_in_subgroup, g1_validate) = _group(_Fq)
(g2_add, g2_add_mixed, g2_double, g2_to_affine, g2_from_affine, g2_batch_affine_add,
 g2_is_on_curve, g2_is_in_subgroup, g2_validate) = _group(_Fq2)

# For prover.reference.msm: the group laws on Python values.
G1_OPS, G2_OPS = _Fq, _Fq2
scalar_mul, to_affine_point, from_affine_point, add_points = _scalar_mul, _to_affine, _from_affine, _add
