"""What the rollup's command groups share: the --data-dir option, opening the node, layout options."""

from __future__ import annotations

import argparse
from contextlib import contextmanager

from .common import CliError, bounded_int

DEFAULT_DATA_DIR = ".zkrollup"


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR, metavar="DIR",
                        help=f"the rollup's data directory (default: ./{DEFAULT_DATA_DIR})")


def add_layout_options(parser: argparse.ArgumentParser) -> None:
    """The circuit shape: tree depth and arity, slots per batch, data binding (defaults: zkrollup.node)."""
    from circuits.rollup import defaults as d

    parser.add_argument("--depth", type=bounded_int(2, 32), default=d.DEPTH,
                        help=f"account tree depth in index bits: 2^DEPTH accounts (default {d.DEPTH}; even for arity 4)")
    parser.add_argument("--arity", type=int, choices=(2, 4), default=d.ARITY,
                        help=f"children per tree node (default {d.ARITY})")
    parser.add_argument("--transfers", type=bounded_int(1, 4096), default=d.TRANSFERS,
                        help=f"transfer slots per batch (default {d.TRANSFERS})")
    parser.add_argument("--registrations", type=bounded_int(0, 64), default=d.REGISTRATIONS,
                        help=f"registration slots per batch (default {d.REGISTRATIONS})")
    parser.add_argument("--binding", choices=("evaluation", "sha256"), default=d.BINDING,
                        help="how the proof binds the published pubdata: the evaluation claim (default) "
                             "or SHA-256 of the pubdata")


def layout_from(args):
    from circuits.rollup.layout import Layout, LayoutError

    try:
        return Layout(depth=args.depth, arity=args.arity, n_transfers=args.transfers,
                      n_registrations=args.registrations, binding=args.binding)
    except LayoutError as exc:
        raise CliError(str(exc)) from None


@contextmanager
def opened_node(args):
    """The node of --data-dir, closed after; its refusals become one-line CLI errors (user_errors)."""
    from zkrollup.node import RollupNode

    import sys

    node = RollupNode.open(args.data_dir)
    for notice in node.notices:      # what reconciling with the L1 did, on stderr
        print(notice, file=sys.stderr, flush=True)
    try:
        yield node
    finally:
        node.close()


def short(value) -> str:
    text = str(value)
    return text if len(text) <= 18 else f"{text[:8]}…{text[-6:]}"


def notifier(report):
    """A notify callback for the node: warnings through report.warning, other notes on stderr (stdout stays
    the result)."""
    import sys

    def notify(text: str) -> None:
        if text.startswith("warning: "):
            report.warning(text[len("warning: "):])
        elif not report.as_json:
            print(text, file=sys.stderr, flush=True)

    return notify
