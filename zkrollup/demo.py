"""`zkrollup demo`: the rollup end to end on a fresh data directory, with a timing table whose rows add up to
the wall time.

Genesis with funded accounts; two accounts registered (one key made by circomlibjs, as an outside wallet
would, where node is present); batch 1 (registrations and transfers) built, proved, verified and submitted to
the L1; batch 2 carries a transfer signed by circomlibjs; a tampered copy of batch 2 (one pubdata byte, then
the proof) is refused by the L1 with the root unchanged; then the genuine batch 2 advances it. Finally a
second data directory is rebuilt from the L1 alone (`zkrollup sync`) and must hold the same accounts.

The L1 is a local anvil node (the Rollup contract and the verifier rendered from the key, on a real EVM) kept
in the data directory and stopped at the end; `l1="python"` uses the in-process stand-in instead (and so does
the demo when anvil is not installed, saying so).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scripts" / "circomlibjs_oracle.js"


@dataclass
class DemoResult:
    """What the demo did: roots after each step, accept/refuse outcomes, figures, and the timing rows."""

    roots: list[tuple[str, int]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    rows: list[tuple[str, float]] = field(default_factory=list)
    constraints: int = 0
    constraints_per_transfer: dict = field(default_factory=dict)
    circomlibjs: bool = False
    ok: bool = False


def circomlibjs_available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "circomlibjs").is_dir()


def _circomlibjs(requests: list[dict]) -> list:
    done = subprocess.run(["node", str(ORACLE)], input=json.dumps({"requests": requests}),
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"circomlibjs failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}")
    return json.loads(done.stdout)


def run_demo(data_dir: str | Path | None = None, layout=None, *, say: Callable[[str], None] = print,
             notify: Callable[[str], None] | None = None, prove_progress=None, use_circomlibjs: bool = True,
             ensure_kernels: Callable[[], None] | None = None, l1: str = "anvil") -> DemoResult:
    """Run the demo in `data_dir` (a fresh temporary folder, removed after, when None), settling on `l1`
    ("anvil" or "python")."""
    from circuits.eddsa import Signature
    from circuits.rollup.layout import transfer_message
    from zkrollup import keys
    from zkrollup.l1 import L1Error
    from zkrollup.anvil import AnvilError, AnvilNode, anvil_binary
    from zkrollup.node import DEFAULT_LAYOUT, L1_NODE_DIR, NodeError, RollupNode
    from zkrollup.wallet import KeyPair, SignedTransfer, Transfer

    layout = layout or DEFAULT_LAYOUT
    result = DemoResult()
    start = clock = time.perf_counter()

    def lap(label: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.rows.append((label, now - clock))
        clock = now

    temporary = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="zkrollup-demo-")) / "data" if temporary else Path(data_dir)
    if not temporary and folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise NodeError(f"{folder}: already exists and is not empty (choose a new --data-dir)")
    if l1 == "anvil":
        try:
            anvil_binary()
        except AnvilError as exc:
            say(f"note: {exc}; settling on the Python L1 stand-in instead")
            l1 = "python"
    synced = folder.parent / (folder.name + "-synced")
    if synced.exists():
        raise NodeError(f"{synced}: already exists (the demo rebuilds the state there from the L1)")
    try:
        if ensure_kernels:
            ensure_kernels()
            lap("compile or load the prover's kernels")
        say(f"zkrollup demo: a {layout.arity}-ary tree of 2^{layout.depth} accounts, batches of "
            f"{layout.n_transfers} transfers + {layout.n_registrations} registrations, "
            f"{layout.binding} data binding; data in {folder}")
        node = RollupNode.init(folder, layout, accounts=3, balance=1_000_000, notify=notify, l1=l1)
        on_evm = l1 != "python"
        circuit = keys.circuit_for(layout)
        result.constraints = circuit.r1cs.n_constraints
        result.constraints_per_transfer = dict(circuit.parts)
        result.roots.append(("genesis", node.l1.state_root()))
        lap("init: circuit, proving key (cached per shape), L1 deployment"
            + (" (anvil: verifier + Rollup contracts)" if on_evm else ""))
        if on_evm:
            say(f"L1: anvil on {AnvilNode(folder / L1_NODE_DIR).url}: Rollup contract {node.l1.address}, verifier "
                f"{node.l1.verifier_address} (rendered from the proving key)")
        say(f"genesis: accounts 2, 3, 4 hold 1,000,000 each; account 1 is the operator's fee account; "
            f"state root {node.l1.state_root()}")

        # An outside wallet's key (circomlibjs), registered by its public key only.
        outside_key = secrets.token_bytes(32)
        if use_circomlibjs and circomlibjs_available():
            ax, ay = (int(v) for v in _circomlibjs([{"op": "prv2pub", "prv": outside_key.hex()}])[0])
            result.circomlibjs = True
        else:
            ax, ay = KeyPair.from_private_key(outside_key).public_key
        if (ax, ay) != tuple(KeyPair.from_private_key(outside_key).public_key):
            raise RuntimeError("circomlibjs and zkrollup derive different public keys")
        outside = node.store.queue_registration(ax, ay)
        ours, _ = node.register_account()
        node.transfer(2, 3, 1_000, 10)
        node.transfer(3, outside, 5_000, 10)
        node.transfer(4, ours, 2_500, 5)
        node.transfer(2, 2, 7, 1)          # to oneself: the same sequential update, nonce advances
        lap("register 2 accounts, sign and queue 4 transfers")
        who = "circomlibjs" if result.circomlibjs else "an outside wallet (node missing: our code stands in)"
        say(f"registered account {outside} (key from {who}) and account {ours}; queued 4 transfers")

        def settle(label: str):
            batch, dropped = node.build_batch()
            lap(f"{label}: build (executor + witness inputs)")
            timings: dict = {}
            batch = node.prove_batch(batch.number, progress=prove_progress, notify=notify, timings=timings)
            for name, seconds in timings.items():
                result.rows.append((f"{label}: {name}", seconds))
            nonlocal clock
            clock += sum(timings.values())
            lap(f"{label}: prove, other")
            if not node.verify_batch(batch.number):
                raise RuntimeError(f"batch {batch.number} does not verify")
            lap(f"{label}: verify (ours, as the L1 will)")
            return batch

        # As many batches as the queued work needs (one with the default shape).
        while node.store.pending_transfers() or node.store.pending_registrations():
            batch = settle(f"batch {node.store.latest_batch().number + 1 if node.store.latest_batch() else 1}")
            receipt = node.submit_batch(batch.number)
            lap(f"batch {batch.number}: submit to the L1")
            result.roots.append((f"after batch {batch.number}", node.l1.state_root()))
            say(f"batch {batch.number}: {len(batch.registration_indices)} registrations + "
                f"{len(batch.transfer_ids)} transfers, {len(batch.pubdata)} bytes of pubdata; the L1 accepted it "
                f"({'gas used' if on_evm else 'gas ≈'} {receipt.gas_used:,}); root -> {receipt.event.new_root}")

        # Batch 2: the outside wallet signs with circomlibjs; the node only sees the JSON document.
        transfer = Transfer(outside, 2, 1_200, 20, 0)
        message = transfer_message(node.chain_id, outside, 2, 1_200, 20, 0)
        if result.circomlibjs:
            answer = _circomlibjs([{"op": "signPoseidon", "prv": outside_key.hex(), "msg": str(message)}])[0]
            document = {"from": str(outside), "to": "2", "amount": "1200", "fee": "20", "nonce": "0",
                        "signature": {"R8": answer["R8"], "S": answer["S"]}}
        else:
            from circuits.eddsa import sign_poseidon

            sig = sign_poseidon(outside_key, message)
            document = SignedTransfer(transfer, Signature(sig.r8, sig.s)).to_json()
        node.submit_transfer(SignedTransfer.from_json(document))
        node.transfer(ours, 3, 500, 5)
        lap("queue the next batch's transfers (one signed outside)")
        batch2 = settle(f"batch {node.store.latest_batch().number + 1}")

        root_before = node.l1.state_root()
        proof = node._proof_of(batch2)
        tampered = bytearray(batch2.pubdata)
        tampered[-9] ^= 0x01                     # one bit of the last amount field in the pubdata
        for label, attempt in (
            ("pubdata with one bit flipped", lambda: node.l1.submit_batch(bytes(tampered), batch2.new_root,
                                                                         batch2.commitment, proof, node.operator)),
            ("proof with A negated", lambda: node.l1.submit_batch(batch2.pubdata, batch2.new_root, batch2.commitment,
                                                                 replace(proof, a=(proof.a[0], _Q - proof.a[1])),
                                                                 node.operator)),
        ):
            try:
                attempt()
                raise RuntimeError(f"the L1 accepted a tampered batch ({label})")
            except L1Error as refused:
                result.refused.append(f"{label}: {refused.error}")
        if node.l1.state_root() != root_before:
            raise RuntimeError("a refused batch changed the L1's root")
        lap(f"tampered batch {batch2.number} refused by the L1 (twice)")
        say(f"tampered copies of batch {batch2.number} refused: {'; '.join(result.refused)}; root unchanged")
        node.submit_batch(batch2.number)
        result.roots.append((f"after batch {batch2.number}", node.l1.state_root()))
        lap(f"batch {batch2.number}: submit to the L1")
        balances = {i: node.store.account(i).balance for i in (1, 2, 3, 4, outside, ours)}
        say(f"batch {batch2.number} accepted; root -> {node.l1.state_root()}")
        say("balances: " + ", ".join(f"{i}: {b:,}" for i, b in balances.items()))
        if on_evm:
            url, address = AnvilNode(folder / L1_NODE_DIR).url, node.l1.address
            accounts = node.store.accounts()
            with RollupNode.sync(synced, url, address) as follower:
                if follower.store.accounts() != accounts or follower.store.settled_root() != node.l1.state_root():
                    raise RuntimeError("the state rebuilt from the L1 differs from the sequencer's")
                rebuilt = len(follower.store.batches())
            lap("rebuild the state from the L1 alone (zkrollup sync)")
            say(f"zkrollup sync: {rebuilt} batches replayed from the L1's events and calldata into {synced}: the "
                f"same {len(accounts)} accounts and root")
        node.close()
        result.ok = True
    finally:
        if l1 == "anvil":
            stopped = AnvilNode(folder / L1_NODE_DIR).stop()
            if stopped and not temporary:
                say(f"anvil stopped, its chain saved in {folder / L1_NODE_DIR}; `zkrollup l1 start --data-dir "
                    f"{folder}` resumes it")
        if temporary:
            shutil.rmtree(folder.parent, ignore_errors=True)
    result.rows.append(("other (imports, printing, clean-up)", time.perf_counter() - start - sum(s for _, s in result.rows)))
    return result


_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583   # BN254 base field


def print_summary(result: DemoResult, layout, say: Callable[[str], None] = print) -> None:
    """The demo's closing table: roots, proof size, constraints per transfer, and timings that add up."""
    say("")
    for label, root in result.roots:
        say(f"  state root {label:<14} {root}")
    per = result.constraints_per_transfer
    transfers = per.get("transfers", 0) // max(1, layout.n_transfers)
    say("  proof: 256 bytes (Groth16: A and C in G1, B in G2, uncompressed as the EVM takes them)")
    say(f"  circuit: {result.constraints:,} constraints a batch; {transfers:,} a transfer slot, "
        f"{per.get('registrations', 0) // max(1, layout.n_registrations):,} a registration slot, "
        f"fee credit {per.get('fee_credit', 0):,}, data binding {per.get('data_binding', 0):,}")
    width = max(len(label) for label, _ in result.rows)
    total = sum(seconds for _, seconds in result.rows)
    say("")
    for label, seconds in result.rows:
        say(f"  {label:<{width}}  {seconds:8.2f} s")
    say(f"  {'total (wall time)':<{width}}  {total:8.2f} s")
