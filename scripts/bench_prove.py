"""Groth16 prove benchmark: ours beside snarkjs and groth16py on the same .r1cs, .zkey and .wtns.

For each size 2^k it builds a chain circuit of just under 2^k constraints with our builder (Poseidon(2)
hashes when circuits/poseidon.py has a Poseidon gadget, else x -> x^5 + c rounds, three constraints
each, like Poseidon's S-boxes), writes the .r1cs and .wtns, makes the .zkey with OUR setup (snarkjs's
powers-of-tau preparation takes minutes to hours here) and caches the lot outside the repository,
keyed by circuit and size, so reruns skip it. Then, on those same files, in one run:

  ours        prover.groth16.prove in this process: one call to warm Numba, then the best of a few;
              and `zkrollup groth16 prove` as a subprocess (process start, imports, key load: the wall
              time a user sees, and the peak RSS figure for ours)
  snarkjs     `snarkjs groth16 prove C.zkey W.wtns ...` as a subprocess (node, all cores)
  groth16py   arkworks behind Python (PyPI), installed into this venv when first needed (never a
              project dependency): import_zkey on our .zkey, then prove_wtns, in a subprocess

Every proof is verified with our verifier and with `snarkjs groth16 verify`; one that fails is a loud
error and exit code 1. Times are wall clock; peak RSS is each process's own (wait4's rusage).
Never asserts a time: the figures are printed beside DESIGN §7's targets.

    .venv/bin/python scripts/bench_prove.py --quick          # 2^14 only: under two minutes once cached
    .venv/bin/python scripts/bench_prove.py                  # 2^14, 2^16, 2^18
    .venv/bin/python scripts/bench_prove.py --sizes 16 --json --only ours,snarkjs
    .venv/bin/python scripts/bench_prove.py --json results.json   # the table, and the JSON in a file

Cache: $ZKROLLUP_BENCH_CACHE, else ~/.cache/zkrollup-bench (or --cache DIR); --rebuild remakes it.
The rollup batch circuit joins --circuit once it exists. On busy shared cores, Numba's default OpenMP
layer spin-waits between parallel kernels and loses a lot: the table's header shows the threading
settings in force (compare OMP_WAIT_POLICY=passive).
"""

from __future__ import annotations

# Only the standard library at module level: the groth16py worker re-runs this file and its peak RSS
# must be groth16py's, not numpy's and Numba's.
import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SNARKJS = REPO / "node_modules" / ".bin" / "snarkjs"
SNARKJS_PACKAGE = REPO / "node_modules" / "snarkjs" / "package.json"

PROVERS = ("ours", "snarkjs", "groth16py")
CIRCUITS = ("auto", "poseidon", "x5")
DEFAULT_SIZES = (14, 16, 18)
QUICK_SIZES = (14,)
CACHE_VERSION = 1  # bump when the cached files' recipe changes
SEED = b"zkrollup bench_prove"
SUBPROCESS_TIMEOUT = 3600

Log = Callable[[str], None]


def _quiet(line: str) -> None:
    pass


# --- Targets (DESIGN §7, issue 4) --------------------------------------------------------------------

TARGET_SNARKJS_RATIO = 10.0   # prove >= 10x faster than snarkjs
TARGET_2_16_SECONDS = 0.7     # a 2^16-constraint circuit in <= 0.7 s
TARGET_VERIFY_MS = 5.0        # verification of one proof in <= 5 ms
TARGET_CLI_OVER_IN_PROCESS = 1.5  # `zkrollup groth16 prove` wall time <= 1.5x the warm in-process proof (issue 8)
TARGET_CLI_SIZES = (16, 18)       # ... and >= 10x faster than snarkjs's CLI at these sizes


# --- Measured subprocesses ---------------------------------------------------------------------------

@dataclass
class ProcessRun:
    argv: list[str]
    returncode: int
    wall_s: float
    cpu_s: float          # user + system, all threads
    peak_rss_mb: float    # the process's own maximum resident set
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def output(self) -> str:
        """stdout + stderr without terminal colour codes."""
        return re.sub(r"\x1b\[[0-9;]*m", "", self.stdout + self.stderr)

    def failure(self) -> str:
        tail = [line for line in self.output().strip().splitlines() if line.strip()][-3:]
        return f"`{' '.join(self.argv)}` exited {self.returncode}: " + " / ".join(tail)


# Peak RSS must be read by a small parent. Linux carries the high-water mark of the memory a process
# had before exec into its ru_maxrss, so a child forked straight from this process (hundreds of MB
# once numpy, Numba and a key are in) would report at least our size. GNU time, or this launcher
# when it is missing, forks from a few MB and reports its child's wait4 rusage.
TIME_BIN = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
_LAUNCHER = """
import os, sys
usage_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(usage_file, "w") as f:
    f.write(f"{ru.ru_maxrss} {ru.ru_utime} {ru.ru_stime}\\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(argv: list, cwd: str | Path | None = None, timeout: float = SUBPROCESS_TIMEOUT,
                 env: dict | None = None) -> ProcessRun:
    """Run argv to completion: wall time, CPU time (user + system) and peak RSS of that process alone."""
    argv = [str(a) for a in argv]
    with tempfile.TemporaryDirectory(prefix="zkrollup-bench-run-") as scratch:
        usage_file = Path(scratch) / "usage"
        out_file, err_file = Path(scratch) / "stdout", Path(scratch) / "stderr"
        wrapper = ([TIME_BIN, "-f", "%M %U %S", "-o", str(usage_file)] if TIME_BIN
                   else [sys.executable, "-S", "-c", _LAUNCHER, str(usage_file)])
        with open(out_file, "wb") as out, open(err_file, "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(wrapper + argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
            try:
                returncode = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)  # the wrapper and the process it runs: their own session
                returncode = proc.wait()
            wall = time.perf_counter() - start
        stdout = out_file.read_text(errors="replace")
        stderr = err_file.read_text(errors="replace")
        lines = usage_file.read_text().strip().splitlines() if usage_file.is_file() else []
    try:  # GNU time puts "Command exited with non-zero status N" before the figures
        rss_kib, user, system = (float(x) for x in lines[-1].split())
    except (IndexError, ValueError):
        rss_kib, user, system = float("nan"), float("nan"), float("nan")
    return ProcessRun(argv, returncode, wall, user + system, rss_kib / 1024.0, stdout, stderr)


def best_run(runs: list[ProcessRun]) -> ProcessRun:
    return min(runs, key=lambda r: r.wall_s)


# --- The circuits ------------------------------------------------------------------------------------

def _field_value(label: str) -> int:
    from prover.constants import R

    return int.from_bytes(hashlib.sha256(SEED + b"/" + label.encode()).digest(), "big") % R


def poseidon_gadget_available() -> bool:
    """Does circuits/poseidon.py build Poseidon constraints on a ConstraintSystem?"""
    try:
        from circuits import poseidon
    except ImportError:
        return False
    return callable(getattr(poseidon, "poseidon_gadget", None))


def resolve_kind(kind: str) -> str:
    if kind == "auto":
        return "poseidon" if poseidon_gadget_available() else "x5"
    if kind == "poseidon" and not poseidon_gadget_available():
        raise SystemExit("error: --circuit poseidon, but circuits.poseidon has no poseidon_gadget")
    return kind


@dataclass
class Chain:
    kind: str
    log_size: int
    units: int
    unit_constraints: int
    description: str
    circuit: object    # circuits.builder.CompiledCircuit
    witness: list


def _poseidon_step(cs, state):
    from circuits.poseidon import poseidon_gadget

    h, prev = state
    return (poseidon_gadget(cs, [h, prev]), h)


def _x5_step(cs, state, index: int):
    x, = state
    x2 = cs.mul(x, x)
    x4 = cs.mul(x2, x2)
    return (cs.mul(x4, x) + _field_value(f"c{index}"),)


def _chain_constraints_per_unit(kind: str) -> int:
    from circuits.builder import ConstraintSystem

    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    if kind == "poseidon":
        _poseidon_step(cs, (a, b))
    else:
        _x5_step(cs, (a,), 0)
    return cs.n_constraints


def build_chain(log_size: int, kind: str) -> Chain:
    """A chain of just under 2^log_size constraints (the key's domain is then 2^log_size), solved.

    poseidon: h_{i+1} = Poseidon(h_i, h_{i-1}), h_0 = public `seed`, h_{-1} = private `salt`.
    x5: x_{i+1} = x_i^5 + c_i, x_0 = public `seed`, c_i hash-derived constants.
    The last value is the public output `out`.
    """
    from circuits.builder import ConstraintSystem
    from prover.zkey import domain_size_for

    per_unit = _chain_constraints_per_unit(kind)
    n_public = 2  # out, seed
    # constraints + nPublic must stay below 2^k; one more constraint copies the result to `out`.
    units = ((1 << log_size) - n_public - 2) // per_unit
    if units < 1:
        raise ValueError(f"2^{log_size} constraints cannot hold one {kind} step ({per_unit} constraints)")
    cs = ConstraintSystem()
    seed = cs.public_input("seed")
    if kind == "poseidon":
        state = (seed, cs.private_input("salt"))
        for _ in range(units):
            state = _poseidon_step(cs, state)
        description = f"Poseidon(2) chain: {units} hashes of {per_unit} constraints (circuits.poseidon gadget)"
    else:
        state = (seed,)
        for i in range(units):
            state = _x5_step(cs, state, i)
        description = (f"x^5 + c chain: {units} rounds of {per_unit} constraints (Poseidon-like S-boxes; "
                       "no Poseidon gadget in circuits.poseidon)")
    cs.public_output("out", state[0])
    circuit = cs.compile()
    assignment = {"seed": _field_value("seed")}
    if kind == "poseidon":
        assignment["salt"] = _field_value("salt")
    witness = circuit.solve(assignment)
    r1cs = circuit.r1cs
    domain = domain_size_for(r1cs.n_constraints, r1cs.n_public)
    if domain != 1 << log_size:
        raise AssertionError(f"{kind} chain for 2^{log_size} has {r1cs.n_constraints} constraints: domain {domain}")
    return Chain(kind, log_size, units, per_unit, description, circuit, witness)


# --- Cached artifacts --------------------------------------------------------------------------------

def default_cache_root() -> Path:
    env = os.environ.get("ZKROLLUP_BENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zkrollup-bench"


@dataclass
class Artifacts:
    folder: Path
    meta: dict
    setup_ran: bool   # made in this run (else read from the cache)

    @property
    def r1cs(self) -> Path:
        return self.folder / "circuit.r1cs"

    @property
    def wtns(self) -> Path:
        return self.folder / "witness.wtns"

    @property
    def zkey(self) -> Path:
        return self.folder / "circuit.zkey"

    @property
    def vk(self) -> Path:
        return self.folder / "verification_key.json"


ARTIFACT_FILES = ("circuit.r1cs", "witness.wtns", "circuit.zkey", "verification_key.json")


def prepare(log_size: int, kind: str, cache_root: Path, rebuild: bool = False, log: Log = _quiet) -> Artifacts:
    """The .r1cs, .wtns, .zkey (our setup) and verification key of the chain at 2^log_size, cached."""
    from circuits.iden3 import write_r1cs, write_wtns
    from prover.groth16 import verifying_key
    from prover.setup import setup
    from prover.zkey import write_zkey
    from verifier import snarkjs

    folder = Path(cache_root) / f"{kind}-2^{log_size}-v{CACHE_VERSION}"
    meta_path = folder / "meta.json"
    if not rebuild and meta_path.is_file() and all((folder / f).is_file() for f in ARTIFACT_FILES):
        meta = json.loads(meta_path.read_text())
        log(f"2^{log_size}: cached circuit, witness and key in {folder}")
        return Artifacts(folder, meta, setup_ran=False)

    folder.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)  # meta.json is written last: without it the folder is incomplete
    log(f"2^{log_size}: building the {kind} chain ...")
    start = time.perf_counter()
    chain = build_chain(log_size, kind)
    r1cs = chain.circuit.r1cs
    write_r1cs(folder / "circuit.r1cs", r1cs)
    write_wtns(folder / "witness.wtns", chain.witness)
    build_s = time.perf_counter() - start
    log(f"2^{log_size}: {r1cs.n_constraints} constraints built and solved in {build_s:.1f}s; our setup ...")
    start = time.perf_counter()
    pk = setup(r1cs, quiet=True)
    setup_s = time.perf_counter() - start
    write_zkey(folder / "circuit.zkey", pk)
    snarkjs.write_verifying_key(verifying_key(pk), folder / "verification_key.json")
    log(f"2^{log_size}: setup {setup_s:.1f}s -> {folder / 'circuit.zkey'}")
    meta = {
        "kind": kind, "log_size": log_size, "description": chain.description, "units": chain.units,
        "unit_constraints": chain.unit_constraints, "constraints": r1cs.n_constraints, "wires": r1cs.n_wires,
        "public": r1cs.n_public, "domain": pk.domain_size, "build_s": build_s, "setup_s": setup_s,
        "made": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": _git_commit(),
        "cache_version": CACHE_VERSION,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return Artifacts(folder, meta, setup_ran=True)


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


# --- Report ------------------------------------------------------------------------------------------

@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


@dataclass
class SizeReport:
    log_size: int
    constraints: int
    wires: int
    public: int
    domain: int
    circuit: str
    files: str
    setup: dict
    ours: dict = field(default_factory=dict)
    snarkjs: dict = field(default_factory=dict)
    groth16py: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    targets: list = field(default_factory=list)
    load_average: list = field(default_factory=list)
    kept: str | None = None  # the proofs' folder, kept when a check failed


@dataclass
class Report:
    mode: str
    circuit_kind: str
    cache: str
    provers: list
    machine: dict
    tools: dict
    sizes: list[SizeReport] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(what, bool(ok), "" if ok else detail))
        return bool(ok)

    def to_json(self) -> dict:
        return {"benchmark": "groth16 prove", "mode": self.mode, "ok": self.ok, "circuit": self.circuit_kind,
                "cache": self.cache, "provers": self.provers, "machine": self.machine, "tools": self.tools,
                "sizes": [asdict(s) for s in self.sizes], "checks": [asdict(c) for c in self.checks],
                "warnings": self.warnings}


# --- Verification ------------------------------------------------------------------------------------

def _verify_ours(report: Report, label: str, vk, proof_path: Path, public_path: Path, expected_public) -> bool:
    """Our verifier on a snarkjs-format proof; also that its public inputs are the witness's."""
    from verifier import snarkjs
    from verifier.groth16 import verify

    try:
        proof = snarkjs.read_proof(proof_path)
        public = list(snarkjs.read_public_inputs(public_path))
        valid = verify(vk, public, proof)
    except Exception as exc:  # a malformed file from a peer is a failed check, not a crash
        return report.check(f"{label}: our verifier accepts the proof", False, f"{type(exc).__name__}: {exc}")
    ok = report.check(f"{label}: our verifier accepts the proof", valid, f"INVALID proof in {proof_path}")
    same = report.check(f"{label}: public inputs are the witness's", public == list(expected_public),
                        f"{public} != {list(expected_public)}")
    return ok and same


def _verify_snarkjs(report: Report, label: str, vk_path: Path, proof_path: Path, public_path: Path) -> None:
    done = run_measured([SNARKJS, "groth16", "verify", vk_path, public_path, proof_path], timeout=600)
    report.check(f"{label}: snarkjs groth16 verify accepts the proof", done.ok and "OK" in done.output(),
                 done.failure())


# --- The provers -------------------------------------------------------------------------------------

def repeats_for(log_size: int) -> dict[str, int]:
    """How many timed runs of each (best one reported): a few when one run is short."""
    if log_size <= 14:
        return {"ours": 5, "ours_cli": 2, "snarkjs": 2, "groth16py": 3}
    if log_size <= 16:
        return {"ours": 3, "ours_cli": 2, "snarkjs": 2, "groth16py": 2}
    return {"ours": 2, "ours_cli": 1, "snarkjs": 1, "groth16py": 1}


def _zkrollup_cli() -> list[str]:
    script = Path(sys.executable).parent / "zkrollup"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "zkrollup.cli"]


def bench_ours(report: Report, art: Artifacts, out: Path, repeats: dict, use_node: bool, log: Log) -> dict:
    from prover.groth16 import ProveTimings, prove
    from prover.witness import load_wtns
    from prover.zkey import load_zkey
    from verifier import snarkjs
    from verifier.groth16 import prepare_verifying_key, verify, verify_prepared

    k = art.meta["log_size"]
    vk = snarkjs.read_verifying_key(art.vk)
    pk, witness = load_zkey(art.zkey), load_wtns(art.wtns)
    expected_public = _witness_public(art)
    log(f"2^{k}: ours, in process: first call (Numba cache load or compile) ...")
    start = time.perf_counter()
    prove(pk, witness)
    first_s = time.perf_counter() - start
    runs, best, best_timings = [], None, None
    for i in range(repeats["ours"]):
        timings = ProveTimings()
        start = time.perf_counter()
        proof, public = prove(pk, witness, timings=timings)
        seconds = time.perf_counter() - start
        runs.append(seconds)
        if best is None or seconds < min(runs[:-1]):
            best, best_timings = (proof, public), timings
        log(f"2^{k}: ours run {i + 1}/{repeats['ours']}: {timings.summary()}")
    proof, public = best
    proof_path, public_path = out / "ours_proof.json", out / "ours_public.json"
    snarkjs.write_proof(proof, proof_path)
    snarkjs.write_public_inputs(public, public_path)
    _verify_ours(report, f"2^{k} ours (in process)", vk, proof_path, public_path, expected_public)

    # Verification of one proof as a user does it (key checks included), and with a prepared key.
    def best_ms(fn, n=20):
        times = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
        return min(times)

    verify_ms = best_ms(lambda: verify(vk, public, proof))
    pvk = prepare_verifying_key(vk)
    verify_prepared_ms = best_ms(lambda: verify_prepared(pvk, public, proof))

    log(f"2^{k}: ours, `zkrollup groth16 prove` as a subprocess ...")
    cli_runs = []
    for i in range(repeats["ours_cli"]):
        done = run_measured([*_zkrollup_cli(), "-q", "groth16", "prove", art.zkey, art.wtns,
                             out / "cli_proof.json", out / "cli_public.json"], cwd=out)
        if not report.check(f"2^{k} ours (CLI): zkrollup groth16 prove succeeds", done.ok, done.failure()):
            break
        cli_runs.append(done)
    cli = {}
    if cli_runs:
        b = best_run(cli_runs)
        # the CLI's own timing line: "proved in X s" (old) or "prove X s (stages...)" (the prove alone)
        inner = re.search(r"(?:proved in|^prove) ([0-9.]+)s", b.stdout + b.stderr, re.MULTILINE)
        cli = {"wall_s": b.wall_s, "runs_s": [r.wall_s for r in cli_runs], "cpu_s": b.cpu_s,
               "peak_rss_mb": max(r.peak_rss_mb for r in cli_runs),
               "load_and_prove_s": float(inner.group(1)) if inner else None,
               "summary": b.stdout.strip().splitlines()[-1] if b.stdout.strip() else ""}
        _verify_ours(report, f"2^{k} ours (CLI)", vk, out / "cli_proof.json", out / "cli_public.json", expected_public)
    if use_node:
        _verify_snarkjs(report, f"2^{k} ours (in process)", art.vk, proof_path, public_path)
        if cli_runs:
            _verify_snarkjs(report, f"2^{k} ours (CLI)", art.vk, out / "cli_proof.json", out / "cli_public.json")
    return {"prove_s": min(runs), "runs_s": runs, "first_call_s": first_s, "stages": dict(best_timings.stages),
            "stage_summary": best_timings.summary(), "verify_ms": verify_ms,
            "verify_prepared_ms": verify_prepared_ms, "verifier_backend": pvk.backend, "cli": cli}


def _witness_public(art: Artifacts) -> list[int]:
    from circuits.iden3 import read_wtns

    return read_wtns(art.wtns)[1:art.meta["public"] + 1]


def snarkjs_unavailable_reason() -> str | None:
    if shutil.which("node") is None:
        return "node not found"
    if not SNARKJS.exists():
        return "node_modules/.bin/snarkjs missing (npm ci)"
    return None


def bench_snarkjs(report: Report, art: Artifacts, out: Path, repeats: dict, log: Log) -> dict:
    from verifier import snarkjs

    k = art.meta["log_size"]
    why = snarkjs_unavailable_reason()
    if why:
        return {"available": False, "why_not": why}
    runs = []
    for i in range(repeats["snarkjs"]):
        log(f"2^{k}: snarkjs groth16 prove, run {i + 1}/{repeats['snarkjs']} ...")
        done = run_measured([SNARKJS, "groth16", "prove", art.zkey, art.wtns, out / "snarkjs_proof.json",
                             out / "snarkjs_public.json"], cwd=out)
        if not report.check(f"2^{k} snarkjs: groth16 prove succeeds on our .zkey", done.ok, done.failure()):
            return {"available": True, "failed": done.failure()}
        runs.append(done)
    b = best_run(runs)
    vk = snarkjs.read_verifying_key(art.vk)
    _verify_ours(report, f"2^{k} snarkjs", vk, out / "snarkjs_proof.json", out / "snarkjs_public.json",
                 _witness_public(art))
    _verify_snarkjs(report, f"2^{k} snarkjs", art.vk, out / "snarkjs_proof.json", out / "snarkjs_public.json")
    return {"available": True, "prove_s": b.wall_s, "runs_s": [r.wall_s for r in runs], "cpu_s": b.cpu_s,
            "peak_rss_mb": max(r.peak_rss_mb for r in runs)}


# groth16py: installed on demand, run in its own process (this file with --groth16py-worker).

GROTH16PY_STATE: dict = {}


def groth16py_status(install: bool, log: Log) -> dict:
    """{"available": bool, "version" | "why_not"}; pip-installs groth16py into this venv if allowed."""
    if GROTH16PY_STATE:
        return GROTH16PY_STATE
    probe = [sys.executable, "-c", "import groth16py; print(getattr(groth16py, '__version__', '?'))"]
    done = run_measured(probe, timeout=120)
    if not done.ok and install:
        log(f"installing groth16py into {sys.prefix} for this benchmark (not a project dependency) ...")
        pip = run_measured([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "groth16py"], timeout=900)
        if not pip.ok:
            GROTH16PY_STATE.update(available=False, why_not="pip install groth16py failed: " + pip.failure())
            return GROTH16PY_STATE
        done = run_measured(probe, timeout=120)
    if not done.ok:
        reason = [line for line in done.output().strip().splitlines() if line.strip()][-1:] or ["?"]
        GROTH16PY_STATE.update(available=False, why_not=("cannot import groth16py: " + reason[0]) if install
                               else "groth16py not installed (install not allowed in this run)")
        return GROTH16PY_STATE
    GROTH16PY_STATE.update(available=True, version=done.stdout.strip())
    return GROTH16PY_STATE


def groth16py_worker(zkey: str, wtns: str, out_bin: str, repeats: int, our_proof: str | None,
                     our_public: str | None, vk_json: str | None) -> int:
    """In a fresh process: import our .zkey into groth16py, prove `repeats` times, write the last proof.

    Prints one JSON line: import and prove seconds, and (given our proof) whether groth16py's own
    verifier accepts our proof: a second, independent oracle.
    """
    import groth16py

    start = time.perf_counter()
    pk, _ = groth16py.import_zkey(zkey)
    import_s = time.perf_counter() - start
    runs, proof = [], b""
    for _ in range(repeats):
        start = time.perf_counter()
        proof = groth16py.prove_wtns(pk, wtns)
        runs.append(time.perf_counter() - start)
    Path(out_bin).write_bytes(proof)
    result = {"import_s": import_s, "runs_s": runs}
    if our_proof and our_public and vk_json:
        verifier = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs_file(vk_json))
        result["accepts_our_proof"] = bool(verifier.verify_snarkjs(Path(our_proof).read_text(),
                                                                   Path(our_public).read_text()))
    print(json.dumps(result))
    return 0


def proof_from_eth_bytes(blob: bytes):
    """groth16py's proof bytes (EIP-197 order: A.x A.y, B.x.im B.x.re B.y.im B.y.re, C.x C.y; big-endian)."""
    from verifier.types import Proof

    if len(blob) != 256:
        raise ValueError(f"expected 256 proof bytes, got {len(blob)}")
    v = [int.from_bytes(blob[i:i + 32], "big") for i in range(0, 256, 32)]
    return Proof(a=(v[0], v[1]), b=((v[3], v[2]), (v[5], v[4])), c=(v[6], v[7]))


def bench_groth16py(report: Report, art: Artifacts, out: Path, repeats: dict, use_node: bool, install: bool,
                    log: Log) -> dict:
    from verifier import snarkjs

    k = art.meta["log_size"]
    status = groth16py_status(install, log)
    if not status["available"]:
        return {"available": False, "why_not": status["why_not"]}
    log(f"2^{k}: groth16py: import_zkey + prove_wtns x{repeats['groth16py']} in a subprocess ...")
    ours_proof, ours_public = out / "ours_proof.json", out / "ours_public.json"
    argv = [sys.executable, __file__, "--groth16py-worker", art.zkey, art.wtns, out / "groth16py_proof.bin",
            str(repeats["groth16py"])]
    if ours_proof.is_file():
        argv += [ours_proof, ours_public, art.vk]
    done = run_measured(argv, cwd=out)
    if not report.check(f"2^{k} groth16py: import_zkey + prove_wtns on our files succeed", done.ok, done.failure()):
        return {"available": True, "version": status["version"], "failed": done.failure()}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    try:
        proof = proof_from_eth_bytes((out / "groth16py_proof.bin").read_bytes())
    except ValueError as exc:
        report.check(f"2^{k} groth16py: proof bytes decode", False, str(exc))
        return {"available": True, "version": status["version"], "failed": str(exc)}
    snarkjs.write_proof(proof, out / "groth16py_proof.json")
    snarkjs.write_public_inputs(_witness_public(art), out / "groth16py_public.json")
    vk = snarkjs.read_verifying_key(art.vk)
    _verify_ours(report, f"2^{k} groth16py", vk, out / "groth16py_proof.json", out / "groth16py_public.json",
                 _witness_public(art))
    if use_node:
        _verify_snarkjs(report, f"2^{k} groth16py", art.vk, out / "groth16py_proof.json", out / "groth16py_public.json")
    if "accepts_our_proof" in result:
        report.check(f"2^{k} groth16py's verifier accepts our proof", result["accepts_our_proof"],
                     f"groth16py rejects {ours_proof}")
    return {"available": True, "version": status["version"], "key": "our .zkey via groth16py.import_zkey",
            "prove_s": min(result["runs_s"]), "runs_s": result["runs_s"], "import_zkey_s": result["import_s"],
            "process_wall_s": done.wall_s, "process_cpu_s": done.cpu_s, "peak_rss_mb": done.peak_rss_mb}


# --- The run -----------------------------------------------------------------------------------------

def _ratio(peer: float | None, ours: float | None) -> float | None:
    return None if peer is None or not ours else peer / ours


def _targets(s: SizeReport) -> list[dict]:
    ours = s.ours.get("prove_s")
    rows = []

    def add(figure, value, target, met):
        rows.append({"figure": figure, "value": value, "target": target, "met": met})

    r = s.ratios.get("snarkjs_over_ours")
    add("prove: snarkjs / ours", r, f">= {TARGET_SNARKJS_RATIO:g}x", None if r is None else r >= TARGET_SNARKJS_RATIO)
    r = s.ratios.get("groth16py_over_ours")
    add("prove: groth16py / ours", r, "> 1x (faster)", None if r is None else r > 1.0)
    if s.log_size == 16:
        add("prove 2^16 constraints, ours (s)", ours, f"<= {TARGET_2_16_SECONDS} s",
            None if ours is None else ours <= TARGET_2_16_SECONDS)
    r = s.ratios.get("ours_cli_over_in_process")
    add("prove: ours CLI / ours in process", r, f"<= {TARGET_CLI_OVER_IN_PROCESS:g}x",
        None if r is None else r <= TARGET_CLI_OVER_IN_PROCESS)
    if s.log_size in TARGET_CLI_SIZES:
        r = s.ratios.get("snarkjs_over_ours_cli")
        add("prove: snarkjs CLI / ours CLI", r, f">= {TARGET_SNARKJS_RATIO:g}x",
            None if r is None else r >= TARGET_SNARKJS_RATIO)
    mine, theirs = s.ours.get("cli", {}).get("peak_rss_mb"), s.snarkjs.get("peak_rss_mb")
    add("peak RSS: ours (CLI) vs snarkjs (MB)", None if mine is None or theirs is None else [mine, theirs],
        "ours <= snarkjs", None if mine is None or theirs is None else mine <= theirs)
    v = s.ours.get("verify_ms")
    add("verify one proof, ours (ms)", v, f"<= {TARGET_VERIFY_MS:g} ms", None if v is None else v <= TARGET_VERIFY_MS)
    return rows


def _machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        import numba

        info.update(numba=numba.__version__, numba_threads=numba.get_num_threads())
    except ImportError:
        pass
    # Numba's OpenMP layer spin-waits by default: on shared, busy cores that costs ours a great deal.
    info["environment"] = {name: os.environ.get(name) for name in
                           ("NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    return info


def _tools(provers: tuple[str, ...]) -> dict:
    tools = {}
    if "snarkjs" in provers:
        why = snarkjs_unavailable_reason()
        tools["snarkjs"] = {"available": why is None, "why_not": why}
        if why is None:
            tools["snarkjs"]["version"] = json.loads(SNARKJS_PACKAGE.read_text()).get("version")
            node = subprocess.run(["node", "--version"], capture_output=True, text=True)
            tools["snarkjs"]["node"] = node.stdout.strip()
    return tools


def source_stamps() -> dict[str, float]:
    """Modification times of the code being measured (a shared work tree can change under a run)."""
    return {str(path.relative_to(REPO)): path.stat().st_mtime
            for folder in ("prover", "circuits", "verifier", "zkrollup") for path in (REPO / folder).rglob("*.py")}


def run(sizes=QUICK_SIZES, *, provers=PROVERS, kind: str = "auto", cache_root: Path | None = None,
        rebuild: bool = False, install_peers: bool = True, mode: str = "custom", log: Log = _quiet,
        keep: Path | None = None) -> Report:
    """Benchmark each size; returns the report (checks failing = a proof that did not verify)."""
    provers = tuple(provers)
    kind = resolve_kind(kind)
    cache_root = Path(cache_root) if cache_root is not None else default_cache_root()
    report = Report(mode, kind, str(cache_root), list(provers), _machine(), _tools(provers))
    use_node = "snarkjs" in provers and snarkjs_unavailable_reason() is None
    stamps = source_stamps()
    for k in sizes:
        art = prepare(k, kind, cache_root, rebuild=rebuild, log=log)
        m = art.meta
        size = SizeReport(log_size=k, constraints=m["constraints"], wires=m["wires"], public=m["public"],
                          domain=m["domain"], circuit=m["description"], files=str(art.folder),
                          setup={"ran": art.setup_ran, "seconds": m["setup_s"], "build_s": m["build_s"],
                                 "made": m.get("made")})
        work = Path(tempfile.mkdtemp(prefix=f"zkrollup-bench-2^{k}-"))
        failures_before = sum(not c.ok for c in report.checks)
        try:
            reps = repeats_for(k)
            if "ours" in provers:
                size.ours = bench_ours(report, art, work, reps, use_node, log)
            if "snarkjs" in provers:
                size.snarkjs = bench_snarkjs(report, art, work, reps, log)
            if "groth16py" in provers:
                size.groth16py = bench_groth16py(report, art, work, reps, use_node, install_peers, log)
        finally:
            if keep is not None:
                shutil.copytree(work, Path(keep) / f"2^{k}", dirs_exist_ok=True)
            if sum(not c.ok for c in report.checks) > failures_before:
                size.kept = str(work)  # the evidence stays
                log(f"2^{k}: a check failed; proofs kept in {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
        ours_s = size.ours.get("prove_s")
        size.ratios = {
            "snarkjs_over_ours": _ratio(size.snarkjs.get("prove_s"), ours_s),
            "snarkjs_over_ours_cli": _ratio(size.snarkjs.get("prove_s"), size.ours.get("cli", {}).get("wall_s")),
            "ours_cli_over_in_process": _ratio(size.ours.get("cli", {}).get("wall_s"), ours_s),
            "groth16py_over_ours": _ratio(size.groth16py.get("prove_s"), ours_s),
        }
        size.targets = _targets(size)
        size.load_average = [round(x, 2) for x in os.getloadavg()]
        report.sizes.append(size)
        now = source_stamps()
        changed = sorted(name for name in set(now) | set(stamps) if now.get(name) != stamps.get(name))
        if changed:
            report.warnings.append(f"2^{k}: sources changed during the run ({', '.join(changed[:5])}"
                                   f"{', ...' if len(changed) > 5 else ''}): subprocesses may have recompiled "
                                   "Numba kernels and figures may mix code versions")
            log(report.warnings[-1])
            stamps = now
    if "ours" in provers:
        import numba

        try:
            report.machine["numba_threading_layer"] = numba.threading_layer()
        except ValueError:  # no parallel kernel ran
            pass
    return report


# --- Output ------------------------------------------------------------------------------------------

def _s(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1e3:.0f} ms" if value < 1.0 else f"{value:.2f} s"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def _peer_cell(peer: dict, provers: list, name: str) -> str:
    if name not in provers:
        return "-"
    if not peer.get("available", True) or "failed" in peer:
        return "n/a"
    return _s(peer.get("prove_s"))


def render_table(report: Report) -> str:
    header = ("size", "constraints", "setup (ours)", "prove ours", "ours CLI", "prove snarkjs", "prove groth16py",
              "ratio snarkjs/ours", "ratio groth16py/ours", "verify ours (ms)", "peak RSS ours/snarkjs")
    rows = [header]
    for s in report.sizes:
        setup = _s(s.setup["seconds"]) + ("" if s.setup["ran"] else " (cached)")
        cli = s.ours.get("cli", {})
        ratio = _x(s.ratios["snarkjs_over_ours"])
        if s.ratios["snarkjs_over_ours_cli"] is not None:
            ratio += f" (CLI {_x(s.ratios['snarkjs_over_ours_cli'])})"
        rss_ours, rss_peer = cli.get("peak_rss_mb"), s.snarkjs.get("peak_rss_mb")
        rss = f"{'n/a' if rss_ours is None else f'{rss_ours:.0f}'}/{'n/a' if rss_peer is None else f'{rss_peer:.0f}'} MB"
        rows.append((f"2^{s.log_size}", str(s.constraints), setup,
                     _s(s.ours.get("prove_s")) if "ours" in report.provers else "-",
                     _s(cli.get("wall_s")) if "ours" in report.provers else "-",
                     _peer_cell(s.snarkjs, report.provers, "snarkjs"),
                     _peer_cell(s.groth16py, report.provers, "groth16py"),
                     ratio, _x(s.ratios["groth16py_over_ours"]),
                     "n/a" if s.ours.get("verify_ms") is None else f"{s.ours['verify_ms']:.2f}", rss))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    m = report.machine
    threading_env = ", ".join(f"{k}={v}" for k, v in m["environment"].items() if v is not None)
    busy = m["load_average_at_start"][0] > 0.75 * (m["cpus"] or 1)
    out = [f"zkrollup Groth16 prove benchmark ({report.mode}): {m['cpus']} CPUs, Numba {m.get('numba', '?')} "
           f"with {m.get('numba_threads', '?')} threads, Python {m['python']}; load average at start "
           f"{m['load_average_at_start'][0]}" + (" (other work shares these cores: figures are pessimistic)" if busy else ""),
           f"threading: Numba layer {m.get('numba_threading_layer', '?')}; "
           + (threading_env or "no NUMBA_*/OMP_* threading variables set"),
           f"circuit: {report.sizes[0].circuit if report.sizes else report.circuit_kind}",
           "", *lines, ""]

    out.append("ours, stage breakdown of the best warm in-process proof:")
    for s in report.sizes:
        if s.ours:
            stages = s.ours["stages"]
            msm = sum(v for name, v in stages.items() if name.startswith("MSM"))
            total = sum(stages.values()) or 1.0
            out.append(f"  2^{s.log_size}: {s.ours['stage_summary']}; MSMs {msm / total:.0%}, first call "
                       f"{_s(s.ours['first_call_s'])}")
            cli = s.ours.get("cli")
            if cli:
                inner = cli.get("load_and_prove_s")
                out.append(f"         CLI: wall {_s(cli['wall_s'])}, of which the prove it reports {_s(inner)} and "
                           f"process start, imports, key mapping and kernel loading "
                           f"{_s(None if inner is None else cli['wall_s'] - inner)}; CPU {cli['cpu_s']:.2f} s")
    out.append("")
    out.append("CLI beside in-process (wall clock, best run; snarkjs is its CLI):")
    for s in report.sizes:
        cli_s, ours_s, peer_s = s.ours.get("cli", {}).get("wall_s"), s.ours.get("prove_s"), s.snarkjs.get("prove_s")
        out.append(f"  2^{s.log_size}: zkrollup CLI {_s(cli_s)} | in process {_s(ours_s)} | snarkjs CLI {_s(peer_s)}"
                   f" || CLI / in process {_x(s.ratios.get('ours_cli_over_in_process'))} "
                   f"(target <= {TARGET_CLI_OVER_IN_PROCESS:g}x) | snarkjs CLI / our CLI "
                   f"{_x(s.ratios.get('snarkjs_over_ours_cli'))} (target >= {TARGET_SNARKJS_RATIO:g}x)")
    out.append("")
    out.append("targets (DESIGN §7; ours = warm in-process prove, RSS = whole CLI process):")
    for s in report.sizes:
        for t in s.targets:
            value = t["value"]
            if isinstance(value, list):
                shown = f"{value[0]:.0f} vs {value[1]:.0f} MB"
            elif value is None:
                shown = "n/a"
            elif "/ ours" in t["figure"]:
                shown = _x(value)
            elif "(ms)" in t["figure"]:
                shown = f"{value:.2f} ms"
            else:
                shown = _s(value)
            met = "-" if t["met"] is None else "yes" if t["met"] else "NO"
            out.append(f"  2^{s.log_size} {t['figure']}: {shown} (target {t['target']}): {met}")
    out.append("")
    for s in report.sizes:
        notes = []
        if s.snarkjs.get("prove_s") is not None:
            notes.append(f"snarkjs CPU {s.snarkjs['cpu_s']:.1f} s over wall {_s(s.snarkjs['prove_s'])}")
        elif "snarkjs" in report.provers:
            notes.append(f"snarkjs: {s.snarkjs.get('why_not') or s.snarkjs.get('failed')}")
        g = s.groth16py
        if g.get("prove_s") is not None:
            notes.append(f"groth16py {g['version']} ({g['key']}): import {_s(g['import_zkey_s'])}, prove runs "
                         f"{', '.join(_s(x) for x in g['runs_s'])}, process CPU {g['process_cpu_s']:.1f} s over wall "
                         f"{_s(g['process_wall_s'])}, peak RSS {g['peak_rss_mb']:.0f} MB")
        elif "groth16py" in report.provers:
            notes.append(f"groth16py: n/a ({g.get('why_not') or g.get('failed')})")
        if s.ours:
            notes.append(f"verify: {s.ours['verifier_backend']} backend, {s.ours['verify_ms']:.2f} ms with key checks, "
                         f"{s.ours['verify_prepared_ms']:.2f} ms with a prepared key")
        notes.append(f"files {s.files}")
        out.append(f"2^{s.log_size}: " + "; ".join(notes))
    tools = report.tools.get("snarkjs")
    if tools and tools.get("available"):
        out.append(f"snarkjs {tools['version']} on node {tools['node']}: CLI wall time (node start and .zkey read "
                   "included), all cores.")
    out.append("times: wall clock, best of a few runs; ratio = peer time / ours (CLI: / our CLI wall time).")
    out.extend(f"WARNING: {w}" for w in report.warnings)
    for c in report.checks:
        if not c.ok:
            out.append(f"FAILED: {c.what}. {c.detail}")
    for s in report.sizes:
        if s.kept:
            out.append(f"2^{s.log_size}: the proofs of this size are kept in {s.kept}")
    out.append(f"checks: {sum(c.ok for c in report.checks)}/{len(report.checks)} passed "
               "(each proof by our verifier and by snarkjs groth16 verify)")
    return "\n".join(out)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are log2 constraint counts like 14,16,18, not {text!r}")
    if not sizes or any(not 6 <= k <= 22 for k in sizes):
        raise argparse.ArgumentTypeError("each size must be between 6 and 22 (log2 of the constraint count)")
    return sizes


def _provers(text: str) -> tuple[str, ...]:
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [n for n in names if n not in PROVERS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"provers are {', '.join(PROVERS)}; got {text!r}")
    return names


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--groth16py-worker"]:
        rest = argv[1:]
        return groth16py_worker(rest[0], rest[1], rest[2], int(rest[3]), *(rest[4:7] if len(rest) >= 7 else (None,) * 3))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=None,
                        help="log2 constraint counts, comma-separated (default 14,16,18)")
    parser.add_argument("--quick", action="store_true", help="2^14 only (a smoke run)")
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                        help="print one JSON object instead of the table; with PATH, write it there and print the table")
    parser.add_argument("--only", type=_provers, default=PROVERS,
                        help="provers to run, comma-separated among ours,snarkjs,groth16py (default all)")
    parser.add_argument("--circuit", choices=CIRCUITS, default="auto",
                        help="poseidon (needs circuits.poseidon.poseidon_gadget), x5, or auto (default)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder for circuits and keys (default $ZKROLLUP_BENCH_CACHE or ~/.cache/zkrollup-bench)")
    parser.add_argument("--rebuild", action="store_true", help="remake the cached circuit, witness and key")
    parser.add_argument("--no-install", action="store_true", help="do not pip-install groth16py when missing")
    parser.add_argument("--keep", type=Path, default=None, help="copy the proofs made into this folder")
    args = parser.parse_args(argv)
    if args.quick and args.sizes:
        parser.error("--quick runs 2^14 only; give either --quick or --sizes")
    sizes = QUICK_SIZES if args.quick else args.sizes or DEFAULT_SIZES
    mode = "quick" if args.quick else "sizes " + ",".join(map(str, sizes))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = run(sizes, provers=args.only, kind=args.circuit, cache_root=args.cache, rebuild=args.rebuild,
                 install_peers=not args.no_install, mode=mode, log=log, keep=args.keep)
    return finish(report, args.json, render_table)


def finish(report, json_target, render) -> int:
    """Print the table (or the JSON with `--json -`), write the JSON to a file when `--json PATH` is given, and
    name every failed check on stderr: exit code 1 if any failed, else 0. Shared by the benchmark scripts."""
    text = json.dumps(report.to_json(), indent=2)
    if json_target and json_target != "-":
        Path(json_target).write_text(text + "\n")
    print(text if json_target == "-" else render(report))
    if not report.ok:
        for c in report.checks:
            if not c.ok:
                print(f"\n*** FAILED: {c.what}. {c.detail} ***", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
