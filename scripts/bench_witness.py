"""Witness benchmark (issue 7's witness target): native Poseidon, building the rollup batch circuit, executing
a batch over a tree of 2^20 accounts, and solving its witness with the Python solver and the compiled one.

Each figure is printed beside the path it replaced where that path still exists in the code, measured in the
same run on the same inputs: the loop form of the native permutation (`poseidon_permutation_loops`) beside the
straight-line one, the step-by-step Poseidon gadget (`_permutation_stepwise`) beside the one that copies its
combinations from a per-width template, and the Python solver (`CompiledCircuit.solve`, itself already faster
than before this benchmark existed: the Poseidon trace is straight-line code and its rows are not re-checked)
beside the compiled solver (`prover.solver.solve_witness`). The last table projects the witness time
(executor + compiled solve) of a 2^20-constraint batch from the per-constraint figures, beside the target:
at most 10 % of a ~6 s proof.

    .venv/bin/python scripts/bench_witness.py            # 4 transfers + 2 registrations (~94k constraints)
    .venv/bin/python scripts/bench_witness.py --quick    # 1 + 1: a smoke run
    .venv/bin/python scripts/bench_witness.py --transfers 16 --registrations 2 --json

Times are wall clock, best of --repeat runs where a run is short; never asserted anywhere. On shared busy
cores every figure moves by 2-5x: compare the ratios of one run, not figures of two runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import circuits.poseidon as poseidon_module  # noqa: E402
from circuits.builder import STEP_HINT, ConstraintSystem, ints_to_limbs  # noqa: E402
from circuits.eddsa import prv2pub, sign_poseidon  # noqa: E402
from circuits.poseidon import (_permutation_stepwise, poseidon_permutation,  # noqa: E402
                               poseidon_permutation_gadget, poseidon_permutation_loops)
from circuits.rollup.batch import build_batch_circuit  # noqa: E402
from circuits.rollup.layout import Layout, transfer_message  # noqa: E402

TARGET_PROVE_2_20_SECONDS = 6.0     # issue 7: a ~2^20-constraint batch proved in at most 6 s
TARGET_WITNESS_SHARE = 0.10         # ... and its witness (executor + solving every wire) at most 10 % of that
CHAIN_ID = 31337


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The shortest of `repeat` wall-clock timings of fn(), in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_native_poseidon(repeat: int) -> list[dict]:
    rows = []
    for n_inputs in (2, 4, 16):
        state = [0] + [(7 ** (i + 11)) % (1 << 250) for i in range(n_inputs)]
        assert poseidon_permutation(state) == poseidon_permutation_loops(state)
        count = 50
        loops = best_of(repeat, lambda: [poseidon_permutation_loops(state) for _ in range(count)]) / count
        fast = best_of(repeat, lambda: [poseidon_permutation(state) for _ in range(count)]) / count
        rows.append({"inputs": n_inputs, "loops_ms": loops * 1e3, "straight_line_ms": fast * 1e3,
                     "speedup": loops / fast})
    return rows


def bench_poseidon_gadget_build(repeat: int) -> dict:
    """Building 20 Poseidon(4) permutations (5 cells, one constant) with each gadget form."""
    def build(permutation):
        cs = ConstraintSystem()
        xs = cs.private_inputs("x", 4)
        for _ in range(20):
            xs = permutation(cs, [0, *xs])[:4]
        return cs.n_constraints

    n = build(poseidon_permutation_gadget)
    stepwise = best_of(repeat, lambda: build(_permutation_stepwise))
    template = best_of(repeat, lambda: build(poseidon_permutation_gadget))
    return {"constraints": n, "stepwise_us_per_constraint": stepwise / n * 1e6,
            "template_us_per_constraint": template / n * 1e6, "speedup": stepwise / template}


def make_batch(layout: Layout):
    """A state with layout.n_transfers + 2 funded accounts, and the batch that registers n_registrations new
    accounts and moves funds from account i to i + 1 in each transfer slot (account 1 takes the fees)."""
    from zkrollup.executor import PendingTransfer, Registration
    from zkrollup.state import Account, RollupState

    def key(owner: int) -> bytes:
        return owner.to_bytes(4, "big") * 8

    n_accounts = layout.n_transfers + 2
    state = RollupState(layout, {i: Account(*prv2pub(key(i)), 10 ** 6, 0) for i in range(1, n_accounts + 1)})
    registrations = [Registration(n_accounts + 1 + r, *prv2pub(key(n_accounts + 1 + r)))
                     for r in range(layout.n_registrations)]
    transfers = []
    for t in range(layout.n_transfers):
        sender, receiver = 2 + t, 3 + t
        message = transfer_message(CHAIN_ID, sender, receiver, 100 + t, 3, 0)
        transfers.append(PendingTransfer(sender, receiver, 100 + t, 3, 0, sign_poseidon(key(sender), message)))
    return state, registrations, transfers


def bench_batch(layout: Layout, repeat: int) -> dict:
    from prover.solver import python_hints, solve_witness
    from zkrollup.executor import execute_batch

    state, registrations, transfers = make_batch(layout)
    start = time.perf_counter()
    circuit = build_batch_circuit(layout)
    build_s = time.perf_counter() - start
    n = circuit.r1cs.n_constraints

    execute_s = best_of(repeat, lambda: execute_batch(state, CHAIN_ID, 1, registrations, transfers))
    # The executor as it was with the loop form of the permutation (every native hash goes through it).
    fast_permutation = poseidon_module.poseidon_permutation
    poseidon_module.poseidon_permutation = poseidon_permutation_loops
    try:
        execute_loops_s = best_of(repeat, lambda: execute_batch(state, CHAIN_ID, 1, registrations, transfers))
    finally:
        poseidon_module.poseidon_permutation = fast_permutation
    result = execute_batch(state, CHAIN_ID, 1, registrations, transfers)
    assert len(result.included) == layout.n_transfers, result.dropped
    assignment = circuit.assignment(result.inputs)

    start = time.perf_counter()
    python_witness = circuit.compiled.solve(assignment)
    python_s = time.perf_counter() - start
    start = time.perf_counter()
    compiled_witness = solve_witness(circuit.compiled, assignment)
    first_call_s = time.perf_counter() - start
    compiled_s = best_of(repeat, lambda: solve_witness(circuit.compiled, assignment))
    if not (compiled_witness == ints_to_limbs(python_witness)).all():
        raise SystemExit("the compiled solver's witness differs from the Python solver's")

    witness_per_constraint = (execute_s + compiled_s) / n
    projected = witness_per_constraint * (1 << 20)
    return {
        "layout": {"depth": layout.depth, "arity": layout.arity, "n_transfers": layout.n_transfers,
                   "n_registrations": layout.n_registrations},
        "constraints": n,
        "build_s": build_s, "build_us_per_constraint": build_s / n * 1e6,
        "execute_s": execute_s, "execute_loops_s": execute_loops_s,
        "execute_ms_per_slot": execute_s / (layout.n_transfers + layout.n_registrations) * 1e3,
        "python_solve_s": python_s, "python_solve_us_per_constraint": python_s / n * 1e6,
        "compiled_first_call_s": first_call_s,
        "compiled_solve_s": compiled_s, "compiled_solve_us_per_constraint": compiled_s / n * 1e6,
        "solve_speedup": python_s / compiled_s,
        "hint_steps": sum(step[0] == STEP_HINT for step in circuit.compiled.program),
        "python_hint_steps": python_hints(circuit.compiled),
        "projected_2_20_witness_s": projected,
        "target_2_20_witness_s": TARGET_WITNESS_SHARE * TARGET_PROVE_2_20_SECONDS,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one transfer and one registration")
    parser.add_argument("--transfers", type=int, default=None, help="transfer slots (default 4)")
    parser.add_argument("--registrations", type=int, default=None, help="registration slots (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per short measurement (best is kept)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    args = parser.parse_args(argv)
    transfers = args.transfers if args.transfers is not None else (1 if args.quick else 4)
    registrations = args.registrations if args.registrations is not None else (1 if args.quick else 2)
    layout = Layout(depth=20, arity=4, n_transfers=transfers, n_registrations=registrations)

    report = {"native_poseidon": bench_native_poseidon(args.repeat),
              "poseidon_gadget_build": bench_poseidon_gadget_build(args.repeat),
              "batch": bench_batch(layout, args.repeat)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0

    print("native Poseidon, one permutation (executor, account tree, Python solver's trace hint)")
    print(f"  {'inputs':>6}  {'loops (before)':>15}  {'straight line':>14}  {'speedup':>7}")
    for row in report["native_poseidon"]:
        print(f"  {row['inputs']:>6}  {row['loops_ms']:>12.3f} ms  {row['straight_line_ms']:>11.3f} ms  "
              f"{row['speedup']:>6.1f}x")
    g = report["poseidon_gadget_build"]
    print(f"\nPoseidon gadget build ({g['constraints']} constraints): step by step (before) "
          f"{g['stepwise_us_per_constraint']:.1f} µs/constraint, from the template "
          f"{g['template_us_per_constraint']:.1f} µs/constraint ({g['speedup']:.1f}x)")
    b = report["batch"]
    lay = b["layout"]
    print(f"\nbatch: 2^{lay['depth']} accounts, arity {lay['arity']}, {lay['n_transfers']} transfers + "
          f"{lay['n_registrations']} registrations = {b['constraints']:,} constraints")
    print(f"  build + compile        {b['build_s']:8.2f} s   {b['build_us_per_constraint']:7.1f} µs/constraint")
    print(f"  executor               {b['execute_s']:8.3f} s   {b['execute_ms_per_slot']:7.1f} ms/slot "
          f"(loop-form Poseidon: {b['execute_loops_s']:.3f} s)")
    print(f"  solve, Python          {b['python_solve_s']:8.3f} s   {b['python_solve_us_per_constraint']:7.2f} "
          f"µs/constraint")
    print(f"  solve, compiled        {b['compiled_solve_s']:8.3f} s   {b['compiled_solve_us_per_constraint']:7.2f} "
          f"µs/constraint ({b['solve_speedup']:.1f}x; first call {b['compiled_first_call_s']:.2f} s)")
    in_python = ", ".join(f"{count} {name}" for name, count in b["python_hint_steps"].items()) or "none"
    print(f"                         {b['hint_steps']:,} hint steps, left to Python: {in_python}")
    print(f"  witness of a 2^20-constraint batch, projected (executor + compiled solve): "
          f"{b['projected_2_20_witness_s']:.2f} s; target <= {b['target_2_20_witness_s']:.2f} s "
          f"({TARGET_WITNESS_SHARE:.0%} of {TARGET_PROVE_2_20_SECONDS:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
