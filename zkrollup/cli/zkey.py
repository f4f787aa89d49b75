"""`zkrollup zkey ...`: proving-key tools (export the verification key, the Solidity verifier, a proof as
Solidity calldata), snarkjs's names, argument order and aliases."""

from __future__ import annotations

from .common import EXIT_OK, Command, Group, about, check_input, check_outputs, written_together


def _export_vk_arguments(parser) -> None:
    parser.add_argument("zkey", metavar="CIRCUIT.zkey", help="the proving key (ours or snarkjs's)")
    parser.add_argument("verification_key", metavar="VERIFICATION_KEY.json",
                        help="the verification key to write (snarkjs's verification_key.json, same bytes)")


def run_export_vk(args, report) -> int:
    from prover.groth16 import verifying_key
    from prover.zkey import load_zkey
    from verifier import snarkjs

    check_input(args.zkey)
    check_outputs(args.verification_key, inputs=[args.zkey])
    with about(args.zkey):
        vk = verifying_key(load_zkey(args.zkey))
    with written_together(args.verification_key) as (tmp,), about(args.verification_key, "cannot write"):
        snarkjs.write_verifying_key(vk, tmp)
    report.data.update(verification_key=args.verification_key, n_public=vk.n_public)
    report.line(f"verification key ({vk.n_public} public input{'' if vk.n_public == 1 else 's'}) -> {args.verification_key}")
    return EXIT_OK


def _export_verifier_arguments(parser) -> None:
    parser.add_argument("zkey", metavar="CIRCUIT.zkey", help="the proving key (ours or snarkjs's)")
    parser.add_argument("verifier", metavar="VERIFIER.sol",
                        help="the Solidity verifier to write (contract Groth16Verifier, snarkjs's ABI)")


def run_export_verifier(args, report) -> int:
    from prover.groth16 import verifying_key
    from prover.zkey import load_zkey
    from verifier.solidity import render_verifier

    check_input(args.zkey)
    check_outputs(args.verifier, inputs=[args.zkey])
    with about(args.zkey):
        vk = verifying_key(load_zkey(args.zkey))
        source = render_verifier(vk)
    with written_together(args.verifier) as (tmp,), about(args.verifier, "cannot write"):
        tmp.write_text(source, encoding="utf-8")
    report.data.update(verifier=args.verifier, contract="Groth16Verifier", n_public=vk.n_public)
    inputs = "1 public input" if vk.n_public == 1 else f"{vk.n_public} public inputs"
    report.line(f"Solidity verifier ({inputs}) -> {args.verifier}")
    return EXIT_OK


def _export_calldata_arguments(parser) -> None:
    parser.add_argument("public", metavar="PUBLIC.json", help="the public signals (snarkjs's public.json)")
    parser.add_argument("proof", metavar="PROOF.json", help="the proof (snarkjs's proof.json)")


def run_export_calldata(args, report) -> int:
    from verifier import snarkjs
    from verifier.solidity import solidity_calldata

    for path in (args.public, args.proof):
        check_input(path)
    with about(args.public):
        public = snarkjs.read_public_inputs(args.public)
    with about(args.proof):
        proof = snarkjs.read_proof(args.proof)
        calldata = solidity_calldata(proof, public)
    report.data.update(calldata=calldata)
    report.timing_to_stderr = True      # stdout is exactly snarkjs's text, for `> calldata.txt` or a pipe
    report.line(calldata)
    return EXIT_OK


GROUP = Group("zkey", "proving-key tools", (
    Command(("zkey", "export", "verificationkey"), "CIRCUIT.zkey -> VERIFICATION_KEY.json (snarkjs format)",
            _export_vk_arguments, run_export_vk, aliases=("zkev",)),
    Command(("zkey", "export", "solidityverifier"), "CIRCUIT.zkey -> VERIFIER.sol: a Solidity Groth16 verifier "
            "with the key built in (snarkjs's ABI; reverts on malformed input)",
            _export_verifier_arguments, run_export_verifier, aliases=("zkesv",)),
    Command(("zkey", "export", "soliditycalldata"), "print PUBLIC.json and PROOF.json as verifyProof's arguments, "
            "as snarkjs prints them (stdout holds only that line)",
            _export_calldata_arguments, run_export_calldata, aliases=("zkesc",)),
), subgroup_help={("zkey", "export"): "export parts of a .zkey"})
