"""Shared helpers for the rollup batch and executor tests: deterministic keys, genesis states, batch circuits
built once per layout and process, and `Forger`, an operator who applies whatever it is told in field
arithmetic with no check at all, to build the tampered witnesses that bypass the executor.

Test modules load it from its file and register it in sys.modules as `rollup_fixtures` (pytest's importlib
mode keeps test folders off sys.path), so every suite in one process shares one module, hence one circuit cache.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Callable, Mapping

from circuits.babyjub import SUBGROUP_ORDER, InvalidPoint, is_low_order, pack_point, point_add, scalar_mul, unpack_point
from circuits.builder import R, UnsatisfiedConstraint, is_satisfied
from circuits.eddsa import Signature, prv2pub, sign_poseidon
from circuits.poseidon import poseidon
from circuits.rollup import layout as lay
from circuits.rollup.batch import (AccountOpening, BatchCircuit, BatchWitnessInputs, RegistrationSlot, TransferSlot,
                                   build_batch_circuit)
from circuits.rollup.layout import Layout
from circuits.rollup.tree import AccountTree

from zkrollup.executor import PendingTransfer
from zkrollup.state import Account, RollupState

#: The deployment the tests run on, and another one (for replay across deployments).
CHAIN_ID = lay.deployment_chain_id(31337, bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3"))
OTHER_CHAIN_ID = lay.deployment_chain_id(1, bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3"))

Fields = tuple[int, int, int, int]      # (ax, ay, balance, nonce) of a leaf, any field elements


# ---------------------------------------------------------------------------------------------------
# Keys, accounts, transfers


def private_key(owner: int) -> bytes:
    """The deterministic private key of test account `owner` (any int; the account index by convention)."""
    return owner.to_bytes(4, "big") * 8


@functools.cache
def public_key(owner: int) -> tuple[int, int]:
    return tuple(prv2pub(private_key(owner)))


def genesis(layout: Layout, balances: Mapping[int, int], nonces: Mapping[int, int] | None = None) -> RollupState:
    """A state whose account i holds balances[i] (and nonces[i], default 0) under the key of owner i."""
    nonces = nonces or {}
    return RollupState(layout, {i: Account(*public_key(i), b, nonces.get(i, 0)) for i, b in balances.items()})


def signed(from_index: int, to_index: int, amount: int, fee: int, nonce: int, *, chain_id: int = CHAIN_ID,
           signer: int | None = None) -> PendingTransfer:
    """A transfer signed (by the key of `signer`, default the sender's) for `chain_id`."""
    message = lay.transfer_message(chain_id, from_index, to_index, amount, fee, nonce)
    key = private_key(from_index if signer is None else signer)
    return PendingTransfer(from_index, to_index, amount, fee, nonce, sign_poseidon(key, message))


@functools.cache
def batch_circuit(layout: Layout) -> BatchCircuit:
    """The compiled circuit of `layout`, built once per process (a few seconds each)."""
    return build_batch_circuit(layout)


# ---------------------------------------------------------------------------------------------------
# Points


def low_order_point_of_order_8() -> tuple[int, int]:
    """A Baby Jubjub point of order exactly 8: l·P for a point P of the full group, y found by search."""
    for y in range(2, 1000):
        try:
            p = unpack_point(y.to_bytes(32, "little"))
        except InvalidPoint:
            continue
        t = scalar_mul(p, SUBGROUP_ORDER)
        if scalar_mul(t, 4) != (0, 1):
            assert is_low_order(t)
            return tuple(t)
    raise AssertionError("no point of order 8 found")


def mixed_order_key(owner: int) -> tuple[int, int]:
    """owner's key plus a point of order 8: on the curve, NOT of low order, not in the prime subgroup."""
    return tuple(point_add(public_key(owner), low_order_point_of_order_8()))


# ---------------------------------------------------------------------------------------------------
# The forger


def _siblings(tree: AccountTree, index: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(level) for level in tree.proof(index))


def _wrap(value: int, width: int) -> int:
    return value % (1 << (8 * width))


class Forger:
    """A batch built by an operator who checks nothing: every step is applied in field arithmetic (mod r) to
    whatever accounts it is given (index 0 and low-order keys included), and the witness inputs are recorded
    the way the executor records them. Honest use gives the executor's BatchWitnessInputs exactly; each
    keyword below is one way to cheat. Missing accounts open as the fields (0, 0, 0, 0), whose leaf is not
    the empty leaf 0, exactly what a prover claiming an unknown account would have to do.
    """

    def __init__(self, layout: Layout, accounts: Mapping[int, Fields], chain_id: int = CHAIN_ID):
        self.layout = layout
        self.chain_id = chain_id
        self.fields: dict[int, Fields] = dict(accounts)
        self.tree = AccountTree.from_leaves(layout.depth, layout.arity,
                                            {i: poseidon(list(f)) for i, f in self.fields.items()})
        self.old_root = self.tree.root
        self.registrations: list[RegistrationSlot] = []
        self.transfers: list[TransferSlot] = []
        self.published_registrations: list[bytes] = []
        self.published_transfers: list[bytes] = []
        self.fee_total = 0

    @classmethod
    def from_state(cls, state: RollupState, chain_id: int = CHAIN_ID) -> "Forger":
        return cls(state.layout, {i: (a.ax, a.ay, a.balance, a.nonce) for i, a in state.accounts.items()}, chain_id)

    def snapshot(self) -> AccountTree:
        """A copy of the tree as it stands (to take stale siblings from later)."""
        return self.tree.copy()

    def _opening(self, index: int) -> AccountOpening:
        ax, ay, balance, nonce = self.fields.get(index, (0, 0, 0, 0))
        return AccountOpening(ax, ay, balance, nonce, _siblings(self.tree, index))

    def write(self, index: int, fields: Fields) -> None:
        fields = tuple(v % R for v in fields)
        self.fields[index] = fields
        self.tree.set(index, poseidon(list(fields)))

    def register(self, index: int, ax: int, ay: int, *, enabled: int = 1, write: bool = True) -> None:
        """Write (ax, ay, 0, 0) at `index` whatever is there (with `write`), and publish index ‖ packed key."""
        self.registrations.append(RegistrationSlot(enabled, index, ax, ay, _siblings(self.tree, index)))
        if write:
            self.write(index, (ax, ay, 0, 0))
        ib = self.layout.index_bytes
        self.published_registrations.append(_wrap(index, ib).to_bytes(ib, "big") + pack_point((ax, ay)))

    def transfer(self, from_index: int, to_index: int, amount: int, fee: int, *, nonce: int | None = None,
                 chain_id: int | None = None, signer: int | None = None, signature: Signature | None = None,
                 enabled: int = 1, apply: bool = True, sender_after: Callable[[Fields], Fields] | None = None,
                 also_write: Mapping[int, Fields] | None = None, receiver_opens_old_root: bool = False) -> None:
        """Move `amount` and `fee` out of `from_index` and `amount` into `to_index`, mod r.

        nonce / chain_id / signer: what the signature signs (default: the sender's nonce, this batch's
        chain, the sender's key); signature: use this one instead. enabled / apply: the slot's bit and
        whether the state changes. sender_after: rewrite the sender's new fields; also_write: other leaves
        changed between the sender's and the receiver's update; receiver_opens_old_root: take the receiver's
        opening (and its new leaf) from the root before the sender's update.
        """
        sender = self._opening(from_index)
        if signature is None:
            message = lay.transfer_message(self.chain_id if chain_id is None else chain_id, from_index, to_index,
                                           amount, fee, sender.nonce if nonce is None else nonce)
            signature = sign_poseidon(private_key(from_index if signer is None else signer), message)
        if not apply:
            receiver = AccountOpening.empty(self.layout) if not enabled else self._opening(to_index)
            if not enabled:
                sender = AccountOpening.empty(self.layout)
        else:
            before = self._opening(to_index) if receiver_opens_old_root else None
            new_sender = (sender.ax, sender.ay, sender.balance - amount - fee, sender.nonce + 1)
            self.write(from_index, sender_after(new_sender) if sender_after else new_sender)
            for index, fields in (also_write or {}).items():
                self.write(index, fields)
            receiver = before if receiver_opens_old_root else self._opening(to_index)
            self.write(to_index, (receiver.ax, receiver.ay, receiver.balance + amount, receiver.nonce))
        self.transfers.append(TransferSlot(enabled, from_index, to_index, amount, fee, sender, receiver,
                                           signature.r8[0], signature.r8[1], signature.s))
        self.fee_total += fee
        # What a cheat publishes: each value cut to its pubdata width.
        layout = self.layout
        self.published_transfers.append(b"".join(_wrap(value, width).to_bytes(width, "big") for value, width in (
            (from_index, layout.index_bytes), (to_index, layout.index_bytes), (amount, layout.amount_bytes),
            (fee, layout.fee_bytes))))

    def finish(self, fee_account: int, *, credited: int | None = None) -> BatchWitnessInputs:
        """Credit the fees (or `credited`) to `fee_account`, pad the slots, publish, commit."""
        layout = self.layout
        fee_opening = self._opening(fee_account)
        amount = self.fee_total if credited is None else credited
        self.write(fee_account, (fee_opening.ax, fee_opening.ay, fee_opening.balance + amount, fee_opening.nonce))
        ib = layout.index_bytes
        pubdata = (_wrap(fee_account, ib).to_bytes(ib, "big")
                   + b"".join(self.published_registrations)
                   + bytes(layout.registration_bytes * (layout.n_registrations - len(self.registrations)))
                   + b"".join(self.published_transfers)
                   + bytes(layout.transfer_bytes * (layout.n_transfers - len(self.transfers))))
        assert len(pubdata) == layout.pubdata_length
        commitment = lay.commitment(lay.pubdata_elements(pubdata)) if layout.binding == "evaluation" else None
        registrations = self.registrations + [RegistrationSlot.disabled(layout)] * (layout.n_registrations
                                                                                     - len(self.registrations))
        transfers = self.transfers + [TransferSlot.disabled(layout)] * (layout.n_transfers - len(self.transfers))
        return BatchWitnessInputs(layout, self.old_root, self.tree.root, self.chain_id, fee_account, fee_opening,
                                  tuple(registrations), tuple(transfers), pubdata, commitment)


# ---------------------------------------------------------------------------------------------------
# Checking witnesses


def unsatisfied_gadget(circuit: BatchCircuit, inputs: BatchWitnessInputs, public=None, overrides=None) -> str:
    """Solve without checking (overrides: internal wire -> value, set right after the wire's step, later
    wires recomputed honestly), and return the gadget path of the first constraint is_satisfied refuses.
    AssertionError if the witness satisfies every constraint."""
    compiled = circuit.compiled
    internal = compiled.solve_internal(circuit.assignment(inputs, public), overrides=overrides)
    witness = compiled.to_layout(internal)
    try:
        is_satisfied(circuit.r1cs, witness)
    except UnsatisfiedConstraint as refused:
        return refused.gadget
    raise AssertionError("the tampered witness satisfies every constraint")


def wires_made_in(circuit: BatchCircuit, gadget: str) -> list[int]:
    """Internal wires (in creation order) whose gadget path is exactly `gadget`."""
    return [w for w, path in enumerate(circuit.compiled.wire_gadget) if path == gadget]


def resigned(slot: TransferSlot, chain_id: int = CHAIN_ID, signer: int | None = None) -> TransferSlot:
    """The slot with a fresh signature over its own (possibly tampered) fields and opened nonce."""
    message = lay.transfer_message(chain_id, slot.from_index, slot.to_index, slot.amount, slot.fee, slot.sender.nonce)
    sig = sign_poseidon(private_key(slot.from_index if signer is None else signer), message)
    return replace(slot, r8x=sig.r8[0], r8y=sig.r8[1], s=sig.s)


__all__ = ["CHAIN_ID", "Forger", "OTHER_CHAIN_ID", "batch_circuit", "genesis", "low_order_point_of_order_8",
           "mixed_order_key", "private_key", "public_key", "resigned", "signed", "unsatisfied_gadget", "wires_made_in"]
