"""Native EdDSA-Poseidon: keys and signatures equal circomlibjs eddsa's; the verifier refuses what a sound one must."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.babyjub import (
    BASE8,
    FIELD_MODULUS,
    GENERATOR,
    IDENTITY,
    SUBGROUP_ORDER,
    InvalidPoint,
    Point,
    point_add,
    point_neg,
    scalar_mul,
)
from circuits.eddsa import (
    Signature,
    secret_scalar,
    pack_signature,
    prv2pub,
    sign_poseidon,
    signature_challenge,
    unpack_signature,
    verify_poseidon,
)

R = FIELD_MODULUS
L = SUBGROUP_ORDER


def as_json(p) -> list[str]:
    return [str(p[0]), str(p[1])]


_rng = random.Random(2494)
PRIVATE_KEYS = [bytes(_rng.randrange(256) for _ in range(32)) for _ in range(10)]
PRIVATE_KEYS += [bytes(32), b"\xff" * 32, b"\x01", bytes(range(64))]  # circomlibjs takes any length
MESSAGES = [0, 1, R - 1] + [_rng.randrange(R) for _ in range(PRIVATE_KEYS.__len__() - 3)]
SIGNING_CASES = list(zip(PRIVATE_KEYS, MESSAGES, strict=True))

ORDER_8_POINT = scalar_mul(GENERATOR, L)  # of order 8: 8 * it is the identity


def _tampered_cases() -> list[tuple[str, int, Signature, Point, bool]]:
    """(name, msg, signature, public key, what a sound verifier answers)."""
    key, msg = PRIVATE_KEYS[0], MESSAGES[4]
    a, sig = prv2pub(key), sign_poseidon(key, msg)
    other = prv2pub(PRIVATE_KEYS[1])
    forged_s = 123456789
    forged = Signature(r8=scalar_mul(BASE8, forged_s), s=forged_s)
    return [
        ("valid", msg, sig, a, True),
        ("other message", (msg + 1) % R, sig, a, False),
        ("other key", msg, sig, other, False),
        ("S + 1", msg, replace(sig, s=(sig.s + 1) % L), a, False),
        ("S + l, the same point but S >= l", msg, replace(sig, s=sig.s + L), a, False),
        ("R8 negated", msg, replace(sig, r8=point_neg(sig.r8)), a, False),
        ("R8 off the curve", msg, replace(sig, r8=Point(sig.r8.x, (sig.r8.y + 1) % R)), a, False),
        ("A off the curve", msg, sig, Point(a.x, (a.y + 1) % R), False),
        # circomlibjs accepts these two: with 8A = identity the equation ignores the message.
        ("forgery under the identity as key", msg, forged, IDENTITY, False),
        ("forgery under a key of order 8", msg, forged, ORDER_8_POINT, False),
    ]


TAMPERED = _tampered_cases()
CIRCOMLIBJS_ACCEPTS_LOW_ORDER_KEYS = {"forgery under the identity as key", "forgery under a key of order 8"}


@pytest.fixture(scope="module")
def circomlibjs(run_circomlibjs):
    """All of this module's questions to circomlibjs, asked in one node process."""
    groups = {
        "prv2pub": [{"op": "prv2pub", "prv": k.hex()} for k in PRIVATE_KEYS],
        "sign": [{"op": "signPoseidon", "prv": k.hex(), "msg": str(m)} for k, m in SIGNING_CASES],
        "verify": [
            {"op": "verifyPoseidon", "msg": str(m), "R8": as_json(s.r8), "S": str(s.s), "A": as_json(a)}
            for _, m, s, a, _ in TAMPERED
        ],
    }
    answers = iter(run_circomlibjs([req for reqs in groups.values() for req in reqs]))
    return {name: [next(answers) for _ in reqs] for name, reqs in groups.items()}


# --- equality with circomlibjs ----------------------------------------------------------------

@pytest.mark.node
def test_public_keys_equal_circomlibjs_prv2pub(circomlibjs):
    for key, expected in zip(PRIVATE_KEYS, circomlibjs["prv2pub"], strict=True):
        assert prv2pub(key) == (int(expected[0]), int(expected[1])), key.hex()


@pytest.mark.node
def test_signatures_equal_circomlibjs_sign_poseidon(circomlibjs):
    for (key, msg), expected in zip(SIGNING_CASES, circomlibjs["sign"], strict=True):
        sig = sign_poseidon(key, msg)
        assert sig.r8 == (int(expected["R8"][0]), int(expected["R8"][1]))
        assert sig.s == int(expected["S"])


@pytest.mark.node
def test_circomlibjs_signatures_verify_here(circomlibjs):
    for (key, msg), expected in zip(SIGNING_CASES, circomlibjs["sign"], strict=True):
        sig = Signature(r8=Point(int(expected["R8"][0]), int(expected["R8"][1])), s=int(expected["S"]))
        assert verify_poseidon(msg, sig, prv2pub(key))


@pytest.mark.node
def test_verifier_agrees_with_circomlibjs_except_that_it_also_refuses_low_order_keys(circomlibjs):
    for (name, msg, sig, a, sound_answer), js_answer in zip(TAMPERED, circomlibjs["verify"], strict=True):
        assert verify_poseidon(msg, sig, a) is sound_answer, name
        if name in CIRCOMLIBJS_ACCEPTS_LOW_ORDER_KEYS:
            assert js_answer is True, name
        else:
            assert js_answer is sound_answer, name


# --- the verifier's checks, natively ------------------------------------------------------------

@pytest.mark.parametrize("case", TAMPERED, ids=[c[0] for c in TAMPERED])
def test_tampered_signature_is_rejected(case):
    _, msg, sig, a, sound_answer = case
    assert verify_poseidon(msg, sig, a) is sound_answer


def test_low_order_key_is_rejected_even_for_a_signature_that_satisfies_the_equation():
    forged = Signature(r8=scalar_mul(BASE8, 42), s=42)
    for msg in (0, 1, 12345):
        h = signature_challenge(forged.r8, ORDER_8_POINT, msg)
        # the equation S*B8 == R8 + 8h*A holds for every message ...
        assert scalar_mul(BASE8, forged.s) == point_add(forged.r8, scalar_mul(ORDER_8_POINT, 8 * h))
        # ... which is why the key must be refused
        assert not verify_poseidon(msg, forged, ORDER_8_POINT)


def test_message_that_is_not_a_field_element_is_refused():
    key = PRIVATE_KEYS[2]
    sig = sign_poseidon(key, 5)
    assert not verify_poseidon(5 + R, sig, prv2pub(key))
    with pytest.raises(ValueError, match="field element"):
        sign_poseidon(key, R)


def test_key_shifted_by_a_point_of_order_8_is_accepted_as_in_circomlib():
    # The cofactored equation only sees 8A, so A' = A + T (T of order 8) is not of low order and the
    # holder of A's secret can sign for it. circomlib's circuit and circomlibjs accept it too; keys are
    # unique only up to the 8 torsion points, and the signed message binds the account index.
    key = PRIVATE_KEYS[3]
    shifted = point_add(prv2pub(key), ORDER_8_POINT)
    scalar, _ = secret_scalar(key)
    nonce = 1234567
    r8 = scalar_mul(BASE8, nonce)
    sig = Signature(r8=r8, s=(nonce + signature_challenge(r8, shifted, 77) * scalar) % L)
    assert verify_poseidon(77, sig, shifted)
    assert not verify_poseidon(77, sig, prv2pub(key))


@settings(max_examples=12, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, R - 1))
def test_every_signature_verifies_and_no_other_message_does(key, msg):
    sig = sign_poseidon(key, msg)
    a = prv2pub(key)
    assert 0 <= sig.s < L
    assert verify_poseidon(msg, sig, a)
    assert not verify_poseidon((msg + 1) % R, sig, a)


def test_packed_signature_round_trips_and_keeps_r8_canonical():
    sig = sign_poseidon(PRIVATE_KEYS[5], 99)
    packed = pack_signature(sig)
    assert len(packed) == 64
    assert unpack_signature(packed) == sig
    with pytest.raises(InvalidPoint):
        unpack_signature(packed[:63])
    alias = (sig.r8.y + R) | (int(sig.r8.x > (R - 1) // 2) << 255)
    with pytest.raises(InvalidPoint, match="non-canonical"):
        unpack_signature(alias.to_bytes(32, "little") + packed[32:])
