"""The synchronizer: rebuild the rollup's state from what the L1 holds alone — the genesis accounts its
deployment published, and each accepted batch's pubdata (the calldata: the rollup's data availability).

It trusts the L1 for what the L1 checked (the proof: so no signature or balance is re-verified here) and
checks everything it recomputes: the genesis root from the published genesis accounts (a hidden funded
account in the genesis root would otherwise go unseen, DESIGN §4 item 13), and every batch's new root from
its pubdata replayed in the circuit's order (registrations, transfers, fee credit). Owns `rebuild_state`;
not the L1 itself (`zkrollup.l1`) nor the sequencer's store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from circuits.babyjub import unpack_point
from circuits.rollup.layout import decode_pubdata

from zkrollup.l1 import BatchSubmitted
from zkrollup.state import Account, RollupState

__all__ = ["ReplayedBatch", "SyncError", "SyncReport", "rebuild_state"]


class SyncError(ValueError):
    """The L1's data does not replay to the roots it holds (names the batch or the genesis)."""


@dataclass(frozen=True)
class ReplayedBatch:
    """One accepted batch as replayed: its event, its pubdata, and every account it touched, after it."""

    event: BatchSubmitted
    pubdata: bytes
    accounts_after: dict[int, Account]


@dataclass
class SyncReport:
    """What a rebuild did: the state, the root after genesis and after each batch (as recomputed), and the
    batches replayed."""

    state: RollupState
    roots: list[int] = field(default_factory=list)
    batches: list[ReplayedBatch] = field(default_factory=list)


def rebuild_state(l1) -> SyncReport:
    """Replay the L1's genesis and accepted batches into a fresh RollupState; SyncError on any mismatch.

    `l1` provides `layout`, `genesis_accounts()`, `genesis_root()`, `events()` (BatchSubmitted in order) and
    `submitted_pubdata(batch_number)`.
    """
    layout = l1.layout
    genesis = {a.index: Account(a.ax, a.ay, a.balance, 0) for a in l1.genesis_accounts()}
    state = RollupState(layout, genesis)
    if state.root != l1.genesis_root():
        raise SyncError("genesis: the published genesis accounts do not hash to the genesis root the L1 holds")
    report = SyncReport(state, [state.root])
    for event in l1.events():
        where = f"batch {event.batch_number}"
        if event.old_root != state.root:
            raise SyncError(f"{where}: starts from root {event.old_root}, but the replayed state is at {state.root}")
        pubdata = l1.submitted_pubdata(event.batch_number)
        data = decode_pubdata(layout, pubdata)
        touched: set[int] = set()
        try:
            for reg in data.registrations:
                if reg.index in state.accounts:
                    raise SyncError(f"{where}: registers account {reg.index}, which exists")
                ax, ay = unpack_point(reg.packed_pubkey)
                state.set(reg.index, Account(ax, ay, 0, 0))
                touched.add(reg.index)
            for t in data.transfers:
                sender, receiver = state.get(t.from_index), state.get(t.to_index)
                if sender is None or receiver is None:
                    raise SyncError(f"{where}: a transfer names an account that does not exist")
                state.set(t.from_index, Account(sender.ax, sender.ay, sender.balance - t.amount - t.fee,
                                                sender.nonce + 1))
                receiver = state.get(t.to_index)
                state.set(t.to_index, Account(receiver.ax, receiver.ay, receiver.balance + t.amount, receiver.nonce))
                touched.update((t.from_index, t.to_index))
            fees = sum(t.fee for t in data.transfers)
            holder = state.get(data.fee_account)
            if holder is None:
                raise SyncError(f"{where}: the fee account {data.fee_account} does not exist")
            state.set(data.fee_account, Account(holder.ax, holder.ay, holder.balance + fees, holder.nonce))
            touched.add(data.fee_account)
        except ValueError as exc:
            if isinstance(exc, SyncError):
                raise
            raise SyncError(f"{where}: its pubdata does not replay: {exc}") from None
        if state.root != event.new_root:
            raise SyncError(f"{where}: the pubdata replays to root {state.root}, not the root {event.new_root} "
                            "the L1 accepted")
        report.roots.append(state.root)
        report.batches.append(ReplayedBatch(event, pubdata, {i: state.get(i) for i in sorted(touched)}))
    return report
