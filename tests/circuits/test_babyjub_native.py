"""Native Baby Jubjub: curve constants, group law, membership checks and point packing equal circomlibjs babyJub's."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.babyjub import (
    A,
    BASE8,
    COFACTOR,
    CURVE_ORDER,
    D,
    FIELD_MODULUS,
    GENERATOR,
    IDENTITY,
    SUBGROUP_ORDER,
    InvalidPoint,
    Point,
    field_sqrt,
    in_subgroup,
    is_low_order,
    is_on_curve,
    pack_point,
    point_add,
    point_double,
    point_neg,
    scalar_mul,
    unpack_point,
)

R = FIELD_MODULUS
L = SUBGROUP_ORDER


def as_json(p) -> list[str]:
    return [str(p[0]), str(p[1])]


def from_json(p) -> Point | None:
    return None if p is None else Point(int(p[0]), int(p[1]))


# The 8 points of order dividing 8: multiples of l * G, G of order 8l.
LOW_ORDER_POINTS = [scalar_mul(GENERATOR, L * k) for k in range(8)]

_rng = random.Random(254)
SUBGROUP_POINTS = [scalar_mul(BASE8, _rng.randrange(1, L)) for _ in range(12)]
FULL_GROUP_POINTS = [scalar_mul(GENERATOR, _rng.randrange(1, CURVE_ORDER)) for _ in range(6)]
ALL_POINTS = SUBGROUP_POINTS + [point_neg(p) for p in SUBGROUP_POINTS] + FULL_GROUP_POINTS + LOW_ORDER_POINTS
SCALARS = [0, 1, 7, L - 1, L, 8 * L + 3, 2**256 - 1, _rng.randrange(2**254)]
OFF_CURVE = [Point(p.x, (p.y + 1) % R) for p in SUBGROUP_POINTS[:4]] + [Point(1, 1), Point(0, 0)]
# Canonical encodings of random y below r, either sign: many have no point on the curve.
RANDOM_ENCODINGS = [
    (_rng.randrange(R) | (_rng.randrange(2) << 255)).to_bytes(32, "little") for _ in range(60)
]
# SUBGROUP_POINTS[1] packed with y + r in place of y: within 255 bits, but not canonical.
NON_CANONICAL_ALIAS = (
    (SUBGROUP_POINTS[1].y + R) | (int(SUBGROUP_POINTS[1].x > (R - 1) // 2) << 255)
).to_bytes(32, "little")


@pytest.fixture(scope="module")
def circomlibjs(run_circomlibjs):
    """All of this module's questions to circomlibjs, asked in one node process."""
    pairs = [(p, q) for p in ALL_POINTS[::3] for q in ALL_POINTS[::4]] + [(p, p) for p in ALL_POINTS]
    mults = [(p, k) for p in ALL_POINTS[::5] for k in SCALARS]  # subgroup, negated, full-group, low-order points
    membership = ALL_POINTS[::3] + LOW_ORDER_POINTS[1::3] + OFF_CURVE  # circomlibjs's inSubgroup costs 50 ms a point
    packed = [pack_point(p) for p in ALL_POINTS if p.x != 0]
    groups = {
        "constants": [{"op": "constants"}],
        "add": [{"op": "addPoint", "p": as_json(p), "q": as_json(q)} for p, q in pairs],
        "mul": [{"op": "mulPointEscalar", "p": as_json(p), "k": str(k)} for p, k in mults],
        "inCurve": [{"op": "inCurve", "p": as_json(p)} for p in membership],
        "inSubgroup": [{"op": "inSubgroup", "p": as_json(p)} for p in membership],
        "pack": [{"op": "packPoint", "p": as_json(p)} for p in ALL_POINTS],
        "unpack": [{"op": "unpackPoint", "data": b.hex()} for b in packed + RANDOM_ENCODINGS],
        "alias": [{"op": "unpackPoint", "data": NON_CANONICAL_ALIAS.hex()}],
    }
    requests = [req for reqs in groups.values() for req in reqs]
    answers = iter(run_circomlibjs(requests))
    out = {name: [next(answers) for _ in reqs] for name, reqs in groups.items()}
    out["inputs"] = {"add": pairs, "mul": mults, "membership": membership, "unpack": packed + RANDOM_ENCODINGS}
    return out


# --- constants ------------------------------------------------------------------------------

def _is_probable_prime(n: int) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def test_base8_is_eight_times_the_generator_as_published():
    assert BASE8 == (
        5299619240641551281634865583518297030282874472190772894086521144482721001553,
        16950150798460657717958625567821834550301663161624707787222815936182638968203,
    )
    assert is_on_curve(GENERATOR) and is_on_curve(BASE8)


def test_subgroup_order_is_prime_and_the_generator_has_order_8l():
    assert _is_probable_prime(L)
    assert COFACTOR * L == CURVE_ORDER
    assert scalar_mul(BASE8, L) == IDENTITY
    assert scalar_mul(GENERATOR, CURVE_ORDER) == IDENTITY
    assert scalar_mul(GENERATOR, 4 * L) != IDENTITY


def test_addition_law_is_complete_because_a_is_a_square_and_d_is_not():
    assert pow(A, (R - 1) // 2, R) == 1
    assert pow(D, (R - 1) // 2, R) == R - 1


@pytest.mark.node
def test_constants_equal_circomlibjs(circomlibjs):
    (c,) = circomlibjs["constants"]
    assert from_json(c["Generator"]) == GENERATOR
    assert from_json(c["Base8"]) == BASE8
    assert int(c["subOrder"]) == L
    assert int(c["order"]) == CURVE_ORDER


# --- group law ------------------------------------------------------------------------------

@pytest.mark.node
def test_point_addition_equals_circomlibjs(circomlibjs):
    for (p, q), expected in zip(circomlibjs["inputs"]["add"], circomlibjs["add"], strict=True):
        assert point_add(p, q) == from_json(expected)


@pytest.mark.node
def test_scalar_multiplication_equals_circomlibjs_for_unreduced_scalars(circomlibjs):
    for (p, k), expected in zip(circomlibjs["inputs"]["mul"], circomlibjs["mul"], strict=True):
        assert scalar_mul(p, k) == from_json(expected), f"k = {k}"


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 40))
def test_scalar_multiplication_is_repeated_addition(k):
    expected = IDENTITY
    for _ in range(k):
        expected = point_add(expected, GENERATOR)
    assert scalar_mul(GENERATOR, k) == expected


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**256), st.integers(0, 2**256))
def test_scalar_multiplication_distributes_over_scalar_addition(a, b):
    assert scalar_mul(GENERATOR, a + b) == point_add(scalar_mul(GENERATOR, a), scalar_mul(GENERATOR, b))


def test_identity_negation_and_doubling():
    p = SUBGROUP_POINTS[0]
    assert point_add(p, IDENTITY) == p
    assert point_add(p, point_neg(p)) == IDENTITY
    assert point_double(p) == scalar_mul(p, 2)


def test_scalar_multiplication_rejects_negative_scalars_and_bad_coordinates():
    with pytest.raises(ValueError):
        scalar_mul(BASE8, -1)
    with pytest.raises(InvalidPoint):
        scalar_mul((R, 1), 3)


# --- membership -----------------------------------------------------------------------------

@pytest.mark.node
def test_on_curve_and_in_subgroup_checks_equal_circomlibjs(circomlibjs):
    points = circomlibjs["inputs"]["membership"]
    assert [is_on_curve(p) for p in points] == circomlibjs["inCurve"]
    assert [in_subgroup(p) for p in points] == circomlibjs["inSubgroup"]


def test_the_eight_low_order_points_are_detected_and_nothing_else():
    assert len(set(LOW_ORDER_POINTS)) == 8
    assert IDENTITY in LOW_ORDER_POINTS and Point(0, R - 1) in LOW_ORDER_POINTS
    assert all(is_low_order(p) for p in LOW_ORDER_POINTS)
    assert [in_subgroup(p) for p in LOW_ORDER_POINTS].count(True) == 1  # the identity
    assert not any(is_low_order(p) for p in SUBGROUP_POINTS + FULL_GROUP_POINTS)


def test_points_off_the_curve_or_out_of_range_are_neither_on_curve_nor_low_order():
    for p in OFF_CURVE + [Point(BASE8.x + R, BASE8.y), Point(-1, 1)]:
        assert not is_on_curve(p)
        assert not is_low_order(p)
        assert not in_subgroup(p)


def test_points_outside_the_subgroup_are_not_in_it():
    assert not in_subgroup(GENERATOR)
    assert in_subgroup(BASE8)
    assert not in_subgroup(point_add(BASE8, LOW_ORDER_POINTS[1]))


# --- packing --------------------------------------------------------------------------------

@pytest.mark.node
def test_pack_point_is_byte_equal_to_circomlibjs(circomlibjs):
    for p, expected in zip(ALL_POINTS, circomlibjs["pack"], strict=True):
        assert pack_point(p).hex() == expected


@pytest.mark.node
def test_unpack_point_equals_circomlibjs_on_canonical_encodings(circomlibjs):
    accepted = 0
    for data, expected in zip(circomlibjs["inputs"]["unpack"], circomlibjs["unpack"], strict=True):
        if expected is None:
            with pytest.raises(InvalidPoint):
                unpack_point(data)
        else:
            assert unpack_point(data) == from_json(expected)
            accepted += 1
    assert accepted > len(ALL_POINTS) - 2  # every packed point but the two with x = 0, and some random ones


@settings(max_examples=25, deadline=None)
@given(st.integers(1, L - 1), st.booleans())
def test_unpack_inverts_pack(k, negate):
    p = scalar_mul(BASE8, k)
    p = point_neg(p) if negate else p
    assert unpack_point(pack_point(p)) == p


def test_sign_bit_is_set_exactly_when_x_exceeds_half_the_modulus():
    p = SUBGROUP_POINTS[0]
    small, large = sorted([p, point_neg(p)], key=lambda q: q.x)
    assert pack_point(small)[31] & 0x80 == 0
    assert pack_point(large)[31] & 0x80 == 0x80
    assert pack_point(small)[:31] == pack_point(large)[:31]


@pytest.mark.node
def test_unpack_rejects_y_at_or_above_r_which_circomlibjs_would_reduce(circomlibjs):
    # A documented divergence: circomlibjs's `y > p` check runs after reduction, so it accepts
    # 2^255 - r aliases of canonical encodings; a packed key in pubdata must be canonical (docs/DESIGN.md §4).
    (circomlibjs_answer,) = circomlibjs["alias"]
    assert from_json(circomlibjs_answer) == SUBGROUP_POINTS[1]
    with pytest.raises(InvalidPoint, match="non-canonical"):
        unpack_point(NON_CANONICAL_ALIAS)
    with pytest.raises(InvalidPoint, match="non-canonical"):
        unpack_point(R.to_bytes(32, "little"))


def test_unpack_rejects_malformed_encodings():
    with pytest.raises(InvalidPoint, match="32 bytes"):
        unpack_point(pack_point(BASE8)[:31])
    with pytest.raises(InvalidPoint, match="x = 0"):
        unpack_point(pack_point(IDENTITY))
    y = next(y for y in range(2, 1000) if field_sqrt((1 - y * y) * pow(A - D * y * y, -1, R)) is None)
    with pytest.raises(InvalidPoint, match="not the y coordinate"):
        unpack_point(y.to_bytes(32, "little"))


def test_field_sqrt_returns_the_root_below_half_and_none_for_non_squares():
    for a in (4, 9, 2**200 + 7, R - 1):
        root = field_sqrt(a)
        if root is not None:
            assert root * root % R == a % R and root <= (R - 1) // 2
    assert field_sqrt(5) is None  # 5 generates F_r^*, so it is not a square
    assert field_sqrt(0) == 0
