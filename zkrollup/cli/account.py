"""`zkrollup account new|list|show`: register accounts (proved into the next batch) and look at them."""

from __future__ import annotations

from .common import EXIT_OK, CliError, Command, Group, bounded_int
from .rollup_common import add_data_dir, opened_node


def _new_arguments(parser) -> None:
    add_data_dir(parser)


def run_new(args, report) -> int:
    from circuits.babyjub import pack_point

    with opened_node(args) as node:
        index, key_pair = node.register_account()
    packed = pack_point(key_pair.public_key).hex()
    report.data.update(index=index, public_key=[str(v) for v in key_pair.public_key], packed_public_key=packed,
                       status="pending")
    report.line(f"account {index} queued for registration (key in the keystore; public key {packed}); "
                "it exists once a batch carrying it is submitted")
    return EXIT_OK


def _list_arguments(parser) -> None:
    add_data_dir(parser)


def run_list(args, report) -> int:
    with opened_node(args) as node:
        settled = node.store.accounts()
        tip = node.tip_accounts()
        pending = node.store.pending_registrations()
        held = set(node.store.key_indices())
        fee_account = node.store.fee_account
    rows = []
    for index in sorted(set(settled) | set(tip)):
        account = tip[index]
        rows.append({"index": index, "balance": str(account.balance), "nonce": account.nonce,
                     "settled": index in settled and settled[index] == account, "key_held": index in held,
                     "fee_account": index == fee_account})
    report.data.update(accounts=rows, pending_registrations=[r.index for r in pending])
    report.line(f"{'index':>6}  {'balance':>20}  {'nonce':>5}  notes")
    for row in rows:
        notes = [n for n, on in (("fee account", row["fee_account"]), ("key held", row["key_held"]),
                                 ("in an unsubmitted batch", not row["settled"])) if on]
        report.line(f"{row['index']:>6}  {row['balance']:>20}  {row['nonce']:>5}  {', '.join(notes)}")
    for reg in pending:
        report.line(f"{reg.index:>6}  {'-':>20}  {'-':>5}  registration pending")
    return EXIT_OK


def _show_arguments(parser) -> None:
    add_data_dir(parser)
    parser.add_argument("index", type=bounded_int(1, (1 << 32) - 1), help="the account index")


def run_show(args, report) -> int:
    from circuits.babyjub import pack_point

    with opened_node(args) as node:
        tip = node.tip_accounts().get(args.index)
        settled = node.store.account(args.index)
        reg = node.store.registration(args.index)
        held = args.index in node.store.key_indices()
    if tip is None and reg is None:
        raise CliError(f"account {args.index} does not exist")
    if tip is None:
        report.data.update(index=args.index, status="registration " + reg.status)
        report.line(f"account {args.index}: registration {reg.status}")
        return EXIT_OK
    report.data.update(index=args.index, balance=str(tip.balance), nonce=tip.nonce,
                       public_key=[str(tip.ax), str(tip.ay)], packed_public_key=pack_point(tip.public_key).hex(),
                       settled_balance=None if settled is None else str(settled.balance), key_held=held)
    report.line(f"account {args.index}: balance {tip.balance}, nonce {tip.nonce}"
                + ("" if settled == tip else f" (settled on L1: {settled.balance if settled else 'not yet'})"))
    report.line(f"public key {pack_point(tip.public_key).hex()}{' (key held here)' if held else ''}")
    return EXIT_OK


GROUP = Group("account", "register accounts and look at them", (
    Command(("account", "new"), "make a key pair and queue the account's registration for the next batch",
            _new_arguments, run_new),
    Command(("account", "list"), "every account with its balance and nonce", _list_arguments, run_list),
    Command(("account", "show"), "one account", _show_arguments, run_show),
))
