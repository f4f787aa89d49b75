"""Smoke test of scripts/bench_wtns.py on a chain of 2 Poseidon hashes: it compiles and caches the
circuit, runs both tools, checks their witnesses are byte-identical and reports both figures
(times are never asserted)."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "bench_wtns.py"


@pytest.mark.node
def test_bench_wtns_reports_both_tools_on_identical_witnesses(tmp_path):
    if shutil.which("node") is None or not (REPO / "node_modules" / ".bin" / "circom2").exists():
        pytest.skip("node and node_modules (circom2, snarkjs) are needed: run npm ci")
    spec = importlib.util.spec_from_file_location("bench_wtns", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    folder = bench.prepare(2, tmp_path, log=lambda text: None)
    figures = bench.measure(folder, repeat=1, log=lambda text: None)
    assert figures["byte_identical"] and figures["witness_size"] > 2 * 240
    assert set(figures["cli_wall_seconds"]) >= {"ours", "snarkjs"}
    assert figures["ratio_cli"] > 0 and figures["ratio_in_process"] > 0
