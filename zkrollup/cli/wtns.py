"""`zkrollup wtns calculate`: circom's WebAssembly witness calculator run in Python (wasmtime), no Node."""

from __future__ import annotations

from .common import EXIT_OK, Command, Group, about, check_input, check_outputs, written_together


def _calculate_arguments(parser) -> None:
    parser.add_argument("wasm", metavar="CIRCUIT.wasm", help="circom's witness calculator (circom --wasm)")
    parser.add_argument("input", metavar="INPUT.json", help="the circuit's inputs (signal name -> value or array)")
    parser.add_argument("witness", metavar="WITNESS.wtns", help="the witness to write (iden3 .wtns, as snarkjs's)")


def run_calculate(args, report) -> int:
    from circuits.witness_wasm import WitnessCalculator, read_input_json

    check_input(args.wasm)
    check_input(args.input)
    check_outputs(args.witness, inputs=[args.wasm, args.input])
    with about(args.input):
        inputs = read_input_json(args.input)
    with about(args.wasm):
        calculator = WitnessCalculator(args.wasm, log=report.circuit_log)
    with about(args.input):
        data = calculator.calculate_wtns(inputs)
    with written_together(args.witness) as (tmp,), about(args.witness, "cannot write"):
        tmp.write_bytes(data)
    report.data.update(witness=args.witness, witness_size=calculator.witness_size)
    report.line(f"witness of {calculator.witness_size} values -> {args.witness}")
    return EXIT_OK


GROUP = Group("wtns", "witness tools", (
    Command(("wtns", "calculate"), "CIRCUIT.wasm INPUT.json -> WITNESS.wtns with circom's wasm, no Node",
            _calculate_arguments, run_calculate, aliases=("wc",)),
))
