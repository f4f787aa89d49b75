"""Shared fixtures for the prover suites: each Numba module beside its plain-Python twin, and the
snarkjs/circom tools with a snarkjs key made from a tiny powers of tau."""

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import prover.curve
import prover.field
import prover.msm
import prover.reference.curve
import prover.reference.field
import prover.reference.msm


@pytest.fixture(params=[prover.field, prover.reference.field], ids=["numba", "python"])
def field(request):
    return request.param


@pytest.fixture(params=[prover.curve, prover.reference.curve], ids=["numba", "python"])
def curve(request):
    return request.param


@pytest.fixture(params=[prover.msm, prover.reference.msm], ids=["numba", "python"])
def msm(request):
    return request.param


@pytest.fixture
def rng():
    return random.Random(20261121)


# --- snarkjs and circom (npm tools from package-lock.json) ---------------------------------------

NODE_BIN = Path(__file__).resolve().parents[2] / "node_modules" / ".bin"


def _snarkjs(*args, cwd) -> str:
    result = subprocess.run([str(NODE_BIN / "snarkjs"), *map(str, args)], cwd=cwd, capture_output=True,
                            text=True, timeout=300)
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, output
    return output


@pytest.fixture(scope="session")
def run_snarkjs():
    """run_snarkjs(*args, cwd=folder) -> its output, asserting success; skips without node or the npm tools."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    for tool in ("snarkjs", "circom2"):
        if not (NODE_BIN / tool).exists():
            pytest.skip(f"node_modules/.bin/{tool} is missing (run npm ci)")
    return _snarkjs


CIRCOM_SOURCE = """
pragma circom 2.0.0;
// A small circuit for zkrollup's Groth16 interop tests: a public input, a private input, an output.
template Chain(n) {
    signal input x;
    signal input y;
    signal output out;
    signal acc[n + 1];
    acc[0] <== y;
    for (var i = 0; i < n; i++) {
        acc[i + 1] <== acc[i] * (acc[i] + x + i);
    }
    out <== acc[n];
}
component main {public [x]} = Chain(30);
"""


@pytest.fixture(scope="session")
def snarkjs_key(run_snarkjs, tmp_path_factory):
    """A circom-compiled circuit (main.r1cs), its witness (w.wtns) and a snarkjs key (main.zkey, and
    main0.zkey before the contribution) from a tiny powers of tau, with its vk.json, in one folder."""
    folder = tmp_path_factory.mktemp("circom")
    (folder / "main.circom").write_text(CIRCOM_SOURCE)
    subprocess.run([str(NODE_BIN / "circom2"), "main.circom", "--r1cs", "--wasm", "--O2", "-o", "."],
                   cwd=folder, check=True, capture_output=True, timeout=300)
    (folder / "input.json").write_text(json.dumps({"x": "3", "y": "11"}))
    run_snarkjs("wtns", "calculate", "main_js/main.wasm", "input.json", "w.wtns", cwd=folder)
    run_snarkjs("powersoftau", "new", "bn128", "6", "pot0.ptau", cwd=folder)
    run_snarkjs("powersoftau", "contribute", "pot0.ptau", "pot1.ptau", "--name=test", "-e=zkrollup tests", cwd=folder)
    run_snarkjs("powersoftau", "prepare", "phase2", "pot1.ptau", "pot.ptau", cwd=folder)
    run_snarkjs("groth16", "setup", "main.r1cs", "pot.ptau", "main0.zkey", cwd=folder)
    # An uncontributed zkey has gamma = delta, which our verifier refuses (forgeable): contribute once.
    run_snarkjs("zkey", "contribute", "main0.zkey", "main.zkey", "--name=test", "-e=zkrollup tests", cwd=folder)
    run_snarkjs("zkey", "export", "verificationkey", "main.zkey", "vk.json", cwd=folder)
    return folder
