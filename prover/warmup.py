"""Compile (first run) or load (every later run) every Numba kernel the prover uses, with progress.

Numba compiles a kernel on its first call for each argument type and keeps the machine code in its
on-disk cache. Left to itself, that first call happens in the middle of a user's first proof or
setup, silently, for about a minute. `ensure_compiled` does it up front, step by step, calling the
same public functions the prover calls (so the argument types are exactly the ones a proof meets;
`prover.arrays.kernel_input` makes those the same for every key and witness). On a cold cache it
shares the steps with one helper process, so both cores compile; on a warm cache it loads the
kernels in about a second. It does not decide anything about the arithmetic: see the kernels.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, the step now running)


# --- The steps ----------------------------------------------------------------------------------------
# Each step calls public prover functions on tiny inputs; together they reach every kernel and every
# argument type that setup, load_zkey, prove and the key checks use (G1 and G2, the eight-lane IFMA
# MSM where the CPU has it, else the scalar one; NTTs long enough for every stage kernel).

def _fr(n: int, seed: int = 1) -> np.ndarray:
    from .convert import fr_from_ints

    return fr_from_ints((seed * 7919 + 31 * i * i + i) for i in range(n))


def _step_fr_arithmetic() -> None:
    from . import field

    a, b = _fr(64), _fr(64, 2)
    field.fr_from_montgomery(field.fr_sub(field.fr_mul(a, b), field.fr_add(a, b)))
    field.fr_to_montgomery(field.fr_from_montgomery(a))


def _step_fr_inverse() -> None:
    from . import field

    field.fr_batch_inv(_fr(64))


def _step_ntt_blocks() -> None:
    from . import ntt
    from .constants import root_of_unity

    values = _fr(1 << 13)  # in-block stages, then one single stage
    ntt.coset_ntt(ntt.intt(ntt.ntt(values)), root_of_unity(14))


def _step_ntt_stages() -> None:
    from . import ntt

    ntt.ntt(_fr(1 << 14))  # in-block stages, then a radix-4 pair of stages


def _step_qap() -> None:
    from .groth16 import witness_array
    from .kernels import qap
    from .arrays import kernel_input
    from .zkey import coefficient_records

    n = 8
    records = coefficient_records(np.array([0, 1], np.uint32), np.array([0, 1], np.uint32),
                                  np.array([0, 1], np.uint32), np.ones((2, 4), np.uint64))
    z = witness_array(list(range(1, n + 1)))
    out_a, out_b = np.zeros((n, 4), np.uint64), np.zeros((n, 4), np.uint64)
    qap.build_ab(kernel_input(records.view(np.uint8)), n, n, kernel_input(z), out_a, out_b)


def _msm_inputs(g2: bool, n: int = 64):
    from .constants import G1_GENERATOR, G2_GENERATOR
    from .convert import g1_from_ints, g2_from_ints, scalars_from_ints

    points = (g2_from_ints if g2 else g1_from_ints)([G2_GENERATOR if g2 else G1_GENERATOR] * n)
    scalars = scalars_from_ints([1, 0] + [(i * 0x9E3779B97F4A7C15) ** 3 % (1 << 250) for i in range(n - 2)])
    return points, scalars


def _step_msm(g2: bool) -> Callable[[], None]:
    def step() -> None:
        from . import msm

        points, scalars = _msm_inputs(g2)
        (msm.msm_g2 if g2 else msm.msm_g1)(points, scalars)

    return step


def _step_setup_scalars() -> None:
    from .kernels import qap
    from .arrays import kernel_input
    from .setup import _fr1

    out = np.empty((16, 4), np.uint64)
    qap.fr_powers(_fr1(5), _fr1(1), out)
    indptr, indices = np.array([0, 1, 2], np.int64), np.array([0, 1], np.int64)
    qap.accumulate_columns(kernel_input(indptr), kernel_input(indices), kernel_input(_fr(2)),
                           kernel_input(_fr(2)), np.zeros((2, 4), np.uint64))


def _step_setup_points(g2: bool) -> Callable[[], None]:
    def step() -> None:
        from .constants import G1_GENERATOR, G2_GENERATOR
        from .convert import g1_from_ints, g2_from_ints
        from .kernels.field import FQ2_LIKE, FQ_LIKE
        from .setup import _FixedBase

        generator = g2_from_ints([G2_GENERATOR]) if g2 else g1_from_ints([G1_GENERATOR])
        fixed = _FixedBase(generator, FQ2_LIKE if g2 else FQ_LIKE)
        fixed(_msm_inputs(g2, 8)[1])

    return step


def _step_point_checks() -> None:
    from . import curve

    for g2 in (False, True):
        points = _msm_inputs(g2, 4)[0]
        (curve.g2_is_on_curve if g2 else curve.g1_is_on_curve)(points)


def _step_solver() -> None:
    from circuits.builder import ConstraintSystem
    from circuits.gadgets import to_binary
    from circuits.poseidon import poseidon_gadget

    from .solver import solve_witness

    cs = ConstraintSystem()
    x = cs.private_input("x")
    cs.public_output("h", poseidon_gadget(cs, [x, cs.inverse(x + 1)]))
    to_binary(cs, x, 8)
    solve_witness(cs.compile(), {"x": 5})


def _step_poseidon() -> None:
    from .poseidon import poseidon_many_fast, poseidon_path_fast

    for width in range(1, 17):
        poseidon_many_fast([[1] * width])
    poseidon_path_fast(1, [0], [[2, 3, 4]])
    poseidon_path_fast(1, [0], [[2]])


# (name shown to the user, function, relative cost on a cold cache: used to split the work)
STEPS: tuple[tuple[str, Callable[[], None], float], ...] = (
    ("Fr arithmetic", _step_fr_arithmetic, 3),
    ("Fr batch inverse", _step_fr_inverse, 1),
    ("NTT", _step_ntt_blocks, 4),
    ("NTT stage pairs", _step_ntt_stages, 2),
    ("A·z and B·z", _step_qap, 1),
    ("G1 MSM", _step_msm(False), 10),
    ("G2 MSM", _step_msm(True), 12),
    ("setup scalars", _step_setup_scalars, 2),
    ("setup G1 points", _step_setup_points(False), 4),
    ("setup G2 points", _step_setup_points(True), 5),
    ("key point checks", _step_point_checks, 3),
    ("witness solver", _step_solver, 3),
    ("Poseidon (account tree)", _step_poseidon, 2),
)


# --- Running them -------------------------------------------------------------------------------------

@dataclass
class CompileReport:
    """What `ensure_compiled` did: seconds per step (in this process), whether anything had to be
    compiled (a cold cache) and the wall time in all."""

    steps: dict[str, float] = field(default_factory=dict)
    compiled: bool = False
    helper: bool = False
    seconds: float = 0.0
    already_warm: bool = False  # a warm-up on this machine found everything cached: nothing was run


def _marker() -> Path:
    """The file that says a warm-up completed for these kernel sources (the cache guard deletes it
    with the cache), this Numba, this Python and this CPU (Numba keys its cache entries by CPU)."""
    import platform

    import numba
    from llvmlite import binding

    from .kernels import ifma, numba_cache_dir

    here = Path(__file__).resolve().parent / "kernels"
    tag = "|".join([numba.__version__, platform.python_version(), binding.get_host_cpu_name(),
                    binding.get_host_cpu_features().flatten(), str(ifma.AVAILABLE)])
    return numba_cache_dir(here) / f"warm-{hashlib.sha256(tag.encode()).hexdigest()[:16]}"


def kernel_dispatchers() -> dict[str, object]:
    """Every Numba dispatcher of prover.kernels by "module.name" (imports the kernel modules)."""
    import importlib

    from numba.core.registry import CPUDispatcher

    found = {}
    for module_name in ("field", "curve", "ntt", "qap", "msm", "msm_ifma", "solve", "poseidon"):
        module = importlib.import_module(f"prover.kernels.{module_name}")
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.__module__ == module.__name__:
                found[f"{module_name}.{name}"] = value
    return found


def compiled_count() -> int:
    """How many kernel signatures this process has compiled (not loaded from the cache) so far."""
    return sum(sum(d.stats.cache_misses.values()) for d in kernel_dispatchers().values())


def _run_steps(indices, progress_one: Callable[[str], None], report: CompileReport) -> None:
    for i in indices:
        name, step, _ = STEPS[i]
        progress_one(name)
        start = time.perf_counter()
        step()
        report.steps[name] = time.perf_counter() - start


def _split(indices: list[int]) -> tuple[list[int], list[int]]:
    """Two lists of about equal cost (greedy, costliest first); each keeps the order of STEPS."""
    mine, theirs, cost_mine, cost_theirs = [], [], 0.0, 0.0
    for i in sorted(indices, key=lambda i: -STEPS[i][2]):
        if cost_mine <= cost_theirs:
            mine.append(i)
            cost_mine += STEPS[i][2]
        else:
            theirs.append(i)
            cost_theirs += STEPS[i][2]
    return sorted(mine), sorted(theirs)


def ensure_compiled(progress: Progress | None = None, helper: bool | None = None,
                    force: bool = False) -> CompileReport:
    """Compile or load every kernel the prover uses, for every argument type it meets.

    `progress(done, total, name)` is called before each step (with the steps done so far and the
    one starting) and once at the end with done == total and name "". On a cold cache (the first
    step had to compile) the remaining steps are shared with a helper process unless `helper` is
    False, or the machine has one CPU. Once a warm-up has completed on this machine (for these
    kernel sources, Numba, Python and CPU) later calls return at once without loading anything
    (the kernels then load on first use, a few milliseconds each), unless `force`: so the CLI can
    call it before every command for free. Raises whatever a kernel raises (a Numba or LLVM error
    would be a bug, not bad input).
    """
    start = time.perf_counter()
    marker = _marker()
    if marker.exists() and not force:
        return CompileReport(already_warm=True, seconds=time.perf_counter() - start)

    report = CompileReport()
    total = len(STEPS)
    lock = threading.Lock()
    done = 0
    show = progress or (lambda done, total, name: None)

    def one(name: str) -> None:
        nonlocal done
        with lock:
            show(done, total, name)
            done += 1

    before = compiled_count()
    _run_steps([0], one, report)
    rest = list(range(1, total))
    cold = compiled_count() > before
    use_helper = cold and (helper if helper is not None else (os.cpu_count() or 1) > 1)
    if use_helper:
        mine, theirs = _split(rest)
        worker = _Helper(theirs, one)
        try:
            _run_steps(mine, one, report)
        finally:
            worker.wait()
        report.helper = True
        # Load (or, if the helper failed, compile) what the helper compiled: this process needs them
        # too, and a lost race on a shared cache index is repaired here.
        _run_steps(theirs, lambda name: None, report)
    else:
        _run_steps(rest, one, report)
    report.compiled = compiled_count() > before or use_helper
    report.seconds = time.perf_counter() - start
    try:
        marker.write_text(f"{len(STEPS)} steps in {report.seconds:.1f} s\n")
    except OSError:  # a read-only cache: the next call runs the (then fast) steps again
        pass
    with lock:
        show(total, total, "")
    return report


class _Helper:
    """A second Python process running some steps, reporting each one it starts on its stdout."""

    def __init__(self, indices: list[int], started: Callable[[str], None]):
        self.started = started
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from prover.warmup import _helper_main; _helper_main(sys.argv[1:])",
             *map(str, indices)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("step "):
                self.started(line[5:].strip())

    def wait(self) -> None:
        self.proc.wait()  # a failed helper's steps are simply redone (and any error raised) in this process
        self.reader.join()


def _helper_main(argv: list[str]) -> None:
    for i in map(int, argv):
        name, step, _ = STEPS[i]
        print(f"step {name}", flush=True)
        step()


def main() -> int:
    """`python -m prover.warmup`: ensure_compiled with a progress line on stderr (rewritten in place
    on a terminal, one line per step otherwise) and a one-line summary."""
    import time

    tty = sys.stderr.isatty()
    start = time.perf_counter()

    def progress(done: int, total: int, name: str) -> None:
        if done == total:
            if tty:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
            return
        line = (f"compiling kernels, first run only (a few minutes on 2 cores): {done + 1}/{total} {name}, "
                f"{time.perf_counter() - start:.0f} s so far")
        if tty:
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    report = ensure_compiled(progress, force="--force" in sys.argv[1:])
    if report.already_warm:
        print("kernels ready: compiled and cached by an earlier run (--force to check)", file=sys.stderr)
        return 0
    how = "compiled (once per machine)" if report.compiled else "loaded from the cache"
    print(f"kernels ready: {len(STEPS)} steps {how} in {report.seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
