"""`zkrollup groth16 ...`: setup, prove, fullprove and verify, in snarkjs's argument order and with its aliases.

Each command checks its files, calls prover/verifier/circuits functions and prints; no protocol logic here.
"""

from __future__ import annotations

from .common import (EXIT_INVALID, EXIT_OK, CliError, Command, Group, about, check_input, check_outputs,
                     describe, ensure_kernels, written_together)

PTAU_HINT = ("zkrollup's setup needs no powers-of-tau file: it is a single-party development setup "
             "(zkrollup groth16 setup CIRCUIT.r1cs CIRCUIT.zkey); to use a ceremony instead, make the "
             ".zkey with snarkjs (groth16 setup with your .ptau, then zkey contribute) and prove with "
             "zkrollup groth16 prove CIRCUIT.zkey WITNESS.wtns PROOF.json PUBLIC.json")


# --- setup ------------------------------------------------------------------------------------------

def _setup_arguments(parser) -> None:
    parser.add_argument("circuit", metavar="CIRCUIT.r1cs", help="the circuit (iden3 .r1cs, from circom or zkrollup)")
    parser.add_argument("zkey", metavar="CIRCUIT.zkey", help="the proving key to write (snarkjs's .zkey format)")
    parser.add_argument("extra", nargs="?", metavar="(CIRCUIT.zkey)",
                        help="snarkjs's 3-argument form `setup CIRCUIT.r1cs POT.ptau CIRCUIT.zkey` is "
                             "answered with a hint: no .ptau is needed here")


def run_setup(args, report) -> int:
    from circuits.iden3 import read_r1cs
    from prover.setup import SETUP_STAGES, SETUP_WARNING, setup
    from prover.zkey import write_zkey

    ptau = next((p for p in (args.circuit, args.zkey, args.extra) if p and p.endswith(".ptau")), None)
    if ptau is not None or args.extra is not None:
        raise CliError(f"{ptau or args.zkey}: {PTAU_HINT}")
    check_input(args.circuit)
    check_outputs(args.zkey, inputs=[args.circuit])
    with about(args.circuit):
        r1cs = read_r1cs(args.circuit)
    ensure_kernels(report)
    report.warning(SETUP_WARNING)
    with report.progress("setup", SETUP_STAGES) as progress, about(args.circuit):
        pk = setup(r1cs, progress=progress, quiet=True)
    with about(args.zkey, "cannot write"):
        write_zkey(args.zkey, pk)
    report.data.update(zkey=args.zkey, constraints=r1cs.n_constraints, wires=r1cs.n_wires,
                       public=r1cs.n_public, domain_log2=pk.log_domain_size, development_setup=True)
    report.line(f"{r1cs.n_constraints} constraints, {r1cs.n_wires} wires, {r1cs.n_public} public, "
                f"domain 2^{pk.log_domain_size} -> {args.zkey}")
    return EXIT_OK


# --- prove and fullprove --------------------------------------------------------------------------

def _prove_arguments(parser) -> None:
    parser.add_argument("zkey", metavar="CIRCUIT.zkey", help="the proving key (ours or snarkjs's)")
    parser.add_argument("witness", metavar="WITNESS.wtns", help="the witness (iden3 .wtns, e.g. from wtns calculate)")
    _proof_outputs(parser)


def _proof_outputs(parser) -> None:
    parser.add_argument("proof", metavar="PROOF.json", help="the proof to write (snarkjs's proof.json)")
    parser.add_argument("public", metavar="PUBLIC.json", help="the public signals to write (snarkjs's public.json)")


def _prove_and_write(args, report, pk, witness, witness_source: str) -> int:
    """Prove, then write proof and public files as a pair (both or neither)."""
    from prover.groth16 import PROVE_STAGES, ProveTimings, prove
    from verifier import snarkjs

    from prover.zkey import ZkeyError

    timings = ProveTimings()
    try:
        with report.progress("prove", len(PROVE_STAGES)) as progress, about(witness_source):
            proof, public = prove(pk, witness, progress=progress, timings=timings)
    except CliError as error:
        # A fault the key's own checks found names the key file itself (ZkeyError starts with its path).
        if isinstance(error.__cause__, ZkeyError):
            raise CliError(describe(error.__cause__)) from error.__cause__
        raise
    with written_together(args.proof, args.public) as (proof_tmp, public_tmp):
        with about(args.proof, "cannot write"):
            snarkjs.write_proof(proof, proof_tmp)
        with about(args.public, "cannot write"):
            snarkjs.write_public_inputs(public, public_tmp)
    report.data.update(proof=args.proof, public=args.public, public_signals=[str(v) for v in public],
                       stages={name: round(seconds, 4) for name, seconds in timings.stages.items()})
    report.line(f"{timings.summary()} -> {args.proof} {args.public}")
    return EXIT_OK


def _load_key(args, report):
    from prover.zkey import load_zkey

    with about(args.zkey):
        pk = load_zkey(args.zkey)
    ensure_kernels(report)
    return pk


def run_prove(args, report) -> int:
    from prover.witness import load_wtns

    for path in (args.zkey, args.witness):
        check_input(path)
    check_outputs(args.proof, args.public, inputs=[args.zkey, args.witness])
    pk = _load_key(args, report)
    with about(args.witness):
        witness = load_wtns(args.witness)
    return _prove_and_write(args, report, pk, witness, args.witness)


def _fullprove_arguments(parser) -> None:
    parser.add_argument("input", metavar="INPUT.json", help="the circuit's inputs (signal name -> value or array)")
    parser.add_argument("wasm", metavar="CIRCUIT.wasm", help="circom's witness calculator (circom --wasm)")
    parser.add_argument("zkey", metavar="CIRCUIT.zkey", help="the proving key (ours or snarkjs's)")
    _proof_outputs(parser)


def run_fullprove(args, report) -> int:
    from circuits.witness_wasm import WitnessCalculator, read_input_json

    for path in (args.input, args.wasm, args.zkey):
        check_input(path)
    check_outputs(args.proof, args.public, inputs=[args.input, args.wasm, args.zkey])
    with about(args.input):
        inputs = read_input_json(args.input)
    with about(args.wasm):
        calculator = WitnessCalculator(args.wasm, log=report.circuit_log)
    with about(args.input):
        witness = calculator.calculate_limbs(inputs)
    pk = _load_key(args, report)
    return _prove_and_write(args, report, pk, witness, args.input)


# --- verify ---------------------------------------------------------------------------------------

def _verify_arguments(parser) -> None:
    parser.add_argument("verification_key", metavar="VERIFICATION_KEY.json",
                        help="snarkjs's verification_key.json (zkey export verificationkey)")
    parser.add_argument("public", metavar="PUBLIC.json", help="the public signals")
    parser.add_argument("proof", metavar="PROOF.json", help="the proof")


def run_verify(args, report) -> int:
    from verifier import snarkjs
    from verifier.groth16 import verify

    for path in (args.verification_key, args.public, args.proof):
        check_input(path)
    with about(args.verification_key):
        vk = snarkjs.read_verifying_key(args.verification_key)
    with about(args.public):
        public = snarkjs.read_public_inputs(args.public)
    with about(args.proof):
        proof = snarkjs.read_proof(args.proof)
    from verifier.types import VerifierInputError

    try:
        valid = verify(vk, public, proof)
    except VerifierInputError as error:  # name the file the refused part came from
        message = str(error)
        path = (args.verification_key if message.startswith("vk") else
                args.public if message.startswith("public") else args.proof)
        raise CliError(f"{path}: {message}") from error
    report.data.update(valid=valid)
    if valid:
        report.line("OK: the proof is valid")
        return EXIT_OK
    report.line("INVALID: the proof does not verify for these public inputs")
    return EXIT_INVALID


GROUP = Group("groth16", "Groth16 setup, prove, fullprove, verify (snarkjs's argument order)", (
    Command(("groth16", "setup"), "single-party development setup: CIRCUIT.r1cs -> CIRCUIT.zkey "
            "(toxic waste from the OS CSPRNG, never written; for development only)",
            _setup_arguments, run_setup, aliases=("g16s",)),
    Command(("groth16", "prove"), "prove with a .zkey and a .wtns; writes PROOF.json and PUBLIC.json together",
            _prove_arguments, run_prove, aliases=("g16p",)),
    Command(("groth16", "fullprove"), "compute the witness from INPUT.json with circom's wasm (no Node), then prove",
            _fullprove_arguments, run_fullprove, aliases=("g16f",)),
    Command(("groth16", "verify"), "verify a proof: exit 0 valid, 1 invalid, 2 bad input",
            _verify_arguments, run_verify, aliases=("g16v",)),
))

__all__ = ["GROUP", "PTAU_HINT"]
