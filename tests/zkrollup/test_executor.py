"""The batch executor: it refuses each transfer the circuit would reject, with its reason, and leaves the state
it was given untouched; it defers transfers whose nonce is ahead and drops stale ones; and on random batches
(random accounts, registrations and transfers, both arities and both data bindings) it agrees with an
independent model of the rules and with the circuit: its witness satisfies the circuit, so the circuit's
pubdata and roots are the executor's, and layout.decode_pubdata recovers what was included.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import rollup_fixtures  # registered by tests/conftest.py

from circuits.babyjub import SUBGROUP_ORDER, pack_point
from circuits.builder import is_satisfied
from circuits.eddsa import Signature
from circuits.rollup import layout as lay
from circuits.rollup.layout import Layout

from zkrollup.executor import (ExecutionError, PendingTransfer, Registration, TransferRefused, check_transfer,
                               execute_batch)
from zkrollup.state import Account, RollupState




fx = rollup_fixtures
CHAIN_ID, OTHER_CHAIN_ID, signed = fx.CHAIN_ID, fx.OTHER_CHAIN_ID, fx.signed

U64 = 1 << 64
LAYOUT = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1)
FEE = 1
BALANCES = {1: 10, 2: 1000, 3: 50, 4: U64 - 10, 7: 5}
NONCES = {7: (1 << 32) - 1}                      # account 7 has used every nonce


def fresh_state() -> RollupState:
    return fx.genesis(LAYOUT, BALANCES, NONCES)


def snapshot(state: RollupState):
    return state.root, dict(state.accounts), dict(state.tree.items())


# ---------------------------------------------------------------------------------------------------
# Refusals, each with its reason; the given state untouched


def _with_s_plus_l(t: PendingTransfer) -> PendingTransfer:
    return replace(t, signature=Signature(t.signature.r8, t.signature.s + SUBGROUP_ORDER))


REFUSED = {
    "receiver outside the tree": (signed(2, 1 << LAYOUT.depth, 1, 0, 0), "index_out_of_range"),
    "negative sender": (replace(signed(2, 3, 1, 0, 0), from_index=-1), "index_out_of_range"),
    "sender 0": (signed(0, 3, 1, 0, 0), "reserved_account"),
    "receiver 0": (signed(2, 0, 1, 0, 0), "reserved_account"),
    "amount 2^64": (signed(2, 3, U64, 0, 0), "amount_out_of_range"),
    "negative fee": (replace(signed(2, 3, 1, 0, 0), fee=-1), "amount_out_of_range"),
    "amount r-5": (signed(2, 3, lay.R - 5, 0, 0), "amount_out_of_range"),
    "unknown sender": (signed(5, 3, 0, 0, 0), "unknown_sender"),
    "unknown receiver": (signed(2, 5, 1, 0, 0), "unknown_receiver"),
    "nonce behind": (signed(2, 3, 1, 0, 0), "stale_nonce"),          # account 2 has nonce 1 in this state
    "nonce ahead": (signed(2, 3, 1, 0, 2), "future_nonce"),
    "every nonce used": (signed(7, 3, 1, 0, (1 << 32) - 1), "nonce_exhausted"),
    "another signer": (signed(2, 3, 1, 0, 1, signer=3), "bad_signature"),
    "another chain": (signed(2, 3, 1, 0, 1, chain_id=OTHER_CHAIN_ID), "bad_signature"),
    "S + l": (_with_s_plus_l(signed(2, 3, 1, 0, 1)), "bad_signature"),
    "signed amount differs": (replace(signed(2, 3, 1, 0, 1), amount=2), "bad_signature"),
    "amount + fee over balance": (signed(2, 3, 990, 11, 1), "insufficient_balance"),
    "u64 max amount and fee": (signed(2, 3, U64 - 1, U64 - 1, 1), "insufficient_balance"),
    "receiver past 2^64": (signed(2, 4, 10, 0, 1), "receiver_overflow"),
    "fee account past 2^64": (signed(2, 3, 1, 10, 1), "fee_overflow"),
}


def _state_for_refusals() -> RollupState:
    # Account 2 has sent one transfer (nonce 1); the fee account 4 is nearly full.
    return fx.genesis(LAYOUT, BALANCES, {**NONCES, 2: 1})


@pytest.mark.parametrize("case", REFUSED)
def test_executor_refuses_each_bad_transfer_with_its_reason_and_leaves_the_state_untouched(case):
    transfer, reason = REFUSED[case]
    fee_account = 4 if reason == "fee_overflow" else FEE
    state = _state_for_refusals()
    before = snapshot(state)
    with pytest.raises(TransferRefused) as refused:
        check_transfer(state, CHAIN_ID, transfer, fee_account=fee_account)
    assert refused.value.reason == reason and str(refused.value)
    valid = signed(3, 2, 1, 1, 0)
    result = execute_batch(state, CHAIN_ID, fee_account, [], [transfer, valid])
    assert result.included == [1]
    if reason == "future_nonce":
        assert result.deferred == [0] and result.dropped == []
    else:
        assert [(position, r.reason) for position, r in result.dropped] == [(0, reason)]
    assert snapshot(state) == before
    assert result.state.root != state.root


def test_fee_overflow_counts_the_fees_still_to_be_credited():
    state = fx.genesis(LAYOUT, {1: U64 - 4, 2: 1000, 3: 50})
    check_transfer(state, CHAIN_ID, signed(2, 3, 1, 3, 0), fee_account=1)
    with pytest.raises(TransferRefused) as refused:
        check_transfer(state, CHAIN_ID, signed(2, 3, 1, 3, 0), fee_account=1, fees_pending=1)
    assert refused.value.reason == "fee_overflow"
    result = execute_batch(state, CHAIN_ID, 1, [], [signed(2, 3, 1, 2, 0), signed(3, 2, 1, 2, 0)])
    assert result.included == [0] and [r.reason for _, r in result.dropped] == ["fee_overflow"]


@pytest.mark.parametrize("value", [1.0, True, "1"], ids=["float", "bool", "str"])
def test_executor_refuses_a_transfer_field_that_is_not_an_integer(value):
    state = fresh_state()
    before = snapshot(state)
    malformed = replace(signed(2, 3, 1, 0, 0), amount=value)
    with pytest.raises(TransferRefused) as refused:
        check_transfer(state, CHAIN_ID, malformed)
    assert refused.value.reason == "malformed_transfer"
    result = execute_batch(state, CHAIN_ID, FEE, [], [malformed, signed(2, 3, 1, 0, 0)])
    assert result.included == [1] and [r.reason for _, r in result.dropped] == ["malformed_transfer"]
    assert snapshot(state) == before


@pytest.mark.parametrize("case", ["occupied", "index 0", "outside the tree", "low order", "off the curve",
                                  "twice"])
def test_executor_refuses_a_bad_registration_and_leaves_the_state_untouched(case):
    key = fx.public_key(9)
    registrations = {
        "occupied": [Registration(3, *key)],
        "index 0": [Registration(0, *key)],
        "outside the tree": [Registration(1 << LAYOUT.depth, *key)],
        "low order": [Registration(9, *fx.low_order_point_of_order_8())],
        "off the curve": [Registration(9, 1, 2)],
        "twice": [Registration(9, *key), Registration(9, *key)],
    }[case]
    layout = replace(LAYOUT, n_registrations=2) if case == "twice" else LAYOUT
    state = fx.genesis(layout, BALANCES, NONCES)
    before = snapshot(state)
    with pytest.raises(ExecutionError):
        execute_batch(state, CHAIN_ID, FEE, registrations, [signed(2, 3, 1, 0, 0)])
    assert snapshot(state) == before


def test_executor_refuses_an_unknown_fee_account_and_an_empty_batch():
    state = fresh_state()
    before = snapshot(state)
    for fee_account in (0, 5, 1 << LAYOUT.depth):
        with pytest.raises(ExecutionError, match="fee account"):
            execute_batch(state, CHAIN_ID, fee_account, [], [signed(2, 3, 1, 0, 0)])
    with pytest.raises(ExecutionError, match="nothing to batch"):
        execute_batch(state, CHAIN_ID, FEE, [], [signed(2, 3, 1, 0, 5), signed(2, 3, 5000, 0, 0)])
    assert snapshot(state) == before


def test_future_nonces_are_deferred_and_stale_ones_dropped():
    state = fresh_state()
    offered = [signed(2, 3, 1, 0, 1), signed(2, 3, 1, 0, 0), signed(2, 3, 2, 0, 0), signed(2, 3, 1, 0, 5)]
    result = execute_batch(state, CHAIN_ID, FEE, [], offered)
    # nonce 1 is ahead when offered (deferred, stays in the mempool), nonce 0 goes in, the second nonce 0 is
    # now stale (dropped), nonce 5 is ahead.
    assert result.included == [1]
    assert result.deferred == [0, 3]
    assert [(p, r.reason) for p, r in result.dropped] == [(2, "stale_nonce")]
    assert result.state.get(2).nonce == 1


def test_transfers_beyond_the_slots_are_left_for_the_next_batch():
    state = fresh_state()
    offered = [signed(2, 3, 1, 0, n) for n in range(4)]
    result = execute_batch(state, CHAIN_ID, FEE, [Registration(9, *fx.public_key(9))] * 1, offered)
    assert result.included == [0, 1] and result.dropped == [] and result.deferred == []
    assert result.registrations == [0]


def test_a_transfer_invalidated_by_an_earlier_one_in_the_batch_is_dropped():
    state = fresh_state()
    result = execute_batch(state, CHAIN_ID, FEE, [], [signed(3, 2, 45, 0, 0), signed(3, 2, 5, 1, 1)])
    assert result.included == [0] and [r.reason for _, r in result.dropped] == ["insufficient_balance"]


# ---------------------------------------------------------------------------------------------------
# Random batches: an independent model of the rules, the circuit, and the pubdata decoder agree


class Model:
    """The rules of DESIGN §4 written plainly over a dict of accounts: what each offered transfer should
    come to (included, or the reason it is not), and the accounts after the batch."""

    def __init__(self, layout: Layout, accounts: dict[int, Account], chain_id: int, fee_account: int):
        self.layout, self.chain_id, self.fee_account = layout, chain_id, fee_account
        self.balance = {i: a.balance for i, a in accounts.items()}
        self.nonce = {i: a.nonce for i, a in accounts.items()}
        self.key = {i: (a.ax, a.ay) for i, a in accounts.items()}
        self.fees = 0

    def register(self, index: int, key) -> None:
        self.balance[index], self.nonce[index], self.key[index] = 0, 0, tuple(key)

    def offer(self, t: PendingTransfer, signer_owner: int, signed_chain: int) -> str:
        """'included', 'deferred' or the drop reason; applies an included transfer."""
        if t.from_index not in self.balance:
            return "unknown_sender"
        if t.to_index not in self.balance:
            return "unknown_receiver"
        if t.nonce != self.nonce[t.from_index]:
            return "stale_nonce" if t.nonce < self.nonce[t.from_index] else "deferred"
        if self.key[t.from_index] != fx.public_key(signer_owner) or signed_chain != self.chain_id:
            return "bad_signature"
        if t.amount + t.fee > self.balance[t.from_index]:
            return "insufficient_balance"
        after = dict(self.balance)
        after[t.from_index] -= t.amount + t.fee
        after[t.to_index] += t.amount
        if after[t.to_index] >= U64:
            return "receiver_overflow"
        if after[self.fee_account] + self.fees + t.fee >= U64:
            return "fee_overflow"
        self.balance = after
        self.nonce[t.from_index] += 1
        self.fees += t.fee
        return "included"

    def accounts(self) -> dict[int, Account]:
        balance = dict(self.balance)
        balance[self.fee_account] += self.fees
        return {i: Account(*self.key[i], balance[i], self.nonce[i]) for i in balance}


FAULTS = ("nonce ahead", "nonce behind", "another signer", "another chain", "overdraw", "unknown sender",
          "unknown receiver")


def _random_batch(rng: random.Random, layout: Layout):
    """A random genesis (some balances near 2^64), R registrations, and N + 3 offered transfers, about two
    in three valid when offered and the others with one random fault; returns what the model expects."""
    n = layout.n_accounts
    indices = rng.sample(range(1, n), 6)
    balances = {i: rng.choice([0, rng.randrange(1, 500), rng.randrange(1, U64), U64 - rng.randrange(1, 50)])
                for i in indices}
    genesis_state = fx.genesis(layout, balances, {i: rng.randrange(3) for i in indices})
    fee_account = rng.choice(indices)
    free = [i for i in range(1, n) if i not in balances]
    registrations = [Registration(i, *fx.public_key(i)) for i in rng.sample(free, layout.n_registrations)]
    unknown = rng.choice([i for i in free if i not in {r.index for r in registrations}])
    model = Model(layout, genesis_state.accounts, CHAIN_ID, fee_account)
    for reg in registrations:
        model.register(reg.index, (reg.ax, reg.ay))
    offered, expected = [], []
    while len(offered) < layout.n_transfers + 3:
        known = sorted(model.balance)
        sender, receiver = rng.choice(known), rng.choice(known)
        balance = model.balance[sender]
        amount = rng.randrange(balance + 1) if rng.random() < 0.8 else rng.randrange(U64)
        fee = rng.randrange(min(balance - amount, 20) + 1) if amount <= balance else rng.randrange(20)
        nonce, signer, chain = model.nonce[sender], sender, CHAIN_ID
        fault = rng.choice(FAULTS) if rng.random() < 0.35 else None
        if fault == "nonce ahead":
            nonce += 1
        elif fault == "nonce behind" and nonce > 0:
            nonce -= 1
        elif fault == "another signer":
            signer = rng.choice([i for i in known if i != sender])
        elif fault == "another chain":
            chain = OTHER_CHAIN_ID
        elif fault == "overdraw":
            amount, fee = balance - fee + 1, fee
        elif fault == "unknown sender":
            sender = unknown
        elif fault == "unknown receiver":
            receiver = unknown
        if amount >= U64 or amount < 0:
            continue
        t = signed(sender, receiver, amount, fee, nonce, chain_id=chain, signer=signer)
        if expected.count("included") < layout.n_transfers:
            expected.append(model.offer(t, signer, chain))
        offered.append(t)
    return genesis_state, fee_account, registrations, offered, expected, model


LAYOUTS = {
    "a4-evaluation": Layout(depth=4, arity=4, n_transfers=2, n_registrations=1),
    "a2-evaluation": Layout(depth=4, arity=2, n_transfers=2, n_registrations=2),
    "a2-sha256": Layout(depth=4, arity=2, n_transfers=2, n_registrations=1, binding="sha256"),
}


@pytest.mark.parametrize("name, seed", [("a4-evaluation", 1), ("a4-evaluation", 2), ("a4-evaluation", 3),
                                        ("a4-evaluation", 7), ("a2-evaluation", 4), ("a2-evaluation", 5),
                                        ("a2-evaluation", 8), ("a2-sha256", 6), ("a2-sha256", 9)])
def test_executor_agrees_with_the_model_and_the_circuit_on_random_batches(name, seed):
    layout = LAYOUTS[name]
    rng = random.Random(seed)
    genesis_state, fee_account, registrations, offered, expected, model = _random_batch(rng, layout)
    before = snapshot(genesis_state)
    result = execute_batch(genesis_state, CHAIN_ID, fee_account, registrations, offered)
    assert snapshot(genesis_state) == before

    # The executor decides each offered transfer as the model does (those it reached).
    outcome = {p: "included" for p in result.included}
    outcome.update({p: "deferred" for p in result.deferred})
    outcome.update({p: r.reason for p, r in result.dropped})
    assert [outcome.get(p) for p in range(len(expected))] == expected
    # The state after the batch is the model's, and its root is that of a tree built from scratch.
    assert result.state.accounts == model.accounts()
    assert result.new_root == RollupState(layout, model.accounts()).root
    # The published data says exactly what was included, in order.
    published = lay.decode_pubdata(layout, result.pubdata)
    assert published.fee_account == fee_account
    assert published.registrations == tuple(lay.RegistrationData(r.index, pack_point((r.ax, r.ay)))
                                            for r in registrations)
    assert published.transfers == tuple(lay.TransferData(offered[p].from_index, offered[p].to_index,
                                                         offered[p].amount, offered[p].fee) for p in result.included)
    # The circuit accepts the witness with the public inputs the L1 derives from this pubdata: its own
    # pubdata (C and y, or the SHA-256 digest) and its roots are therefore the executor's.
    circuit = fx.batch_circuit(layout)
    witness = circuit.witness(result.inputs)
    assert is_satisfied(circuit.r1cs, witness)
    public = circuit.compiled.r1cs.n_public
    assert witness[1:public + 1] == lay.public_inputs(layout, before[0], result.new_root, CHAIN_ID, result.pubdata,
                                                     result.inputs.commitment)
