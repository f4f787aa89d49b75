"""Sync benchmark (issue 9): how long `zkrollup sync` takes to rebuild a rollup's data directory from the L1
alone, for a chain holding many batches (target: 100 batches in under a minute).

A rollup is made on a local anvil node (RollupNode.init with l1="anvil"), then --batches batches, each one
transfer and, every third batch, one registration, are built, proved and submitted (the long part: about a
second of proving each at the small shape used here). Then `zkrollup sync --l1 URL --rollup ADDRESS` runs as a
user runs it, in a child process: its wall time is what the user waits, interpreter start, imports, circuit
build, verifier compile and every RPC call included. Its result is checked against the sequencer's store
(same accounts, same root as the contract's).

What sync checks (and so what this time includes): the deployed verifier's code against the one rendered from
the proving key, the genesis root recomputed from the published genesis accounts, every batch's new root
recomputed by replaying its pubdata (read from the submitBatch calldata), every batch's proof re-verified
with our verifier from that calldata, and the final root against the contract's stateRoot. Signatures and
balances are not re-checked: the proof already covers them.

The batch shape barely matters for sync (it replays pubdata; the tree depth sets the cost of each account
update): default depth 16, 4-ary, 2 transfer slots, 1 registration slot; --depth to change it.

    .venv/bin/python scripts/bench_sync.py                 # 100 batches
    .venv/bin/python scripts/bench_sync.py --batches 10 --json /tmp/sync.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 60.0
TARGET_BATCHES = 100


def _progress(text: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{text:<78}", end="", file=sys.stderr, flush=True)


def run(batches: int, depth: int, folder: Path) -> dict:
    from circuits.rollup.layout import Layout
    from zkrollup.anvil import AnvilNode
    from zkrollup.node import L1_NODE_DIR, RollupNode

    layout = Layout(depth=depth, arity=4, n_transfers=2, n_registrations=1, binding="evaluation")
    data_dir = folder / "sequencer"
    started = time.perf_counter()
    node = RollupNode.init(data_dir, layout, accounts=4, l1="anvil")
    anvil = AnvilNode(data_dir / L1_NODE_DIR)
    try:
        init_seconds = time.perf_counter() - started
        started = time.perf_counter()
        gas = []
        for n in range(batches):
            _progress(f"making batch {n + 1}/{batches} (build, prove, submit)")
            sender = 2 + n % 4
            receiver = 2 + (n + 1) % 4
            node.transfer(sender, receiver, 1 + n, 1)
            if n % 3 == 0:
                node.register_account()
            node.build_batch()
            node.prove_batch()
            gas.append(node.submit_batch().gas_used)
        making_seconds = time.perf_counter() - started
        url, address = anvil.url, node.l1.address
        accounts, root = node.store.accounts(), node.l1.state_root()
        node.close()
        _progress("zkrollup sync ...")
        follower = folder / "follower"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "zkrollup.cli", "sync", "--json", "--data-dir", str(follower),
                               "--l1", url, "--rollup", address], capture_output=True, text=True, env=os.environ)
        sync_seconds = time.perf_counter() - started
        _progress("")
        if done.returncode != 0:
            raise SystemExit(f"zkrollup sync failed: {done.stderr.strip()}")
        result = json.loads(done.stdout)
        with RollupNode.open(follower) as synced:
            same = synced.store.accounts() == accounts and synced.store.settled_root() == root
        if not same:
            raise SystemExit("the synced state differs from the sequencer's")
    finally:
        anvil.stop()
    return {
        "shape": layout.shape_id, "batches": batches, "accounts": len(accounts),
        "init_seconds": round(init_seconds, 2), "making_batches_seconds": round(making_seconds, 2),
        "sync_wall_seconds": round(sync_seconds, 2), "sync_command_seconds": result["seconds"],
        "imported_batches": result["imported_batches"], "state_root_matches": same,
        "submit_gas_mean": round(sum(gas) / len(gas)) if gas else 0,
        "target": {"batches": TARGET_BATCHES, "seconds": TARGET_SECONDS,
                   "met": batches >= TARGET_BATCHES and sync_seconds < TARGET_SECONDS},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="zkrollup sync of many batches from anvil, timed as a user waits")
    parser.add_argument("--batches", type=int, default=TARGET_BATCHES, help="batches on the chain (default 100)")
    parser.add_argument("--depth", type=int, default=16, help="account tree depth (default 16)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zkrollup-bench-sync-") as tmp:
        r = run(args.batches, args.depth, Path(tmp))
    print(f"zkrollup sync, {r['shape']} on anvil: {r['batches']} batches, {r['accounts']} accounts")
    print(f"  making the chain (init {r['init_seconds']} s; build+prove+submit) {r['making_batches_seconds']:>8.2f} s")
    print(f"  zkrollup sync, wall time of the command          {r['sync_wall_seconds']:>8.2f} s"
          f"   (its own count: {r['sync_command_seconds']:.2f} s)")
    print(f"  per batch                                          {1000 * r['sync_wall_seconds'] / r['batches']:>8.1f} ms")
    print(f"  state rebuilt equals the sequencer's and the contract's root: {r['state_root_matches']}")
    t = r["target"]
    print(f"  target: {t['batches']} batches in under {t['seconds']:.0f} s: {'yes' if t['met'] else 'no'}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
