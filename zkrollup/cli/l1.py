"""`zkrollup l1 start|stop|status` (the local anvil node of a data directory) and `zkrollup sync` (rebuild a
rollup's data directory from its L1 alone)."""

from __future__ import annotations

from pathlib import Path

from .common import EXIT_OK, CliError, Command, Group, check_input
from .rollup_common import add_data_dir, notifier, short


def _l1_arguments(parser) -> None:
    add_data_dir(parser)


def _node(args):
    from zkrollup.node import L1_NODE_DIR
    from zkrollup.anvil import AnvilNode

    return AnvilNode(Path(args.data_dir) / L1_NODE_DIR)


def run_start(args, report) -> int:
    node = _node(args)
    was = node.status().running
    status = node.start()
    report.data.update(running=True, url=status.url, pid=status.pid, block=status.block, state=str(node.state_path))
    verb = "already running" if was else "started"
    report.line(f"anvil {verb} on {status.url} (pid {status.pid}, block {status.block}); chain kept in {node.state_path}")
    return EXIT_OK


def run_stop(args, report) -> int:
    node = _node(args)
    stopped = node.stop()
    report.data.update(stopped=stopped, state=str(node.state_path))
    report.line(f"anvil stopped; chain saved in {node.state_path}" if stopped else
                f"no anvil node was running for {args.data_dir}")
    return EXIT_OK


def run_status(args, report) -> int:
    node = _node(args)
    status = node.status()
    report.data.update(running=status.running, url=status.url, pid=status.pid, block=status.block)
    if status.running:
        report.line(f"anvil running on {status.url} (pid {status.pid}), block {status.block}")
    else:
        saved = " (a saved chain is there: `zkrollup l1 start` resumes it)" if node.state_path.exists() else ""
        report.line(f"no anvil node running for {args.data_dir}{saved}")
    return EXIT_OK


def read_operator_key(path: str) -> bytes:
    """A secp256k1 private key from a file holding it as 64 hex digits (0x optional), as `cast wallet` and
    anvil print keys. CliError naming the file otherwise (never showing its content)."""
    check_input(path)
    try:
        text = Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read the operator key: {exc}") from None
    hex_digits = text.removeprefix("0x")
    if len(hex_digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
        raise CliError(f"{path}: not an Ethereum private key (64 hex digits, 0x optional)")
    return bytes.fromhex(hex_digits)


def _sync_arguments(parser) -> None:
    add_data_dir(parser)
    parser.add_argument("--l1", required=True, metavar="URL",
                        help="the L1's JSON-RPC URL (or `anvil` for the local node kept in --data-dir/l1)")
    parser.add_argument("--rollup", required=True, metavar="ADDRESS", help="the Rollup contract's address")
    parser.add_argument("--proving-key", metavar="CIRCUIT.zkey",
                        help="the deployment's proving key (default: the cached key for the rollup's shape); "
                             "checked against the deployed verifier")
    parser.add_argument("--operator-key", metavar="FILE",
                        help="file with the operator's Ethereum private key, to submit batches from this node")


def run_sync(args, report) -> int:
    from zkrollup.node import RollupNode

    if not (args.rollup.startswith("0x") and len(args.rollup) == 42):
        raise CliError(f"--rollup {args.rollup!r} is not a 20-byte 0x address")
    key = read_operator_key(args.operator_key) if args.operator_key else None
    node = RollupNode.sync(args.data_dir, args.l1, args.rollup, operator_key=key, proving_key=args.proving_key,
                           notify=notifier(report))
    with node:
        status = node.status()
        batches = len(node.store.batches())
    report.data.update(status, imported_batches=batches)
    report.line(f"synced {args.data_dir} from {args.l1}: {batches} batches replayed, {status['accounts']} accounts; "
                f"state root {short(status['settled_root'])} = the contract's")
    report.line("checked: genesis root from the published accounts, every batch's root from its pubdata, every "
                "proof with our verifier, the deployed verifier against the proving key")
    return EXIT_OK


GROUP = Group("l1", "the local L1 node (anvil) and rebuilding a rollup from its L1", (
    Command(("l1", "start"), "start the local anvil node of --data-dir on 127.0.0.1 (its chain is kept in DIR/l1)",
            _l1_arguments, run_start),
    Command(("l1", "stop"), "stop the local anvil node of --data-dir, saving its chain", _l1_arguments, run_stop),
    Command(("l1", "status"), "whether the local anvil node of --data-dir runs, and its block", _l1_arguments,
            run_status),
    Command(("sync",), "rebuild a data directory from the L1 alone: genesis, events and calldata, every root checked",
            _sync_arguments, run_sync),
), subgroup_help={("l1",): "the local L1 node (anvil)"})
