"""The contracts' build outputs (verifier/build/*.json) are what scripts/build_contracts.py makes from
verifier/contracts/*.sol with the pinned solc-js now: never edited by hand, never stale."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.node
def test_build_outputs_are_current():
    if shutil.which("node") is None or not (REPO / "node_modules" / "solc").is_dir():
        pytest.skip("node or node_modules/solc is missing (npm ci)")
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "build_contracts.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_each_contract_has_its_build_output_with_the_pinned_compiler():
    from verifier.solc import EVM_VERSION, SOLC_VERSION

    sources = sorted(p.stem for p in (REPO / "verifier" / "contracts").glob("*.sol"))
    assert sources and sorted(p.stem for p in (REPO / "verifier" / "build").glob("*.json")) == sources
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/solc"]["version"] == SOLC_VERSION
    for name in sources:
        out = json.loads((REPO / "verifier" / "build" / f"{name}.json").read_text())
        assert out["compiler"]["solc"].startswith(SOLC_VERSION + "+") and out["compiler"]["evmVersion"] == EVM_VERSION
