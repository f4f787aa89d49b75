"""`zkrollup zkey export solidityverifier` and `zkey export soliditycalldata` (aliases zkesv, zkesc), in
snarkjs's argument order: the verifier written compiles and accepts the proof whose calldata the other
command prints, that calldata is the line snarkjs prints, and bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits.builder import ConstraintSystem
from circuits.iden3 import write_wtns
from prover.groth16 import verifying_key
from prover.zkey import load_zkey
from verifier.solidity import render_verifier
from zkrollup.cli import EXIT_BAD_INPUT, EXIT_OK, main

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / ".bin" / "snarkjs"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """c.zkey (our setup) for out = a * b^2 with a public, w.wtns, and proof.json / public.json from it."""
    from circuits.iden3 import write_r1cs

    cs = ConstraintSystem()
    a = cs.public_input("a")
    b = cs.private_input("b")
    cs.public_output("out", cs.mul(a, cs.mul(b, b)))
    circuit = cs.compile()
    folder = tmp_path_factory.mktemp("cli_solidity")
    write_r1cs(folder / "c.r1cs", circuit.r1cs)
    write_wtns(folder / "w.wtns", circuit.solve({"a": 6, "b": 7}))
    assert main(["groth16", "setup", "-q", str(folder / "c.r1cs"), str(folder / "c.zkey")]) == EXIT_OK
    assert main(["groth16", "prove", "-q", str(folder / "c.zkey"), str(folder / "w.wtns"),
                 str(folder / "proof.json"), str(folder / "public.json")]) == EXIT_OK
    return folder


def _stdout(capsys, argv) -> list[str]:
    assert main(argv) == EXIT_OK
    return capsys.readouterr().out.splitlines()


def _refused(capsys, argv, folder: Path) -> str:
    before = sorted(p.name for p in folder.iterdir())
    assert main(argv) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert captured.out == "" and "Traceback" not in captured.err
    assert sorted(p.name for p in folder.iterdir()) == before, "something was written"
    return captured.err.strip()


def test_solidityverifier_writes_the_verifier_rendered_from_the_key(files, tmp_path, capsys):
    out = _stdout(capsys, ["zkey", "export", "solidityverifier", str(files / "c.zkey"), str(tmp_path / "V.sol")])
    assert out[0] == f"Solidity verifier (2 public inputs) -> {tmp_path / 'V.sol'}"
    assert out[-1].startswith("zkey export solidityverifier: ")
    assert (tmp_path / "V.sol").read_text() == render_verifier(verifying_key(load_zkey(files / "c.zkey")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["V.sol"]


def test_the_exported_verifier_accepts_the_exported_calldata_on_anvil(files, tmp_path, capsys, anvil_url):
    from web3 import Web3

    from verifier.solc import compile_sources

    _stdout(capsys, ["zkesv", str(files / "c.zkey"), str(tmp_path / "V.sol")])
    calldata = _stdout(capsys, ["zkesc", str(files / "public.json"), str(files / "proof.json")])[0]
    contract = compile_sources({"V.sol": (tmp_path / "V.sol").read_text()})["Groth16Verifier"]
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    tx = w3.eth.contract(abi=contract.abi, bytecode=contract.bytecode).constructor().transact(
        {"from": w3.eth.accounts[0], "gas": 3_000_000})
    deployed = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(tx).contractAddress, abi=contract.abi)

    def ints(value):
        return [ints(v) for v in value] if isinstance(value, list) else int(value, 16)

    arguments = ints(json.loads(f"[{calldata}]"))
    assert deployed.functions.verifyProof(*arguments).call({"gas": 2_000_000}) is True
    arguments[3][1] += 1  # the public input a
    assert deployed.functions.verifyProof(*arguments).call({"gas": 2_000_000}) is False


def test_soliditycalldata_prints_the_line_snarkjs_prints(files, capsys):
    if shutil.which("node") is None or not SNARKJS.exists():
        pytest.skip("node or node_modules/.bin/snarkjs is missing (npm ci)")
    theirs = subprocess.run([str(SNARKJS), "zkey", "export", "soliditycalldata", "public.json", "proof.json"],
                            cwd=files, capture_output=True, text=True, timeout=120)
    assert theirs.returncode == 0, theirs.stderr
    os.chdir(files)
    from zkrollup.cli import main

    assert main(["zkey", "export", "soliditycalldata", "public.json", "proof.json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == theirs.stdout            # stdout is exactly snarkjs's, for a pipe or a file
    assert captured.err.startswith("zkey export soliditycalldata: ")   # the timing line goes to stderr


def test_json_carries_the_calldata_and_the_verifier_path(files, tmp_path, capsys):
    first = _stdout(capsys, ["zkesc", str(files / "public.json"), str(files / "proof.json")])[0]
    result = json.loads(_stdout(capsys, ["zkesc", "--json", str(files / "public.json"), str(files / "proof.json")])[0])
    assert result["command"] == "zkey export soliditycalldata" and result["calldata"] == first
    result = json.loads(_stdout(capsys, ["zkesv", str(files / "c.zkey"), str(tmp_path / "V.sol"), "--json"])[0])
    assert {k: result[k] for k in ("command", "exit_code", "verifier", "contract", "n_public")} == {
        "command": "zkey export solidityverifier", "exit_code": 0, "verifier": str(tmp_path / "V.sol"),
        "contract": "Groth16Verifier", "n_public": 2}


@pytest.mark.parametrize("argv, expected", [
    (["zkey", "export", "solidityverifier", "missing.zkey", "V.sol"], "error: missing.zkey: no such file"),
    (["zkesv", "proof.json", "V.sol"], "error: proof.json: "),
    (["zkesv", "c.zkey", "nodir/V.sol"], "error: nodir/V.sol: folder nodir does not exist"),
    (["zkesv", "c.zkey", "c.zkey"], "error: c.zkey: would overwrite the input c.zkey"),
    (["zkesv", "c.zkey", "."], "error: .: is a folder, not a file"),
    (["zkey", "export", "soliditycalldata", "missing.json", "proof.json"], "error: missing.json: no such file"),
    (["zkesc", "public.json", "missing.json"], "error: missing.json: no such file"),
    (["zkesc", "proof.json", "public.json"], "error: proof.json: public inputs: expected a JSON list"),
    (["zkesc", "public.json", "public.json"], "error: public.json: "),
    (["zkesc", "public.json", "c.zkey"], "error: c.zkey: "),
])
def test_bad_input_is_one_line_exit_two_and_nothing_written(files, capsys, argv, expected):
    os.chdir(files)
    assert _refused(capsys, argv, files).startswith(expected)


def test_a_public_input_over_r_is_refused_naming_the_file(files, tmp_path, capsys):
    from verifier.curve import CURVE_ORDER

    public = json.loads((files / "public.json").read_text())
    (tmp_path / "public.json").write_text(json.dumps([public[0], str(int(public[1]) + CURVE_ORDER)]))
    err = _refused(capsys, ["zkesc", str(tmp_path / "public.json"), str(files / "proof.json")], tmp_path)
    assert err.startswith(f"error: {tmp_path / 'public.json'}: public input 1: ") and "not less than" in err


def test_a_forgeable_key_gets_no_verifier(files, tmp_path, capsys):
    """A key with gamma = delta (snarkjs's uncontributed zkey has this shape) would let anyone forge proofs."""
    from dataclasses import replace

    from prover.zkey import write_zkey

    pk = load_zkey(files / "c.zkey")
    write_zkey(tmp_path / "forgeable.zkey", replace(pk, delta_g2=pk.gamma_g2))
    err = _refused(capsys, ["zkesv", str(tmp_path / "forgeable.zkey"), str(tmp_path / "V.sol")], tmp_path)
    assert err.startswith(f"error: {tmp_path / 'forgeable.zkey'}: ") and "gamma_2 equals delta_2" in err
