"""`zkrollup init` and `zkrollup status`: create a rollup (genesis, proving key, L1 deployment), show its state."""

from __future__ import annotations

from .common import EXIT_OK, Command, Group, bounded_int, ensure_kernels
from .rollup_common import add_data_dir, add_layout_options, layout_from, notifier, opened_node, short


def _init_arguments(parser) -> None:
    add_data_dir(parser)
    add_layout_options(parser)
    parser.add_argument("--accounts", type=bounded_int(0, 1000), default=3,
                        help="funded genesis accounts besides the operator's fee account (default 3)")
    parser.add_argument("--balance", type=bounded_int(0, (1 << 64) - 1), default=1_000_000,
                        help="balance of each funded genesis account (default 1000000)")
    parser.add_argument("--l1", default="python", metavar="python|anvil|URL",
                        help="where the rollup settles: python (the in-process stand-in, default), anvil (a local "
                             "Ethereum node kept in DIR/l1, started if needed) or a JSON-RPC URL")
    parser.add_argument("--operator-key", metavar="FILE",
                        help="file with the operator's Ethereum private key (64 hex digits); default: a new key, "
                             "funded by anvil's development account on anvil")


def run_init(args, report) -> int:
    from zkrollup import keys
    from zkrollup.node import RollupNode

    from .l1 import read_operator_key

    layout = layout_from(args)
    key = read_operator_key(args.operator_key) if args.operator_key else None
    ensure_kernels(report)
    with report.progress("setup", 9) as step:
        node = RollupNode.init(args.data_dir, layout, accounts=args.accounts, balance=args.balance,
                               notify=notifier(report), setup_progress=step, l1=args.l1, operator_key=key)
    with node:
        circuit = keys.circuit_for(layout)
        status = node.status()
        accounts = node.store.accounts()
    report.data.update(status, constraints=circuit.r1cs.n_constraints,
                       genesis_accounts={str(i): {"balance": str(a.balance)} for i, a in accounts.items()})
    report.line(f"rollup {layout.shape_id} in {args.data_dir}: chain id {short(node.chain_id)}, "
                f"{circuit.r1cs.n_constraints:,} constraints a batch")
    report.line(f"genesis root {status['l1_state_root']}")
    report.line(f"L1: {status['l1']}")
    for index, account in accounts.items():
        role = "fee account (operator)" if index == status["fee_account"] else "funded"
        report.line(f"  account {index}: balance {account.balance}  [{role}]")
    return EXIT_OK


def _status_arguments(parser) -> None:
    add_data_dir(parser)


def run_status(args, report) -> int:
    with opened_node(args) as node:
        status = node.status()
    report.data.update(status)
    agree = "in step" if status["l1_state_root"] == status["settled_root"] else "NOT in step"
    report.line(f"rollup {status['shape']} (chain id {short(status['chain_id'])}) in {status['data_dir']}")
    report.line(f"L1              {status['l1']}")
    report.line(f"L1 state root   {status['l1_state_root']}  ({_count(status['l1_batches'], 'batch', 'batches')}; store {agree})")
    report.line(f"tip root        {status['tip_root']}")
    b = status["batches"]
    report.line(f"batches: {b['submitted']} submitted, {b['proved']} proved, {b['built']} built; "
                f"mempool: {status['pending_transfers']} transfers, {status['pending_registrations']} registrations; "
                f"{status['accounts']} accounts")
    return EXIT_OK


GROUP = Group("init", "create a rollup: genesis accounts, proving key, L1 deployment", (
    Command(("init",), "create a rollup in --data-dir: genesis accounts, proving key (once per shape), L1 deployment",
            _init_arguments, run_init),
    Command(("status",), "the rollup's roots, batches and mempool", _status_arguments, run_status),
))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
