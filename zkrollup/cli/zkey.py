"""`zkrollup zkey ...`: proving-key tools (export the verification key), snarkjs's names and alias."""

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
    report.line(f"verification key ({vk.n_public} public inputs) -> {args.verification_key}")
    return EXIT_OK


GROUP = Group("zkey", "proving-key tools", (
    Command(("zkey", "export", "verificationkey"), "CIRCUIT.zkey -> VERIFICATION_KEY.json (snarkjs format)",
            _export_vk_arguments, run_export_vk, aliases=("zkev",)),
), subgroup_help={("zkey", "export"): "export parts of a .zkey"})
