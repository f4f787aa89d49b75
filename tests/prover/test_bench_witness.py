"""Smoke test of scripts/bench_witness.py on a small batch: the batch it makes executes in full, its two
solvers agree (the script refuses to report otherwise) and the report holds every figure. Times are never
compared."""

from __future__ import annotations


import pytest

from circuits.rollup.layout import Layout



@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench_witness")


def test_small_batch_is_built_executed_and_solved_alike_by_both_solvers(bench):
    layout = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1)
    report = bench.bench_batch(layout, repeat=1)
    assert report["layout"] == {"depth": 4, "arity": 4, "n_transfers": 2, "n_registrations": 1}
    assert report["constraints"] == bench.build_batch_circuit(layout).r1cs.n_constraints
    for name in ("build_s", "execute_s", "execute_loops_s", "python_solve_s", "compiled_solve_s",
                 "projected_2_20_witness_s"):
        assert report[name] > 0


def test_native_poseidon_and_gadget_figures_compare_forms_that_agree(bench):
    rows = bench.bench_native_poseidon(repeat=1)     # asserts equal permutations before timing
    assert [row["inputs"] for row in rows] == [2, 4, 16]
    assert bench.bench_poseidon_gadget_build(repeat=1)["constraints"] == 20 * 3 * (5 * 8 + 60 - 1)
