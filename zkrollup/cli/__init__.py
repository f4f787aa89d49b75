"""The `zkrollup` command line: the rollup (init, status, account, transfer, batch, demo), and Groth16 in
snarkjs's argument order with its aliases, key and circuit tools, witness calculation from circom's wasm.

Conventions (zkrollup/cli/common.py): options (-q, --json) go anywhere after `zkrollup`; --json
prints one JSON object on stdout; progress bars only when stderr is a terminal; every command ends
with a one-line timing. Every user error is one line on stderr, `error: PATH: what is wrong` for
file problems, exit code 2, nothing written (outputs are checked before the work and written through
temporary files); `groth16 verify` exits 1 for a well-formed proof that does not verify.

Adding a command group is one module plus one registration line:

1. Write `zkrollup/cli/<group>.py` with a module-level `GROUP = Group(name, help, commands)`
   (`from .common import Command, Group, ...`). Each `Command(words, help, arguments, run,
   aliases=())` has: `words`, the words typed after `zkrollup` (`("account", "new")`, or just
   `("status",)` for a one-word command); `help`, one line; `arguments(parser)`, adding its
   arguments to an argparse parser, each with `help=`; `run(args, report) -> int`, the exit code.
   `run` checks inputs with `check_input(path)` and outputs with `check_outputs(*paths)` before
   any work, wraps each file's use in `with about(path):` (which turns the library's exceptions
   into `error: PATH: ...`), raises `CliError("...")` for other user errors, writes files through
   `with written_together(*paths) as temporary_paths:`, and reports with `report.line(text)`
   (human) plus `report.data[...] = ...` (the --json object). Import heavy modules inside `run`,
   so that `zkrollup --help` stays fast. Library exceptions a new group raises for bad input
   belong in `common.user_errors()`.
2. Add the module to GROUP_MODULES below.
"""

from __future__ import annotations

import argparse
import sys

from . import account, batch, demo, groth16, l1, node, r1cs, transfer, wtns, zkey
from .common import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, ArgumentParser, CliError,
                     Report, add_common_options, describe, user_errors)

# One line per command group, in the order `zkrollup --help` lists them.
GROUP_MODULES = (node, account, transfer, batch, l1, demo, groth16, zkey, r1cs, wtns)



def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zkrollup")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """--version, looking the version up only when asked (importlib.metadata costs ~0.1-0.3 s at start)."""

    def __init__(self, option_strings, dest, help=None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"zkrollup {_version()}")
        parser.exit(0)


def build_parser(groups=None) -> argparse.ArgumentParser:
    """The argument parser for `groups` (default: every GROUP in GROUP_MODULES)."""
    groups = groups if groups is not None else [module.GROUP for module in GROUP_MODULES]
    parser = ArgumentParser(prog="zkrollup", description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    add_common_options(parser)
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=ArgumentParser)
    levels: dict[tuple[str, ...], argparse._SubParsersAction] = {(): top}

    def subparsers_of(words: tuple[str, ...], help_for) -> argparse._SubParsersAction:
        if words not in levels:
            holder = subparsers_of(words[:-1], help_for).add_parser(
                words[-1], help=help_for(words), description=help_for(words))
            levels[words] = holder.add_subparsers(dest="_".join(words), required=True, metavar="COMMAND")
        return levels[words]

    for group in groups:
        def help_for(words, group=group):
            return group.help if words == (group.name,) else group.subgroup_help.get(words, "")

        for command in group.commands:
            names = [(command.words, subparsers_of(command.words[:-1], help_for))]
            names += [((alias,), top) for alias in command.aliases]
            for words, level in names:
                is_alias = words != command.words
                summary = f"= {' '.join(command.words)} (snarkjs's alias)" if is_alias else command.help
                leaf = level.add_parser(words[-1], help=summary,
                                        description=command.help + (f" (alias of {' '.join(command.words)})" if is_alias else ""))
                command.arguments(leaf)
                add_common_options(leaf)
                leaf.set_defaults(run=command.run, command_words=command.words)
    return parser


def _refused(report: Report, message: str) -> int:
    """A user error: one line `error: MESSAGE` on stderr, exit code 2; with --json also the JSON result on
    stdout (`{"command", "exit_code": 2, "error", "seconds"}`), so a script reading stdout sees why."""
    import json

    print(f"error: {message}", file=sys.stderr)
    if report.as_json:
        print(json.dumps({"command": report.command, "exit_code": EXIT_BAD_INPUT, "error": message,
                          "seconds": round(report.elapsed, 3)}))
    return EXIT_BAD_INPUT


def main(argv=None) -> int:
    """Run `zkrollup` with `argv` (default sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    report = Report(" ".join(args.command_words), as_json=getattr(args, "json", False),
                    quiet=getattr(args, "quiet", False))
    try:
        code = args.run(args, report)
    except CliError as error:
        return _refused(report, str(error))
    except user_errors() as error:  # a library refusal no command wrapped with its path
        return _refused(report, describe(error))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return report.finish(code)


__all__ = ["main", "build_parser", "GROUP_MODULES", "CliError", "EXIT_OK", "EXIT_INVALID", "EXIT_BAD_INPUT"]

if __name__ == "__main__":
    sys.exit(main())
