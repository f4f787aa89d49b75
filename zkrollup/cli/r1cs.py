"""`zkrollup r1cs info`: the counts of a circuit file, as `snarkjs r1cs info` prints them."""

from __future__ import annotations

from .common import EXIT_OK, Command, Group, about, check_input

CURVE_NAME = "bn-128"  # snarkjs's name for BN254; our reader refuses every other field


def _info_arguments(parser) -> None:
    parser.add_argument("circuit", metavar="CIRCUIT.r1cs", help="the circuit (iden3 .r1cs)")


def r1cs_info(r1cs) -> dict:
    """snarkjs r1cs info's figures for an R1CS, in its order, as a dict."""
    return {"curve": CURVE_NAME, "wires": r1cs.n_wires, "constraints": r1cs.n_constraints,
            "private_inputs": r1cs.n_private_inputs, "public_inputs": r1cs.n_public_inputs,
            "labels": int(r1cs.n_labels), "outputs": r1cs.n_public_outputs}


def run_info(args, report) -> int:
    from circuits.iden3 import read_r1cs

    check_input(args.circuit)
    with about(args.circuit):
        info = r1cs_info(read_r1cs(args.circuit))
    report.data.update(info)
    for key, value in info.items():
        report.line(f"{key.replace('_', ' ')}: {value}")
    return EXIT_OK


GROUP = Group("r1cs", "circuit-file tools", (
    Command(("r1cs", "info"), "curve, wires, constraints, inputs, outputs and labels of a .r1cs",
            _info_arguments, run_info, aliases=("ri",)),
))
