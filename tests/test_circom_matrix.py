"""Every `.r1cs` circom writes: circuits compiled by circom2 (--O2), each read by circuits.iden3, set up
and proved by ours (witness from `snarkjs wtns calculate`), then verified by our verifier and by
`snarkjs groth16 verify`, and refused by both once a public signal is changed.

The shapes are the ones circom's optimiser makes and a hand-written file rarely has: private inputs
counted in the header but removed from the wires (unused, or used only linearly), no constraints at
all, no private wire, a public input no constraint mentions, no public signal, and circomlib's own
templates as the main component.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits.builder import is_satisfied
from circuits.iden3 import read_r1cs, read_wtns
from prover.groth16 import prove, verifying_key
from prover.setup import setup
from verifier import snarkjs
from verifier.groth16 import verify

ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = ROOT / "node_modules" / ".bin"
CIRCOMLIB = ROOT / "node_modules" / "circomlib" / "circuits"


def _main(body: str, public: str = "") -> str:
    public_list = f" {{public [{public}]}}" if public else ""
    return f"pragma circom 2.0.0;\ntemplate Main() {{\n{body}\n}}\ncomponent main{public_list} = Main();\n"


def _circomlib(file: str, template: str) -> str:
    return f'pragma circom 2.0.0;\ninclude "circomlib/circuits/{file}";\ncomponent main = {template};\n'


# name -> (circom source, input.json, the public signals the proof must state, circom's summary lines)
CASES = {
    "unused_private_input": (
        _main("signal input a; signal input b; signal output c; c <== a * a;"),
        {"a": "3", "b": "5"}, [9],
        ["private inputs: 2 (1 belong to witness)", "non-linear constraints: 1"]),
    "linear_only_private_input": (
        _main("signal input a; signal input b; signal output c; signal output d; c <== a * a; d <== 3 * b + 1;"),
        {"a": "3", "b": "5"}, [9, 16],
        ["private inputs: 2 (1 belong to witness)", "non-linear constraints: 1"]),
    "zero_constraints": (
        _main("signal input a; signal output b; b <== 2 * a + 1;"),
        {"a": "7"}, [15],
        ["private inputs: 1 (none belong to witness)", "non-linear constraints: 0", "linear constraints: 0"]),
    "all_signals_public": (
        _main("signal input a; signal input b; signal output c; c <== a * b;", public="a, b"),
        {"a": "3", "b": "5"}, [15, 3, 5],
        ["public inputs: 2", "private inputs: 0", "wires: 4"]),
    "unused_public_input": (
        _main("signal input a; signal input b; signal output c; c <== a * a;", public="a, b"),
        {"a": "3", "b": "5"}, [9, 3, 5],
        ["public inputs: 2", "private inputs: 0"]),
    "no_public_signals": (
        _main("signal input a; signal input b; a * b === 12;"),
        {"a": "3", "b": "4"}, [],
        ["public inputs: 0", "public outputs: 0", "private inputs: 2"]),
    "circomlib_num2bits_8": (
        _circomlib("bitify.circom", "Num2Bits(8)"),
        {"in": "165"}, [1, 0, 1, 0, 0, 1, 0, 1],
        ["private inputs: 1 (none belong to witness)", "non-linear constraints: 8"]),
    "circomlib_bits2num_8": (
        _circomlib("bitify.circom", "Bits2Num(8)"),
        {"in": ["1", "0", "1", "0", "0", "1", "0", "1"]}, [165],
        ["private inputs: 8 (none belong to witness)", "non-linear constraints: 0"]),
}


def _run(*args, cwd) -> tuple[int, str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return done.returncode, re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """A folder with every case compiled (NAME.r1cs, NAME_js/NAME.wasm) and circom's summary of each."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    for tool in ("circom2", "snarkjs"):
        if not (NODE_BIN / tool).exists():
            pytest.skip(f"node_modules/.bin/{tool} is missing: run npm ci")
    if not CIRCOMLIB.is_dir():
        pytest.skip("node_modules/circomlib is missing: run npm ci")
    folder = tmp_path_factory.mktemp("circom_matrix")
    shutil.copytree(CIRCOMLIB, folder / "circomlib" / "circuits")  # circom2 (WASI) sees only the cwd
    summaries = {}
    for name, (source, *_rest) in CASES.items():
        (folder / f"{name}.circom").write_text(source)
        code, out = _run(NODE_BIN / "circom2", f"{name}.circom", "--r1cs", "--wasm", "--O2", "-o", ".", cwd=folder)
        assert code == 0, out
        summaries[name] = out
    return folder, summaries


def _snarkjs_info(folder: Path, name: str) -> dict[str, int]:
    code, out = _run(NODE_BIN / "snarkjs", "r1cs", "info", f"{name}.r1cs", cwd=folder)
    assert code == 0, out
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"# of ([A-Za-z ]+): (\d+)", out)}


def _snarkjs_verifies(folder: Path, name: str, public: list[int], proof) -> bool:
    snarkjs.write_public_inputs(public, folder / f"{name}_public.json")
    snarkjs.write_proof(proof, folder / f"{name}_proof.json")
    code, out = _run(NODE_BIN / "snarkjs", "groth16", "verify", f"{name}_vk.json", f"{name}_public.json",
                     f"{name}_proof.json", cwd=folder)
    assert ("OK!" in out) == (code == 0), out
    return code == 0


@pytest.mark.node
@pytest.mark.parametrize("name", list(CASES))
def test_circom_circuit_is_read_set_up_proved_and_verified_by_ours_and_snarkjs(compiled, name):
    folder, summaries = compiled
    _source, inputs, expected_public, summary_lines = CASES[name]
    for line in summary_lines:   # the case is the shape it claims to be, in circom's own words
        assert line in summaries[name], summaries[name]

    r1cs = read_r1cs(folder / f"{name}.r1cs")
    assert _snarkjs_info(folder, name) == {
        "Wires": r1cs.n_wires, "Constraints": r1cs.n_constraints, "Private Inputs": r1cs.n_private_inputs,
        "Public Inputs": r1cs.n_public_inputs, "Labels": r1cs.n_labels, "Outputs": r1cs.n_public_outputs}

    (folder / f"{name}.json").write_text(json.dumps(inputs))
    code, out = _run(NODE_BIN / "snarkjs", "wtns", "calculate", f"{name}_js/{name}.wasm", f"{name}.json",
                     f"{name}.wtns", cwd=folder)
    assert code == 0, out
    witness = read_wtns(folder / f"{name}.wtns")
    assert len(witness) == r1cs.n_wires and is_satisfied(r1cs, witness)

    pk = setup(r1cs, quiet=True)
    proof, public = prove(pk, witness, r1cs=r1cs)
    assert public == expected_public
    vk = verifying_key(pk)
    assert verify(vk, public, proof)
    snarkjs.write_verifying_key(vk, folder / f"{name}_vk.json")
    assert _snarkjs_verifies(folder, name, public, proof)

    if public:   # every public signal is bound, even one no constraint mentions: change the last one
        changed = public[:-1] + [(public[-1] + 1) % snarkjs.CURVE_ORDER]
        assert not verify(vk, changed, proof)
        assert not _snarkjs_verifies(folder, name, changed, proof)


@pytest.mark.node
def test_cases_with_dropped_private_inputs_count_more_inputs_than_their_wires_hold(compiled):
    # What the reader used to refuse as "inconsistent": 1 + public + declared private inputs > wires.
    folder, _ = compiled
    for name in ("unused_private_input", "linear_only_private_input", "zero_constraints",
                 "circomlib_num2bits_8", "circomlib_bits2num_8"):
        r1cs = read_r1cs(folder / f"{name}.r1cs")
        assert 1 + r1cs.n_public + r1cs.n_private_inputs > r1cs.n_wires, name
