"""`zkrollup batch build|prove|verify|submit|show`: the batch's life from mempool to L1."""

from __future__ import annotations

from .common import EXIT_INVALID, EXIT_OK, Command, Group, bounded_int, ensure_kernels
from .rollup_common import add_data_dir, notifier, opened_node, short


def _arguments(parser) -> None:
    add_data_dir(parser)


def _numbered_as(default: str):
    def arguments(parser) -> None:
        add_data_dir(parser)
        parser.add_argument("number", nargs="?", type=bounded_int(1, 1 << 62), help=f"batch number (default: {default})")
    return arguments


def _describe(batch) -> dict:
    return {"number": batch.number, "status": batch.status, "old_root": str(batch.old_root),
            "new_root": str(batch.new_root), "transfers": list(batch.transfer_ids),
            "registrations": list(batch.registration_indices), "dropped": [list(d) for d in batch.dropped],
            "pubdata_bytes": len(batch.pubdata), "commitment": None if batch.commitment is None else str(batch.commitment)}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def run_build(args, report) -> int:
    with opened_node(args) as node:
        batch, dropped = node.build_batch()
    report.data.update(_describe(batch))
    report.line(f"batch {batch.number} built: {_count(len(batch.registration_indices), 'registration')}, "
                f"{_count(len(batch.transfer_ids), 'transfer')}, {len(batch.pubdata)} bytes of pubdata; "
                f"root {short(batch.old_root)} -> {short(batch.new_root)}")
    for transfer_id, reason in dropped:
        report.line(f"  dropped transfer {transfer_id}: {reason}")
    return EXIT_OK


def run_prove(args, report) -> int:
    from prover.groth16 import PROVE_STAGES

    ensure_kernels(report)
    timings: dict = {}
    with opened_node(args) as node:
        with report.progress("prove", len(PROVE_STAGES)) as step:
            batch = node.prove_batch(args.number, progress=step, notify=notifier(report), timings=timings)
    report.data.update(_describe(batch), timings={k: round(v, 3) for k, v in timings.items()})
    report.line(f"batch {batch.number} proved ({', '.join(f'{k} {v:.2f}s' for k, v in timings.items())})")
    return EXIT_OK


def run_verify(args, report) -> int:
    with opened_node(args) as node:
        batch = node.batch_to_verify(args.number)
        valid = node.verify_batch(batch.number)
    report.data.update(number=batch.number, valid=valid)
    if valid:
        report.line(f"OK: batch {batch.number}'s proof is valid for the public inputs the L1 derives from its pubdata")
        return EXIT_OK
    report.line(f"INVALID: batch {batch.number}'s proof does not verify")
    return EXIT_INVALID


def run_submit(args, report) -> int:
    with opened_node(args) as node:
        receipt = node.submit_batch(args.number)
        on_evm = node.config.get("l1", "python") != "python"
    e = receipt.event
    report.data.update(batch_number=e.batch_number, old_root=str(e.old_root), new_root=str(e.new_root),
                       tx_hash=receipt.tx_hash, gas_used=receipt.gas_used)
    report.line(f"L1 accepted batch {e.batch_number}: state root {short(e.old_root)} -> {short(e.new_root)} "
                f"(tx {receipt.tx_hash[:18]}…, gas {'used' if on_evm else '≈'} {receipt.gas_used:,})")
    return EXIT_OK


def run_show(args, report) -> int:
    from circuits.rollup.layout import decode_pubdata

    with opened_node(args) as node:
        batch = node.batch(args.number)
        data = decode_pubdata(node.layout, batch.pubdata)
    report.data.update(_describe(batch), fee_account=data.fee_account,
                       pubdata=batch.pubdata.hex(),
                       published_transfers=[list(t) for t in data.transfers],
                       published_registrations=[[r.index, r.packed_pubkey.hex()] for r in data.registrations])
    report.line(f"batch {batch.number}: {batch.status}; root {short(batch.old_root)} -> {short(batch.new_root)}")
    report.line(f"pubdata ({len(batch.pubdata)} bytes): fee account {data.fee_account}")
    for r in data.registrations:
        report.line(f"  register {r.index}: key {r.packed_pubkey.hex()}")
    for t in data.transfers:
        report.line(f"  {t.from_index} -> {t.to_index}: amount {t.amount}, fee {t.fee}")
    for transfer_id, reason in batch.dropped:
        report.line(f"  dropped transfer {transfer_id}: {reason}")
    return EXIT_OK


GROUP = Group("batch", "build, prove, verify and submit batches", (
    Command(("batch", "build"), "execute pending registrations and transfers into the next batch", _arguments, run_build),
    Command(("batch", "prove"), "prove a built batch (Groth16; the key is made once per circuit shape)", _numbered_as("the oldest built batch"), run_prove),
    Command(("batch", "verify"), "verify a batch's proof as the L1 will (exit 0 valid, 1 invalid)", _numbered_as("the latest proved batch"), run_verify),
    Command(("batch", "submit"), "submit a proved batch to the L1, which advances its root only if the proof holds",
            _numbered_as("the oldest batch not yet submitted"), run_submit),
    Command(("batch", "show"), "a batch, its pubdata decoded", _numbered_as("the latest batch"), run_show),
))
