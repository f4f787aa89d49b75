"""circomlib's own templates (npm circomlib, compiled by circom2 at --O2) beside our gadgets: our
constraint counts are no larger than theirs, and their witnesses agree with our natives and gadgets."""

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits import eddsa, poseidon
from circuits.builder import is_satisfied
from circuits.iden3 import read_r1cs, read_wtns

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
CIRCOMLIB = ROOT / "node_modules" / "circomlib" / "circuits"
TABLE = json.loads((ROOT / "circuits" / "constraint_counts.json").read_text())["gadgets"]

TEMPLATES = {  # main name -> (circomlib file, instantiation, the row of our table it compares with)
    "poseidon2": ("poseidon.circom", "Poseidon(2)", "poseidon(2 inputs)"),
    "eddsa": ("eddsaposeidon.circom", "EdDSAPoseidonVerifier()", "eddsa_poseidon verifier (with enabled)"),
    "strict": ("bitify.circom", "Num2Bits_strict()", "to_binary_strict (254 bits, < r)"),
    "compconst": ("compconstant.circom", f"CompConstant({(21888242871839275222246405745257275088548364400416034343698204186575808495617 - 1) // 2})",
                  "bits_greater_than_constant(254 bits, (r - 1) / 2), bits known boolean"),
    "sha256": ("sha256/sha256.circom", "Sha256(440)", "sha256(55 bytes, one block), input bits known boolean"),
}


def _run(*args, cwd):
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return result.returncode, re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (NODE_BIN / "circom2").exists() or not CIRCOMLIB.exists():
        pytest.skip("node_modules (circom2, circomlib) is missing: run npm ci")
    folder = tmp_path_factory.mktemp("circomlib")
    shutil.copytree(CIRCOMLIB, folder / "circomlib" / "circuits")  # circom2 (WASI) sees only the cwd
    for name, (source, template, _) in TEMPLATES.items():
        (folder / f"{name}.circom").write_text(
            f'pragma circom 2.0.0;\ninclude "circomlib/circuits/{source}";\ncomponent main = {template};\n')
        code, out = _run(NODE_BIN / "circom2", f"{name}.circom", "--r1cs", "--wasm", "--O2", "-o", ".", cwd=folder)
        assert code == 0, out
    return folder


def _witness(folder, name, inputs):
    (folder / f"{name}.json").write_text(json.dumps(inputs))
    code, out = _run(NODE_BIN / "snarkjs", "wtns", "calculate", f"{name}_js/{name}.wasm", f"{name}.json",
                     f"{name}.wtns", cwd=folder)
    return (read_wtns(folder / f"{name}.wtns") if code == 0 else None), out


@pytest.mark.node
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_our_constraint_count_is_no_larger_than_circomlibs(compiled, name):
    theirs = read_r1cs(compiled / f"{name}.r1cs").n_constraints
    row = TABLE[TEMPLATES[name][2]]
    assert row["circomlib"] == theirs, "the table's circomlib figure must be the measured one"
    assert row["constraints"] <= theirs


@pytest.mark.node
def test_circomlib_poseidon_witness_equals_our_native_and_satisfies_its_r1cs(compiled):
    r1cs = read_r1cs(compiled / "poseidon2.r1cs")
    for a, b in [(1, 2), (0, 0), (123456789, 987654321)]:
        witness, out = _witness(compiled, "poseidon2", {"inputs": [str(a), str(b)]})
        assert witness is not None, out
        assert witness[1] == poseidon.poseidon([a, b])
        assert is_satisfied(r1cs, witness)


@pytest.mark.node
def test_circomlib_eddsa_accepts_our_signatures_and_refuses_a_tampered_one(compiled):
    key = b"zkrollup circomlib interop"
    msg = 1234567890
    public = eddsa.prv2pub(key)
    sig = eddsa.sign_poseidon(key, msg)
    inputs = {"enabled": "1", "Ax": str(public[0]), "Ay": str(public[1]), "S": str(sig.s),
              "R8x": str(sig.r8[0]), "R8y": str(sig.r8[1]), "M": str(msg)}
    witness, out = _witness(compiled, "eddsa", inputs)
    assert witness is not None, out
    assert is_satisfied(read_r1cs(compiled / "eddsa.r1cs"), witness)
    witness, _ = _witness(compiled, "eddsa", {**inputs, "M": str(msg + 1)})
    assert witness is None
    assert not eddsa.verify_poseidon(msg + 1, sig, public)


@pytest.mark.node
def test_circomlib_sha256_equals_hashlib_and_our_native(compiled):
    from circuits.sha256 import bytes_to_bits, sha256_native

    message = bytes(range(55))
    witness, out = _witness(compiled, "sha256", {"in": [str(b) for b in bytes_to_bits(message)]})
    assert witness is not None, out
    digest_bits = witness[1:257]
    assert digest_bits == bytes_to_bits(hashlib.sha256(message).digest())
    assert digest_bits == bytes_to_bits(sha256_native(message))
