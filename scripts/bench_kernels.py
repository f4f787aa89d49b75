"""Kernel benchmark: Fq multiplication, G1/G2 MSM and NTT, with ffjavascript's G1 MSM on the same inputs.

Prints a table (or one JSON object with --json) of figures beside DESIGN §7's targets. It measures and
cross-checks results (ours == ffjavascript == py_ecc); it never asserts a time. `--quick` runs the
2^16 sizes only (well under a minute once Numba's cache is warm); the default runs every size.

    .venv/bin/python scripts/bench_kernels.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Importing prover pulls in numba and loads (or compiles) kernels lazily: count it in the start-up row.
_IMPORT_START = time.perf_counter()
import numpy as np  # noqa: E402
from py_ecc import optimized_bn128 as ecc  # noqa: E402

from prover.constants import Q, R  # noqa: E402
from prover.convert import fq_from_ints, fq_to_ints, g1_from_py_ecc, g1_to_ints, g2_from_py_ecc, g2_to_ints  # noqa: E402
from prover.convert import limbs_to_ints  # noqa: E402
from prover.curve import g1_batch_affine_add, g2_batch_affine_add  # noqa: E402
from prover.field import fq_mul  # noqa: E402
from prover.kernels.field import fq_mul_chain  # noqa: E402
from prover.msm import msm_g1, msm_g2  # noqa: E402

try:
    from prover.ntt import ntt
except ImportError:  # another engineer's module; the benchmark still runs without it
    ntt = None
_IMPORT_SECONDS = time.perf_counter() - _IMPORT_START

REPO = Path(__file__).resolve().parent.parent
FFJS_SCRIPT = REPO / "scripts" / "ffjs_msm.mjs"
FFJS_PACKAGE = REPO / "node_modules" / "ffjavascript" / "package.json"

# Points are (BASE_MULTIPLE + i) * G, so the MSM's exact result is (sum (BASE_MULTIPLE + i) * s_i) * G:
# py_ecc checks both implementations with one scalar multiplication.
BASE_MULTIPLE = 0x2F1E7B0A5C3D9E8F7A6B5C4D3E2F1A0B9C8D7E6F5A4B3C2D1E0F


# --- Plan --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """What to measure. Sizes are log2 of the number of points or elements."""

    mode: str
    g1_msm_logs: tuple[int, ...]
    g1_peer_logs: tuple[int, ...]
    g2_msm_logs: tuple[int, ...]
    ntt_logs: tuple[int, ...]
    mul_chain_rounds: int
    mul_array_log: int
    seed: int = 2024

    def repeats(self, log_n: int) -> int:
        """Best of a few for small sizes; one run where a single run takes seconds."""
        return 5 if log_n <= 16 else 3 if log_n <= 18 else 1

    def peer_repeats(self, log_n: int) -> int:
        return 3 if log_n <= 16 else 1


QUICK = Plan("quick", g1_msm_logs=(16,), g1_peer_logs=(16,), g2_msm_logs=(16,), ntt_logs=(16,),
             mul_chain_rounds=2_000_000, mul_array_log=20)
FULL = Plan("full", g1_msm_logs=(16, 18, 20), g1_peer_logs=(16, 18, 20), g2_msm_logs=(16,), ntt_logs=(16, 20),
            mul_chain_rounds=5_000_000, mul_array_log=20)
# For the smoke test: exercises every row in a second or two.
TINY = Plan("tiny", g1_msm_logs=(8,), g1_peer_logs=(8,), g2_msm_logs=(6,), ntt_logs=(6,),
            mul_chain_rounds=10_000, mul_array_log=10)

# DESIGN §7 targets, keyed by figure id.
TARGETS = {
    "fq_mul_latency_ns": ("<= 22 ns", lambda v: v <= 22.0),
    "g1_msm_2^16_s": ("<= 0.2 s", lambda v: v <= 0.2),
    "g1_msm_2^20_s": ("<= 3 s", lambda v: v <= 3.0),
    "ntt_2^20_s": ("<= 0.25 s", lambda v: v <= 0.25),
    "g1_msm_2^16_vs_ffjavascript": (">= 10x", lambda v: v >= 10.0),
    "g1_msm_2^20_vs_ffjavascript": (">= 10x", lambda v: v >= 10.0),
}


# --- Report ------------------------------------------------------------------------------------------

@dataclass
class Figure:
    id: str
    figure: str
    unit: str
    ours: float | None = None
    peer: float | None = None
    ratio: float | None = None  # peer / ours: how many times faster we are
    target: str = "-"
    met: bool | None = None
    note: str = ""


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    mode: str
    machine: dict
    peer: dict
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, figure: Figure) -> Figure:
        target = TARGETS.get(figure.id)
        value = figure.ratio if figure.id.endswith("_vs_ffjavascript") else figure.ours
        if target is not None:
            figure.target = target[0]
            figure.met = None if value is None else bool(target[1](value))
        self.figures.append(figure)
        return figure

    def to_json(self) -> dict:
        return {"mode": self.mode, "ok": self.ok, "machine": self.machine, "peer": self.peer,
                "figures": [asdict(f) for f in self.figures], "checks": [asdict(c) for c in self.checks]}


# --- Inputs ------------------------------------------------------------------------------------------

def _progression(n: int, generator, from_py_ecc, batch_affine_add) -> np.ndarray:
    """(BASE_MULTIPLE + i) * generator for i < n, doubling the array each round with batch-affine adds."""
    points = from_py_ecc([ecc.multiply(generator, BASE_MULTIPLE)])
    while len(points) < n:
        step = from_py_ecc([ecc.multiply(generator, len(points))])
        points = np.concatenate([points, batch_affine_add(points, np.repeat(step, len(points), axis=0))])
    return np.ascontiguousarray(points[:n])


def g1_progression(n: int) -> np.ndarray:
    """(n, 2, 4) affine Montgomery G1 points (BASE_MULTIPLE + i) * G1."""
    return _progression(n, ecc.G1, g1_from_py_ecc, g1_batch_affine_add)


def g2_progression(n: int) -> np.ndarray:
    """(n, 2, 2, 4) affine Montgomery G2 points (BASE_MULTIPLE + i) * G2."""
    return _progression(n, ecc.G2, g2_from_py_ecc, g2_batch_affine_add)


def random_scalars(n: int, seed: int) -> np.ndarray:
    """(n, 4) standard-form scalars below 2^253 < r: uniformly random 253-bit values."""
    scalars = np.random.default_rng(seed).integers(0, 2**64, size=(n, 4), dtype=np.uint64, endpoint=False)
    scalars[:, 3] &= np.uint64((1 << 61) - 1)
    return scalars


def random_fr(n: int, seed: int) -> np.ndarray:
    """(n, 4) Fr elements in Montgomery form (any value below r is some element's Montgomery form)."""
    return random_scalars(n, seed)


def expected_msm(generator, scalars: np.ndarray):
    """py_ecc affine (x, y) ints of sum_i s_i * (BASE_MULTIPLE + i) * generator: the MSM's closed form."""
    exponent = sum(s * (BASE_MULTIPLE + i) for i, s in enumerate(limbs_to_ints(scalars))) % R
    if exponent == 0:
        return None
    x, y = ecc.normalize(ecc.multiply(generator, exponent))
    if hasattr(x, "coeffs"):
        return (tuple(int(c) for c in x.coeffs), tuple(int(c) for c in y.coeffs))
    return (int(x), int(y))


# --- Timing ------------------------------------------------------------------------------------------

def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Shortest wall time of `repeats` calls (time.perf_counter), and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def numba_cache_present() -> bool:
    """Is there a Numba cache index for the MSM kernel, newer than its source (a warm start)?

    Numba itself keys the index on the source file's time stamp, so an older index means a recompile.
    """
    import numba

    source = REPO / "prover" / "kernels" / "msm.py"
    # NUMBA_CACHE_DIR, when set, is where Numba looks first and saves to.
    places = [Path(numba.config.CACHE_DIR)] if numba.config.CACHE_DIR else [source.parent / "__pycache__"]
    indexes = [index for place in places if place.is_dir() for index in place.rglob("msm.window_sums-*.nbi")]
    return source.is_file() and any(index.stat().st_mtime >= source.stat().st_mtime for index in indexes)


def warm_up() -> float:
    """First call of every kernel this benchmark times, at tiny sizes: Numba's cache load or compile."""
    start = time.perf_counter()
    one = _fq_tuple(1)
    fq_mul_chain(one, one, 1)
    fq_mul(fq_from_ints([2, 3]), fq_from_ints([5, 7]))
    points1, points2, scalars = g1_progression(4), g2_progression(4), random_scalars(4, 1)
    msm_g1(points1, scalars)
    msm_g2(points2, scalars)
    if ntt is not None:
        ntt(random_fr(4, 1))
    return time.perf_counter() - start


def _fq_tuple(value: int) -> tuple:
    return tuple(np.uint64(limb) for limb in fq_from_ints([value])[0])


# --- The peer: ffjavascript through node ----------------------------------------------------------

@dataclass(frozen=True)
class PeerRun:
    seconds: float
    result: tuple[int, int] | None
    threads: int
    ffjavascript: str
    node: str


def peer_unavailable_reason() -> str | None:
    """Why ffjavascript cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node not found"
    if not FFJS_PACKAGE.is_file():
        return "node_modules/ffjavascript missing; run bash scripts/setup"
    return None


def ffjavascript_msm(points: np.ndarray, scalars: np.ndarray, repeats: int = 1) -> PeerRun:
    """ffjavascript's G1.multiExpAffine on the same bytes; best of `repeats` (node start-up excluded)."""
    points = np.ascontiguousarray(points, dtype="<u8")
    scalars = np.ascontiguousarray(scalars, dtype="<u8")
    with tempfile.TemporaryDirectory(prefix="zkrollup-bench-") as scratch:
        points_file, scalars_file = Path(scratch) / "points.bin", Path(scratch) / "scalars.bin"
        points.tofile(points_file)
        scalars.tofile(scalars_file)
        done = subprocess.run(["node", str(FFJS_SCRIPT), str(points_file), str(scalars_file), "--repeats", str(repeats)],
                              cwd=REPO, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"ffjs_msm.mjs failed ({done.returncode}): {done.stderr.strip()}")
    out = json.loads(done.stdout)
    result = None if out["result"] is None else (int(out["result"][0]), int(out["result"][1]))
    return PeerRun(out["best_s"], result, out["threads"], out["ffjavascript"], out["node"])


def _keep_inputs(points: np.ndarray, scalars: np.ndarray) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="zkrollup-msm-mismatch-"))
    points.astype("<u8").tofile(folder / "points.bin")
    scalars.astype("<u8").tofile(folder / "scalars.bin")
    return folder


# --- The run ---------------------------------------------------------------------------------------

def run(plan: Plan, log: Callable[[str], None] = lambda line: None) -> Report:
    import numba

    threads = numba.get_num_threads()
    cache_warm = numba_cache_present()
    report = Report(plan.mode, machine={
        "cpus": os.cpu_count(), "numba_threads": threads, "numba": numba.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "machine": platform.machine(), "numba_cache_at_start": cache_warm,
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }, peer={"name": "ffjavascript", "available": peer_unavailable_reason() is None,
             "why_not": peer_unavailable_reason()})

    log("warming up kernels ...")
    warm_s = warm_up() + _IMPORT_SECONDS
    state = "warm" if cache_warm else "cold"
    startup = report.add(Figure("startup_s", f"start-up: import + first call of each kernel (Numba cache {state})", "s",
                                ours=warm_s, target="<= 2 s warm" if cache_warm else "<= 60 s cold"))
    startup.met = warm_s <= (2.0 if cache_warm else 60.0)

    _fq_mul_figures(report, plan, threads, log)
    _g1_msm_figures(report, plan, threads, log)
    _g2_msm_figures(report, plan, threads, log)
    _ntt_figures(report, plan, threads, log)
    return report


def _fq_mul_figures(report: Report, plan: Plan, threads: int, log) -> None:
    log("Fq mul ...")
    a, b = 0x1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF, Q - 3
    rounds = plan.mul_chain_rounds
    # Many short runs rather than a few long ones: on shared cores, the best one escapes preemption.
    seconds, chained = best_of(9, lambda: fq_mul_chain(_fq_tuple(a), _fq_tuple(b), rounds))
    got = fq_to_ints(np.array(chained, dtype=np.uint64)[None])[0]
    _check(report, "fq_mul_chain equals a * b^rounds mod q", got == a * pow(b, rounds, Q) % Q, f"rounds={rounds}")
    report.add(Figure("fq_mul_latency_ns", "Fq mul, latency (dependent chain, 1 thread)", "ns",
                      ours=seconds / rounds * 1e9))

    n = 1 << plan.mul_array_log
    left, right = random_fr(n, plan.seed), random_fr(n, plan.seed + 1)  # below r < q: valid Fq limbs
    seconds, _ = best_of(5, lambda: fq_mul(left, right))
    report.add(Figure("fq_mul_throughput_ns",
                      f"Fq mul, throughput (fq_mul on 2^{plan.mul_array_log} incl. allocation, {threads} threads)",
                      "ns", ours=seconds / n * 1e9))


def _g1_msm_figures(report: Report, plan: Plan, threads: int, log) -> None:
    if not plan.g1_msm_logs:
        return
    largest = 1 << max(plan.g1_msm_logs + plan.g1_peer_logs)
    log(f"making 2^{largest.bit_length() - 1} G1 points ...")
    all_points, all_scalars = g1_progression(largest), random_scalars(largest, plan.seed)
    why_not = peer_unavailable_reason()
    for log_n in plan.g1_msm_logs:
        n = 1 << log_n
        points, scalars = all_points[:n], all_scalars[:n]
        log(f"G1 MSM 2^{log_n}: ours ...")
        seconds, ours = best_of(plan.repeats(log_n), lambda: msm_g1(points, scalars))
        ours_ints = g1_to_ints(ours[None])[0]
        _check(report, f"G1 MSM 2^{log_n}: ours equals py_ecc's closed form", ours_ints == expected_msm(ecc.G1, scalars),
               lambda: f"inputs kept in {_keep_inputs(points, scalars)}")
        report.add(Figure(f"g1_msm_2^{log_n}_s", f"G1 MSM 2^{log_n}, ours ({threads} threads)", "s", ours=seconds))
        if log_n not in plan.g1_peer_logs:
            continue
        figure = Figure(f"g1_msm_2^{log_n}_vs_ffjavascript", f"G1 MSM 2^{log_n}, vs ffjavascript", "s", ours=seconds)
        if why_not is not None:
            figure.note = f"n/a ({why_not})"
        else:
            log(f"G1 MSM 2^{log_n}: ffjavascript ...")
            peer = ffjavascript_msm(points, scalars, plan.peer_repeats(log_n))
            report.peer.update(version=peer.ffjavascript, node=peer.node, threads=peer.threads)
            figure.figure += f" ({peer.threads} workers)"
            figure.peer, figure.ratio = peer.seconds, peer.seconds / seconds
            _check(report, f"G1 MSM 2^{log_n}: ffjavascript's result equals ours", peer.result == ours_ints,
                   lambda: f"ours {ours_ints}, ffjavascript {peer.result}; inputs kept in {_keep_inputs(points, scalars)}")
        report.add(figure)


def _g2_msm_figures(report: Report, plan: Plan, threads: int, log) -> None:
    if not plan.g2_msm_logs:
        return
    largest = 1 << max(plan.g2_msm_logs)
    log(f"making 2^{largest.bit_length() - 1} G2 points ...")
    all_points, all_scalars = g2_progression(largest), random_scalars(largest, plan.seed + 2)
    for log_n in plan.g2_msm_logs:
        n = 1 << log_n
        points, scalars = all_points[:n], all_scalars[:n]
        log(f"G2 MSM 2^{log_n} ...")
        seconds, ours = best_of(plan.repeats(log_n), lambda: msm_g2(points, scalars))
        _check(report, f"G2 MSM 2^{log_n}: ours equals py_ecc's closed form",
               g2_to_ints(ours[None])[0] == expected_msm(ecc.G2, scalars))
        report.add(Figure(f"g2_msm_2^{log_n}_s", f"G2 MSM 2^{log_n}, ours ({threads} threads)", "s", ours=seconds))


def _ntt_figures(report: Report, plan: Plan, threads: int, log) -> None:
    for log_n in plan.ntt_logs:
        figure = Figure(f"ntt_2^{log_n}_s", f"NTT 2^{log_n} ({threads} threads)", "s")
        if ntt is None:
            figure.note = "n/a (prover.ntt missing)"
        else:
            log(f"NTT 2^{log_n} ...")
            values = random_fr(1 << log_n, plan.seed + 3)
            ntt(values)  # the first call at a new largest size builds its twiddle table
            figure.ours, _ = best_of(max(3, plan.repeats(log_n)), lambda: ntt(values))
        report.add(figure)


def _check(report: Report, what: str, ok: bool, detail: str | Callable[[], str] = "") -> None:
    if not ok and callable(detail):
        detail = detail()
    report.checks.append(Check(what, bool(ok), detail if isinstance(detail, str) else ""))


# --- Output ------------------------------------------------------------------------------------------

def _value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ns":
        return f"{value:.1f} ns"
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    return f"{value * 1e3:.1f} ms" if value < 0.1 else f"{value:.3f} s"


def render_table(report: Report) -> str:
    rows = [("figure", "ours", "peer", "ratio", "target", "met?")]
    for f in report.figures:
        met = "-" if f.met is None else "yes" if f.met else "NO"
        # A note stands where its figure is missing: ours (no kernel) or the peer's (no node).
        ours = _value(f.ours, f.unit) or f.note
        peer = _value(f.peer, f.unit) or (f.note if f.ours is not None and f.id.endswith("_vs_ffjavascript") else "")
        rows.append((f.figure, ours, peer,
                     "" if f.ratio is None else f"{f.ratio:.1f}x", f.target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    m, p = report.machine, report.peer
    lines.insert(0, f"zkrollup kernel benchmark ({report.mode}): {m['cpus']} CPUs, Numba {m['numba']} with "
                    f"{m['numba_threads']} threads, Python {m['python']}, {m['machine']}")
    busy = m["load_average_at_start"] > 0.75 * m["cpus"]  # the 1-minute average lags: only flag real crowding
    lines.insert(1, f"load average at start: {m['load_average_at_start']}"
                    + (" (other work shares these cores: figures are pessimistic)" if busy else ""))
    lines.insert(2, "")
    lines.append("")
    if p.get("version"):
        lines.append(f"peer: ffjavascript {p['version']} (the engine inside snarkjs) on node {p['node']}, "
                     f"G1.multiExpAffine over {p['threads']} worker threads (all cores), node start-up and curve "
                     "building excluded; ratio = peer time / our time.")
    elif not p["available"]:
        lines.append(f"peer: ffjavascript not run: {p['why_not']}")
    lines.append("times: wall clock, best of 5 runs up to 2^16, 3 at 2^18, 1 at 2^20 (ffjavascript: 3 at 2^16, "
                 "else 1); inputs: points (k + i) * G, random 253-bit scalars.")
    for c in report.checks:
        if not c.ok:
            lines.append(f"MISMATCH: {c.what} FAILED. {c.detail}")
    lines.append(f"checks: {sum(c.ok for c in report.checks)}/{len(report.checks)} results agree "
                 "(ours, ffjavascript, py_ecc closed form)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2^16 sizes only, under a minute once Numba's cache is warm")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = run(plan, log)
    print(json.dumps(report.to_json(), indent=2) if args.json else render_table(report))
    if not report.ok:
        for c in report.checks:
            if not c.ok:
                print(f"\n*** MISMATCH: {c.what} FAILED. {c.detail} ***", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
