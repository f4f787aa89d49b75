"""`zkrollup wtns calculate` and `groth16 fullprove` on a circom-compiled circuit: snarkjs's bytes and
argument order, a proof snarkjs accepts, and bad inputs refused in one line with nothing written."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from zkrollup.cli import EXIT_BAD_INPUT, EXIT_OK, main

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"

SOURCE = """pragma circom 2.0.0;
template Check() {
    signal input x;
    signal output y;
    y <== x * x;
    assert(x != 13);
}
template Main(n) {
    signal input xs[n];
    signal input k;
    signal output total;
    component checks[n];
    var sum = 0;
    for (var i = 0; i < n; i++) {
        checks[i] = Check();
        checks[i].x <== xs[i];
        sum += checks[i].y;
    }
    total <== sum * k;
}
component main {public [k]} = Main(4);
"""
GOOD = {"xs": ["1", "2", "3", "4"], "k": "10"}


def _run(*args, cwd):
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: circom2 and snarkjs are the oracles here")
    for tool in ("circom2", "snarkjs"):
        if not (NODE_BIN / tool).exists():
            pytest.skip(f"node_modules/.bin/{tool} is missing (run npm ci)")
    folder = tmp_path_factory.mktemp("cli_wtns")
    (folder / "c.circom").write_text(SOURCE)
    _run(NODE_BIN / "circom2", "c.circom", "--r1cs", "--wasm", "-o", ".", cwd=folder)
    shutil.copy(folder / "c_js" / "c.wasm", folder / "c.wasm")
    (folder / "input.json").write_text(json.dumps(GOOD))
    assert main(["g16s", "-q", str(folder / "c.r1cs"), str(folder / "c.zkey")]) == EXIT_OK
    assert main(["zkev", str(folder / "c.zkey"), str(folder / "vk.json")]) == EXIT_OK
    return folder


@pytest.mark.node
def test_wtns_calculate_writes_the_bytes_snarkjs_writes(circuit, tmp_path, capsys):
    _run(NODE_BIN / "snarkjs", "wtns", "calculate", circuit / "c.wasm", circuit / "input.json", tmp_path / "theirs.wtns",
         cwd=tmp_path)
    assert main(["wtns", "calculate", str(circuit / "c.wasm"), str(circuit / "input.json"),
                 str(tmp_path / "ours.wtns")]) == EXIT_OK
    assert (tmp_path / "ours.wtns").read_bytes() == (tmp_path / "theirs.wtns").read_bytes()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"witness of {(tmp_path / 'ours.wtns').stat().st_size // 32 - 2} values -> {tmp_path / 'ours.wtns'}"
    assert out[-1].startswith("wtns calculate: ")


@pytest.mark.node
def test_wc_witness_proves_and_snarkjs_accepts(circuit, tmp_path):
    assert main(["wc", str(circuit / "c.wasm"), str(circuit / "input.json"), str(tmp_path / "w.wtns")]) == EXIT_OK
    assert main(["g16p", "-q", str(circuit / "c.zkey"), str(tmp_path / "w.wtns"), str(tmp_path / "proof.json"),
                 str(tmp_path / "public.json")]) == EXIT_OK
    assert json.loads((tmp_path / "public.json").read_text()) == [str((1 + 4 + 9 + 16) * 10), "10"]
    assert "OK" in _run(NODE_BIN / "snarkjs", "groth16", "verify", circuit / "vk.json", tmp_path / "public.json",
                        tmp_path / "proof.json", cwd=tmp_path)


@pytest.mark.node
def test_fullprove_in_snarkjs_order_gives_a_proof_both_verifiers_accept(circuit, tmp_path, capsys):
    assert main(["groth16", "fullprove", str(circuit / "input.json"), str(circuit / "c.wasm"), str(circuit / "c.zkey"),
                 str(tmp_path / "proof.json"), str(tmp_path / "public.json"), "--json"]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["public_signals"] == ["300", "10"]
    assert main(["g16v", str(circuit / "vk.json"), str(tmp_path / "public.json"), str(tmp_path / "proof.json")]) == EXIT_OK
    assert "OK" in _run(NODE_BIN / "snarkjs", "groth16", "verify", circuit / "vk.json", tmp_path / "public.json",
                        tmp_path / "proof.json", cwd=tmp_path)


@pytest.mark.node
@pytest.mark.parametrize("inputs, message", [
    ({"xs": ["1", "2", "3", "13"], "k": "1"}, "input.json: assert failed in template Check_0 line 6 (from Main_1 line 16)"),
    ({"xs": ["1", "2", "3"], "k": "1"}, "input.json: xs: the input signal takes 4 values, got 3"),
    ({"xs": ["1", "2", "3", "4"], "k": "1", "z": "1"}, "input.json: z: the circuit has no input signal of that name"),
    ({"xs": ["1", "2", "3", "four"], "k": "1"}, "input.json: xs[3]: 'four' is not a number"),
    ({"xs": ["1", "2", "3", "4"]}, "input.json: not all inputs are set"),
])
@pytest.mark.parametrize("command", ["wtns", "fullprove"])
def test_bad_inputs_are_one_line_exit_two_and_nothing_written(circuit, tmp_path, capsys, inputs, message, command):
    os.chdir(tmp_path)
    (tmp_path / "input.json").write_text(json.dumps(inputs))
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = (["wtns", "calculate", str(circuit / "c.wasm"), "input.json", "w.wtns"] if command == "wtns" else
            ["groth16", "fullprove", "input.json", str(circuit / "c.wasm"), str(circuit / "c.zkey"), "p.json", "pub.json"])
    assert main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.node
def test_a_file_that_is_not_circoms_wasm_is_named(circuit, tmp_path, capsys):
    (tmp_path / "c.wasm").write_bytes(b"\0asm garbage")
    assert main(["wc", str(tmp_path / "c.wasm"), str(circuit / "input.json"), str(tmp_path / "w.wtns")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'c.wasm'}: not a WebAssembly module") and err.count("\n") == 1
    assert not (tmp_path / "w.wtns").exists()


@pytest.mark.node
def test_circuit_log_lines_go_to_stderr_so_json_stays_clean(circuit, tmp_path, capsys):
    source = SOURCE.replace("total <== sum * k;", 'total <== sum * k;\n    log("sum", sum);')
    (tmp_path / "l.circom").write_text(source)
    _run(NODE_BIN / "circom2", "l.circom", "--wasm", "-o", ".", cwd=tmp_path)
    assert main(["wc", "--json", str(tmp_path / "l_js" / "l.wasm"), str(circuit / "input.json"),
                 str(tmp_path / "w.wtns")]) == EXIT_OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["witness_size"] > 0
    assert captured.err == "sum 30\n"
