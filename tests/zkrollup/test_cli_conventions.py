"""The CLI's conventions, as a circom/snarkjs user expects them: options anywhere, --version, help for
everything, --json everywhere, snarkjs's aliases, r1cs info, one-line errors naming the path the user
gave (exit 2, nothing written), outputs checked before the work, bars only on a terminal, a timing line."""

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from circuits.builder import ConstraintSystem
from circuits.iden3 import write_r1cs, write_wtns
from zkrollup.cli import EXIT_BAD_INPUT, EXIT_OK, build_parser, main
from zkrollup.cli.groth16 import PTAU_HINT

REPO = Path(__file__).resolve().parents[2]
TIMING_LINE = re.compile(r"^[a-z0-9 ]+: \d+\.\d\d s$")


def _circuit():
    cs = ConstraintSystem()
    a = cs.public_input("a")
    b = cs.private_input("b")
    cs.public_output("ab", cs.mul(cs.mul(a, b), b + 3))
    return cs.compile()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    compiled = _circuit()
    folder = tmp_path_factory.mktemp("conventions")
    write_r1cs(folder / "c.r1cs", compiled.r1cs)
    write_wtns(folder / "w.wtns", compiled.solve({"a": 6, "b": 7}))
    assert main(["groth16", "setup", "-q", str(folder / "c.r1cs"), str(folder / "c.zkey")]) == EXIT_OK
    assert main(["zkey", "export", "verificationkey", str(folder / "c.zkey"), str(folder / "vk.json")]) == EXIT_OK
    assert main(["groth16", "prove", str(folder / "c.zkey"), str(folder / "w.wtns"),
                 str(folder / "proof.json"), str(folder / "public.json"), "-q"]) == EXIT_OK
    return folder


def _leaves(parser, words=()):
    """(words, leaf parser) for every command the parser knows, aliases included."""
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from _leaves(sub, words + (name,))
            return
    yield words, parser


# --- options, version, help, aliases ------------------------------------------------------------------

def test_options_are_accepted_after_the_subcommand(files, tmp_path, capsys):
    assert main(["groth16", "setup", "-q", str(files / "c.r1cs"), str(tmp_path / "k.zkey")]) == EXIT_OK
    assert main(["groth16", "verify", str(files / "vk.json"), "--json", str(files / "public.json"),
                 str(files / "proof.json"), "-q"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["valid"] is True


def test_version_prints_the_package_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"zkrollup {version('zkrollup')}"


def test_every_command_and_argument_has_a_description():
    parser = build_parser()
    leaves = list(_leaves(parser))
    assert len(leaves) >= 13
    for words, leaf in leaves:
        assert leaf.description, f"zkrollup {' '.join(words)} has no description"
        for action in leaf._actions:
            if action.dest != "help":
                assert action.help, f"zkrollup {' '.join(words)}: {action.dest} has no help text"
    for action in parser._subparsers._group_actions:
        for choice in action._choices_actions:
            assert choice.help, f"zkrollup {choice.dest} has no help line"


def test_every_command_takes_json_and_quiet_after_its_arguments():
    for words, leaf in _leaves(build_parser()):
        options = {option for action in leaf._actions for option in action.option_strings}
        assert {"--json", "-q"} <= options, f"zkrollup {' '.join(words)}"


@pytest.mark.parametrize("alias, words", [
    ("g16s", ("groth16", "setup")), ("g16p", ("groth16", "prove")), ("g16v", ("groth16", "verify")),
    ("g16f", ("groth16", "fullprove")), ("zkev", ("zkey", "export", "verificationkey")),
    ("wc", ("wtns", "calculate")), ("ri", ("r1cs", "info")),
])
def test_snarkjs_aliases_run_the_same_command(alias, words):
    leaves = dict(_leaves(build_parser()))
    assert leaves[(alias,)].get_default("run") is leaves[words].get_default("run")
    assert [a.dest for a in leaves[(alias,)]._actions] == [a.dest for a in leaves[words]._actions]


def test_an_alias_runs_end_to_end(files, capsys):
    assert main(["g16v", str(files / "vk.json"), str(files / "public.json"), str(files / "proof.json")]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "OK: the proof is valid"
    assert out[-1].startswith("groth16 verify: ") and TIMING_LINE.match(out[-1])


# --- r1cs info ---------------------------------------------------------------------------------

def test_r1cs_info_reports_the_counts_of_the_circuit(files, capsys):
    r1cs = _circuit().r1cs
    assert main(["r1cs", "info", str(files / "c.r1cs"), "--json"]) == EXIT_OK
    info = json.loads(capsys.readouterr().out)
    assert {k: info[k] for k in ("curve", "wires", "constraints", "private_inputs", "public_inputs", "outputs")} == {
        "curve": "bn-128", "wires": r1cs.n_wires, "constraints": r1cs.n_constraints, "private_inputs": 1,
        "public_inputs": 1, "outputs": 1}
    assert info["labels"] == r1cs.n_labels


@pytest.mark.node
def test_r1cs_info_says_what_snarkjs_r1cs_info_says(files, capsys):
    snarkjs = REPO / "node_modules" / ".bin" / "snarkjs"
    if not snarkjs.exists():
        pytest.skip("node_modules/.bin/snarkjs is missing (run npm ci)")
    theirs = subprocess.run([str(snarkjs), "r1cs", "info", str(files / "c.r1cs")], capture_output=True, text=True)
    found = dict(re.findall(r"# of (\w[\w ]*\w): (\d+)", theirs.stdout))
    assert main(["ri", str(files / "c.r1cs")]) == EXIT_OK
    ours = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines()[:-1])
    assert ours["curve"] == re.search(r"Curve: (\S+)", theirs.stdout).group(1)
    for name in ("Wires", "Constraints", "Private Inputs", "Public Inputs", "Labels", "Outputs"):
        assert ours[name.lower()] == found[name], name


# --- --json and the timing line ---------------------------------------------------------------------

def test_json_output_is_one_object_with_the_result_and_seconds(files, tmp_path, capsys):
    runs = [
        ["groth16", "setup", str(files / "c.r1cs"), str(tmp_path / "k.zkey")],
        ["groth16", "prove", str(files / "c.zkey"), str(files / "w.wtns"), str(tmp_path / "p.json"),
         str(tmp_path / "pub.json")],
        ["groth16", "verify", str(files / "vk.json"), str(files / "public.json"), str(files / "proof.json")],
        ["zkey", "export", "verificationkey", str(files / "c.zkey"), str(tmp_path / "vk.json")],
        ["r1cs", "info", str(files / "c.r1cs")],
    ]
    for argv in runs:
        assert main(argv + ["--json"]) == EXIT_OK
        out = capsys.readouterr().out
        result = json.loads(out)
        assert result["command"] == " ".join(argv[:3] if argv[0] == "zkey" else argv[:2])
        assert result["exit_code"] == 0 and result["seconds"] >= 0
    assert json.loads((tmp_path / "pub.json").read_text()) == [str(6 * 7 * 10), "6"]


def test_an_invalid_proof_is_exit_one_in_json_too(files, tmp_path, capsys):
    (tmp_path / "bad_public.json").write_text(json.dumps([str(6 * 7 * 10), "5"]))
    assert main(["groth16", "verify", "--json", str(files / "vk.json"), str(tmp_path / "bad_public.json"),
                 str(files / "proof.json")]) == 1
    assert json.loads(capsys.readouterr().out) | {"seconds": 0} == {
        "command": "groth16 verify", "exit_code": 1, "valid": False, "seconds": 0}


def test_every_command_ends_with_a_timing_line(files, tmp_path, capsys):
    assert main(["zkey", "export", "verificationkey", str(files / "c.zkey"), str(tmp_path / "vk.json")]) == EXIT_OK
    assert main(["r1cs", "info", str(files / "c.r1cs")]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert TIMING_LINE.match(lines[1]) and lines[1].startswith("zkey export verificationkey: ")
    assert TIMING_LINE.match(lines[-1]) and lines[-1].startswith("r1cs info: ")


# --- user errors: one line naming the path given, exit 2, nothing written -------------------------------

def _refused(capsys, argv, *, folder: Path | None = None):
    before = sorted(p.name for p in folder.iterdir()) if folder else None
    assert main(argv) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and captured.out == ""
    if folder is not None:
        assert sorted(p.name for p in folder.iterdir()) == before, "something was written"
    return err.strip()


def test_setup_into_a_missing_folder_fails_at_once_naming_the_path_given(files, tmp_path, capsys):
    os.chdir(tmp_path)
    start = time.perf_counter()
    err = _refused(capsys, ["groth16", "setup", str(files / "c.r1cs"), "nodir/x.zkey"], folder=tmp_path)
    assert err == "error: nodir/x.zkey: folder nodir does not exist"
    assert time.perf_counter() - start < 1.0  # before the setup, not after it


def test_prove_checks_both_outputs_first_and_writes_neither(files, tmp_path, capsys):
    os.chdir(tmp_path)
    err = _refused(capsys, ["groth16", "prove", str(files / "c.zkey"), str(files / "w.wtns"), "p.json",
                            "nodir/pub.json"], folder=tmp_path)
    assert err == "error: nodir/pub.json: folder nodir does not exist"
    (tmp_path / "pub.json").mkdir()
    err = _refused(capsys, ["groth16", "prove", str(files / "c.zkey"), str(files / "w.wtns"), "p.json",
                            "pub.json"], folder=tmp_path)
    assert err == "error: pub.json: is a folder, not a file"
    err = _refused(capsys, ["groth16", "prove", str(files / "c.zkey"), str(files / "w.wtns"), "p.json", "p.json"],
                   folder=tmp_path)
    assert err == "error: p.json: would overwrite the output p.json"


def test_prove_writes_proof_and_public_together_and_leaves_no_temporary_files(files, tmp_path):
    assert main(["groth16", "prove", "-q", str(files / "c.zkey"), str(files / "w.wtns"),
                 str(tmp_path / "p.json"), str(tmp_path / "pub.json")]) == EXIT_OK
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "pub.json"]


def test_an_unprovable_witness_writes_neither_file(files, tmp_path, capsys):
    write_wtns(tmp_path / "other.wtns", [1, 2, 3])
    err = _refused(capsys, ["groth16", "prove", str(files / "c.zkey"), str(tmp_path / "other.wtns"),
                            str(tmp_path / "p.json"), str(tmp_path / "pub.json")], folder=tmp_path)
    assert err.startswith(f"error: {tmp_path / 'other.wtns'}: ") and "wires" in err


@pytest.mark.parametrize("argv, path", [
    (["groth16", "setup", "c.r1cs", "pot12_final.ptau", "c.zkey"], "pot12_final.ptau"),
    (["g16s", "c.r1cs", "pot.ptau"], "pot.ptau"),
    (["groth16", "setup", "c.r1cs", "powers", "c.zkey"], "powers"),
])
def test_a_powers_of_tau_file_gets_a_hint_instead_of_a_setup(files, capsys, argv, path):
    os.chdir(files)
    err = _refused(capsys, argv, folder=files)
    assert err == f"error: {path}: {PTAU_HINT}"
    assert "zkrollup groth16 prove" in err and "snarkjs" in err


@pytest.mark.parametrize("argv, message", [
    (["demo", "--depth", "0"], "error: argument --depth: expected an integer from 2 to 32, got 0"),
    (["demo", "--depth", "x"], "error: argument --depth: expected an integer, got 'x'"),
    (["groth16", "nothing"], "error: argument COMMAND: invalid choice: 'nothing'"),
    (["groth16", "verify", "a.json"], "error: the following arguments are required: PUBLIC.json, PROOF.json"),
])
def test_bad_arguments_are_one_line_and_exit_two(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "usage" not in err


@pytest.mark.parametrize("argv, expected", [
    (["groth16", "setup", "missing.r1cs", "k.zkey"], "error: missing.r1cs: no such file"),
    (["groth16", "prove", "c.zkey", "missing.wtns", "p.json", "pub.json"], "error: missing.wtns: no such file"),
    (["groth16", "verify", "vk.json", "public.json", "."], "error: .: is a folder, not a file"),
    (["zkey", "export", "verificationkey", "c.zkey", "c.zkey"], "error: c.zkey: would overwrite the input c.zkey"),
    (["groth16", "prove", "c.zkey", "w.wtns", "w.wtns", "pub.json"], "error: w.wtns: would overwrite the input w.wtns"),
    (["r1cs", "info", "w.wtns"], "error: w.wtns: not a .r1cs file"),
    (["groth16", "setup", "w.wtns", "k.zkey"], "error: w.wtns: not a .r1cs file"),
    (["groth16", "prove", "c.r1cs", "w.wtns", "p.json", "pub.json"], "error: c.r1cs: "),
    (["groth16", "verify", "public.json", "public.json", "proof.json"], "error: public.json: "),
])
def test_file_errors_name_the_path_as_given(files, capsys, argv, expected):
    os.chdir(files)
    err = _refused(capsys, argv, folder=files)
    assert err.startswith(expected)


def test_demo_depth_zero_has_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "zkrollup.cli", "demo", "--depth", "0", "--data-dir", str(tmp_path / "d")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == EXIT_BAD_INPUT
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()


# --- progress bars: a terminal gets them, a log does not -----------------------------------------------

def _setup_with_stderr_to(files, tmp_path, stderr):
    return subprocess.Popen([sys.executable, "-m", "zkrollup.cli", "groth16", "setup", str(files / "c.r1cs"),
                             str(tmp_path / "k.zkey")], stdout=subprocess.PIPE, stderr=stderr, cwd=REPO)


def test_no_progress_bar_when_stderr_is_not_a_terminal(files, tmp_path):
    process = _setup_with_stderr_to(files, tmp_path, subprocess.PIPE)
    out, err = process.communicate(timeout=300)
    assert process.returncode == EXIT_OK, err
    assert "\r" not in err.decode() and not re.search(r"setup: \d/9", err.decode())
    assert err.decode().startswith("warning: single-party development setup")
    assert err.decode().count("\n") == 1


def test_progress_bar_on_a_terminal_never_splices_the_warning(files, tmp_path):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    process = _setup_with_stderr_to(files, tmp_path, follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=300)
    os.close(leader)
    terminal = b"".join(chunks).decode(errors="replace")
    assert process.returncode == EXIT_OK
    assert re.search(r"setup: \d/9", terminal)  # the bar was drawn
    warning_line = next(line for line in terminal.splitlines() if "warning:" in line)
    assert warning_line.startswith("warning: single-party development setup")
    assert not re.search(r"setup: \d/9", warning_line)


def test_a_user_error_with_json_also_answers_in_json(tmp_path, capsys):
    """--json: the refusal is one line on stderr as always, and stdout holds a JSON object naming it."""
    import json as _json

    from zkrollup.cli import main

    missing = tmp_path / "nowhere"
    assert main(["status", "--json", "--data-dir", str(missing)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and "\n" not in err
    answer = _json.loads(captured.out)
    assert answer["exit_code"] == 2 and answer["command"] == "status" and answer["error"] == err[len("error: "):]
