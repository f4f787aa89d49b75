"""`zkrollup demo`: a Poseidon Merkle membership proof, end to end, with the timings of each step.

The statement: "I know a secret whose commitment Poseidon(secret) is a leaf of the tree with this
public root" (depth 20 by default). The demo builds the circuit, runs the development setup,
proves, verifies, writes the snarkjs files and checks them with snarkjs when it is installed.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNARKJS = ROOT / "node_modules" / ".bin" / "snarkjs"


def membership_circuit(depth: int):
    """Public: the root. Private: the secret, the path bits, the siblings."""
    from circuits.builder import ConstraintSystem
    from circuits.merkle import merkle_root
    from circuits.poseidon import poseidon_gadget

    cs = ConstraintSystem()
    root = cs.public_input("root")
    secret = cs.private_input("secret")
    bits = cs.private_inputs("path_bits", depth)
    siblings = cs.private_inputs("siblings", depth)
    with cs.gadget("membership"):
        leaf = poseidon_gadget(cs, [secret])
        cs.assert_equal(merkle_root(cs, leaf, bits, siblings), root)
    return cs.compile()


def run_demo(depth: int = 20, out_dir: str | Path = "demo-out", quiet: bool = False) -> int:
    from circuits.iden3 import write_r1cs, write_wtns
    from circuits.merkle import MerkleTree, path_bits
    from circuits.poseidon import poseidon
    from prover.groth16 import ProveTimings, prove, verifying_key
    from prover.setup import SETUP_STAGES, setup
    from prover.zkey import load_zkey, write_zkey
    from verifier import snarkjs
    from verifier.groth16 import verify
    from zkrollup.cli import _progress_bar

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, float, str]] = []

    def timed(label, fn, note=""):
        start = time.perf_counter()
        result = fn()
        rows.append((label, time.perf_counter() - start, note))
        return result

    print(f"Poseidon Merkle membership, depth {depth}: prove Poseidon(secret) is a leaf under a public root")
    tree = MerkleTree(depth)
    members = {}
    for _ in range(16):  # a few members at random positions
        index = secrets.randbelow(1 << depth)
        members[index] = secrets.randbelow(1 << 250)
        tree.set(index, poseidon([members[index]]))
    index, secret = next(iter(members.items()))
    compiled = timed("build circuit", lambda: membership_circuit(depth))
    r1cs = compiled.r1cs
    witness = timed("solve witness", lambda: compiled.solve({
        "root": tree.root, "secret": secret, "path_bits": path_bits(index, depth),
        "siblings": tree.proof(index)}))
    rows[-1] = (rows[-1][0], rows[-1][1], f"{len(witness)} wires")
    write_r1cs(out / "circuit.r1cs", r1cs)
    write_wtns(out / "witness.wtns", witness)

    with _progress_bar("setup", SETUP_STAGES, not quiet) as progress:
        pk = timed("setup (single-party, dev only)", lambda: setup(r1cs, progress=progress))
    timed("write .zkey", lambda: write_zkey(out / "circuit.zkey", pk))
    pk = load_zkey(out / "circuit.zkey")
    timings = ProveTimings()
    prove(pk, witness)  # the first proof in a process loads the kernels; time the second, as a server would
    with _progress_bar("prove", 9, not quiet) as progress:
        proof, public = timed("prove", lambda: prove(pk, witness, progress=progress, timings=timings))
    vk = verifying_key(pk)
    ok = timed("verify (ours)", lambda: verify(vk, public, proof))
    snarkjs.write_proof(proof, out / "proof.json")
    snarkjs.write_public_inputs(public, out / "public.json")
    snarkjs.write_verifying_key(vk, out / "verification_key.json")

    snarkjs_result = "skipped (snarkjs not installed: run `npm ci`)"
    if SNARKJS.exists() and shutil.which("node"):
        check = timed("verify (snarkjs CLI)", lambda: subprocess.run(
            [str(SNARKJS), "groth16", "verify", "verification_key.json", "public.json", "proof.json"],
            cwd=out, capture_output=True, text=True))
        snarkjs_result = "OK" if check.returncode == 0 and "OK" in check.stdout else "REJECTED"

    print(f"\n{r1cs.n_constraints} constraints, {r1cs.n_wires} wires, domain 2^{pk.log_domain_size}")
    width = max(len(label) for label, _, _ in rows)
    for label, seconds, note in rows:
        print(f"  {label:<{width}}  {seconds:8.3f} s  {note}")
    print(f"  prove stages: {timings.summary()}")
    print(f"\nour verifier: {'valid' if ok else 'INVALID'}; snarkjs: {snarkjs_result}")
    print(f"files in {out}/: circuit.r1cs circuit.zkey witness.wtns proof.json public.json verification_key.json")
    if not ok or snarkjs_result == "REJECTED":
        print("error: the demo proof did not verify", file=sys.stderr)
        return 1
    return 0
