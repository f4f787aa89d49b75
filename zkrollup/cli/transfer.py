"""`zkrollup transfer`: sign a transfer with the keystore and queue it, or queue one signed elsewhere
(`zkrollup transfer submit FILE.json`, the JSON document of zkrollup.wallet any circomlibjs wallet can make)."""

from __future__ import annotations

from pathlib import Path

import argparse
import re

from .common import EXIT_OK, CliError, Command, Group, about, check_input, check_outputs, written_together
from .rollup_common import add_data_dir, opened_node

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def _u(bits: int, what: str):
    def parse(text: str) -> int:
        if not _DECIMAL.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{what} must be a whole number written in decimal, got {text!r}")
        value = int(text)
        if value >= 1 << bits:
            raise argparse.ArgumentTypeError(f"{what} {value} does not fit u{bits} (max {(1 << bits) - 1})")
        return value
    return parse


def _arguments(parser) -> None:
    add_data_dir(parser)
    parser.add_argument("action", nargs="*", metavar="submit FILE.json",
                        help="`submit FILE.json` queues a transfer signed elsewhere; without it, the options "
                             "below make and sign one with the keystore's key for --from")
    parser.add_argument("--from", dest="from_index", type=_u(32, "--from"), help="sender account index")
    parser.add_argument("--to", dest="to_index", type=_u(32, "--to"), help="receiver account index")
    parser.add_argument("--amount", type=_u(64, "--amount"), help="amount to send (u64)")
    parser.add_argument("--fee", type=_u(64, "--fee"), default=0, help="fee for the batch's fee account (u64, default 0)")
    parser.add_argument("--out", metavar="FILE.json",
                        help="write the signed transfer document to FILE.json instead of queueing it")


def run(args, report) -> int:
    from zkrollup.wallet import read_transfer, sign_transfer, Transfer, write_transfer

    if args.action:
        if args.action[0] != "submit" or len(args.action) != 2:
            raise CliError("usage: zkrollup transfer submit FILE.json  (or: zkrollup transfer --from I --to J --amount A)")
        if any(v is not None for v in (args.from_index, args.to_index, args.amount, args.out)):
            raise CliError("`transfer submit FILE.json` takes the transfer from the file: drop --from/--to/--amount/--out")
        path = args.action[1]
        check_input(path)
        with about(path):
            signed = read_transfer(path)
        with opened_node(args) as node:
            transfer_id = node.submit_transfer(signed)
        t = signed.transfer
        report.data.update(id=transfer_id, transfer=signed.to_json())
        report.line(f"queued transfer {transfer_id}: {t.from_index} -> {t.to_index}, amount {t.amount}, "
                    f"fee {t.fee}, nonce {t.nonce} (signed elsewhere, signature checked)")
        return EXIT_OK
    missing = [n for n, v in (("--from", args.from_index), ("--to", args.to_index), ("--amount", args.amount)) if v is None]
    if missing:
        raise CliError(f"missing {', '.join(missing)} (or use `zkrollup transfer submit FILE.json`)")
    with opened_node(args) as node:
        if args.out:
            check_outputs(args.out)
            if Path(args.out).exists():    # a signed document is a payment: never replaced behind the user's back
                raise CliError(f"{args.out}: already exists (a signed transfer is not overwritten; choose another "
                               "name or remove it)")
            from zkrollup.executor import check_transfer

            view = node.projected_accounts()
            sender = view.get(args.from_index)
            nonce = sender.nonce if sender is not None else 0
            signed = sign_transfer(node.store.private_key(args.from_index),
                                   Transfer(args.from_index, args.to_index, args.amount, args.fee, nonce), node.chain_id)
            check_transfer(view, node.chain_id, signed)
            with written_together(args.out) as (tmp,), about(args.out, "cannot write"):
                write_transfer(tmp, signed)
            report.data.update(file=args.out, transfer=signed.to_json())
            report.line(f"signed transfer {args.from_index} -> {args.to_index} (nonce {nonce}) -> {args.out}")
            return EXIT_OK
        transfer_id, signed = node.transfer(args.from_index, args.to_index, args.amount, args.fee)
    report.data.update(id=transfer_id, transfer=signed.to_json())
    report.line(f"queued transfer {transfer_id}: {args.from_index} -> {args.to_index}, amount {args.amount}, "
                f"fee {args.fee}, nonce {signed.transfer.nonce}")
    return EXIT_OK


GROUP = Group("transfer", "sign and queue transfers", (
    Command(("transfer",), "sign a transfer with the keystore and queue it (--from --to --amount [--fee]), "
            "or `transfer submit FILE.json` to queue one signed elsewhere", _arguments, run),
))
