"""Against the real snarkjs: its proofs verify with ours, its files survive our reader and writer byte for byte, and it accepts ours.

One tiny circom circuit, powers of tau 2^4 (prepare phase2 is slow at real sizes), made once per session.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from verifier import snarkjs
from verifier.curve import CURVE_ORDER, FIELD_MODULUS
from verifier.groth16 import verify
from verifier.types import BadPublicInput

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"

# c = a*b*k + 7 with k public: two public signals (the output c first, then k), as snarkjs orders them.
CIRCUIT = """pragma circom 2.0.0;
template MulAdd() {
    signal input a;
    signal input b;
    signal input k;
    signal output c;
    signal t;
    t <== a * b;
    c <== t * k + 7;
}
component main {public [k]} = MulAdd();
"""


def _run(*args: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}): {result.stderr or result.stdout}")
    return result


@pytest.fixture(scope="session")
def snarkjs_run(tmp_path_factory):
    """snarkjs's verification_key.json, proof.json and public.json for the circuit above, with a 2^4 ceremony."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    for tool in ("snarkjs", "circom2"):
        if not (BIN / tool).exists():
            pytest.skip(f"node_modules/.bin/{tool} is missing: run npm ci")
    work = tmp_path_factory.mktemp("snarkjs")
    (work / "muladd.circom").write_text(CIRCUIT)
    (work / "input.json").write_text('{"a": "3", "b": "11", "k": "5"}')
    sj = BIN / "snarkjs"
    _run(BIN / "circom2", "muladd.circom", "--r1cs", "--wasm", "-o", ".", cwd=work)
    _run(sj, "powersoftau", "new", "bn128", "4", "pot_0.ptau", cwd=work)
    _run(sj, "powersoftau", "contribute", "pot_0.ptau", "pot_1.ptau", "--name=test", "-e=not random: a test", cwd=work)
    _run(sj, "powersoftau", "prepare", "phase2", "pot_1.ptau", "pot.ptau", cwd=work)
    _run(sj, "groth16", "setup", "muladd.r1cs", "pot.ptau", "muladd0.zkey", cwd=work)
    # snarkjs's uncontributed zkey has gamma = delta (forgeable, refused by our verifier): contribute
    _run(sj, "zkey", "contribute", "muladd0.zkey", "muladd.zkey", "--name=test", "-e=not random: a test", cwd=work)
    _run(sj, "zkey", "export", "verificationkey", "muladd.zkey", "verification_key.json", cwd=work)
    _run(sj, "wtns", "calculate", "muladd_js/muladd.wasm", "input.json", "witness.wtns", cwd=work)
    _run(sj, "groth16", "prove", "muladd.zkey", "witness.wtns", "proof.json", "public.json", cwd=work)
    return work


def snarkjs_verifies(directory: Path) -> bool:
    result = _run(BIN / "snarkjs", "groth16", "verify", "verification_key.json", "public.json", "proof.json",
                  cwd=directory, check=False)  # fmt: skip
    return result.returncode == 0 and "OK" in result.stdout


def test_snarkjs_proof_verifies_with_ours(snarkjs_run, backend):
    vk = snarkjs.read_verifying_key(snarkjs_run / "verification_key.json")
    public_inputs = snarkjs.read_public_inputs(snarkjs_run / "public.json")
    assert public_inputs == (3 * 11 * 5 + 7, 5)
    assert verify(vk, public_inputs, snarkjs.read_proof(snarkjs_run / "proof.json"), backend=backend)


def test_tampered_snarkjs_proof_is_rejected_by_ours(snarkjs_run):
    vk = snarkjs.read_verifying_key(snarkjs_run / "verification_key.json")
    public_inputs = snarkjs.read_public_inputs(snarkjs_run / "public.json")
    proof = snarkjs.read_proof(snarkjs_run / "proof.json")
    assert not verify(vk, [public_inputs[0] + 1, public_inputs[1]], proof)
    assert not verify(vk, public_inputs[::-1], proof)
    assert not verify(vk, public_inputs, dataclasses.replace(proof, a=proof.c, c=proof.a))
    # -A with -B is the same pairing: this is malleability, not a forgery, so it must still verify.
    (x, y), ((bx0, bx1), (by0, by1)) = proof.a, proof.b
    q = FIELD_MODULUS
    negated = dataclasses.replace(proof, a=(x, q - y), b=((bx0, bx1), ((q - by0) % q, (q - by1) % q)))
    assert verify(vk, public_inputs, negated)


def test_public_input_plus_r_from_snarkjs_files_is_refused(snarkjs_run, tmp_path):
    values = snarkjs.read_public_inputs(snarkjs_run / "public.json")
    (tmp_path / "public.json").write_text(f'["{values[0] + CURVE_ORDER}", "{values[1]}"]')
    with pytest.raises(BadPublicInput, match="public input 0"):
        snarkjs.read_public_inputs(tmp_path / "public.json")


@pytest.mark.parametrize("backend_for_alphabeta", ["mcl", "py_ecc"])
def test_our_writer_reproduces_snarkjs_files_byte_for_byte(snarkjs_run, tmp_path, backend_for_alphabeta):
    from verifier.curve import mcl_available

    if backend_for_alphabeta == "mcl" and not mcl_available():
        pytest.skip("mclbn256 does not load here")
    vk = snarkjs.read_verifying_key(snarkjs_run / "verification_key.json")
    snarkjs.write_verifying_key(vk, tmp_path / "verification_key.json", backend=backend_for_alphabeta)
    snarkjs.write_proof(snarkjs.read_proof(snarkjs_run / "proof.json"), tmp_path / "proof.json")
    snarkjs.write_public_inputs(snarkjs.read_public_inputs(snarkjs_run / "public.json"), tmp_path / "public.json")
    for name in ("verification_key.json", "proof.json", "public.json"):
        assert (tmp_path / name).read_bytes() == (snarkjs_run / name).read_bytes(), name


def test_snarkjs_accepts_our_key_and_proof_and_rejects_them_tampered(known_dlog, tmp_path):
    if shutil.which("node") is None or not (BIN / "snarkjs").exists():
        pytest.skip("node or node_modules/.bin/snarkjs is missing")
    case = known_dlog.make_instance(seed=11, n_public=2)
    snarkjs.write_verifying_key(case.vk, tmp_path / "verification_key.json")
    snarkjs.write_proof(case.proof, tmp_path / "proof.json")
    snarkjs.write_public_inputs(case.public_inputs, tmp_path / "public.json")
    assert snarkjs_verifies(tmp_path)
    snarkjs.write_public_inputs([case.public_inputs[1], case.public_inputs[0]], tmp_path / "public.json")
    assert not snarkjs_verifies(tmp_path)
