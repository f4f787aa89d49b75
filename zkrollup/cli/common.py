"""What every command group of the `zkrollup` CLI shares: the command table entry, the options every
command takes, the one error format, output checks and paired writes, progress bars, the report.

Owns the conventions; not any command (those live in the group modules beside this one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A user-facing error: printed as `error: <message>` on one line, exit code 2. File-related
    messages start with the path the user gave (`error: PATH: what is wrong`)."""


# --- the command table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """One command: `words` as typed after `zkrollup` (e.g. ("groth16", "setup")), what it does,
    a function adding its arguments (each with a help text), and `run(args, report) -> exit code`.
    `aliases` are extra top-level names for the same command, as snarkjs has them ("g16s")."""

    words: tuple[str, ...]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, "Report"], int]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A command group: its top-level name, one line of help, its commands, and help lines for the
    intermediate words of longer commands (e.g. {("zkey", "export"): "export parts of a .zkey"})."""

    name: str
    help: str
    commands: tuple[Command, ...]
    subgroup_help: dict[tuple[str, ...], str] = field(default_factory=dict)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: `error: <what argparse found> (see: zkrollup ... --help)`, exit 2."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see: {self.prog} --help)\n")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """-q and --json, accepted before or after the subcommand (SUPPRESS: a later level never resets them)."""
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars (they are only shown when stderr is a terminal anyway)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print the result as one JSON object on stdout instead of text")


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], refused as an argument error otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, got {value}")
        return value

    return parse


# --- the report: human text or JSON, progress, timing -----------------------------------------------

class Report:
    """What a command tells the user. `line(text)` is human output (stdout); `data` is the JSON
    result (`--json` prints only it, with "seconds", on stdout); warnings go to stderr on their own
    line. Progress bars appear only when stderr is a terminal and -q is not given."""

    def __init__(self, command: str, *, as_json: bool = False, quiet: bool = False, stream=None):
        self.command = command
        self.as_json = as_json
        self.quiet = quiet
        self.data: dict[str, Any] = {}
        self._stderr = stream or sys.stderr
        self._start = time.perf_counter()
        #: A command whose stdout is data for another program (e.g. soliditycalldata) sets this: the timing
        #: line then goes to stderr, so stdout is exactly the data.
        self.timing_to_stderr = False

    def line(self, text: str) -> None:
        if not self.as_json:
            print(text, flush=True)

    def circuit_log(self, text: str) -> None:
        """A line from a circuit's `log(...)`: on stderr, so that stdout stays the result."""
        print(text, file=self._stderr, flush=True)

    def warning(self, text: str) -> None:
        print(f"warning: {text}", file=self._stderr, flush=True)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def finish(self, code: int) -> int:
        """Print the result: JSON object, or the one-line timing that ends every command."""
        seconds = round(self.elapsed, 3)
        if self.as_json:
            print(json.dumps({"command": self.command, "exit_code": code, **self.data, "seconds": seconds}))
        else:
            print(f"{self.command}: {seconds:.2f} s", file=self._stderr if self.timing_to_stderr else sys.stdout)
        return code

    def progress(self, title: str, total: int):
        return progress_bar(title, total, enabled=not self.quiet, stream=self._stderr)


@contextmanager
def progress_bar(title: str, total: int, enabled: bool = True, stream=None) -> Iterator[Callable[[str, int], None]]:
    """A tqdm bar advanced by stage callbacks (name, index), drawn only when `enabled` and the
    stream (stderr) is a terminal, so logs never fill with bar fragments. The bar appears at the
    first update, so anything printed before the work starts (a warning) stays on its own line."""
    stream = stream or sys.stderr
    if not enabled or not _is_terminal(stream):
        yield lambda name, index: None
        return
    from tqdm import tqdm

    bar = None

    def update(name: str, index: int) -> None:
        nonlocal bar
        if bar is None:
            stream.flush()
            bar = tqdm(total=total, desc=title, unit="stage", file=stream, leave=False,
                       bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {elapsed} {postfix}")
        bar.set_postfix_str(name)
        bar.n = min(total, index + 1)
        bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def ensure_kernels(report: Report) -> None:
    """Compile (first run) or load the prover's Numba kernels before setup or proving, with a bar
    "compiling kernels, first run only: k/n" on a terminal: the CLI's single call site for it."""
    from prover import kernels

    ensure = getattr(kernels, "ensure_compiled", None)
    if ensure is None:
        return
    told = False

    def tell_once(done: int, total: int, name: str = "") -> None:
        # A log (no terminal, so no bar) still hears why the first run pauses.
        nonlocal told
        if not told and done < total and not report.quiet and not _is_terminal(report._stderr):
            print(f"compiling the prover's kernels (first run only: a few minutes of CPU on 2 cores): {total} steps",
                  file=report._stderr, flush=True)
            told = True

    with step_bar("compiling kernels, first run only", enabled=not report.quiet, stream=report._stderr) as progress:
        def both(done: int, total: int, name: str = "") -> None:
            tell_once(done, total, name)
            progress(done, total, name)

        ensure(progress=both)


@contextmanager
def step_bar(title: str, enabled: bool = True, stream=None) -> Iterator[Callable[[int, int, str], None]]:
    """A tqdm bar advanced by callbacks (done, total, name), drawn only when `enabled` and the
    stream is a terminal; it appears at the first callback and is cleared at the end."""
    stream = stream or sys.stderr
    if not enabled or not _is_terminal(stream):
        yield lambda done, total, name="": None
        return
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int, name: str = "") -> None:
        nonlocal bar
        if bar is None:
            stream.flush()
            bar = tqdm(total=total, desc=title, file=stream, leave=False,
                       bar_format="{desc}: {n_fmt}/{total_fmt} {bar} {elapsed} {postfix}")
        bar.total = total
        bar.n = min(done, total)
        bar.set_postfix_str(name)
        bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


# --- files: the one error format, outputs checked first, paired writes -------------------------------

def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad input rather than a bug in zkrollup."""
    from circuits.iden3 import Iden3FormatError
    from circuits.witness_wasm import WitnessCalculatorError
    from prover.curve import PointNotOnCurve
    from prover.groth16 import ProvingError
    from prover.setup import SetupError
    from prover.witness import WitnessFileError
    from prover.zkey import ZkeyError
    from verifier.types import VerifierInputError

    from circuits.rollup.layout import LayoutError
    from zkrollup.executor import ExecutionError, TransferRefused
    from zkrollup.keys import CorruptCacheFile
    from zkrollup.l1 import L1Error
    from zkrollup.node import NodeError
    from zkrollup.store import StoreError
    from verifier.solc import SolcError
    from zkrollup.anvil import AnvilError
    from zkrollup.sync import SyncError
    from zkrollup.wallet import InvalidTransfer

    rollup = (NodeError, StoreError, TransferRefused, ExecutionError, L1Error, InvalidTransfer, LayoutError,
              CorruptCacheFile, AnvilError, SolcError, SyncError)
    return rollup + (Iden3FormatError, WitnessCalculatorError, ZkeyError, WitnessFileError, ProvingError, SetupError,
            PointNotOnCurve, VerifierInputError, OSError, json.JSONDecodeError, UnicodeDecodeError)


def describe(error: BaseException) -> str:
    """The first line of an error's message; for OSError its reason in lower case ("no such file or directory")."""
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror
        return text[:1].lower() + text[1:]
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _without_path(message: str, path) -> str:
    """`message` without a leading "PATH: " the library already put there (in any spelling of `path`)."""
    for spelling in {str(path), str(Path(path)), str(Path(path).resolve())}:
        if message.startswith(spelling + ": "):
            return message[len(spelling) + 2:]
    return message


@contextmanager
def about(path, what: str = ""):
    """Turn any user error raised inside into CliError("PATH: what is wrong"), PATH as the user typed it.

    `what` prefixes the reason for OSErrors ("cannot write").
    """
    try:
        yield
    except CliError:
        raise
    except user_errors() as error:
        reason = _without_path(describe(error), path)
        if isinstance(error, OSError) and what:
            reason = f"{what}: {reason}"
        raise CliError(f"{path}: {reason}") from error


def check_input(path) -> None:
    """A file to read must exist and be a file: `error: PATH: no such file` before any work."""
    p = Path(path)
    if not p.exists():
        raise CliError(f"{path}: no such file")
    if p.is_dir():
        raise CliError(f"{path}: is a folder, not a file")


def check_outputs(*paths, inputs: Sequence = ()) -> None:
    """Refuse, before any work, output paths that cannot be written: a missing or read-only folder,
    an existing folder in the file's place, two outputs at one path, an output over an input."""
    seen: dict[Path, str] = {}
    for path in inputs:
        seen[Path(path).resolve()] = f"the input {path}"
    for path in paths:
        p = Path(path)
        resolved = p.resolve()
        if resolved in seen:
            raise CliError(f"{path}: would overwrite {seen[resolved]}")
        seen[resolved] = f"the output {path}"
        folder = p.parent if str(p.parent) else Path(".")
        if not folder.exists():
            raise CliError(f"{path}: folder {folder} does not exist")
        if not folder.is_dir():
            raise CliError(f"{path}: {folder} is not a folder")
        if p.is_dir():
            raise CliError(f"{path}: is a folder, not a file")
        if not os.access(folder, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
            raise CliError(f"{path}: permission denied")


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


@contextmanager
def written_together(*paths) -> Iterator[list[Path]]:
    """Write several files as one: the body writes to the temporary paths it is given (beside the
    targets), and only when it finishes are they renamed into place. On any failure no target is
    touched, or, if a rename fails midway, the ones already renamed are removed: both or neither."""
    targets = [Path(p) for p in paths]
    temporary = [_partial(t) for t in targets]
    done: list[Path] = []
    try:
        yield temporary
        for tmp, target, given in zip(temporary, targets, paths):
            with about(given, "cannot write"):
                os.replace(tmp, target)
            done.append(target)
    except BaseException:
        for target in done:
            target.unlink(missing_ok=True)
        raise
    finally:
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
