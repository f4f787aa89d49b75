"""Native Baby Jubjub (EIP-2494): the twisted Edwards curve a*x^2 + y^2 = 1 + d*x^2*y^2 over BN254's scalar field.
Points, the group law, scalar multiplication, curve/subgroup/low-order checks and the 32-byte packing of circomlibjs
babyJub.packPoint / unpackPoint, in plain Python ints; beside them (end of file) their circuit gadgets, which take
points as pairs of linear combinations and use only complete formulas.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from circuits.builder import ConstraintSystem, ConstraintSystemError, LinearCombination, LinearLike, _coerce
from circuits.gadgets import assert_bits_at_most, multi_mux, to_binary, to_binary_strict

__all__ = [
    "A",
    "BASE8",
    "COFACTOR",
    "CURVE_ORDER",
    "D",
    "FIELD_MODULUS",
    "GENERATOR",
    "IDENTITY",
    "SUBGROUP_ORDER",
    "InvalidPoint",
    "Point",
    "field_sqrt",
    "in_subgroup",
    "is_low_order",
    "is_on_curve",
    "pack_point",
    "point_add",
    "point_double",
    "point_neg",
    "scalar_mul",
    "unpack_point",
    # gadgets
    "assert_not_low_order",
    "assert_on_curve",
    "fixed_base_mul_gadget",
    "mul_by_cofactor_gadget",
    "pack_point_bits_native",
    "pack_point_gadget",
    "point_add_gadget",
    "point_double_gadget",
    "point_select_gadget",
    "scalar_mul_gadget",
    "scalar_mul_prime_order_gadget",
    "x_sign_gadget",
    "x_sign_native",
]

FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
A = 168700
D = 168696
# The curve has 8 * l points; l is prime. Published in EIP-2494 and circomlibjs babyjub.js.
SUBGROUP_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041
COFACTOR = 8
CURVE_ORDER = COFACTOR * SUBGROUP_ORDER

_HALF = (FIELD_MODULUS - 1) // 2  # x > _HALF is the "negative" x, which sets the sign bit when packing


class Point(NamedTuple):
    """An affine point (x, y), both in [0, r). A tuple, so `Point(x, y) == (x, y)`."""

    x: int
    y: int


class InvalidPoint(ValueError):
    """Coordinates or an encoding that do not give a point of Baby Jubjub."""


IDENTITY = Point(0, 1)
# circomlibjs's Generator (EIP-2494's G, of order 8 * l); BASE8 = 8 * G generates the prime-order
# subgroup and is the base point of EdDSA. BASE8 is derived here and checked against circomlibjs's.
GENERATOR = Point(
    995203441582195749578291179787384436505546430278305826713579947235728471134,
    5472060717959818805561601436314318772137091100104008585924551046643952123905,
)


def _check_coordinates(p: tuple[int, int]) -> None:
    if len(p) != 2 or not all(isinstance(c, int) and 0 <= c < FIELD_MODULUS for c in p):
        raise InvalidPoint(f"point coordinates must be two integers in [0, r): {p!r}")


def is_on_curve(p: tuple[int, int]) -> bool:
    """True when p has coordinates in [0, r) and satisfies a*x^2 + y^2 = 1 + d*x^2*y^2."""
    try:
        _check_coordinates(p)
    except InvalidPoint:
        return False
    x2, y2 = p[0] * p[0] % FIELD_MODULUS, p[1] * p[1] % FIELD_MODULUS
    return (A * x2 + y2 - 1 - D * x2 * y2) % FIELD_MODULUS == 0


def point_add(p: tuple[int, int], q: tuple[int, int]) -> Point:
    """p + q with the affine twisted Edwards law (complete: a is a square and d is not, so the
    denominators never vanish for points on the curve)."""
    r = FIELD_MODULUS
    x1, y1 = p
    x2, y2 = q
    dxy = D * x1 * x2 % r * y1 * y2 % r
    x3 = (x1 * y2 + y1 * x2) * pow(1 + dxy, -1, r) % r
    y3 = (y1 * y2 - A * x1 * x2) * pow(1 - dxy, -1, r) % r
    return Point(x3, y3)


def point_double(p: tuple[int, int]) -> Point:
    return point_add(p, p)


def point_neg(p: tuple[int, int]) -> Point:
    return Point((-p[0]) % FIELD_MODULUS, p[1])


# Scalar multiplication runs in extended coordinates (X : Y : T : Z), x = X/Z, y = Y/Z, T = XY/Z
# (Hisil, Wong, Carter, Dawson, "Twisted Edwards curves revisited", 2008, section 3), so that
# a 254-bit multiplication needs one field inversion instead of about four hundred.


def _ext_add(p1: tuple[int, int, int, int], p2: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    r = FIELD_MODULUS
    x1, y1, t1, z1 = p1
    x2, y2, t2, z2 = p2
    a_ = x1 * x2 % r
    b_ = y1 * y2 % r
    c_ = D * t1 % r * t2 % r
    d_ = z1 * z2 % r
    e_ = ((x1 + y1) * (x2 + y2) - a_ - b_) % r
    f_ = d_ - c_
    g_ = d_ + c_
    h_ = b_ - A * a_
    return (e_ * f_ % r, g_ * h_ % r, e_ * h_ % r, f_ * g_ % r)


def _ext_double(p1: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    r = FIELD_MODULUS
    x1, y1, _, z1 = p1
    a_ = x1 * x1 % r
    b_ = y1 * y1 % r
    c_ = 2 * z1 * z1 % r
    d_ = A * a_ % r
    e_ = ((x1 + y1) * (x1 + y1) - a_ - b_) % r
    g_ = d_ + b_
    f_ = g_ - c_
    h_ = d_ - b_
    return (e_ * f_ % r, g_ * h_ % r, e_ * h_ % r, f_ * g_ % r)


def scalar_mul(p: tuple[int, int], k: int) -> Point:
    """k * p for any integer k >= 0 (not reduced mod l: p need not be in the subgroup).
    Equal to circomlibjs babyJub.mulPointEscalar for points on the curve."""
    if k < 0:
        raise ValueError(f"scalar must be non-negative, got {k}")
    _check_coordinates(p)
    r = FIELD_MODULUS
    base = (p[0], p[1], p[0] * p[1] % r, 1)
    acc = (0, 1, 0, 1)
    for bit in bin(k)[2:]:
        acc = _ext_double(acc)
        if bit == "1":
            acc = _ext_add(acc, base)
    z_inv = pow(acc[3], -1, r)
    return Point(acc[0] * z_inv % r, acc[1] * z_inv % r)


def is_low_order(p: tuple[int, int]) -> bool:
    """True when p is on the curve and 8 * p is the identity: one of the 8 points of order 1, 2, 4 or 8.
    Such a public key would let one signature verify for every message."""
    return is_on_curve(p) and scalar_mul(p, COFACTOR) == IDENTITY


def in_subgroup(p: tuple[int, int]) -> bool:
    """True when p is on the curve and l * p is the identity (circomlibjs babyJub.inSubgroup)."""
    return is_on_curve(p) and scalar_mul(p, SUBGROUP_ORDER) == IDENTITY


def field_sqrt(a: int) -> int | None:
    """The square root of a in F_r that is <= (r - 1) / 2 (the one ffjavascript's F.sqrt returns),
    or None when a is not a square. Tonelli-Shanks; r - 1 = 2^28 * odd, 5 is a non-residue."""
    r = FIELD_MODULUS
    a %= r
    if a == 0:
        return 0
    if pow(a, (r - 1) // 2, r) != 1:
        return None
    s, q = 0, r - 1
    while q % 2 == 0:
        s, q = s + 1, q // 2
    m, c, t, root = s, pow(5, q, r), pow(a, q, r), pow(a, (q + 1) // 2, r)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2, i = t2 * t2 % r, i + 1
        b = pow(c, 1 << (m - i - 1), r)
        m, c, t, root = i, b * b % r, t * b * b % r, root * b % r
    return root if root <= _HALF else r - root


def pack_point(p: tuple[int, int]) -> bytes:
    """circomlibjs babyJub.packPoint: y as 32 little-endian bytes, with the top bit set when x > (r - 1) / 2.
    y < r < 2^254, so the top bit is free. The point is not checked to be on the curve."""
    _check_coordinates(p)
    packed = bytearray(p[1].to_bytes(32, "little"))
    if p[0] > _HALF:
        packed[31] |= 0x80
    return bytes(packed)


def unpack_point(data: bytes) -> Point:
    """Inverse of pack_point, as circomlibjs babyJub.unpackPoint, but only for canonical encodings.

    Raises InvalidPoint where circomlibjs returns null (wrong length aside: no x for this y) and also
    where circomlibjs would accept a non-canonical encoding: y >= r (circomlibjs reduces it mod r).
    Like circomlibjs it refuses y with x = 0, i.e. the identity and (0, -1): both of low order.
    """
    if len(data) != 32:
        raise InvalidPoint(f"a packed point is 32 bytes, got {len(data)}")
    raw = int.from_bytes(data, "little")
    negative_x = bool(raw >> 255)
    y = raw & ((1 << 255) - 1)
    if y >= FIELD_MODULUS:
        raise InvalidPoint("packed y is not below the field modulus (non-canonical encoding)")
    r = FIELD_MODULUS
    y2 = y * y % r
    # From a*x^2 + y^2 = 1 + d*x^2*y^2; a - d*y^2 != 0 because a/d is not a square.
    x2 = (1 - y2) * pow(A - D * y2, -1, r) % r
    if x2 == 0:
        raise InvalidPoint("packed y gives x = 0 (the identity or (0, -1), of low order); circomlibjs refuses it")
    x = field_sqrt(x2)
    if x is None:
        raise InvalidPoint("packed y is not the y coordinate of a curve point")
    return Point(r - x if negative_x else x, y)


BASE8 = scalar_mul(GENERATOR, COFACTOR)


# ---------------------------------------------------------------------------------------------------
# Circuit gadgets. A point is a pair (x, y) of linear combinations (ints are constants). The addition and
# doubling gadgets REQUIRE their inputs on the curve (assert_on_curve, or points derived from such by these
# gadgets): there the denominators 1 ± d·x1·x2·y1·y2 never vanish (a square, d not), so every output wire is
# determined by its constraint. Off the curve a denominator can vanish and leave an output free.

GadgetPoint = tuple[LinearCombination, LinearCombination]


def _point(p) -> GadgetPoint:
    if len(p) != 2:
        raise ConstraintSystemError(f"a point is a pair (x, y), got {len(p)} values")
    return _coerce(p[0]), _coerce(p[1])


def _quotient(numerator: int, denominator: int) -> int:
    """Hint: numerator / denominator, or 0 when the denominator is 0 (the constraint then decides)."""
    return numerator * pow(denominator, -1, FIELD_MODULUS) % FIELD_MODULUS if denominator else 0


def _divide(cs: ConstraintSystem, numerator: LinearCombination, denominator: LinearCombination) -> LinearCombination:
    """q with q·denominator = numerator (1 constraint; q is determined when the denominator is not 0)."""
    if denominator.is_constant():
        if denominator.constant_value == 0:
            raise ConstraintSystemError("division by the constant 0 in a curve formula")
        return numerator * pow(denominator.constant_value, -1, FIELD_MODULUS)
    q, = cs.hint(_quotient, [numerator, denominator])
    cs.assert_product(q, denominator, numerator)
    return q


def point_add_gadget(cs: ConstraintSystem, p, q) -> GadgetPoint:
    """p + q, the twin of point_add, for points on the curve: 6 constraints (circomlib's BabyAdd).

    beta = x1·y2, gamma = y1·x2, delta = (y1 − a·x1)·(x2 + y2), tau = beta·gamma,
    x3·(1 + d·tau) = beta + gamma, y3·(1 − d·tau) = delta + a·beta − gamma.
    """
    (x1, y1), (x2, y2) = _point(p), _point(q)
    with cs.gadget("babyjub_add"):
        beta = cs.mul(x1, y2)
        gamma = cs.mul(y1, x2)
        delta = cs.mul(y1 - x1 * A, x2 + y2)
        tau = cs.mul(beta, gamma)
        x3 = _divide(cs, beta + gamma, 1 + tau * D)
        y3 = _divide(cs, delta + beta * A - gamma, 1 - tau * D)
    return x3, y3


def point_double_gadget(cs: ConstraintSystem, p) -> GadgetPoint:
    """2p, the twin of point_double, for a point on the curve: 5 constraints.

    x3 = 2xy / (a·x² + y²), y3 = (y² − a·x²) / (2 − a·x² − y²): on the curve these denominators equal
    1 ± d·x²·y², the ones of the complete addition law (Bernstein et al., "Twisted Edwards curves", §3).
    """
    x, y = _point(p)
    with cs.gadget("babyjub_double"):
        xx = cs.mul(x, x)
        yy = cs.mul(y, y)
        xy = cs.mul(x, y)
        x3 = _divide(cs, xy * 2, xx * A + yy)
        y3 = _divide(cs, yy - xx * A, 2 - xx * A - yy)
    return x3, y3


def assert_on_curve(cs: ConstraintSystem, p) -> None:
    """a·x² + y² = 1 + d·x²·y² (3 constraints, circomlib's BabyCheck); twin of is_on_curve."""
    x, y = _point(p)
    with cs.gadget("babyjub_on_curve"):
        xx = cs.mul(x, x)
        yy = cs.mul(y, y)
        cs.assert_product(xx * D, yy, xx * A + yy - 1)


def mul_by_cofactor_gadget(cs: ConstraintSystem, p) -> GadgetPoint:
    """8p by three doublings (15 constraints); p on the curve."""
    with cs.gadget("babyjub_mul_by_8"):
        for _ in range(3):
            p = point_double_gadget(cs, p)
    return p


def assert_not_low_order(cs: ConstraintSystem, p) -> GadgetPoint:
    """For p on the curve, constrain 8p ≠ identity and return 8p (16 constraints); twin of `not is_low_order`.

    8p has odd order (1 or l), so it is never (0, −1): x(8p) ≠ 0 says exactly 8p ≠ (0, 1), as circomlib's
    EdDSAPoseidonVerifier checks (IsZero of dbl3.xout).
    """
    with cs.gadget("babyjub_not_low_order"):
        p8 = mul_by_cofactor_gadget(cs, p)
        cs.assert_nonzero(p8[0])
    return p8


def point_select_gadget(cs: ConstraintSystem, cond: LinearLike, if_true, if_false) -> GadgetPoint:
    """cond ? if_true : if_false coordinate-wise (cond asserted boolean; 2 constraints)."""
    (tx, ty), (fx, fy) = _point(if_true), _point(if_false)
    return cs.select(cond, tx, fx), cs.select(cond, ty, fy)


def scalar_mul_gadget(cs: ConstraintSystem, p, bits: Sequence[LinearLike]) -> GadgetPoint:
    """k·p for the scalar k = Σ 2^i bits[i] (bits little-endian, asserted boolean) and any point p on the
    curve; the twin of scalar_mul(p, k). Complete formulas only, so no scalar and no point is exceptional.

    Windows of 2 bits from the top: acc ← 4·acc + T[w] with T = (O, p, 2p, 3p): 22 constraints per
    window (two doublings, a 4-way select of two coordinates, one addition), about 11 per bit.
    """
    p = _point(p)
    bits = [_coerce(b) for b in bits]
    if not bits:
        return cs.constant(0), cs.constant(1)
    with cs.gadget(f"babyjub_scalar_mul({len(bits)})"):
        for bit in bits:
            cs.assert_bool(bit)
        if len(bits) % 2:
            bits = bits + [cs.constant(0)]
        p2 = point_double_gadget(cs, p)
        p3 = point_add_gadget(cs, p2, p)
        table_x = [cs.constant(0), p[0], p2[0], p3[0]]
        table_y = [cs.constant(1), p[1], p2[1], p3[1]]
        acc = None
        for i in range(len(bits) - 2, -1, -2):
            window = multi_mux(cs, bits[i:i + 2], [table_x, table_y])
            if acc is None:
                acc = (window[0], window[1])
            else:
                acc = point_double_gadget(cs, point_double_gadget(cs, acc))
                acc = point_add_gadget(cs, acc, window)
        return acc


def fixed_base_mul_gadget(cs: ConstraintSystem, base: tuple[int, int], bits: Sequence[LinearLike]) -> GadgetPoint:
    """k·base for a CONSTANT point base on the curve and k = Σ 2^i bits[i] (asserted boolean); the twin of
    scalar_mul(base, k). Windows of 3 bits select j·8^w·base from constant tables (3 constraints) and
    are summed with the complete addition (6): about 3 constraints per bit, no doubling at all.
    """
    if not is_on_curve(base):
        raise ConstraintSystemError(f"fixed base {base!r} is not on the curve")
    bits = [_coerce(b) for b in bits]
    if not bits:
        return cs.constant(0), cs.constant(1)
    with cs.gadget(f"babyjub_fixed_base_mul({len(bits)})"):
        for bit in bits:
            cs.assert_bool(bit)
        acc = None
        window_base = Point(*base)
        for i in range(0, len(bits), 3):
            window_bits = bits[i:i + 3]
            entries = [IDENTITY]
            for _ in range((1 << len(window_bits)) - 1):
                entries.append(point_add(entries[-1], window_base))
            x, y = multi_mux(cs, window_bits, [[e.x for e in entries], [e.y for e in entries]])
            acc = (x, y) if acc is None else point_add_gadget(cs, acc, (x, y))
            window_base = scalar_mul(window_base, 8)
        return acc


def _sign_witness(x: int) -> list[int]:
    """Hint: (sign, t) with sign = x > (r − 1)/2 and x·t = sign."""
    sign = int(x > _HALF)
    return [sign, pow(x, -1, FIELD_MODULUS) if sign else 0]


def x_sign_gadget(cs: ConstraintSystem, x: LinearLike) -> LinearCombination:
    """The packing sign bit of a field element: 1 if x > (r − 1)/2 else 0, exactly (x_sign_native's twin).

    sign is boolean; sign = x·t (so sign = 1 only for x ≠ 0) and t·(1 − sign) = 0; |x| = x − 2·sign·x is
    x or −x, and |x| ≤ (r − 1)/2 by a 253-bit decomposition and a bound on the bits. For x ≠ 0 exactly one
    of x, −x is at most (r − 1)/2, so the sign is unique. 409 constraints.
    """
    x = _coerce(x)
    if x.is_constant():
        return cs.constant(x_sign_native(x.constant_value))
    with cs.gadget("babyjub_x_sign"):
        sign, t = cs.hint(_sign_witness, [x], 2)
        cs.assert_bool(sign)
        cs.assert_product(x, t, sign)
        cs.assert_product(t, 1 - sign, 0)   # t = 0 when sign = 0: no free wire for x = 0
        magnitude = x - cs.mul(sign, x) * 2
        assert_bits_at_most(cs, to_binary(cs, magnitude, 253), _HALF)
    cs.mark_range_checked(sign, 1)
    return sign


def x_sign_native(x: int) -> int:
    if not 0 <= x < FIELD_MODULUS:
        raise ValueError("a field element must be in [0, r)")
    return int(x > _HALF)


def pack_point_gadget(cs: ConstraintSystem, p) -> list[LinearCombination]:
    """The 256 bits of circomlibjs babyJub.packPoint(p), little-endian (bit 8k + j is bit j of byte k):
    the canonical 254 bits of y (strict decomposition, so y + r cannot pass), a 0, then the sign of x.
    The twin of pack_point_bits_native. The point is not checked to be on the curve (as packPoint)."""
    x, y = _point(p)
    with cs.gadget("babyjub_pack_point"):
        y_bits = to_binary_strict(cs, y)
        sign = x_sign_gadget(cs, x)
    return [*y_bits, cs.constant(0), sign]


def pack_point_bits_native(p: tuple[int, int]) -> list[int]:
    """pack_point(p) as 256 little-endian bits."""
    packed = int.from_bytes(pack_point(p), "little")
    return [(packed >> i) & 1 for i in range(256)]


# ---------------------------------------------------------------------------------------------------
# Variable-base multiplication of a point of prime order l, in Montgomery form (cheaper than the complete
# Edwards law, but with exceptional cases, hence the narrower precondition).
#
# Baby Jubjub is birationally equivalent to the Montgomery curve v² = u³ + A_M·u² + u, A_M = 2(a + d)/(a − d)
# = 168698 (B = 4/(a − d) = 1): u = (1 + y)/(1 − y), v = u/x (EIP-2494). Addition of points with u1 ≠ u2 and
# doubling of points with v ≠ 0 cost 4 constraints each; every wire is forced, and each step provably gives
# the group result, so all points stay in the group generated by p.

MONTGOMERY_A = 2 * (A + D) * pow(A - D, -1, FIELD_MODULUS) % FIELD_MODULUS
assert (A - D) == 4 and MONTGOMERY_A == 168698   # B = 4 / (a - d) = 1


def _mont_add_hint(u1: int, v1: int, u2: int, v2: int) -> list[int]:
    r = FIELD_MODULUS
    if (u2 - u1) % r == 0:
        return [0, 0, 0, 0]
    inv = pow(u2 - u1, -1, r)
    lam = (v2 - v1) * inv % r
    u3 = (lam * lam - MONTGOMERY_A - u1 - u2) % r
    return [inv, lam, u3, (lam * (u1 - u3) - v1) % r]


def _mont_double_hint(u: int, v: int) -> list[int]:
    r = FIELD_MODULUS
    uu = u * u % r
    if v % r == 0:
        return [uu, 0, 0, 0]
    lam = (3 * uu + 2 * MONTGOMERY_A * u + 1) * pow(2 * v, -1, r) % r
    u3 = (lam * lam - MONTGOMERY_A - 2 * u) % r
    return [uu, lam, u3, (lam * (u - u3) - v) % r]


def _mont_add(cs: ConstraintSystem, p, q) -> GadgetPoint:
    """p + q for u(p) ≠ u(q) (enforced: (u2 − u1)·inv = 1), else unsatisfiable. 4 constraints."""
    (u1, v1), (u2, v2) = p, q
    inv, lam, u3, v3 = cs.hint(_mont_add_hint, [u1, v1, u2, v2], 4)
    cs.assert_product(u2 - u1, inv, 1)
    cs.assert_product(v2 - v1, inv, lam)
    cs.assert_product(lam, lam, u3 + MONTGOMERY_A + u1 + u2)
    cs.assert_product(lam, u1 - u3, v3 + v1)
    return u3, v3


def _mont_double(cs: ConstraintSystem, p) -> GadgetPoint:
    """2p for v(p) ≠ 0 (on the curve, v = 0 makes λ·0 = 3u² + 2A_M·u + 1 ≠ 0 unsatisfiable). 4 constraints."""
    u, v = p
    uu, lam, u3, v3 = cs.hint(_mont_double_hint, [u, v], 4)
    cs.assert_product(u, u, uu)
    cs.assert_product(lam, v * 2, uu * 3 + u * (2 * MONTGOMERY_A) + 1)
    cs.assert_product(lam, lam, u3 + MONTGOMERY_A + u * 2)
    cs.assert_product(lam, u - u3, v3 + v)
    return u3, v3


def _to_montgomery(cs: ConstraintSystem, p) -> GadgetPoint:
    """(u, v) = ((1 + y)/(1 − y), u/x); y ≠ 1 and x ≠ 0 (else unsatisfiable or, for x = 0, the caller's
    precondition). 2 constraints."""
    x, y = p
    u = _divide(cs, 1 + y, 1 - y)
    return u, _divide(cs, u, x)


def _from_montgomery(cs: ConstraintSystem, p) -> GadgetPoint:
    """(x, y) = (u/v, (u − 1)/(u + 1)); v ≠ 0 since the point has odd order. 2 constraints."""
    u, v = p
    return _divide(cs, u, v), _divide(cs, u - 1, u + 1)


def scalar_mul_prime_order_gadget(cs: ConstraintSystem, p, bits: Sequence[LinearLike]) -> GadgetPoint:
    """k·p for k = Σ 2^i bits[i] (asserted boolean), the twin of scalar_mul(p, k), about 8 constraints a bit.

    PRECONDITION (the caller's constraints must ensure it): p is on the curve and of prime order l, e.g.
    p = 8A with x(8A) ≠ 0 (assert_not_low_order). Then every wire is forced, so the gadget is sound for
    any bits. It is complete except when an intermediate sum hits an exceptional case (the identity, or
    u1 = u2 in an addition), which needs a partial sum ≡ 0 or ±digit (mod l): negligible for a hash
    output, and if it happens the honest witness is unsatisfiable, never a wrong result.

    Method: with k = b0 + 2k', the bits c = (k', padded, then a 1 on top) give signed odd digits
    d_j = 2(c_2j + 2·c_2j+1) − 3 ∈ {±1, ±3} and Σ d_j·4^j = 2k' + 1 (Joye–Tunstall style recoding,
    with no arithmetic on the bits). acc ← 4·acc + d_j·p in Montgomery form (16 constraints a window of
    2 bits: two doublings, a 4-way signed select of (p, 3p), one addition), then back to Edwards and
    subtract p if b0 = 0 with the complete law.
    """
    p = _point(p)
    bits = [_coerce(b) for b in bits]
    if len(bits) < 2:
        return scalar_mul_gadget(cs, p, bits)
    with cs.gadget(f"babyjub_scalar_mul_prime_order({len(bits)})"):
        for bit in bits:
            cs.assert_bool(bit)
        c = bits[1:]
        if len(c) % 2 == 0:
            c.append(cs.constant(0))
        c.append(cs.constant(1))
        p1 = _to_montgomery(cs, p)
        p3 = _mont_add(cs, p1, _mont_double(cs, p1))
        (u1, v1), (u3, v3) = p1, p3
        acc = None
        for j in range(len(c) - 2, -1, -2):
            c0, c1 = c[j], c[j + 1]
            magnitude_one = c0 + c1 - cs.mul(c0, c1) * 2   # digit ±1 when the two bits differ, else ±3
            digit = (u3 + cs.mul(magnitude_one, u1 - u3),
                     -v3 + cs.mul(c0, v3 - v1) + cs.mul(c1, v1 + v3))
            if acc is None:
                acc = digit
            else:
                acc = _mont_add(cs, _mont_double(cs, _mont_double(cs, acc)), digit)
        odd_multiple = _from_montgomery(cs, acc)
        # k·p = (2k' + 1)·p − (1 − b0)·p
        not_b0 = 1 - bits[0]
        correction = (cs.mul(not_b0, -p[0]), 1 + cs.mul(not_b0, p[1] - 1))
        return point_add_gadget(cs, odd_multiple, correction)
