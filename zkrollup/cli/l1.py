"""`zkrollup l1 start|stop|status` (the local anvil node of a data directory) and `zkrollup sync` (rebuild a
rollup's data directory from its L1 alone)."""

from __future__ import annotations

from pathlib import Path

from .common import EXIT_OK, CliError, Command, Group, check_input
from .rollup_common import add_data_dir, notifier, short


def _l1_arguments(parser) -> None:
    add_data_dir(parser)


def _node(args, *, starting: bool = False):
    """The anvil node of --data-dir. CliError if the folder is a data directory whose L1 is not the local
    anvil node, or (to start one) if the folder does not exist; an existing folder without a rollup yet may
    get a node before `zkrollup init --l1 anvil`."""
    import json

    from zkrollup.anvil import AnvilNode
    from zkrollup.node import L1_NODE_DIR, NODE_FILE

    folder = Path(args.data_dir)
    if not folder.is_dir():
        raise CliError(f"{folder}: no such data directory (`zkrollup init --l1 anvil --data-dir {folder}` makes one "
                       "and starts its node)")
    config_path = folder / NODE_FILE
    if config_path.exists():
        try:
            l1 = json.loads(config_path.read_text()).get("l1")
        except (OSError, ValueError, AttributeError):
            raise CliError(f"{config_path}: unreadable") from None
        if not (isinstance(l1, dict) and l1.get("endpoint") == "anvil"):
            where = "the Python stand-in" if l1 == "python" else f"{l1.get('endpoint') if isinstance(l1, dict) else l1}"
            raise CliError(f"{folder}: this rollup's L1 is {where}, not a local anvil node")
    elif starting and any(p.name != L1_NODE_DIR for p in folder.iterdir()):
        raise CliError(f"{folder}: not a zkrollup data directory (no {NODE_FILE})")
    return AnvilNode(folder / L1_NODE_DIR)


def run_start(args, report) -> int:
    node = _node(args, starting=True)
    was = node.status().running
    last_port = node._last_port()
    status = node.start()
    if not was and last_port and status.url != f"http://127.0.0.1:{last_port}":
        report.warning(f"port {last_port} is taken: the node now listens on {status.url}; nodes that reach it by "
                       f"the old URL (a `zkrollup sync` follower) will not find it")
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
    """A secp256k1 private key from a file: 64 hex digits (0x optional), as `cast wallet` and anvil print keys,
    or the `operator-key.json` a data directory keeps. CliError naming the file otherwise (never its content)."""
    import json

    check_input(path)
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise CliError(f"{path}: not an Ethereum private key (a text file with 64 hex digits)") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read the operator key: {exc.strerror or exc}") from None
    if text.startswith("{"):
        try:
            text = str(json.loads(text)["private_key"])
        except (ValueError, KeyError, TypeError):
            raise CliError(f"{path}: a JSON key file needs a \"private_key\" field") from None
    hex_digits = text.removeprefix("0x")
    if len(hex_digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
        raise CliError(f"{path}: not an Ethereum private key (64 hex digits, 0x optional)")
    key = bytes.fromhex(hex_digits)
    if not 0 < int.from_bytes(key, "big") < SECP256K1_ORDER:
        raise CliError(f"{path}: not a valid secp256k1 private key (zero or not below the curve order)")
    return key


#: The order of secp256k1's group (SEC 2, §2.4.1): a private key is in [1, n).
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _sync_arguments(parser) -> None:
    add_data_dir(parser)
    parser.add_argument("--l1", required=True, metavar="URL",
                        help="the L1 node's JSON-RPC URL (a local anvil node's: `zkrollup l1 status --data-dir DIR`)")
    parser.add_argument("--rollup", required=True, metavar="ADDRESS", help="the Rollup contract's address")
    parser.add_argument("--proving-key", metavar="CIRCUIT.zkey",
                        help="the deployment's proving key (default: the cached key for the rollup's shape); "
                             "checked against the deployed verifier")
    parser.add_argument("--operator-key", metavar="FILE",
                        help="file with the operator's Ethereum private key (64 hex digits, or a data directory's "
                             "operator-key.json), to submit batches from this node")


def run_sync(args, report) -> int:
    from zkrollup.node import RollupNode

    import re

    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", args.rollup):   # else web3 raises a bare ValueError deep down
        raise CliError(f"--rollup {args.rollup!r} is not a 20-byte 0x address (40 hex digits)")
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


GROUP = Group("l1", "the local L1 node (anvil) of a data directory; `sync`: a rollup rebuilt from its L1", (
    Command(("l1", "start"), "start the local anvil node of --data-dir on 127.0.0.1 (its chain is kept in DIR/l1)",
            _l1_arguments, run_start),
    Command(("l1", "stop"), "stop the local anvil node of --data-dir, saving its chain", _l1_arguments, run_stop),
    Command(("l1", "status"), "whether the local anvil node of --data-dir runs, and its block", _l1_arguments,
            run_status),
    Command(("sync",), "rebuild a data directory from the L1 alone: genesis, events and calldata, every root checked",
            _sync_arguments, run_sync),
), subgroup_help={("l1",): "the local L1 node (anvil)"})
