"""The batch executor: applies registrations, signed transfers and the fee credit to the state natively, in
exactly the circuit's order, and records the witness inputs (openings, paths, signatures) the circuit needs.

A transfer the circuit would reject is refused here first, with its reason, so a built batch is never
unsatisfiable. Owns `execute_batch` and the refusal reasons; not the circuit (`circuits.rollup.batch`),
the mempool or storage (`zkrollup.store`), nor which transfers to offer (`zkrollup.node`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from circuits.babyjub import is_low_order, is_on_curve, pack_point
from circuits.eddsa import Signature, verify_poseidon
from circuits.rollup import layout as lay
from circuits.rollup.batch import AccountOpening, BatchWitnessInputs, RegistrationSlot, TransferSlot
from circuits.rollup.layout import BALANCE_BITS, NONCE_BITS, RESERVED_INDEX

from zkrollup.state import Account, RollupState

__all__ = ["BatchResult", "ExecutionError", "Registration", "TransferRefused", "execute_batch", "check_transfer",
           "apply_transfer"]

U64 = 1 << BALANCE_BITS


class ExecutionError(ValueError):
    """The batch as a whole cannot be executed (no fee account, nothing to include, a bad registration)."""


class TransferRefused(ValueError):
    """A transfer the circuit would reject. `reason` is a short code (e.g. `insufficient_balance`);
    the message says it in words."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Registration:
    """A queued registration: the public key (ax, ay) to write into the empty leaf `index`."""

    index: int
    ax: int
    ay: int


@dataclass(frozen=True)
class PendingTransfer:
    """What the executor needs of a signed transfer (zkrollup.wallet.SignedTransfer provides it)."""

    from_index: int
    to_index: int
    amount: int
    fee: int
    nonce: int
    signature: Signature


def _fields(t) -> PendingTransfer:
    """Accept a wallet SignedTransfer (transfer + signature) or anything with the PendingTransfer fields."""
    inner = getattr(t, "transfer", t)
    return PendingTransfer(inner.from_index, inner.to_index, inner.amount, inner.fee, inner.nonce, t.signature)


def check_registration(state: RollupState, reg: Registration) -> None:
    """Raise ExecutionError unless `reg` can be proved: index in (0, 2^D), its leaf empty, the key on the
    curve and not of low order (checklist item 6)."""
    if not 0 < reg.index < state.layout.n_accounts:
        raise ExecutionError(f"registration index {reg.index} is outside 1..{state.layout.n_accounts - 1}")
    if reg.index in state.accounts:
        raise ExecutionError(f"registration index {reg.index} is already an account")
    key = (reg.ax, reg.ay)
    if not is_on_curve(key) or is_low_order(key):
        raise ExecutionError(f"registration key for {reg.index} is not a Baby Jubjub point of large order")


def check_transfer(state: RollupState, chain_id: int, t, *, fee_account: int | None = None,
                   fees_pending: int = 0, verify_signature: bool = True) -> None:
    """Raise TransferRefused for any reason the circuit would reject `t` on `state`: a field that is not an
    integer (`malformed_transfer`), index out of range or reserved, unknown sender or receiver, a nonce other
    than the sender's (`stale_nonce` / `future_nonce`), a bad signature (not checked with `verify_signature=False`: the node's projection of
    its mempool, whose signatures were checked when admitted), amount + fee over the balance, a
    receiver (or the fee account, with `fees_pending` fees still to credit) overflowing u64."""
    t = _fields(t)
    for name in ("from_index", "to_index", "amount", "fee", "nonce"):
        value = getattr(t, name)
        if not isinstance(value, int) or isinstance(value, bool):
            # Refused here, not raised from the layout later: one malformed entry must not stop a batch.
            raise TransferRefused("malformed_transfer", f"{name} must be an integer, got {type(value).__name__}")
    n = state.layout.n_accounts
    for name, index in (("sender", t.from_index), ("receiver", t.to_index)):
        if not 0 <= index < n:
            raise TransferRefused("index_out_of_range", f"{name} index {index} is outside a tree of 2^{state.layout.depth}")
        if index == RESERVED_INDEX:
            raise TransferRefused("reserved_account", f"account {RESERVED_INDEX} is reserved and cannot be the {name}")
    for name, value in (("amount", t.amount), ("fee", t.fee)):
        if not 0 <= value < U64:
            raise TransferRefused("amount_out_of_range", f"{name} {value} is not a u64")
    sender = state.get(t.from_index)
    if sender is None:
        raise TransferRefused("unknown_sender", f"account {t.from_index} does not exist")
    if state.get(t.to_index) is None:
        raise TransferRefused("unknown_receiver", f"account {t.to_index} does not exist")
    if t.nonce < sender.nonce:
        raise TransferRefused("stale_nonce", f"nonce {t.nonce} of account {t.from_index} is used (next is {sender.nonce})")
    if t.nonce > sender.nonce:
        raise TransferRefused("future_nonce", f"nonce {t.nonce} of account {t.from_index} is ahead (next is {sender.nonce})")
    if sender.nonce + 1 >= 1 << NONCE_BITS:
        raise TransferRefused("nonce_exhausted", f"account {t.from_index} has used every nonce")
    if verify_signature and not verify_poseidon(
            lay.transfer_message(chain_id, t.from_index, t.to_index, t.amount, t.fee, t.nonce), t.signature,
            sender.public_key):
        raise TransferRefused("bad_signature",
                              f"the signature does not sign this transfer for account {t.from_index} on chain {chain_id}")
    if t.amount + t.fee > sender.balance:
        raise TransferRefused("insufficient_balance",
                              f"amount + fee = {t.amount + t.fee} exceeds the balance {sender.balance} of account {t.from_index}")
    receiver_balance = (sender.balance - t.amount - t.fee if t.to_index == t.from_index
                        else state.get(t.to_index).balance)
    if receiver_balance + t.amount >= U64:
        raise TransferRefused("receiver_overflow", f"the balance of account {t.to_index} would overflow u64")
    if fee_account is not None and state.get(fee_account) is not None:
        fee_balance = state.get(fee_account).balance
        if fee_account == t.from_index:
            fee_balance -= t.amount + t.fee
        if fee_account == t.to_index:
            fee_balance += t.amount
        if fee_balance + fees_pending + t.fee >= U64:
            raise TransferRefused("fee_overflow", f"the fee account {fee_account}'s balance would overflow u64")


def apply_transfer(state: RollupState, t) -> tuple[AccountOpening, AccountOpening]:
    """Apply a checked transfer in place, exactly as the circuit does (sender, then receiver on the
    intermediate root); return the (sender, receiver) openings the circuit needs."""
    t = _fields(t)
    sender = state.get(t.from_index)
    sender_opening = AccountOpening(sender.ax, sender.ay, sender.balance, sender.nonce, _siblings(state, t.from_index))
    state.set(t.from_index, Account(sender.ax, sender.ay, sender.balance - t.amount - t.fee, sender.nonce + 1))
    receiver = state.get(t.to_index)
    receiver_opening = AccountOpening(receiver.ax, receiver.ay, receiver.balance, receiver.nonce,
                                      _siblings(state, t.to_index))
    state.set(t.to_index, Account(receiver.ax, receiver.ay, receiver.balance + t.amount, receiver.nonce))
    return sender_opening, receiver_opening


def _siblings(state: RollupState, index: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(level) for level in state.tree.proof(index))


@dataclass
class BatchResult:
    """A built batch: its witness inputs, the state after it, and what happened to each offered item.
    `included` / `dropped` / `deferred` hold positions in the offered transfer list; `dropped` pairs each with
    its TransferRefused; deferred transfers (nonce ahead) stay in the mempool."""

    inputs: BatchWitnessInputs
    state: RollupState
    registrations: list[int] = field(default_factory=list)
    included: list[int] = field(default_factory=list)
    dropped: list[tuple[int, TransferRefused]] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)

    @property
    def pubdata(self) -> bytes:
        return self.inputs.pubdata

    @property
    def new_root(self) -> int:
        return self.inputs.new_root


def execute_batch(state: RollupState, chain_id: int, fee_account: int, registrations: Sequence[Registration],
                  transfers: Sequence) -> BatchResult:
    """Execute one batch on a copy of `state`: up to R registrations (in order; a bad one raises
    ExecutionError), then up to N transfers in the order offered (one the circuit would reject is dropped
    with its reason, or deferred if its nonce is ahead), then the fee credit. `state` is not modified.

    Raises ExecutionError if the fee account does not exist or nothing at all can be included (an empty
    batch would leave the root unchanged, which the L1 refuses).
    """
    layout = state.layout
    work = state.copy()
    old_root = work.root
    if fee_account == RESERVED_INDEX or work.get(fee_account) is None:
        raise ExecutionError(f"fee account {fee_account} does not exist")
    result = BatchResult(inputs=None, state=work)   # inputs filled below

    reg_slots: list[RegistrationSlot] = []
    published_regs: list[lay.RegistrationData] = []
    for position, reg in enumerate(registrations[:layout.n_registrations]):
        check_registration(work, reg)
        reg_slots.append(RegistrationSlot(1, reg.index, reg.ax, reg.ay, _siblings(work, reg.index)))
        work.set(reg.index, Account(reg.ax, reg.ay, 0, 0))
        published_regs.append(lay.RegistrationData(reg.index, pack_point((reg.ax, reg.ay))))
        result.registrations.append(position)
        result.touched.append(reg.index)

    tx_slots: list[TransferSlot] = []
    published_txs: list[lay.TransferData] = []
    fees = 0
    for position, offered in enumerate(transfers):
        if len(tx_slots) == layout.n_transfers:
            break
        t = _fields(offered)
        try:
            check_transfer(work, chain_id, t, fee_account=fee_account, fees_pending=fees)
        except TransferRefused as refused:
            if refused.reason == "future_nonce":
                result.deferred.append(position)
            else:
                result.dropped.append((position, refused))
            continue
        sender_opening, receiver_opening = apply_transfer(work, t)
        tx_slots.append(TransferSlot(1, t.from_index, t.to_index, t.amount, t.fee, sender_opening, receiver_opening,
                                     t.signature.r8[0], t.signature.r8[1], t.signature.s))
        published_txs.append(lay.TransferData(t.from_index, t.to_index, t.amount, t.fee))
        fees += t.fee
        result.included.append(position)
        result.touched.extend([t.from_index, t.to_index])

    if not reg_slots and not tx_slots:
        raise ExecutionError("nothing to batch: no registration is queued and no pending transfer is valid now")

    fee_holder = work.get(fee_account)
    fee_opening = AccountOpening(fee_holder.ax, fee_holder.ay, fee_holder.balance, fee_holder.nonce,
                                 _siblings(work, fee_account))
    work.set(fee_account, Account(fee_holder.ax, fee_holder.ay, fee_holder.balance + fees, fee_holder.nonce))
    result.touched.append(fee_account)

    pubdata = lay.encode_pubdata(layout, fee_account, published_regs, published_txs)
    commitment = (lay.commitment(lay.pubdata_elements(pubdata)) if layout.binding == "evaluation" else None)
    reg_slots += [RegistrationSlot.disabled(layout)] * (layout.n_registrations - len(reg_slots))
    tx_slots += [TransferSlot.disabled(layout)] * (layout.n_transfers - len(tx_slots))
    result.inputs = BatchWitnessInputs(layout, old_root, work.root, chain_id, fee_account, fee_opening,
                                       tuple(reg_slots), tuple(tx_slots), pubdata, commitment)
    result.touched = sorted(set(result.touched))
    return result
