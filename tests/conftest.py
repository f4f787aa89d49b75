"""Fixtures shared by every suite: the circomlibjs oracle (scripts/circomlibjs_oracle.js)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ORACLE = REPO / "scripts" / "circomlibjs_oracle.js"


def _register_helper_module(name: str, path: Path) -> None:
    """Make a helper file of the tests importable by `import NAME` from any test folder (pytest's importlib
    mode keeps test folders off sys.path): one module object, so one cache of what it builds."""
    import importlib.util
    import sys

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


# Batch builders shared by the circuit, executor and solver suites (tests/circuits/rollup_fixtures.py).
_register_helper_module("rollup_fixtures", REPO / "tests" / "circuits" / "rollup_fixtures.py")


@pytest.fixture(scope="session")
def run_circomlibjs():
    """A function: answers from the circomlibjs oracle, one node process for a whole batch of
    requests. Skips the test (with the reason) where node or the npm packages are missing."""

    def run(requests: list[dict]) -> list:
        if shutil.which("node") is None:
            pytest.skip("node is not on PATH: comparisons with circomlibjs need it")
        for package in ("circomlibjs", "blake-hash"):
            if not (REPO / "node_modules" / package).is_dir():
                pytest.skip(f"node_modules/{package} is missing (npm ci): comparisons with it need it")
        done = subprocess.run(["node", str(ORACLE)], input=json.dumps({"requests": requests}),
                              capture_output=True, text=True, timeout=600, cwd=REPO)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


@pytest.fixture(scope="module")
def load_script():
    """A function: load `scripts/NAME.py` as a module named NAME (benchmarks are scripts, not packages), kept
    in sys.modules while the test module runs (dataclasses look their module up while the script loads)."""
    import importlib.util
    import sys

    loaded = []

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loaded.append(name)
        spec.loader.exec_module(module)
        return module

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


@pytest.fixture(scope="session")
def anvil_url(tmp_path_factory):
    """The URL of a local anvil node (npm @foundry-rs/anvil-linux-amd64) on 127.0.0.1, started once for the
    session in a temporary folder and stopped after. Skips where the binary is missing (npm ci)."""
    from zkrollup.anvil import AnvilError, AnvilNode, anvil_binary

    try:
        anvil_binary()
    except AnvilError as exc:
        pytest.skip(str(exc))
    node = AnvilNode(tmp_path_factory.mktemp("anvil") / "l1")
    status = node.start()
    yield status.url
    node.stop()
