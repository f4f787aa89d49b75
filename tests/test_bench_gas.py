"""Smoke test of scripts/bench_gas.py: its `--quick` run on trees of 4 accounts (a real anvil node, real proofs, our
verifier and snarkjs's), checked for the shape of its JSON and its internal consistency: parts that add up to the
transaction, per-transfer figures that are the total over the transfers, prices that follow the EIPs' formulas,
both verifiers measured and accepting the proof. Never wall times, never fixed gas figures.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from circuits.rollup.layout import Layout

DEPTH = 2            # 4 accounts: the smallest 4-ary tree; gas does not depend on the depth

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench_gas")


@pytest.fixture(scope="module")
def printed(bench, tmp_path_factory):
    """`bench_gas.py --quick --depth 2 --json FILE`, run once with its own key cache: (exit code, JSON, table)."""
    from zkrollup.anvil import AnvilError, anvil_binary

    if shutil.which("node") is None or not bench.bp.SNARKJS.exists():
        pytest.skip("node or node_modules/.bin/snarkjs is missing (npm ci)")
    try:
        anvil_binary()
    except AnvilError as exc:
        pytest.skip(str(exc))
    out = tmp_path_factory.mktemp("bench-gas")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("ZKROLLUP_CACHE", str(out / "keys"))
    capture = out / "table.txt"
    saved = sys.stdout
    try:
        with open(capture, "w") as sys.stdout:
            code = bench.main(["--quick", "--depth", str(DEPTH), "--json", str(out / "report.json")])
    finally:
        sys.stdout = saved
        monkeypatch.undo()
    return code, json.loads((out / "report.json").read_text()), capture.read_text()


def _rows(report: dict, binding: str) -> dict[int, dict]:
    return {b["transfers"]: b for b in report["batches"] if b["binding"] == binding}


def test_the_quick_run_measures_both_bindings_at_both_sizes_and_every_check_passes(printed):
    code, report, _ = printed
    assert code == 0 and report["ok"], [c for c in report["checks"] if not c["ok"]]
    assert {"settings", "machine", "tools", "verifiers", "batches", "targets", "checks"} <= set(report)
    assert sorted((b["binding"], b["transfers"]) for b in report["batches"]) == [
        ("evaluation", 1), ("evaluation", 4), ("sha256", 1), ("sha256", 4)]
    assert all(b["largest"] is False for b in report["batches"])      # --quick does not run the largest batch


@pytest.mark.parametrize("binding", ["evaluation", "sha256"])
def test_per_transfer_gas_is_the_whole_transaction_over_its_transfers_and_falls_with_the_batch(printed, binding):
    rows = _rows(printed[1], binding)
    for n, row in rows.items():
        assert row["per_transfer"] == pytest.approx(row["gas_used"] / n)
    assert rows[4]["per_transfer"] < rows[1]["per_transfer"]
    assert rows[4]["gas_used"] > rows[1]["gas_used"]                   # more pubdata costs more in all


@pytest.mark.parametrize("binding", ["evaluation", "sha256"])
def test_the_parts_add_up_to_the_transaction(printed, bench, binding):
    for row in _rows(printed[1], binding).values():
        parts = row["parts"]
        assert set(parts) == {"base", "calldata", "verification", "binding", "storage", "event", "other"}
        assert not row["calldata"]["floor_binds"]
        assert sum(parts.values()) == row["gas_used"]
        assert parts["base"] + parts["calldata"] + row["execution"] == row["gas_used"]
        assert all(parts[p] > 0 for p in parts)
        assert row["first_batch_gas_used"] > row["gas_used"]          # the first batch sets batchCount from zero


@pytest.mark.parametrize("binding", ["evaluation", "sha256"])
def test_verification_does_not_depend_on_the_batch_and_the_binding_grows_with_it(printed, binding):
    rows = _rows(printed[1], binding)
    assert rows[1]["parts"]["verification"] == rows[4]["parts"]["verification"]
    assert rows[1]["parts"]["storage"] == rows[4]["parts"]["storage"]
    assert rows[4]["parts"]["binding"] > rows[1]["parts"]["binding"]


def test_calldata_and_blob_prices_follow_the_eips(printed, bench):
    report = printed[1]
    base_fee = report["settings"]["base_fee_wei"]
    for row in report["batches"]:
        for priced in (row["calldata"], row["pubdata"]):
            assert priced["zero"] + priced["nonzero"] == priced["n_bytes"]
            assert priced["standard"] == 4 * priced["zero"] + 16 * priced["nonzero"]          # EIP-2028
            assert priced["floor"] == 10 * (priced["zero"] + 4 * priced["nonzero"])           # EIP-7623
        pubdata = row["pubdata"]
        layout = Layout(depth=DEPTH, arity=4, n_transfers=row["transfers"], n_registrations=0, binding=row["binding"])
        assert pubdata["n_bytes"] == layout.pubdata_length
        assert row["calldata"]["n_bytes"] > pubdata["n_bytes"]                  # the proof and roots come too
        assert row["parts"]["calldata"] == row["calldata"]["standard"]
        assert pubdata["cost_wei_as_calldata"] == pubdata["standard"] * base_fee
        assert pubdata["blobs"] == 1 and pubdata["blob_gas"] == bench.BLOB_GAS_PER_BLOB
        assert {int(f): c for f, c in pubdata["cost_wei_as_blobs"].items()} == {
            f: bench.BLOB_GAS_PER_BLOB * f for f in report["settings"]["blob_base_fees_wei"]}


def test_calldata_cost_and_blob_count_by_their_definitions(bench):
    cost = bench.calldata_cost(bytes([0, 0, 7, 255]))
    assert (cost.zero, cost.nonzero, cost.tokens, cost.standard, cost.floor) == (2, 2, 10, 40, 100)
    assert bench.blobs_for(0) == 1
    assert bench.blobs_for(4096 * 31) == 1 and bench.blobs_for(4096 * 31 + 1) == 2


def test_ours_and_snarkjs_verifiers_are_both_measured_on_the_same_proof(printed, bench):
    report = printed[1]
    by_binding = {v["binding"]: v for v in report["verifiers"]}
    assert set(by_binding) == {"evaluation", "sha256"}
    assert {b: v["public_inputs"] for b, v in by_binding.items()} == {"evaluation": 6, "sha256": 4}
    for binding, v in by_binding.items():
        for name in ("ours", "snarkjs"):
            m = v[name]
            assert m["accepts_proof"] and m["accepts_in_transaction"] and not m["accepts_wrong_input"]
            assert m["replay_gas"] == m["tx_gas"]                            # the traced replay is the transaction
            assert m["tx_gas"] == 21_000 + m["calldata_gas"] + m["execution_gas"]
            assert m["execution_gas"] > v["eip1108_precompiles"]              # no verifier beats the precompiles
        assert v["ours"]["calldata_gas"] == v["snarkjs"]["calldata_gas"]      # one ABI, one proof
        assert v["ours_over_snarkjs"] == pytest.approx(v["ours"]["tx_gas"] / v["snarkjs"]["tx_gas"])
        # Inside submitBatch the verifier costs what it costs alone, plus the call into it.
        measured_in_batch = _rows(report, binding)[4]["parts"]["verification"]
        assert measured_in_batch > v["ours"]["execution_gas"]
    targets = {t["figure"]: t for t in report["targets"]}
    for v in by_binding.values():
        ratio, = [t for f, t in targets.items() if "ours / snarkjs" in f and v["binding"] in f]
        assert ratio["met"] == (v["ours_over_snarkjs"] <= 1)
    assert all(t["met"] is None for f, t in targets.items() if "per transfer" in f)   # no largest batch in --quick


def test_the_table_shows_each_part_and_the_blob_comparison(printed):
    _, report, table = printed
    for heading in ("verifyProof alone", "ours/snarkjs", "submitBatch", "verification", "binding", "storage",
                    "event", "7623 floor", "blob gas", "blobs at 1 gwei", "per transfer against batch size",
                    "Targets (issue 9)"):
        assert heading in table
    assert f"checks: {len(report['checks'])}/{len(report['checks'])} passed" in table


@pytest.mark.parametrize("argv", [["--depth", "3"], ["--depth", "40"], ["--sizes", "0"], ["--bindings", "kzg"],
                                  ["--quick", "--sizes", "4"], ["--base-fee-gwei", "0"], ["--registrations", "-1"]])
def test_bad_arguments_are_refused(bench, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err
