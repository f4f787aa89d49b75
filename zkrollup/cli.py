"""The `zkrollup` command line: Groth16 with snarkjs's argument order, key export, and the demo.

Every failure a user can cause (missing or malformed files, keys that do not fit, bad points,
numbers >= the field) ends in one line on stderr and exit code 2; `groth16 verify` exits 1 for a
well-formed proof that does not verify, 0 for a valid one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import contextmanager

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


@contextmanager
def _progress_bar(title: str, total: int, enabled: bool = True):
    """A tqdm bar on stderr advanced by stage callbacks (name, index)."""
    if not enabled:
        yield lambda name, index: None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=title, unit="stage", file=sys.stderr, leave=False,
               bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {postfix}")

    def update(name: str, index: int) -> None:
        bar.set_postfix_str(name)
        bar.n = min(total, index + 1)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _user_errors():
    """Exception types that mean bad input rather than a bug."""
    from circuits.iden3 import Iden3FormatError
    from prover.curve import PointNotOnCurve
    from prover.groth16 import ProvingError
    from prover.setup import SetupError
    from prover.witness import WitnessFileError
    from prover.zkey import ZkeyError
    from verifier.types import VerifierInputError

    return (CliError, Iden3FormatError, ZkeyError, WitnessFileError, ProvingError, SetupError,
            PointNotOnCurve, VerifierInputError, OSError, json.JSONDecodeError, UnicodeDecodeError)


# --- groth16 -------------------------------------------------------------------------------------

def cmd_groth16_setup(args) -> int:
    from circuits.iden3 import read_r1cs
    from prover.setup import SETUP_STAGES, SETUP_WARNING, setup
    from prover.zkey import write_zkey

    start = time.perf_counter()
    r1cs = read_r1cs(args.circuit)
    print(f"warning: {SETUP_WARNING}", file=sys.stderr)
    with _progress_bar("setup", SETUP_STAGES, not args.quiet) as progress:
        pk = setup(r1cs, progress=progress, quiet=True)
    write_zkey(args.zkey, pk)
    print(f"setup {time.perf_counter() - start:.2f}s: {r1cs.n_constraints} constraints, "
          f"{r1cs.n_wires} wires, {r1cs.n_public} public, domain 2^{pk.log_domain_size} -> {args.zkey}")
    return EXIT_OK


def cmd_groth16_prove(args) -> int:
    from prover.groth16 import PROVE_STAGES, ProveTimings, prove
    from prover.witness import load_wtns
    from prover.zkey import load_zkey
    from verifier import snarkjs

    start = time.perf_counter()
    pk = load_zkey(args.zkey)
    witness = load_wtns(args.witness)
    timings = ProveTimings()
    with _progress_bar("prove", len(PROVE_STAGES), not args.quiet) as progress:
        proof, public = prove(pk, witness, progress=progress, timings=timings)
    snarkjs.write_proof(proof, args.proof)
    snarkjs.write_public_inputs(public, args.public)
    print(f"proved in {time.perf_counter() - start:.2f}s: {timings.summary()}")
    return EXIT_OK


def cmd_groth16_verify(args) -> int:
    from verifier import snarkjs
    from verifier.groth16 import verify

    start = time.perf_counter()
    vk = snarkjs.read_verifying_key(args.verification_key)
    public = snarkjs.read_public_inputs(args.public)
    proof = snarkjs.read_proof(args.proof)
    valid = verify(vk, public, proof)
    elapsed = (time.perf_counter() - start) * 1e3
    if valid:
        print(f"OK: the proof is valid ({elapsed:.1f} ms)")
        return EXIT_OK
    print(f"INVALID: the proof does not verify for these public inputs ({elapsed:.1f} ms)")
    return EXIT_INVALID


def cmd_zkey_export_vk(args) -> int:
    from prover.groth16 import verifying_key
    from prover.zkey import load_zkey
    from verifier import snarkjs

    vk = verifying_key(load_zkey(args.zkey))
    snarkjs.write_verifying_key(vk, args.verification_key)
    print(f"verification key -> {args.verification_key}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from zkrollup.demo import run_demo

    return run_demo(depth=args.depth, out_dir=args.out, quiet=args.quiet)


# --- wiring ----------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zkrollup", description=__doc__.splitlines()[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    top = parser.add_subparsers(dest="command", required=True)

    groth16 = top.add_parser("groth16", help="Groth16 setup, prove, verify (snarkjs argument order)")
    g = groth16.add_subparsers(dest="action", required=True)
    p = g.add_parser("setup", help="single-party development setup: CIRCUIT.r1cs -> CIRCUIT.zkey")
    p.add_argument("circuit")
    p.add_argument("zkey")
    p.set_defaults(func=cmd_groth16_setup)
    p = g.add_parser("prove", help="CIRCUIT.zkey WITNESS.wtns -> PROOF.json PUBLIC.json")
    p.add_argument("zkey")
    p.add_argument("witness")
    p.add_argument("proof")
    p.add_argument("public")
    p.set_defaults(func=cmd_groth16_prove)
    p = g.add_parser("verify", help="exit 0 valid, 1 invalid proof, 2 bad input")
    p.add_argument("verification_key")
    p.add_argument("public")
    p.add_argument("proof")
    p.set_defaults(func=cmd_groth16_verify)

    zkey = top.add_parser("zkey", help="proving-key tools")
    z = zkey.add_subparsers(dest="action", required=True)
    export = z.add_parser("export", help="export parts of a .zkey")
    e = export.add_subparsers(dest="what", required=True)
    p = e.add_parser("verificationkey", help="CIRCUIT.zkey -> VERIFICATION_KEY.json (snarkjs format)")
    p.add_argument("zkey")
    p.add_argument("verification_key")
    p.set_defaults(func=cmd_zkey_export_vk)

    demo = top.add_parser("demo", help="set up, prove and verify a Poseidon Merkle membership proof")
    demo.add_argument("--depth", type=int, default=20, help="Merkle tree depth (default 20)")
    demo.add_argument("--out", default="demo-out", help="folder for the circuit, key and proof files")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except _user_errors() as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
