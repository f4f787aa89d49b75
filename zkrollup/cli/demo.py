"""`zkrollup demo`: the end-to-end demo (today a Poseidon Merkle membership proof; zkrollup.demo owns it)."""

from __future__ import annotations

import contextlib
import sys

from .common import CliError, Command, Group, bounded_int, check_outputs

MAX_DEPTH = 32


def _demo_arguments(parser) -> None:
    parser.add_argument("--depth", type=bounded_int(1, MAX_DEPTH), default=20,
                        help=f"Merkle tree depth, 1 to {MAX_DEPTH} (default 20)")
    parser.add_argument("--out", default="demo-out", help="folder for the circuit, key and proof files (default demo-out)")


def run_demo(args, report) -> int:
    from pathlib import Path

    from zkrollup.demo import run_demo as demo

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"{args.out}: exists and is not a folder")
    if out.is_dir():
        check_outputs(out / "circuit.zkey")
    report.data.update(out=args.out, depth=args.depth)
    # The demo prints its own table; with --json it goes to stderr so that stdout is the JSON result.
    with contextlib.redirect_stdout(sys.stderr) if report.as_json else contextlib.nullcontext():
        code = demo(depth=args.depth, out_dir=args.out, quiet=report.quiet)
    report.data.update(valid=code == 0)
    return code


GROUP = Group("demo", "set up, prove and verify a Poseidon Merkle membership proof", (
    Command(("demo",), "set up, prove and verify a Poseidon Merkle membership proof, with timings",
            _demo_arguments, run_demo),
))
