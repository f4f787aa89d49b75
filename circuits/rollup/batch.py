"""The transfer-batch circuit: R registration slots, N transfer slots and the fee credit, each step opening the
root the previous one produced, and the data binding of the published pubdata (docs/DESIGN.md §4).

Owns the circuit and its witness-input types (`BatchWitnessInputs`, filled by `zkrollup.executor`); not the
layout (`circuits.rollup.layout`), the tree (`circuits.rollup.tree`) or any state or policy (`zkrollup`).

Public inputs, in order: old_root, new_root, chain_id and, for the evaluation claim, the commitment C, the
challenge z and the evaluation y (the L1 derives z and y from the calldata); for the SHA-256 binding, data_hash.
Every pubdata bit is taken from the wires that drive the transition (index bits, amount and fee bits, the
packed key's bits), so the data the L1 publishes and the transition the proof vouches for cannot differ.

Soundness checklist (DESIGN §4), where each item is enforced:
  1. indices: `to_binary(index, D)`; those bits drive the path, the message (via the index) and the pubdata.
  2. new leaves are Poseidon of the opened fields with the SAME path bits and siblings (`tree_update`).
  3. `enabled` boolean gates each root update, the signature, and forces the slot's values (so its pubdata)
     to zero; the fee sum adds fees that are zero in disabled slots.
  4. receiver and fee account open a Poseidon leaf (no empty branch); index 0 is refused in enabled slots.
  5. u64 balances: sender balance, new sender balance, receiver balances and the fee account's are
     range-checked, so nothing relies on the field not wrapping; nonces stay u32.
  6. registrations open the previous root with leaf 0; the key is on the curve and not of low order; the
     packed key is canonical (`pack_point_gadget`: strict bits of y, exact sign of x).
  7. EdDSA: `verify_poseidon_gadget` (S < l, A not of low order, R8 on the curve).
  8. chain_id is a public input inside every signed message.
  9. a transfer to oneself is the same sequential update (the receiver opens the intermediate root).
  11. C and y are computed here from the pubdata wires; z and y are public inputs the L1 derives.
  12. registrations, then transfers in slot order, then the fee credit, each on the previous root.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from circuits.babyjub import BASE8, assert_not_low_order, assert_on_curve, pack_point_gadget, point_select_gadget
from circuits.builder import CompiledCircuit, ConstraintSystem, LinearCombination, linear_sum
from circuits.eddsa import verify_poseidon_gadget
from circuits.gadgets import range_check, to_binary
from circuits.poseidon import poseidon_gadget
from circuits.rollup import layout as lay
from circuits.rollup.layout import BALANCE_BITS, COMMITMENT_CHUNK, NONCE_BITS, Layout
from circuits.rollup.tree import tree_update
from circuits.sha256 import digest_to_field, sha256_bits

__all__ = [
    "AccountOpening",
    "BatchCircuit",
    "BatchWitnessInputs",
    "RegistrationSlot",
    "TransferSlot",
    "build_batch_circuit",
]

Siblings = tuple[tuple[int, ...], ...]


def _zero_siblings(layout: Layout) -> Siblings:
    return tuple((0,) * (layout.arity - 1) for _ in range(layout.levels))


@dataclass(frozen=True)
class AccountOpening:
    """An account leaf's fields and its Merkle path against the root of the moment: leaf =
    Poseidon(ax, ay, balance, nonce); siblings: `layout.levels` tuples of arity − 1 field elements."""

    ax: int
    ay: int
    balance: int
    nonce: int
    siblings: Siblings

    @classmethod
    def empty(cls, layout: Layout) -> "AccountOpening":
        return cls(0, 0, 0, 0, _zero_siblings(layout))


@dataclass(frozen=True)
class RegistrationSlot:
    """A registration: writes (ax, ay, 0, 0) into the empty leaf `index`; disabled slots are all zero."""

    enabled: int
    index: int
    ax: int
    ay: int
    siblings: Siblings

    @classmethod
    def disabled(cls, layout: Layout) -> "RegistrationSlot":
        return cls(0, 0, 0, 0, _zero_siblings(layout))


@dataclass(frozen=True)
class TransferSlot:
    """A signed transfer with the sender's opening (against the root before it) and the receiver's (against
    the intermediate root after the sender's update). The nonce is the sender's. Disabled: all zero."""

    enabled: int
    from_index: int
    to_index: int
    amount: int
    fee: int
    sender: AccountOpening
    receiver: AccountOpening
    r8x: int
    r8y: int
    s: int

    @classmethod
    def disabled(cls, layout: Layout) -> "TransferSlot":
        empty = AccountOpening.empty(layout)
        return cls(0, 0, 0, 0, 0, empty, empty, 0, 0, 0)


@dataclass(frozen=True)
class BatchWitnessInputs:
    """Everything the circuit needs for one batch, as the executor recorded it. Slots are padded to the
    layout's counts with disabled ones. `commitment` is C over the batch's pubdata (evaluation binding)."""

    layout: Layout
    old_root: int
    new_root: int
    chain_id: int
    fee_account: int
    fee_opening: AccountOpening
    registrations: tuple[RegistrationSlot, ...]
    transfers: tuple[TransferSlot, ...]
    pubdata: bytes
    commitment: int | None = None

    def public_values(self, pubdata: bytes | None = None) -> list[int]:
        """The public inputs an L1 derives from `pubdata` (default: this batch's own)."""
        return lay.public_inputs(self.layout, self.old_root, self.new_root, self.chain_id,
                                 self.pubdata if pubdata is None else pubdata, self.commitment)

    # --- JSON (decimal strings), for the sequencer's store ---------------------------------------
    def to_json(self) -> dict[str, Any]:
        def opening(o: AccountOpening):
            return {"ax": str(o.ax), "ay": str(o.ay), "balance": str(o.balance), "nonce": str(o.nonce),
                    "siblings": [[str(v) for v in level] for level in o.siblings]}

        return {
            "layout": self.layout.to_json(),
            "old_root": str(self.old_root), "new_root": str(self.new_root), "chain_id": str(self.chain_id),
            "fee_account": str(self.fee_account), "fee_opening": opening(self.fee_opening),
            "registrations": [{"enabled": str(r.enabled), "index": str(r.index), "ax": str(r.ax),
                               "ay": str(r.ay), "siblings": [[str(v) for v in lv] for lv in r.siblings]}
                              for r in self.registrations],
            "transfers": [{"enabled": str(t.enabled), "from": str(t.from_index), "to": str(t.to_index),
                           "amount": str(t.amount), "fee": str(t.fee), "sender": opening(t.sender),
                           "receiver": opening(t.receiver), "r8x": str(t.r8x), "r8y": str(t.r8y), "s": str(t.s)}
                          for t in self.transfers],
            "pubdata": self.pubdata.hex(),
            "commitment": None if self.commitment is None else str(self.commitment),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "BatchWitnessInputs":
        def sib(levels):
            return tuple(tuple(int(v) for v in level) for level in levels)

        def opening(o):
            return AccountOpening(int(o["ax"]), int(o["ay"]), int(o["balance"]), int(o["nonce"]), sib(o["siblings"]))

        return cls(
            layout=Layout.from_json(obj["layout"]),
            old_root=int(obj["old_root"]), new_root=int(obj["new_root"]), chain_id=int(obj["chain_id"]),
            fee_account=int(obj["fee_account"]), fee_opening=opening(obj["fee_opening"]),
            registrations=tuple(RegistrationSlot(int(r["enabled"]), int(r["index"]), int(r["ax"]), int(r["ay"]),
                                                 sib(r["siblings"])) for r in obj["registrations"]),
            transfers=tuple(TransferSlot(int(t["enabled"]), int(t["from"]), int(t["to"]), int(t["amount"]),
                                         int(t["fee"]), opening(t["sender"]), opening(t["receiver"]),
                                         int(t["r8x"]), int(t["r8y"]), int(t["s"])) for t in obj["transfers"]),
            pubdata=bytes.fromhex(obj["pubdata"]),
            commitment=None if obj["commitment"] is None else int(obj["commitment"]),
        )


# ---------------------------------------------------------------------------------------------------
# The circuit


@dataclass(frozen=True)
class _Opening:
    ax: LinearCombination
    ay: LinearCombination
    balance: LinearCombination
    nonce: LinearCombination
    siblings: list[list[LinearCombination]]


def _declare_opening(cs: ConstraintSystem, layout: Layout, prefix: str) -> _Opening:
    ax, ay, balance, nonce = (cs.private_input(f"{prefix}_{n}") for n in ("ax", "ay", "balance", "nonce"))
    flat = cs.private_inputs(f"{prefix}_siblings", layout.levels * (layout.arity - 1))
    width = layout.arity - 1
    return _Opening(ax, ay, balance, nonce, [flat[k * width:(k + 1) * width] for k in range(layout.levels)])


def _index_bits(cs: ConstraintSystem, layout: Layout, index: LinearCombination) -> list[LinearCombination]:
    return to_binary(cs, index, layout.depth)


def _nonzero_when_enabled(cs: ConstraintSystem, enabled: LinearCombination, value: LinearCombination) -> None:
    """enabled = 1 ⇒ value ≠ 0 (value·inv = enabled); and inv = 0 when disabled, so no wire is left free."""
    inv, = cs.hint(_inverse_or_zero_gated, [value, enabled])
    cs.assert_product(value, inv, enabled)
    cs.assert_product(1 - enabled, inv, 0)


def _inverse_or_zero_gated(value: int, enabled: int) -> int:
    return pow(value, -1, lay.R) if value and enabled else 0


def _zero_when_disabled(cs: ConstraintSystem, enabled: LinearCombination, value: LinearCombination) -> None:
    cs.assert_product(1 - enabled, value, 0)


def _gated_root(cs: ConstraintSystem, enabled: LinearCombination, opened: LinearCombination,
                current: LinearCombination, updated: LinearCombination) -> LinearCombination:
    """Require the opening to match `current` when enabled; return updated when enabled, else current."""
    cs.assert_product(enabled, opened - current, 0)
    return current + cs.mul(enabled, updated - current)


def _leaf(cs: ConstraintSystem, ax, ay, balance, nonce) -> LinearCombination:
    return poseidon_gadget(cs, [ax, ay, balance, nonce])


def _registration(cs: ConstraintSystem, layout: Layout, r: int, root: LinearCombination):
    """One registration slot: returns (root after it, its pubdata bytes as 8-bit lists)."""
    with cs.gadget(f"registration[{r}]"):
        enabled = cs.private_input(f"reg{r}_enabled")
        index = cs.private_input(f"reg{r}_index")
        ax, ay = cs.private_input(f"reg{r}_ax"), cs.private_input(f"reg{r}_ay")
        flat = cs.private_inputs(f"reg{r}_siblings", layout.levels * (layout.arity - 1))
        width = layout.arity - 1
        siblings = [flat[k * width:(k + 1) * width] for k in range(layout.levels)]
        cs.assert_bool(enabled)
        bits = _index_bits(cs, layout, index)
        _nonzero_when_enabled(cs, enabled, index)
        for value in (index, ax, ay):
            _zero_when_disabled(cs, enabled, value)
        # The key that is checked is the registered one when enabled, Base8 otherwise (so a disabled slot,
        # whose key is forced to (0, 0), stays satisfiable).
        checked = point_select_gadget(cs, enabled, (ax, ay), BASE8)
        assert_on_curve(cs, checked)
        assert_not_low_order(cs, checked)
        key_bits = pack_point_gadget(cs, (ax, ay))       # (0, 0) packs to 32 zero bytes
        new_leaf = _leaf(cs, ax, ay, 0, 0)
        old_root, new_root = tree_update(cs, 0, new_leaf, bits, siblings, layout.arity)
        root = _gated_root(cs, enabled, old_root, root, new_root)
    data = lay.int_field_byte_bits(bits, layout.index_bytes) + lay.packed_point_byte_bits(key_bits)
    return root, data


def _transfer(cs: ConstraintSystem, layout: Layout, t: int, root: LinearCombination, chain_id: LinearCombination):
    """One transfer slot: returns (root after it, its fee, its pubdata bytes as 8-bit lists)."""
    with cs.gadget(f"transfer[{t}]"):
        enabled = cs.private_input(f"tx{t}_enabled")
        from_index, to_index = cs.private_input(f"tx{t}_from"), cs.private_input(f"tx{t}_to")
        amount, fee = cs.private_input(f"tx{t}_amount"), cs.private_input(f"tx{t}_fee")
        sender = _declare_opening(cs, layout, f"tx{t}_sender")
        receiver = _declare_opening(cs, layout, f"tx{t}_receiver")
        r8x, r8y, s = (cs.private_input(f"tx{t}_{n}") for n in ("r8x", "r8y", "s"))

        cs.assert_bool(enabled)
        from_bits = _index_bits(cs, layout, from_index)
        to_bits = _index_bits(cs, layout, to_index)
        amount_bits = to_binary(cs, amount, BALANCE_BITS)
        fee_bits = to_binary(cs, fee, BALANCE_BITS)
        for value in (from_index, to_index, amount, fee):
            _zero_when_disabled(cs, enabled, value)
        _nonzero_when_enabled(cs, enabled, from_index)
        _nonzero_when_enabled(cs, enabled, to_index)

        with cs.gadget("sender"):
            range_check(cs, sender.balance, BALANCE_BITS)
            new_balance = sender.balance - amount - fee
            range_check(cs, new_balance, BALANCE_BITS)           # balance >= amount + fee, no wraparound
            new_nonce = sender.nonce + 1
            range_check(cs, new_nonce, NONCE_BITS)
            old_leaf = _leaf(cs, sender.ax, sender.ay, sender.balance, sender.nonce)
            new_leaf = _leaf(cs, sender.ax, sender.ay, new_balance, new_nonce)
            opened, updated = tree_update(cs, old_leaf, new_leaf, from_bits, sender.siblings, layout.arity)
            root = _gated_root(cs, enabled, opened, root, updated)

        with cs.gadget("signature"):
            message = poseidon_gadget(cs, [chain_id, from_index, to_index, amount, fee, sender.nonce])
            verify_poseidon_gadget(cs, enabled, message, (sender.ax, sender.ay), (r8x, r8y), s)

        with cs.gadget("receiver"):
            range_check(cs, receiver.balance, BALANCE_BITS)
            new_balance = receiver.balance + amount
            range_check(cs, new_balance, BALANCE_BITS)           # no overflow past 2^64
            old_leaf = _leaf(cs, receiver.ax, receiver.ay, receiver.balance, receiver.nonce)
            new_leaf = _leaf(cs, receiver.ax, receiver.ay, new_balance, receiver.nonce)
            opened, updated = tree_update(cs, old_leaf, new_leaf, to_bits, receiver.siblings, layout.arity)
            root = _gated_root(cs, enabled, opened, root, updated)

    data = (lay.int_field_byte_bits(from_bits, layout.index_bytes) + lay.int_field_byte_bits(to_bits, layout.index_bytes)
            + lay.int_field_byte_bits(amount_bits, layout.amount_bytes)
            + lay.int_field_byte_bits(fee_bits, layout.fee_bytes))
    return root, fee, data


def _fee_credit(cs: ConstraintSystem, layout: Layout, root: LinearCombination, fee_total: LinearCombination):
    """Credit the batch's fees to the fee account (always enabled): returns (final root, fee account bytes)."""
    with cs.gadget("fee_credit"):
        fee_account = cs.private_input("fee_account")
        opening = _declare_opening(cs, layout, "fee")
        bits = _index_bits(cs, layout, fee_account)
        cs.assert_nonzero(fee_account)
        range_check(cs, opening.balance, BALANCE_BITS)
        new_balance = opening.balance + fee_total
        range_check(cs, new_balance, BALANCE_BITS)
        old_leaf = _leaf(cs, opening.ax, opening.ay, opening.balance, opening.nonce)
        new_leaf = _leaf(cs, opening.ax, opening.ay, new_balance, opening.nonce)
        opened, updated = tree_update(cs, old_leaf, new_leaf, bits, opening.siblings, layout.arity)
        cs.assert_equal(opened, root)
    return updated, lay.int_field_byte_bits(bits, layout.index_bytes)


def _bind_evaluation(cs: ConstraintSystem, layout: Layout, byte_bits: list[list[LinearCombination]],
                     commitment: LinearCombination, z: LinearCombination, y: LinearCombination) -> None:
    elements = lay.pack_elements([lay.byte_value(b) for b in byte_bits])
    assert len(elements) == layout.n_elements
    with cs.gadget("data_binding"):
        c = cs.constant(0)
        for start in range(0, len(elements), COMMITMENT_CHUNK):
            c = poseidon_gadget(cs, [c, *elements[start:start + COMMITMENT_CHUNK]])
        cs.assert_equal(c, commitment)
        acc = elements[-1]
        for e in reversed(elements[:-1]):        # Horner: y = Σ e_j z^j
            acc = cs.mul(acc, z) + e
        cs.assert_equal(acc, y)


def _bind_sha256(cs: ConstraintSystem, byte_bits: list[list[LinearCombination]], data_hash: LinearCombination) -> None:
    with cs.gadget("data_binding"):
        bits_msb_first = [bit for byte in byte_bits for bit in reversed(byte)]
        cs.assert_equal(digest_to_field(sha256_bits(cs, bits_msb_first)), data_hash)


@dataclass(frozen=True, eq=False)
class BatchCircuit:
    """The compiled batch circuit of one layout, and how to turn witness inputs into its witness vector."""

    layout: Layout
    compiled: CompiledCircuit
    parts: dict[str, int] = field(default_factory=dict)   # constraints per part (for reports)

    @property
    def r1cs(self):
        return self.compiled.r1cs

    def assignment(self, inputs: BatchWitnessInputs, public: Sequence[int] | None = None) -> dict[str, Any]:
        """Input values for `compiled.solve`: the witness inputs, and the public inputs (by default those an
        L1 derives from the batch's own pubdata; pass others to model different calldata)."""
        layout = self.layout
        if inputs.layout != layout:
            raise ValueError(f"witness inputs are for layout {inputs.layout.shape_id}, circuit is {layout.shape_id}")
        if len(inputs.registrations) != layout.n_registrations or len(inputs.transfers) != layout.n_transfers:
            raise ValueError("witness inputs must fill every slot (disabled slots included)")
        values = dict(zip(layout.public_input_names, inputs.public_values() if public is None else public))
        flat = _flatten_siblings

        def opening(prefix, o: AccountOpening):
            values.update({f"{prefix}_ax": o.ax, f"{prefix}_ay": o.ay, f"{prefix}_balance": o.balance,
                           f"{prefix}_nonce": o.nonce, f"{prefix}_siblings": flat(o.siblings)})

        for r, slot in enumerate(inputs.registrations):
            values.update({f"reg{r}_enabled": slot.enabled, f"reg{r}_index": slot.index, f"reg{r}_ax": slot.ax,
                           f"reg{r}_ay": slot.ay, f"reg{r}_siblings": flat(slot.siblings)})
        for t, slot in enumerate(inputs.transfers):
            values.update({f"tx{t}_enabled": slot.enabled, f"tx{t}_from": slot.from_index,
                           f"tx{t}_to": slot.to_index, f"tx{t}_amount": slot.amount, f"tx{t}_fee": slot.fee,
                           f"tx{t}_r8x": slot.r8x, f"tx{t}_r8y": slot.r8y, f"tx{t}_s": slot.s})
            opening(f"tx{t}_sender", slot.sender)
            opening(f"tx{t}_receiver", slot.receiver)
        values["fee_account"] = inputs.fee_account
        opening("fee", inputs.fee_opening)
        return values

    def witness(self, inputs: BatchWitnessInputs, public: Sequence[int] | None = None, *, check: bool = True) -> list[int]:
        """The witness vector (compiled wire layout). With `check`, UnsatisfiedConstraint names the first
        failing constraint and its gadget (e.g. `transfer[0]/sender/range_check`)."""
        return self.compiled.solve(self.assignment(inputs, public), check=check)


def _flatten_siblings(siblings: Siblings) -> list[int]:
    return [v for level in siblings for v in level]


def build_batch_circuit(layout: Layout) -> BatchCircuit:
    """Build and compile the batch circuit for `layout` (seconds for large shapes: cache the result)."""
    cs = ConstraintSystem()
    public = {name: cs.public_input(name) for name in layout.public_input_names}
    parts: dict[str, int] = {}

    def counted(name, fn):
        before = cs.n_constraints
        result = fn()
        parts[name] = parts.get(name, 0) + cs.n_constraints - before
        return result

    root = public["old_root"]
    chain_id = public["chain_id"]
    data: list[list[LinearCombination]] = []
    for r in range(layout.n_registrations):
        root, reg_data = counted("registrations", lambda: _registration(cs, layout, r, root))
        data += reg_data
    fees = []
    for t in range(layout.n_transfers):
        root, fee, tx_data = counted("transfers", lambda: _transfer(cs, layout, t, root, chain_id))
        fees.append(fee)
        data += tx_data
    fee_total = linear_sum(fees) if fees else cs.constant(0)
    root, fee_data = counted("fee_credit", lambda: _fee_credit(cs, layout, root, fee_total))
    cs.assert_equal(root, public["new_root"])
    byte_bits = fee_data + data
    assert len(byte_bits) == layout.pubdata_length
    if layout.binding == "evaluation":
        counted("data_binding", lambda: _bind_evaluation(cs, layout, byte_bits, public["commitment"],
                                                         public["challenge"], public["evaluation"]))
    else:
        counted("data_binding", lambda: _bind_sha256(cs, byte_bits, public["data_hash"]))
    return BatchCircuit(layout, cs.compile(), parts)


def with_slot(inputs: BatchWitnessInputs, kind: str, position: int, /, **changes) -> BatchWitnessInputs:
    """A copy of `inputs` with one slot's fields changed (for building tampered witnesses in tests). `kind` is
    "registrations" or "transfers"; the first three parameters are positional-only, so a registration's
    own `index` field can be among the changes."""
    slots = list(getattr(inputs, kind))
    slots[position] = replace(slots[position], **changes)
    return replace(inputs, **{kind: tuple(slots)})
