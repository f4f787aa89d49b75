"""Smoke test of scripts/bench_kernels.py at tiny sizes: its inputs, its peer run and its report.

Results are compared (ours, ffjavascript, py_ecc's closed form); times never are.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from prover.constants import R
from prover.convert import g1_to_ints, limbs_to_ints
from prover.msm import msm_g1



@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench_kernels")


def test_progression_points_are_consecutive_multiples_of_the_generator(bench):
    from py_ecc import optimized_bn128 as ecc

    points = g1_to_ints(bench.g1_progression(5))
    for i, point in enumerate(points):
        x, y = ecc.normalize(ecc.multiply(ecc.G1, bench.BASE_MULTIPLE + i))
        assert point == (int(x), int(y))


def test_random_scalars_are_below_r_and_differ(bench):
    scalars = limbs_to_ints(bench.random_scalars(64, seed=3))
    assert all(0 <= s < R for s in scalars)
    assert len(set(scalars)) == 64


def test_our_g1_msm_equals_the_closed_form(bench):
    points, scalars = bench.g1_progression(256), bench.random_scalars(256, seed=11)
    assert g1_to_ints(msm_g1(points, scalars)[None])[0] == bench.expected_msm(bench.ecc.G1, scalars)


@pytest.mark.node
def test_ffjavascript_and_our_g1_msm_agree_on_the_same_bytes(bench):
    if (why := bench.peer_unavailable_reason()) is not None:
        pytest.skip(why)
    points, scalars = bench.g1_progression(256), bench.random_scalars(256, seed=5)
    peer = bench.ffjavascript_msm(points, scalars, repeats=1)
    ours = g1_to_ints(msm_g1(points, scalars)[None])[0]
    assert peer.result == ours
    assert peer.threads >= 1


@pytest.mark.node
def test_ffjavascript_sees_a_zero_scalar_vector_as_infinity(bench):
    if (why := bench.peer_unavailable_reason()) is not None:
        pytest.skip(why)
    points = bench.g1_progression(8)
    peer = bench.ffjavascript_msm(points, np.zeros((8, 4), np.uint64))
    assert peer.result is None


def test_tiny_run_reports_every_figure_and_all_checks_pass(bench):
    report = bench.run(bench.TINY)
    ids = {f.id for f in report.figures}
    assert {"startup_s", "fq_mul_latency_ns", "fq_mul_throughput_ns", "g1_msm_2^8_s",
            "g1_msm_2^8_vs_ffjavascript", "g2_msm_2^6_s", "ntt_2^6_s"} <= ids
    assert report.ok, [c for c in report.checks if not c.ok]
    table = bench.render_table(report)
    assert any(line.startswith("figure ") for line in table.splitlines())
    decoded = json.loads(json.dumps(report.to_json()))
    assert decoded["ok"] is True and decoded["mode"] == "tiny"
