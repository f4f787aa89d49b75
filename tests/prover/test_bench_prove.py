"""Smoke test of scripts/bench_prove.py at 2^8 constraints: its circuits, its cache, its measured
subprocesses, its checks and its report. Times are never asserted; proofs and the report's shape are.
snarkjs and groth16py parts skip cleanly when node or groth16py is missing (nothing is installed here).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from circuits.builder import is_satisfied
from prover.zkey import domain_size_for

TINY = 8


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench_prove")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-cache")


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-proofs")


@pytest.fixture(scope="module")
def ours_report(bench, cache, kept):
    return bench.run([TINY], provers=("ours",), kind="x5", cache_root=cache, install_peers=False, mode="test",
                     keep=kept)


# --- circuits and cache ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["x5", "poseidon"])
def test_chain_fills_a_2_to_the_k_domain_and_its_witness_satisfies_it(bench, kind):
    if kind == "poseidon" and not bench.poseidon_gadget_available():
        pytest.skip("circuits.poseidon has no poseidon_gadget yet")
    chain = bench.build_chain(TINY, kind)
    r1cs = chain.circuit.r1cs
    assert domain_size_for(r1cs.n_constraints, r1cs.n_public) == 1 << TINY
    assert r1cs.n_constraints > (1 << TINY) - chain.unit_constraints - 4  # as full as whole steps allow
    assert r1cs.n_public == 2
    assert is_satisfied(r1cs, chain.witness)
    assert len(set(chain.witness[3:])) > len(chain.witness) // 2  # random-looking values, not a ramp


def test_auto_picks_poseidon_exactly_when_the_gadget_exists(bench):
    assert bench.resolve_kind("auto") == ("poseidon" if bench.poseidon_gadget_available() else "x5")
    assert bench.resolve_kind("x5") == "x5"


def test_artifacts_are_cached_and_reused(bench, cache, ours_report):
    first = ours_report.sizes[0]
    assert first.setup["seconds"] > 0
    again = bench.prepare(TINY, "x5", cache)
    assert again.setup_ran is False
    assert again.meta["constraints"] == first.constraints
    assert all((again.folder / name).is_file() for name in bench.ARTIFACT_FILES)
    assert Path(first.files) == again.folder and cache in again.folder.parents


def test_a_folder_without_meta_is_rebuilt(bench, tmp_path):
    made = bench.prepare(6, "x5", tmp_path)
    assert made.setup_ran
    (made.folder / "meta.json").unlink()  # as after an interrupted run
    assert bench.prepare(6, "x5", tmp_path).setup_ran


# --- measured subprocesses ---------------------------------------------------------------------------

@pytest.mark.parametrize("wrapper", ["time", "launcher"])
def test_peak_rss_is_the_childs_own_not_ours(bench, monkeypatch, wrapper):
    if wrapper == "time" and bench.TIME_BIN is None:
        pytest.skip("/usr/bin/time is missing")
    if wrapper == "launcher":
        monkeypatch.setattr(bench, "TIME_BIN", None)
    ballast = bytearray(400 << 20)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # 400 MB resident in this process
    done = bench.run_measured([sys.executable, "-c", "x = bytearray(100 << 20); x[::4096] = b'1' * len(x[::4096])"])
    assert done.ok, done.failure()
    assert 100 <= done.peak_rss_mb < 300, done.peak_rss_mb
    assert done.cpu_s >= 0 and done.wall_s > 0
    failed = bench.run_measured([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"])
    assert failed.returncode == 3 and not failed.ok and failed.stdout.strip() == "out"
    assert "exited 3" in failed.failure()
    del ballast


def test_a_process_past_its_time_limit_is_killed(bench):
    done = bench.run_measured([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert not done.ok and done.wall_s < 30


# --- the run and its report --------------------------------------------------------------------------

def test_tiny_run_of_ours_verifies_and_reports_every_figure(ours_report):
    assert ours_report.ok, [c for c in ours_report.checks if not c.ok]
    whats = [c.what for c in ours_report.checks]
    assert any("ours (in process): our verifier accepts" in w for w in whats)
    assert any("ours (CLI): our verifier accepts" in w for w in whats)
    size = ours_report.sizes[0]
    assert size.log_size == TINY and size.domain == 1 << TINY
    ours = size.ours
    assert {"prove_s", "runs_s", "first_call_s", "stages", "stage_summary", "verify_ms", "verify_prepared_ms",
            "verifier_backend", "cli"} <= set(ours)
    assert {"witness", "coset NTTs", "MSM H", "finish"} <= set(ours["stages"])
    assert {"wall_s", "cpu_s", "peak_rss_mb", "load_and_prove_s"} <= set(ours["cli"])
    assert ours["cli"]["peak_rss_mb"] > 0
    assert size.snarkjs == {} and size.groth16py == {}  # not asked for
    assert set(size.ratios) == {"snarkjs_over_ours", "snarkjs_over_ours_cli", "groth16py_over_ours",
                                "ours_cli_over_in_process"}
    assert size.ratios["ours_cli_over_in_process"] == ours["cli"]["wall_s"] / ours["prove_s"]
    assert ours["cli"]["load_and_prove_s"] is not None  # the CLI's own timing line was found
    assert {t["figure"] for t in size.targets} >= {"prove: snarkjs / ours", "verify one proof, ours (ms)",
                                                   "prove: ours CLI / ours in process"}


def test_report_as_json_and_as_table(bench, ours_report):
    decoded = json.loads(json.dumps(ours_report.to_json()))
    assert decoded["ok"] is True and decoded["provers"] == ["ours"] and decoded["circuit"] == "x5"
    assert {"machine", "tools", "sizes", "checks", "cache"} <= set(decoded)
    assert decoded["sizes"][0]["ours"]["stages"]
    table = bench.render_table(ours_report)
    assert "CLI beside in-process" in table and f"2^{TINY}: zkrollup CLI " in table
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("size "))
    for column in ("constraints", "setup (ours)", "prove ours", "prove snarkjs", "prove groth16py",
                   "ratio snarkjs/ours", "ratio groth16py/ours", "verify ours (ms)", "peak RSS ours/snarkjs"):
        assert column in header
    row = [cell.strip() for cell in next(line for line in lines if line.startswith(f"2^{TINY} ")).split("|")]
    assert row[1] == str(ours_report.sizes[0].constraints) and row[5] == "-" and row[7] == "n/a"
    assert "x^5 + c chain" in table and "stage breakdown" in table and "targets" in table


def test_main_prints_json_from_the_cache(bench, cache, ours_report, capsys):
    code = bench.main(["--sizes", str(TINY), "--only", "ours", "--circuit", "x5", "--cache", str(cache),
                       "--no-install", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"]
    assert out["sizes"][0]["setup"]["ran"] is False


def test_bad_arguments_are_refused(bench):
    for argv in (["--quick", "--sizes", "8"], ["--sizes", "eight"], ["--sizes", "40"], ["--only", "rapidsnark"]):
        with pytest.raises(SystemExit) as exc:
            bench.main(argv)
        assert exc.value.code == 2


def test_a_proof_that_does_not_verify_fails_the_run_loudly(bench, ours_report, kept, tmp_path):
    from py_ecc import bn128

    from verifier import snarkjs

    art = bench.prepare(TINY, "x5", Path(ours_report.cache))
    keep = kept
    proof = snarkjs.read_proof(keep / f"2^{TINY}" / "ours_proof.json")
    moved = bn128.add((bn128.FQ(proof.a[0]), bn128.FQ(proof.a[1])), bn128.G1)
    snarkjs.write_proof(replace(proof, a=(int(moved[0]), int(moved[1]))), tmp_path / "bad.json")
    report = bench.Report("test", "x5", "", ["ours"], ours_report.machine, {})
    vk = snarkjs.read_verifying_key(art.vk)
    assert not bench._verify_ours(report, "tampered", vk, tmp_path / "bad.json",
                                  keep / f"2^{TINY}" / "ours_public.json", bench._witness_public(art))
    assert not report.ok
    assert "FAILED: tampered: our verifier accepts the proof" in bench.render_table(report)


def test_groth16py_proof_bytes_decode_in_eip197_order(bench, ours_report, kept):
    from verifier import snarkjs
    from verifier.groth16 import verify

    art = bench.prepare(TINY, "x5", Path(ours_report.cache))
    keep = kept
    proof = snarkjs.read_proof(keep / f"2^{TINY}" / "ours_proof.json")
    (ax, ay), ((bx0, bx1), (by0, by1)), (cx, cy) = proof.a, proof.b, proof.c
    blob = b"".join(v.to_bytes(32, "big") for v in (ax, ay, bx1, bx0, by1, by0, cx, cy))
    assert bench.proof_from_eth_bytes(blob) == proof
    assert verify(snarkjs.read_verifying_key(art.vk), bench._witness_public(art), bench.proof_from_eth_bytes(blob))
    with pytest.raises(ValueError):
        bench.proof_from_eth_bytes(blob[:-1])


# --- peers, where present ----------------------------------------------------------------------------

@pytest.mark.node
def test_snarkjs_proves_and_verifies_on_the_same_files(bench, cache):
    if (why := bench.snarkjs_unavailable_reason()) is not None:
        pytest.skip(why)
    report = bench.run([TINY], provers=("ours", "snarkjs"), kind="x5", cache_root=cache, install_peers=False)
    assert report.ok, [c for c in report.checks if not c.ok]
    size = report.sizes[0]
    assert size.snarkjs["available"] and size.snarkjs["prove_s"] > 0 and size.snarkjs["peak_rss_mb"] > 0
    assert size.ratios["snarkjs_over_ours"] is not None
    assert sum("snarkjs groth16 verify accepts" in c.what for c in report.checks) == 3  # ours, our CLI, snarkjs


def test_groth16py_proves_on_the_same_files_when_installed(bench, cache):
    if importlib.util.find_spec("groth16py") is None:
        pytest.skip("groth16py is not installed (the benchmark installs it on demand; tests do not)")
    report = bench.run([TINY], provers=("ours", "groth16py"), kind="x5", cache_root=cache, install_peers=False)
    assert report.ok, [c for c in report.checks if not c.ok]
    g = report.sizes[0].groth16py
    assert g["available"] and g["prove_s"] > 0 and g["peak_rss_mb"] > 0
    assert any("groth16py's verifier accepts our proof" in c.what for c in report.checks)


def test_missing_groth16py_is_reported_not_installed(bench, cache, monkeypatch):
    monkeypatch.setattr(bench, "GROTH16PY_STATE", {"available": False, "why_not": "test: not here"})
    report = bench.run([TINY], provers=("groth16py",), kind="x5", cache_root=cache, install_peers=False)
    assert report.ok
    assert report.sizes[0].groth16py == {"available": False, "why_not": "test: not here"}
    assert "groth16py: n/a (test: not here)" in bench.render_table(report)


def test_a_source_edit_during_a_run_is_warned_about(bench, cache, monkeypatch):
    calls = iter([{"prover/x.py": 1.0}, {"prover/x.py": 2.0}])
    monkeypatch.setattr(bench, "source_stamps", lambda: next(calls))
    report = bench.run([TINY], provers=("groth16py",), kind="x5", cache_root=cache, install_peers=False)
    assert report.ok and len(report.warnings) == 1 and "prover/x.py" in report.warnings[0]
    assert "WARNING: 2^8: sources changed" in bench.render_table(report)
