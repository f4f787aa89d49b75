"""Smoke test of scripts/bench_rollup.py on trees of 4 and 16 accounts: its per-transfer breakdown, its data-binding
measurement, its choice of the largest batch, and its main path (a batch built, signed, executed, solved, set up,
proved and verified), with the JSON and the table it prints. Times are never asserted; sizes, shapes and verdicts
are. The snarkjs part skips without node; groth16py's runs are bench_prove.py's, tested there.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from circuits.rollup.batch import build_batch_circuit
from circuits.rollup.layout import Layout
from zkrollup.executor import execute_batch

DEPTH = 2            # 4 accounts: the smallest tree both arities take
TINY_DOMAIN = 14     # the largest batch at DEPTH within 2^14 constraints holds one transfer
ONE_RUN = {"ours": 1, "ours_cli": 1, "snarkjs": 1}


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench_rollup")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-rollup-cache")


@pytest.fixture(scope="module")
def printed(bench, cache, tmp_path_factory):
    """The script's command line, run once: (exit code, its JSON file, the table it printed)."""
    out = tmp_path_factory.mktemp("bench-rollup-out")
    capture = out / "table.txt"
    saved = sys.stdout
    with open(capture, "w") as sys.stdout:
        try:
            code = bench.main(["--depths", str(DEPTH), "--sizes", "max", "--max-log-domain", str(TINY_DOMAIN),
                               "--only", "ours", "--repeats", "1", "--cache", str(cache), "--no-install",
                               "--json", str(out / "report.json")])
        finally:
            sys.stdout = saved
    return code, json.loads((out / "report.json").read_text()), capture.read_text()


@pytest.fixture(scope="module")
def slots(bench, printed):
    """SlotCosts at DEPTH for arity 2 and 4, as the run measured them."""
    return {s["arity"]: bench.SlotCosts(**s) for s in printed[1]["slots"]}


# --- the per-transfer breakdown ----------------------------------------------------------------------

@pytest.mark.parametrize("path, category", [
    ("transfer[0]", "slot_control"),
    ("transfer[0]/assert_bool", "slot_control"),
    ("transfer[0]/signature/poseidon(6)/poseidon_permutation(t=7)", "signature"),
    ("transfer[0]/signature/eddsa_poseidon_verify/babyjub_add", "signature"),
    ("transfer[0]/sender/tree_update(arity=4, depth=4)/poseidon(4)/poseidon_permutation(t=5)", "merkle"),
    ("transfer[0]/receiver/merkle_update(depth=20)/merkle_root(depth=20)", "merkle"),
    ("transfer[0]/sender", "merkle"),
    ("transfer[0]/receiver/poseidon(4)/poseidon_permutation(t=5)", "leaves"),
    ("transfer[0]/sender/range_check/to_binary/assert_bool", "range_checks"),
    ("transfer[0]/to_binary/assert_bool", "bits"),
    ("transfer[0]/sender/a_gadget_nobody_knows", "other"),
    ("transfer[1]/signature", None),
    ("transfer[10]", None),
    ("fee_credit/poseidon(4)/poseidon_permutation(t=5)", None),
    ("data_binding", None),
])
def test_a_constraint_is_sorted_by_its_gadget_path(bench, path, category):
    assert bench.transfer_category(path) == category


def test_only_the_named_slot_is_sorted(bench):
    assert bench.transfer_category("transfer[1]/signature", slot=1) == "signature"
    assert bench.transfer_category("transfer[10]/signature", slot=1) is None


@pytest.mark.parametrize("arity", [2, 4])
def test_the_breakdown_accounts_for_every_constraint_of_the_transfer_slot(slots, bench, arity):
    s = slots[arity]
    assert sum(s.breakdown.values()) == s.transfer
    assert s.breakdown.get("other", 0) == 0
    assert all(s.breakdown[c] > 0 for c in bench.CATEGORIES)


def test_the_arity_changes_only_the_merkle_share(slots, bench):
    binary, quaternary = slots[2].breakdown, slots[4].breakdown
    assert binary["merkle"] != quaternary["merkle"]
    assert all(binary[c] == quaternary[c] for c in bench.CATEGORIES if c != "merkle")


def test_a_deeper_tree_adds_only_merkle_levels_and_index_bits(slots, bench):
    deeper = bench.measure_slots(DEPTH + 2, 4)
    grown = {c: deeper.breakdown[c] - slots[4].breakdown[c] for c in bench.CATEGORIES}
    assert grown["merkle"] > 0
    assert grown["bits"] == 2 * 2          # two more bits in each of the sender's and receiver's index
    assert all(grown[c] == 0 for c in bench.CATEGORIES if c not in ("merkle", "bits"))


@pytest.mark.parametrize("binding, transfers, registrations", [("evaluation", 2, 1), ("sha256", 1, 1)])
def test_the_predicted_size_is_the_built_circuits(slots, bench, binding, transfers, registrations):
    layout = Layout(depth=DEPTH, arity=4, n_transfers=transfers, n_registrations=registrations, binding=binding)
    assert bench.predicted_constraints(slots[4], layout) == build_batch_circuit(layout).r1cs.n_constraints


def test_the_largest_batch_is_the_last_that_fits_the_domain(slots, bench):
    def layout(n):
        return Layout(depth=DEPTH, arity=4, n_transfers=n, n_registrations=1, binding="evaluation")

    def fits(n):
        return bench.fits(bench.predicted_constraints(slots[4], layout(n)), len(layout(n).public_input_names), 16)

    n = bench.largest_batch(slots[4], 4, "evaluation", 1, max_log_domain=16)
    assert n >= 2
    assert fits(n) and not fits(n + 1)
    assert bench.largest_batch(slots[4], 4, "evaluation", 1, max_log_domain=10) == 0


def test_batch_work_in_a_tiny_tree_reuses_accounts_and_every_transfer_executes(bench):
    layout = Layout(depth=DEPTH, arity=4, n_transfers=3, n_registrations=0)
    work = bench.make_batch_work(layout, 3)
    assert len(work.state.accounts) == 3   # all of a 4-account tree but the reserved account 0
    result = execute_batch(work.state, work.chain_id, work.fee_account, work.registrations, work.transfers)
    assert result.included == [0, 1, 2] and not result.dropped and not result.deferred
    with_registration = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1)
    work = bench.make_batch_work(with_registration, 2)
    result = execute_batch(work.state, work.chain_id, work.fee_account, work.registrations, work.transfers)
    assert len(result.registrations) == 1 and result.included == [0, 1]


# --- the main path -----------------------------------------------------------------------------------

def test_main_path_proves_and_verifies_the_largest_batch_and_reports_every_figure(printed, bench):
    code, report, _ = printed
    assert code == 0 and report["ok"], [c for c in report["checks"] if not c["ok"]]
    assert {"settings", "machine", "slots", "per_transfer", "binding_measured", "batches", "checks"} <= set(report)
    rows = report["per_transfer"]
    assert {(r["arity"], r["binding"]) for r in rows} == {(a, b) for a in (2, 4) for b in ("evaluation", "sha256")}
    for r in rows:
        assert r["per_transfer"] == pytest.approx(r["transfer_slot"] + r["data_binding"])
        assert sum(r["breakdown"].values()) == r["transfer_slot"]
    share = {r["binding"]: r["data_binding"] for r in rows}
    assert 0 < share["evaluation"] < share["sha256"]

    batch, = report["batches"]
    assert batch["largest"] and batch["transfers"] >= 1 and batch["accounts_log2"] == DEPTH
    assert batch["constraints"] == batch["predicted_constraints"]
    assert batch["domain"] == 1 << TINY_DOMAIN
    for figure in ("build_s", "setup_s", "executor_s", "witness_s", "sign_s"):
        assert batch[figure] > 0
    ours = batch["ours"]
    assert ours["prove_s"] > 0 and ours["verify_ms"] > 0 and ours["cli"]["peak_rss_mb"] > 0
    assert {"witness", "coset NTTs", "MSM A", "MSM H", "finish"} <= set(ours["stages"])
    whats = [c["what"] for c in report["checks"]]
    for needed in ("ours (in process): our verifier accepts the proof", "ours (CLI): our verifier accepts the proof",
                   "the built circuit has the predicted size", "public inputs are those the L1 derives"):
        assert any(needed in w for w in whats), needed
    assert "snarkjs" not in batch and "groth16py" not in batch   # not asked for


def test_the_table_shows_the_breakdown_and_the_batch(printed):
    _, report, table = printed
    for heading in ("Merkle paths", "signature", "leaves", "range checks", "data binding", "per transfer",
                    "prove ours", "peak RSS ours", "snarkjs/ours", "stage breakdown"):
        assert heading in table
    assert f"checks: {len(report['checks'])}/{len(report['checks'])} passed" in table


def test_a_second_run_reads_circuit_and_key_from_the_cache(printed, bench, cache, capsys):
    code = bench.main(["--depths", str(DEPTH), "--sizes", "max", "--max-log-domain", str(TINY_DOMAIN), "--only", "ours",
                       "--repeats", "1", "--cache", str(cache), "--no-breakdown", "--no-install", "--json"])
    again = json.loads(capsys.readouterr().out)
    assert code == 0 and again["ok"]
    first, second = printed[1]["batches"][0], again["batches"][0]
    assert not first["cached"] and second["cached"]
    assert second["constraints"] == first["constraints"] and second["setup_s"] == first["setup_s"]
    assert again["per_transfer"] == []


@pytest.mark.parametrize("argv", [["--depths", "3"], ["--depths", "40"], ["--sizes", "0"], ["--sizes", "big"],
                                  ["--quick", "--sizes", "4"], ["--only", "rapidsnark"], ["--registrations", "-1"],
                                  ["--arity", "3"], ["--repeats", "0"]])
def test_bad_arguments_are_refused(bench, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.node
def test_snarkjs_proves_our_files_and_every_proof_verifies(bench, cache, printed):
    if shutil.which("node") is None or not bench.bp.SNARKJS.exists():
        pytest.skip("node or node_modules/.bin/snarkjs is missing")
    report = bench.run((DEPTH,), (1,), provers=("ours", "snarkjs"), breakdown=False,
                       max_log_domain=TINY_DOMAIN, cache_root=cache, install_peers=False, mode="test", repeats=ONE_RUN)
    assert report.ok, [c for c in report.checks if not c.ok]
    batch, = report.batches
    assert batch["snarkjs"]["prove_s"] > 0 and batch["ratios"]["snarkjs_over_ours"] > 0
    whats = [c.what for c in report.checks]
    for needed in ("snarkjs: groth16 prove succeeds on our .zkey", "snarkjs: our verifier accepts the proof",
                   "snarkjs: snarkjs groth16 verify accepts the proof",
                   "ours (in process): snarkjs groth16 verify accepts the proof"):
        assert any(needed in w for w in whats), needed
