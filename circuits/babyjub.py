"""Native Baby Jubjub (EIP-2494): the twisted Edwards curve a*x^2 + y^2 = 1 + d*x^2*y^2 over BN254's scalar field.
Points, the group law, scalar multiplication, curve/subgroup/low-order checks and the 32-byte packing of circomlibjs
babyJub.packPoint / unpackPoint. Plain Python ints; the circuit gadgets live elsewhere.
"""

from __future__ import annotations

from typing import NamedTuple

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
