"""EdDSA-Poseidon verifier gadget: satisfiable exactly when the native verify_poseidon accepts (enabled = 1),
a no-op for any inputs when enabled = 0, and unsatisfiable for S >= l, low-order keys, off-curve points,
a wrong message, a non-boolean enable bit or any perturbed internal wire."""

from __future__ import annotations

import random

import pytest

from circuits.babyjub import BASE8, GENERATOR, SUBGROUP_ORDER, point_add, scalar_mul
from circuits.builder import R, ConstraintSystem, first_failure
from circuits.check import check_gadget
from circuits.eddsa import (
    Signature,
    prv2pub,
    sign_poseidon,
    verify_poseidon,
    verify_poseidon_enabled,
    verify_poseidon_gadget,
)

RNG = random.Random(4217)
ORDER_8 = scalar_mul(GENERATOR, SUBGROUP_ORDER)
CIRCOMLIB_EDDSA_POSEIDON_VERIFIER = 4217


def build(cs: ConstraintSystem):
    enabled = cs.private_input("enabled")
    msg = cs.private_input("msg")
    a = cs.private_inputs("A", 2)
    r8 = cs.private_inputs("R8", 2)
    s = cs.private_input("S")
    verify_poseidon_gadget(cs, enabled, msg, a, r8, s)
    return cs


@pytest.fixture(scope="module")
def circuit():
    return build(ConstraintSystem()).compile()


def assignment(enabled, msg, signature, public_key):
    return {"enabled": enabled, "msg": msg, "A": list(public_key), "R8": list(signature.r8), "S": signature.s}


def holds(circuit, enabled, msg, signature, public_key):
    witness = circuit.solve(assignment(enabled, msg, signature, public_key), check=False)
    return first_failure(circuit.r1cs, witness)


def signed(seed: int, msg: int):
    key = bytes(RNG.randrange(256) for _ in range(32)) if seed else b"\x01" * 32
    return key, sign_poseidon(key, msg), prv2pub(key)


def test_eddsa_verifier_is_no_larger_than_circomlibs():
    assert build(ConstraintSystem()).n_constraints <= CIRCOMLIB_EDDSA_POSEIDON_VERIFIER


def test_valid_signatures_satisfy_the_verifier(circuit):
    for seed in range(4):
        msg = RNG.randrange(R)
        _, signature, public_key = signed(seed, msg)
        assert verify_poseidon(msg, signature, public_key)
        assert holds(circuit, 1, msg, signature, public_key) is None


def test_signature_on_another_message_is_rejected(circuit):
    msg = RNG.randrange(R)
    _, signature, public_key = signed(1, msg)
    assert not verify_poseidon_enabled(1, msg + 1, signature, public_key)
    assert holds(circuit, 1, msg + 1, signature, public_key) is not None
    other_key = prv2pub(b"\x02" * 32)
    assert holds(circuit, 1, msg, signature, other_key) is not None


def test_s_plus_subgroup_order_is_rejected_by_the_range_check(circuit):
    msg = 99
    _, signature, public_key = signed(1, msg)
    malleated = Signature(signature.r8, signature.s + SUBGROUP_ORDER)
    assert not verify_poseidon(msg, malleated, public_key)
    failure = holds(circuit, 1, msg, malleated, public_key)
    assert failure is not None and ("to_binary" in failure.gadget or "bits_at_most" in failure.gadget)
    wide = Signature(signature.r8, R - 1)
    assert holds(circuit, 1, msg, wide, public_key) is not None


def test_low_order_key_that_satisfies_the_equation_for_every_message_is_rejected(circuit):
    # With 8A = O the equation reads S·B8 = R8: one "signature" would verify every message.
    signature = Signature(scalar_mul(BASE8, 5), 5)
    for k in range(8):
        low_order_key = scalar_mul(ORDER_8, k)
        for msg in (1, 2):
            failure = holds(circuit, 1, msg, signature, low_order_key)
            assert failure is not None and "not_low_order" in failure.gadget


def test_r8_or_key_off_the_curve_is_rejected(circuit):
    msg = 7
    _, signature, public_key = signed(1, msg)
    off_r8 = Signature((signature.r8[0], (signature.r8[1] + 1) % R), signature.s)
    failure = holds(circuit, 1, msg, off_r8, public_key)
    assert failure is not None and "on_curve" in failure.gadget
    failure = holds(circuit, 1, msg, signature, (public_key[0], (public_key[1] + 1) % R))
    assert failure is not None and "on_curve" in failure.gadget


def test_r8_shifted_by_a_torsion_point_is_rejected_as_natively(circuit):
    msg = 8
    _, signature, public_key = signed(1, msg)
    shifted = Signature(point_add(signature.r8, scalar_mul(ORDER_8, 4)), signature.s)
    assert not verify_poseidon(msg, shifted, public_key)
    assert holds(circuit, 1, msg, shifted, public_key) is not None


def test_disabled_verifier_accepts_any_inputs(circuit):
    for _ in range(3):
        values = {"enabled": 0, "msg": RNG.randrange(R), "A": [RNG.randrange(R), RNG.randrange(R)],
                  "R8": [RNG.randrange(R), RNG.randrange(R)], "S": RNG.randrange(R)}
        assert first_failure(circuit.r1cs, circuit.solve(values, check=False)) is None
    zeros = {"enabled": 0, "msg": 0, "A": [0, 0], "R8": [0, 0], "S": 0}
    assert first_failure(circuit.r1cs, circuit.solve(zeros, check=False)) is None


def test_non_boolean_enable_bit_is_rejected(circuit):
    msg = 3
    _, signature, public_key = signed(1, msg)
    assert holds(circuit, 2, msg, signature, public_key) is not None


def test_perturbed_internal_wires_violate_a_constraint(circuit):
    msg = RNG.randrange(R)
    _, signature, public_key = signed(2, msg)
    witness = circuit.solve(assignment(1, msg, signature, public_key))
    first_internal = 1 + circuit.r1cs.n_public + circuit.r1cs.n_private_inputs
    positions = RNG.sample(range(first_internal, len(witness)), 200) + list(range(len(witness) - 30, len(witness)))
    for i in positions:
        tampered = list(witness)
        tampered[i] = (tampered[i] + 1) % R
        assert first_failure(circuit.r1cs, tampered) is not None, f"wire {i} is free"


def test_under_constraint_checker_finds_no_free_wire_in_the_verifier():
    msg = RNG.randrange(R)
    _, signature, public_key = signed(3, msg)
    report = check_gadget(lambda cs, w: verify_poseidon_gadget(cs, w["enabled"], w["msg"], w["A"], w["R8"], w["S"]),
                          assignment(1, msg, signature, public_key), replay=False)
    assert report.n_wires_checked > 3000
    report.assert_sound()
