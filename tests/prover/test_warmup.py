"""The first-run warm-up: every step announced through progress(done, total, name), a marker that makes
later calls free, and `python -m prover.warmup` (what scripts/setup runs) printing one line per step
when its stderr is not a terminal. Times are never asserted (see scripts/bench_prove.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prover import kernels
from prover.warmup import STEPS, ensure_compiled

ROOT = Path(__file__).resolve().parents[2]


def test_every_step_is_announced_before_it_runs_and_the_end_is_reported():
    calls = []
    report = kernels.ensure_compiled(lambda done, total, name: calls.append((done, total, name)),
                                     helper=False, force=True)
    total = len(STEPS)
    assert calls[0] == (0, total, STEPS[0][0])
    assert calls[-1] == (total, total, "")
    assert [name for _, _, name in calls[:-1]] == [name for name, _, _ in STEPS]
    assert [done for done, _, _ in calls] == list(range(total + 1))
    assert set(report.steps) == {name for name, _, _ in STEPS} and not report.already_warm


def test_once_a_warm_up_has_completed_later_calls_return_without_running_a_step():
    ensure_compiled(helper=False, force=True)
    calls = []
    report = ensure_compiled(lambda *args: calls.append(args))
    assert report.already_warm and not report.steps and calls == []


def test_the_setup_script_prints_one_plain_line_per_step_when_not_on_a_terminal():
    done = subprocess.run([sys.executable, "-m", "prover.warmup", "--force"], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    import re

    expected = [f"compiling kernels, first run only (a few minutes on 2 cores): {i}/{len(STEPS)} {name}, "
                for i, (name, _, _) in enumerate(STEPS, start=1)]
    assert [line[:len(e)] for line, e in zip(lines, expected)] == expected
    assert all(re.fullmatch(r"\d+ s so far", line[len(e):]) for line, e in zip(lines, expected))
    assert lines[-1].startswith("kernels ready:") and "\r" not in done.stderr
    assert "python -m prover.warmup" in (ROOT / "scripts" / "setup").read_text()
