"""The batch circuit against DESIGN §4's soundness checklist: honest batches satisfy it (both arities, both data
bindings, every collision the checklist names), and each cheat, built by an operator who skips the executor's
checks (`rollup_fixtures.Forger`) or by overriding internal wires, leaves a constraint unsatisfied, named by
the gadget that made it; the prover refuses a few of them. The under-constraint checker runs over one
transfer slot and one registration slot.

Every forged witness is otherwise computed honestly (roots, leaves, signatures, pubdata), so each test fails
exactly when the one rule it names is missing from the circuit.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import rollup_fixtures  # registered by tests/conftest.py

from circuits.babyjub import BASE8, SUBGROUP_ORDER, is_low_order, point_add, scalar_mul
from circuits.builder import R, is_satisfied
from circuits.check import check_gadget
from circuits.eddsa import Signature, signature_challenge
from circuits.rollup import batch as batch_module
from circuits.rollup import layout as lay
from circuits.rollup.batch import AccountOpening, with_slot
from circuits.rollup.layout import Layout

from zkrollup.executor import Registration, execute_batch




fx = rollup_fixtures
Forger, CHAIN_ID, OTHER_CHAIN_ID = fx.Forger, fx.CHAIN_ID, fx.OTHER_CHAIN_ID

U64 = 1 << 64
A4 = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1)                       # most tests
A2 = Layout(depth=4, arity=2, n_transfers=2, n_registrations=2)                       # binary, two registrations
SHA = Layout(depth=4, arity=2, n_transfers=2, n_registrations=1, binding="sha256")    # the SHA-256 binding
LAYOUTS = {"a4-evaluation": A4, "a2-evaluation": A2, "a2-sha256": SHA}

FEE = 1                                                  # the fee account of every batch here
BALANCES = {1: 10, 2: 1000, 3: 50, 4: U64 - 10}          # 4 is nearly full; 5.. are free
FREE = 5


@pytest.fixture(scope="module")
def a4():
    return fx.batch_circuit(A4)


@pytest.fixture(scope="module")
def a2():
    return fx.batch_circuit(A2)


@pytest.fixture(scope="module")
def sha():
    return fx.batch_circuit(SHA)


def state(layout=A4, balances=BALANCES, nonces=None):
    return fx.genesis(layout, balances, nonces)


def forger(layout=A4, **extra_accounts) -> Forger:
    """A forger on the genesis state, plus accounts given as fields (key `i3` = index 3, `i0` = index 0)."""
    accounts = {i: (*fx.public_key(i), b, 0) for i, b in BALANCES.items()}
    accounts.update({int(k[1:]): v for k, v in extra_accounts.items()})
    return Forger(layout, accounts)


def refused_by(circuit, inputs, public=None, overrides=None) -> str:
    """The gadget path of the first constraint the tampered witness breaks (fails if none)."""
    return fx.unsatisfied_gadget(circuit, inputs, public, overrides)


def honest(circuit, inputs) -> None:
    witness = circuit.witness(inputs)            # every assertion row checked while solving
    assert is_satisfied(circuit.r1cs, witness)   # and every row, independently of the solver


def hint_outputs(circuit, gadget: str) -> list[tuple[int, ...]]:
    """Output wires of each hint made directly in `gadget`, in program order."""
    return [step[3] for step in circuit.compiled.program if len(step) == 5 and step[4] == gadget]


# ---------------------------------------------------------------------------------------------------
# Honest batches satisfy the circuit


@pytest.mark.parametrize("name", LAYOUTS)
def test_executed_batch_with_a_registration_and_two_transfers_satisfies(name):
    layout = LAYOUTS[name]
    circuit = fx.batch_circuit(layout)
    result = execute_batch(state(layout), CHAIN_ID, FEE, [Registration(FREE, *fx.public_key(FREE))],
                           [fx.signed(2, 3, 100, 5, 0), fx.signed(3, FREE, 10, 1, 0)])
    assert result.included == [0, 1]
    honest(circuit, result.inputs)


def test_forger_used_honestly_records_exactly_what_the_executor_records():
    # So each forged witness below differs from a real batch only by its one cheat.
    result = execute_batch(state(), CHAIN_ID, FEE, [Registration(FREE, *fx.public_key(FREE))],
                           [fx.signed(2, 3, 100, 5, 0), fx.signed(3, FREE, 10, 1, 0)])
    f = forger()
    f.register(FREE, *fx.public_key(FREE))
    f.transfer(2, 3, 100, 5)
    f.transfer(3, FREE, 10, 1)
    assert f.finish(FEE) == result.inputs


def test_self_transfer_satisfies_and_only_the_fee_leaves_the_account(a4):
    result = execute_batch(state(), CHAIN_ID, FEE, [], [fx.signed(2, 2, 300, 7, 0)])
    assert result.state.get(2).balance == 1000 - 7 and result.state.get(2).nonce == 1
    honest(a4, result.inputs)


def test_fee_account_as_sender_and_as_receiver_in_one_batch_satisfies(a4):
    result = execute_batch(state(), CHAIN_ID, FEE, [], [fx.signed(FEE, 2, 4, 1, 0), fx.signed(3, FEE, 20, 2, 0)])
    assert result.included == [0, 1]
    assert result.state.get(FEE).balance == 10 - 4 - 1 + 20 + 1 + 2
    honest(a4, result.inputs)


def test_one_account_in_two_slots_satisfies(a4):
    result = execute_batch(state(), CHAIN_ID, FEE, [], [fx.signed(2, 3, 100, 1, 0), fx.signed(2, 3, 200, 1, 1)])
    assert result.included == [0, 1] and result.state.get(2).nonce == 2
    honest(a4, result.inputs)


def test_registrations_then_transfers_to_the_new_accounts_satisfy(a2):
    regs = [Registration(FREE, *fx.public_key(FREE)), Registration(FREE + 1, *fx.public_key(FREE + 1))]
    result = execute_batch(state(A2), CHAIN_ID, FEE, regs, [fx.signed(2, FREE, 30, 1, 0), fx.signed(3, FREE + 1, 5, 1, 0)])
    assert result.included == [0, 1] and result.state.get(FREE + 1).balance == 5
    honest(a2, result.inputs)


def test_registration_of_a_key_of_mixed_order_satisfies_as_designed(a4):
    # DESIGN §4 item 6 asks for "on the curve and not of low order", not subgroup membership: A + T (T of
    # order 8) is accepted; signatures with it still need 8·h·A, so T changes nothing an attacker can use.
    key = fx.mixed_order_key(FREE)
    f = forger()
    f.register(FREE, *key)
    honest(a4, f.finish(FEE))


# ---------------------------------------------------------------------------------------------------
# 7, 8. Signatures


def test_signature_by_another_key_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5, signer=3)
    assert refused_by(a4, f.finish(FEE)).startswith("transfer[0]/signature/eddsa_poseidon_verify")


def test_signature_for_another_chain_id_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5, chain_id=OTHER_CHAIN_ID)
    assert refused_by(a4, f.finish(FEE)).startswith("transfer[0]/signature/eddsa_poseidon_verify")


def test_batch_signed_for_one_deployment_is_unsatisfiable_with_another_deployments_chain_id(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    replayed = replace(f.finish(FEE), chain_id=OTHER_CHAIN_ID)      # the other L1 supplies its own chain_id
    assert refused_by(a4, replayed).startswith("transfer[0]/signature/eddsa_poseidon_verify")


def test_signature_scalar_plus_subgroup_order_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    slot = inputs.transfers[0]
    # S + l still satisfies the curve equation (Base8 has order l): only S < l stops the second signature.
    assert scalar_mul(BASE8, slot.s + SUBGROUP_ORDER) == scalar_mul(BASE8, slot.s)
    tampered = with_slot(inputs, "transfers", 0, s=slot.s + SUBGROUP_ORDER)
    assert refused_by(a4, tampered).startswith("transfer[0]/signature/eddsa_poseidon_verify")


@pytest.mark.parametrize("low_order", ["identity", "order 8"])
def test_sender_key_of_low_order_cannot_sign_every_message(a4, low_order):
    # With 8A = identity, R8 = S·Base8 verifies any message: only "A not of low order" stops it.
    key = (0, 1) if low_order == "identity" else fx.low_order_point_of_order_8()
    f = forger(i6=(*key, 500, 0))
    r8 = scalar_mul(BASE8, 12345)
    h = signature_challenge(r8, key, lay.transfer_message(CHAIN_ID, 6, 3, 100, 5, 0))
    assert scalar_mul(BASE8, 12345) == point_add(r8, scalar_mul(key, 8 * h))      # the equation holds
    f.transfer(6, 3, 100, 5, signature=Signature(r8, 12345))
    assert refused_by(a4, f.finish(FEE)).startswith("transfer[0]/signature/eddsa_poseidon_verify/babyjub_not_low_order")


def test_signature_point_off_the_curve_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    tampered = with_slot(f.finish(FEE), "transfers", 0, r8x=1, r8y=2)
    assert refused_by(a4, tampered).startswith("transfer[0]/signature/eddsa_poseidon_verify/babyjub_on_curve")


# ---------------------------------------------------------------------------------------------------
# Nonces


def test_signature_over_another_nonce_than_the_senders_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5, nonce=1)                      # the account's nonce is 0
    assert refused_by(a4, f.finish(FEE)).startswith("transfer[0]/signature/eddsa_poseidon_verify")


def test_opening_that_claims_the_signed_nonce_instead_of_the_leafs_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    slot = inputs.transfers[0]
    lying = replace(slot, sender=replace(slot.sender, nonce=1))
    tampered = with_slot(inputs, "transfers", 0, **vars(fx.resigned(lying)))
    assert refused_by(a4, tampered) == "transfer[0]/sender"


# ---------------------------------------------------------------------------------------------------
# 5. Balances stay u64


@pytest.mark.parametrize("amount, fee, failing", [
    (990, 20, "transfer[0]/sender/range_check"),              # 1010 > 1000
    (R - 5, 0, "transfer[0]/to_binary"),                      # 1000 − (r − 5) ≡ 1005: the field wraps
    (U64 - 1, R - U64 + 11, "transfer[0]/to_binary"),         # amount + fee ≡ 10 (mod r), fee not a u64
    ((R + 10) // 2, (R + 10) // 2 + 1, "transfer[0]/to_binary"),  # amount + fee ≡ 11, neither a u64
    (U64 - 1, U64 - 1, "transfer[0]/sender/range_check"),     # both u64, sum over the balance
], ids=["over", "amount r-5", "fee wraps", "both wrap", "u64 max"])
def test_amount_plus_fee_over_balance_is_unsatisfiable(a4, amount, fee, failing):
    # Where the remaining balance wraps to a small field element, only the amount's and fee's own u64 range
    # checks stand between the forger and a valid-looking balance.
    wraps = (1000 - amount - fee) % R < U64
    assert wraps == (failing == "transfer[0]/to_binary")
    f = forger()
    f.transfer(2, 3, amount, fee)
    assert refused_by(a4, f.finish(FEE)).startswith(failing)


@pytest.mark.parametrize("balance", [U64, R - 1], ids=["2^64", "r-1"])
def test_sender_balance_outside_u64_is_unsatisfiable(a4, balance):
    # A leaf no proven batch could make (a "negative" balance r − 1 would let any amount pass).
    f = forger(i6=(*fx.public_key(6), balance, 0))
    f.transfer(6, 3, 100, 5)
    assert refused_by(a4, f.finish(FEE)).startswith("transfer[0]/sender/range_check")


def test_receiver_overflow_past_2_64_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 4, 20, 1)                                 # 4 holds 2^64 − 10
    assert refused_by(a4, f.finish(FEE)).startswith("transfer[0]/receiver/range_check")


def test_fee_account_overflow_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 1, 6)
    f.transfer(3, 2, 1, 5)
    assert refused_by(a4, f.finish(4)).startswith("fee_credit/range_check")     # 2^64 − 10 + 11


def test_fee_account_overflow_through_a_transfer_to_it_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 4, 9, 1)                                  # 4 reaches 2^64 − 1, then the fee credit wraps
    assert refused_by(a4, f.finish(4)).startswith("fee_credit/range_check")


# ---------------------------------------------------------------------------------------------------
# 4. Accounts exist; account 0 is reserved


def test_transfer_to_an_unknown_receiver_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, FREE, 100, 5)                             # empty leaf: no fields hash to 0
    assert refused_by(a4, f.finish(FEE)) == "transfer[0]/receiver"


def test_transfer_from_an_unknown_sender_is_unsatisfiable(a4):
    f = forger()
    f.transfer(FREE, 3, 0, 0)
    assert refused_by(a4, f.finish(FEE)) == "transfer[0]/sender"


def test_fee_credit_to_an_unknown_account_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    assert refused_by(a4, f.finish(FREE)) == "fee_credit"


@pytest.mark.parametrize("role", ["sender", "receiver", "fee account", "registration"])
def test_index_zero_in_an_enabled_slot_is_unsatisfiable(a4, role):
    # Give account 0 a leaf, so that the reserved-index constraint is all that stands in the way.
    f = forger(i0=(*fx.public_key(0), 500, 0)) if role != "registration" else forger()
    if role == "sender":
        f.transfer(0, 3, 100, 5)
    elif role == "receiver":
        f.transfer(2, 0, 100, 5)
    elif role == "registration":
        f.register(0, *fx.public_key(0))
    else:
        f.transfer(2, 3, 100, 5)
    inputs = f.finish(0 if role == "fee account" else FEE)
    expected = {"fee account": "fee_credit/inverse", "registration": "registration[0]"}.get(role, "transfer[0]")
    assert refused_by(a4, inputs) == expected


# ---------------------------------------------------------------------------------------------------
# 1. Indices are exactly D bits


@pytest.mark.parametrize("field", ["from_index", "to_index"])
def test_transfer_index_of_2_pow_d_or_more_is_unsatisfiable(a4, field):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    slot = inputs.transfers[0]
    aliased = replace(slot, **{field: getattr(slot, field) + (1 << A4.depth)})    # same low bits, same path
    tampered = with_slot(inputs, "transfers", 0, **vars(fx.resigned(aliased, signer=2)))
    assert refused_by(a4, tampered).startswith("transfer[0]/to_binary")


def test_registration_and_fee_account_index_of_2_pow_d_or_more_are_unsatisfiable(a4):
    f = forger()
    f.register(FREE, *fx.public_key(FREE))
    inputs = f.finish(FEE)
    aliased = with_slot(inputs, "registrations", 0, index=FREE + (1 << A4.depth))
    assert refused_by(a4, aliased).startswith("registration[0]/to_binary")
    assert refused_by(a4, replace(inputs, fee_account=FEE + (1 << A4.depth))).startswith("fee_credit/to_binary")


# ---------------------------------------------------------------------------------------------------
# 3. enabled is boolean and gates everything; a disabled slot is a no-op with zero pubdata


@pytest.mark.parametrize("field", ["from_index", "to_index", "amount", "fee"])
def test_disabled_transfer_slot_with_nonzero_pubdata_is_unsatisfiable(a4, field):
    f = forger()
    f.transfer(2, 3, 100, 5)
    values = {"from_index": 0, "to_index": 0, "amount": 0, "fee": 0, field: 3}
    f.transfer(values["from_index"], values["to_index"], values["amount"], values["fee"], enabled=0, apply=False)
    assert refused_by(a4, f.finish(FEE)) == "transfer[1]"


@pytest.mark.parametrize("field", ["index", "key"])
def test_disabled_registration_slot_with_nonzero_pubdata_is_unsatisfiable(a4, field):
    f = forger()
    if field == "index":
        f.register(FREE, 0, 0, enabled=0, write=False)
    else:
        f.register(0, *fx.public_key(FREE), enabled=0, write=False)
    f.transfer(2, 3, 100, 5)
    assert refused_by(a4, f.finish(FEE)) == "registration[0]"


def test_disabled_transfer_slot_cannot_change_the_root(a4):
    # A disabled all-zero slot "applied" to an account 0 that has a leaf bumps its nonce: the circuit
    # carries the old root past the slot, so the fee credit cannot open the forger's tree.
    f = forger(i0=(*fx.public_key(0), 500, 0))
    f.transfer(2, 3, 100, 5)
    f.transfer(0, 0, 0, 0, enabled=0, signer=0)
    assert refused_by(a4, f.finish(FEE)) == "fee_credit"


@pytest.mark.parametrize("slot", ["transfer[1]/sender", "transfer[1]/receiver", "registration[0]"])
def test_disabled_slots_gated_root_wire_cannot_be_nonzero(a4, slot):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    gated = fx.wires_made_in(a4, slot)[-1]          # enabled·(updated − current), the slot's root change
    assert refused_by(a4, inputs, overrides={gated: 1}) == slot


def test_enabled_two_is_unsatisfiable(a4):
    f = forger()
    f.register(FREE, *fx.public_key(FREE))
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    assert refused_by(a4, with_slot(inputs, "transfers", 0, enabled=2)).startswith("transfer[0]/assert_bool")
    assert refused_by(a4, with_slot(inputs, "registrations", 0, enabled=2)).startswith("registration[0]/assert_bool")


# ---------------------------------------------------------------------------------------------------
# 11. The data binding


def _one_byte_changed(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:]


@pytest.mark.parametrize("commitment", ["kept", "recomputed"])
def test_pubdata_that_differs_from_the_transition_is_unsatisfiable(a4, commitment):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    amount_low_byte = A4.index_bytes + A4.n_registrations * A4.registration_bytes + 2 * A4.index_bytes + 7
    claimed = _one_byte_changed(inputs.pubdata, amount_low_byte)
    assert lay.decode_pubdata(A4, claimed).transfers[0].amount == 101
    c = inputs.commitment if commitment == "kept" else lay.commitment(lay.pubdata_elements(claimed))
    assert refused_by(a4, replace(inputs, pubdata=claimed, commitment=c)) == "data_binding"


@pytest.mark.parametrize("name", ["a4-evaluation", "a2-sha256"])
def test_calldata_that_differs_from_the_witness_pubdata_by_one_byte_is_unsatisfiable(name):
    layout = LAYOUTS[name]
    circuit = fx.batch_circuit(layout)
    f = forger(layout)
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    for position in (0, layout.pubdata_length - 1):        # the fee account's first byte, the last slot's last
        calldata = _one_byte_changed(inputs.pubdata, position)
        public = inputs.public_values(calldata)            # z, y (or data_hash) as the L1 derives them
        assert public != inputs.public_values()
        assert refused_by(circuit, inputs, public=public) == "data_binding"


def test_wrong_commitment_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    assert refused_by(a4, replace(inputs, commitment=(inputs.commitment + 1) % R)) == "data_binding"


def test_sha256_binding_with_a_wrong_data_hash_is_unsatisfiable(sha):
    f = forger(SHA)
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    old_root, new_root, chain_id, data_hash = inputs.public_values()
    assert refused_by(sha, inputs, public=[old_root, new_root, chain_id, data_hash ^ 1]) == "data_binding"


def test_l1_derivation_refuses_calldata_of_another_length():
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    for calldata in (inputs.pubdata + b"\0", inputs.pubdata[:-1]):
        with pytest.raises(lay.LayoutError, match="pubdata is"):
            inputs.public_values(calldata)


# ---------------------------------------------------------------------------------------------------
# 6. Registrations


def test_registration_over_an_occupied_leaf_is_unsatisfiable(a4):
    f = forger()
    f.register(3, *fx.public_key(FREE))                    # 3 holds 50: its old leaf is not 0
    assert refused_by(a4, f.finish(FEE)) == "registration[0]"


@pytest.mark.parametrize("key", ["identity", "order 2", "order 8"])
def test_registration_of_a_low_order_key_is_unsatisfiable(a4, key):
    point = {"identity": (0, 1), "order 2": (0, R - 1), "order 8": fx.low_order_point_of_order_8()}[key]
    assert is_low_order(point)
    f = forger()
    f.register(FREE, *point)
    assert refused_by(a4, f.finish(FEE)).startswith("registration[0]/babyjub_not_low_order")


def test_registration_of_an_off_curve_key_is_unsatisfiable(a4):
    f = forger()
    f.register(FREE, 1, 2)
    assert refused_by(a4, f.finish(FEE)).startswith("registration[0]/babyjub_on_curve")


def _owner_with_small_y() -> int:
    """An owner whose key's y < 2^254 − r, so that y + r still fits the 254 packed bits."""
    return next(o for o in range(FREE, 200) if fx.public_key(o)[1] + R < 1 << 254)


def test_packed_key_with_y_plus_r_is_unsatisfiable(a4):
    # ay itself is a field element (an input of r or more is refused before solving); the aliased packing
    # is the 254 bits of ay + r, which recompose to ay mod r: the strict bound on the bits refuses them.
    owner = _owner_with_small_y()
    ax, ay = fx.public_key(owner)
    f = forger()
    f.register(FREE, ax, ay)
    inputs = f.finish(FEE)
    upper_bits, = hint_outputs(a4, "registration[0]/babyjub_pack_point/to_binary_strict")
    aliased = ay + R
    overrides = {wire: (aliased >> (i + 1)) & 1 for i, wire in enumerate(upper_bits)}
    assert refused_by(a4, inputs, overrides=overrides) == "registration[0]/babyjub_pack_point/to_binary_strict/bits_at_most"


def test_packed_key_with_the_other_sign_of_x_is_unsatisfiable(a4):
    ax, ay = fx.public_key(FREE)
    f = forger()
    f.register(FREE, ax, ay)
    inputs = f.finish(FEE)
    (sign, t), = hint_outputs(a4, "registration[0]/babyjub_pack_point/babyjub_x_sign")
    flipped = 1 - int(ax > (R - 1) // 2)
    overrides = {sign: flipped, t: flipped * pow(ax, -1, R)}
    assert refused_by(a4, inputs, overrides=overrides).startswith("registration[0]/babyjub_pack_point/babyjub_x_sign")


def test_registering_one_index_twice_in_a_batch_is_unsatisfiable(a2):
    f = forger(A2)
    before = f.snapshot()
    f.register(FREE, *fx.public_key(FREE))
    f.register(FREE, *fx.public_key(FREE + 1))              # opens the leaf the first slot wrote
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    assert refused_by(a2, inputs) == "registration[1]"
    # Nor can the second slot open the root before the first (both "seeing" an empty leaf).
    stale = tuple(tuple(level) for level in before.proof(FREE))
    assert refused_by(a2, with_slot(inputs, "registrations", 1, siblings=stale)) == "registration[1]"


def test_registration_writing_a_funded_leaf_is_unsatisfiable(a4):
    f = forger()
    ax, ay = fx.public_key(FREE)
    f.register(FREE, ax, ay, write=False)
    f.write(FREE, (ax, ay, 1000, 0))                        # the new account would start with 1000
    f.transfer(2, 3, 100, 5)
    assert refused_by(a4, f.finish(FEE)) == "transfer[0]/sender"


# ---------------------------------------------------------------------------------------------------
# 2. New leaves: the opened fields, the same path


def test_sender_new_leaf_with_another_key_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5, sender_after=lambda new: (*fx.public_key(9), *new[2:]))
    assert refused_by(a4, f.finish(FEE)) == "transfer[0]/receiver"


def test_sender_new_leaf_without_the_nonce_increment_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5, sender_after=lambda new: (*new[:3], new[3] - 1))
    assert refused_by(a4, f.finish(FEE)) == "transfer[0]/receiver"


def test_step_that_also_changes_another_leaf_is_unsatisfiable(a4):
    # A second leaf rewritten in the same step: only possible with other siblings for the new root.
    f = forger()
    f.transfer(2, 3, 100, 5, also_write={FREE: (*fx.public_key(FREE), 10**6, 0)})
    assert refused_by(a4, f.finish(FEE)) == "transfer[0]/receiver"


def test_receiver_new_leaf_with_changed_fields_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    f.write(3, (*fx.public_key(9), 150, 0))                 # the receiver's key swapped in its new leaf
    f.transfer(3, 2, 1, 0, signer=9)
    assert refused_by(a4, f.finish(FEE)) == "transfer[1]/sender"


# ---------------------------------------------------------------------------------------------------
# 12. Order: each step opens the root the previous one produced


def test_step_opening_the_root_before_the_previous_step_is_unsatisfiable(a4):
    f = forger()
    before = f.snapshot()
    f.transfer(2, 3, 100, 5)
    f.transfer(2, 3, 100, 5, nonce=1)
    inputs = f.finish(FEE)
    slot = inputs.transfers[1]
    stale = replace(slot, sender=AccountOpening(*fx.public_key(2), 1000, 0, tuple(map(tuple, before.proof(2)))))
    assert refused_by(a4, with_slot(inputs, "transfers", 1, **vars(fx.resigned(stale)))) == "transfer[1]/sender"


def test_self_transfer_whose_receiver_opens_the_root_before_the_debit_is_unsatisfiable(a4):
    # The classic double credit: the receiver's update overwrites the sender's, so the debit vanishes.
    f = forger()
    f.transfer(2, 2, 300, 7, receiver_opens_old_root=True)
    inputs = f.finish(FEE)
    assert f.fields[2][2] == 1000 + 300
    assert refused_by(a4, inputs) == "transfer[0]/receiver"


def test_fee_credit_opening_the_root_before_the_transfers_is_unsatisfiable(a4):
    f = forger()
    before = f.snapshot()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    stale = replace(inputs.fee_opening, siblings=tuple(map(tuple, before.proof(FEE))))
    assert refused_by(a4, replace(inputs, fee_opening=stale)) == "fee_credit"


def test_new_root_other_than_the_computed_root_is_unsatisfiable(a4):
    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    assert refused_by(a4, replace(inputs, new_root=(inputs.new_root + 1) % R)) == "(top level)"


def test_wrong_old_root_is_unsatisfiable(a4):
    f = forger()
    f.register(FREE, *fx.public_key(FREE))
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    assert refused_by(a4, replace(inputs, old_root=(inputs.old_root + 1) % R)) == "registration[0]"


@pytest.mark.parametrize("credited", [6, 4, 0], ids=["more", "less", "none"])
def test_fee_sum_altered_is_unsatisfiable(a4, credited):
    f = forger()
    f.transfer(2, 3, 100, 2)
    f.transfer(3, 2, 10, 3)
    assert refused_by(a4, f.finish(FEE, credited=credited)) == "(top level)"      # the new root differs


# ---------------------------------------------------------------------------------------------------
# The under-constraint checker over one transfer slot and one registration slot (depth 2, one 4-ary level)

SMALL = Layout(depth=2, arity=4, n_transfers=1, n_registrations=1)


def _slot_assignment(layout, inputs, prefix):
    circuit_values = batch_module.BatchCircuit(layout, None).assignment(inputs)   # reads only the layout
    return {k: v for k, v in circuit_values.items() if k.startswith(prefix)}


def _slot_builder(build_slot):
    """check_gadget declares the slot's inputs itself: hand them to the slot builder by name."""

    def build(cs, wires):
        cs.private_input = lambda name: wires[name]
        cs.private_inputs = lambda name, n: wires[name]
        root, *rest = build_slot(cs, wires)
        data = rest[-1]
        return {"root": root, "data": [lay.byte_value(b) for b in data], **({"fee": rest[0]} if len(rest) == 2 else {})}

    return build


def _small_batch(enabled_transfer: bool):
    f = Forger(SMALL, {1: (*fx.public_key(1), 10, 0), 2: (*fx.public_key(2), 1000, 0)})
    f.register(3, *fx.public_key(3))
    registration_root = f.old_root
    transfer_root = f.tree.root
    if enabled_transfer:
        f.transfer(2, 3, 100, 5)
    return f.finish(1), registration_root, transfer_root


@pytest.mark.parametrize("enabled", [1, 0], ids=["enabled", "disabled"])
def test_under_constraint_checker_finds_no_free_wire_in_a_transfer_slot(enabled):
    inputs, _, root = _small_batch(bool(enabled))
    values = {"root": root, "chain_id": CHAIN_ID, **_slot_assignment(SMALL, inputs, "tx0_")}
    build = _slot_builder(lambda cs, w: batch_module._transfer(cs, SMALL, 0, w["root"], w["chain_id"]))
    report = check_gadget(build, values, replay=False)
    assert report.n_wires_checked > 4000
    report.assert_sound()


def test_under_constraint_checker_finds_no_free_wire_in_a_registration_slot():
    inputs, root, _ = _small_batch(False)
    values = {"root": root, **_slot_assignment(SMALL, inputs, "reg0_")}
    build = _slot_builder(lambda cs, w: batch_module._registration(cs, SMALL, 0, w["root"]))
    report = check_gadget(build, values, replay=False)
    assert report.n_wires_checked > 1000
    report.assert_sound()


# ---------------------------------------------------------------------------------------------------
# The prover refuses what the constraints refuse


@pytest.fixture(scope="module")
def proving_key(a4):
    from prover.setup import setup

    return setup(a4.r1cs, quiet=True)


def _tampered_for_the_prover():
    over = forger()
    over.transfer(2, 3, 990, 20)
    low_order = forger()
    low_order.register(FREE, 0, 1)
    valid = forger()
    valid.transfer(2, 3, 100, 5)
    inputs = valid.finish(FEE)
    return {"amount + fee over balance": (over.finish(FEE), None),
            "low-order registration": (low_order.finish(FEE), None),
            "calldata byte changed": (inputs, inputs.public_values(_one_byte_changed(inputs.pubdata, 5)))}


def test_prover_proves_an_honest_batch_and_refuses_tampered_ones(a4, proving_key):
    from prover.groth16 import ProvingError, prove, verifying_key
    from verifier.groth16 import verify

    f = forger()
    f.transfer(2, 3, 100, 5)
    inputs = f.finish(FEE)
    proof, public = prove(proving_key, a4.witness(inputs))
    assert public == inputs.public_values() and verify(verifying_key(proving_key), public, proof)
    for name, (tampered, public) in _tampered_for_the_prover().items():
        witness = a4.witness(tampered, public, check=False)
        with pytest.raises(ProvingError):
            prove(proving_key, witness)
