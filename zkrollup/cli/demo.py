"""`zkrollup demo`: the rollup end to end on a fresh data directory (zkrollup.demo owns it)."""

from __future__ import annotations

import sys

from .common import EXIT_OK, CliError, Command, Group, ensure_kernels
from .rollup_common import add_layout_options, layout_from, notifier


def _demo_arguments(parser) -> None:
    add_layout_options(parser)
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="keep the demo's data directory here (must not exist or be empty); default: a "
                             "temporary folder removed at the end")
    parser.add_argument("--l1", choices=("anvil", "python"), default="anvil",
                        help="settle on a local anvil node (default; the Python stand-in when anvil is not "
                             "installed) or on the Python stand-in")
    parser.add_argument("--no-circomlibjs", action="store_true",
                        help="do not use circomlibjs (node) as the outside wallet, even where it is installed")


def run_demo(args, report) -> int:
    from prover.groth16 import PROVE_STAGES
    from zkrollup.demo import print_summary, run_demo as demo

    layout = layout_from(args)
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if report.as_json else report.line
    with report.progress("prove", len(PROVE_STAGES)) as step:
        result = demo(args.data_dir, layout, say=say, notify=notifier(report), prove_progress=step,
                      use_circomlibjs=not args.no_circomlibjs, ensure_kernels=lambda: ensure_kernels(report),
                      l1=args.l1)
    print_summary(result, layout, say)
    report.data.update(ok=result.ok, roots={label: str(root) for label, root in result.roots},
                       refused=result.refused, constraints=result.constraints,
                       constraints_by_part=result.constraints_per_transfer, circomlibjs=result.circomlibjs,
                       timings={label: round(seconds, 3) for label, seconds in result.rows})
    if not result.ok:
        raise CliError("the demo did not complete")
    return EXIT_OK


GROUP = Group("demo", "the rollup end to end: accounts, signed transfers, batches proved and settled, a tampered one refused", (
    Command(("demo",), "the rollup end to end on a fresh data directory, with a timing table",
            _demo_arguments, run_demo),
))
