"""Witness calculation from circom's wasm: ours (wasmtime, circuits.witness_wasm) beside `snarkjs wtns calculate`.

The circuit is a chain of circomlib Poseidon(2) hashes compiled by node_modules' circom2 (cached
outside the repository, as scripts/bench_prove.py caches its keys). Both tools run the same .wasm on
the same input.json; every run's .wtns must be byte-identical to snarkjs's. Measured: the CLI wall
time from process start (best of --repeat runs, each a fresh process) and the in-process time of one
witness (ours: a WitnessCalculator already loaded, then calculate_wtns; snarkjs: wtns.calculate in a
running node, first call and best later call), with the ratio snarkjs / ours. Times are printed,
never asserted.

    .venv/bin/python scripts/bench_wtns.py [--hashes 256] [--repeat 3] [--quick] [--json]

Cache: $ZKROLLUP_BENCH_CACHE, else ~/.cache/zkrollup-bench (or --cache DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NODE_BIN = REPO / "node_modules" / ".bin"
CIRCOMLIB = REPO / "node_modules" / "circomlib" / "circuits"
CHAIN = """pragma circom 2.0.0;
include "circomlib/circuits/poseidon.circom";
template Chain(n) {{
    signal input x[2];
    signal output out;
    component h[n];
    for (var i = 0; i < n; i++) {{
        h[i] = Poseidon(2);
        h[i].inputs[0] <== i == 0 ? x[0] : h[i - 1].out;
        h[i].inputs[1] <== x[1];
    }}
    out <== h[n - 1].out;
}}
component main = Chain({n});
"""
INPUT = {"x": ["3", "12345678901234567890"]}
# snarkjs in a running node: first call, then the best of the rest (ms), one JSON line.
NODE_IN_PROCESS = """
import * as snarkjs from "snarkjs";
import {{ readFileSync }} from "fs";
const input = JSON.parse(readFileSync({input}, "utf8"));
const times = [];
for (let i = 0; i < {repeat}; i++) {{
    const t = performance.now();
    await snarkjs.wtns.calculate(input, {wasm}, {out});
    times.push(performance.now() - t);
}}
console.log(JSON.stringify(times));
process.exit(0);
"""


def default_cache_root() -> Path:
    env = os.environ.get("ZKROLLUP_BENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "zkrollup-bench"


def prepare(hashes: int, cache_root: Path, log=print) -> Path:
    """The folder holding chain.wasm and input.json for a chain of `hashes` Poseidon(2), compiled once."""
    folder = Path(cache_root) / f"wtns-poseidon-chain-{hashes}"
    wasm = folder / "chain_js" / "chain.wasm"
    if not wasm.exists():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(CIRCOMLIB, folder / "circomlib" / "circuits", dirs_exist_ok=True)  # circom2 (WASI) sees only the cwd
        (folder / "chain.circom").write_text(CHAIN.format(n=hashes))
        log(f"compiling a chain of {hashes} Poseidon(2) with circom2 (once; cached in {folder}) ...")
        done = subprocess.run([str(NODE_BIN / "circom2"), "chain.circom", "--wasm", "-o", "."], cwd=folder,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"circom2 failed: {done.stdout[-500:]}{done.stderr[-500:]}")
    (folder / "input.json").write_text(json.dumps(INPUT))
    return folder


def _wall(argv: list[str], cwd: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])} failed: {done.stderr[-500:]}")
    return times


def measure(folder: Path, repeat: int = 3, log=print) -> dict:
    """Both tools on folder's wasm and input: wall and in-process seconds, byte-identical outputs checked."""
    from circuits.witness_wasm import WitnessCalculator

    wasm, input_json = folder / "chain_js" / "chain.wasm", folder / "input.json"
    snarkjs = [str(NODE_BIN / "snarkjs"), "wtns", "calculate", str(wasm), str(input_json), "theirs.wtns"]
    ours = [sys.executable, "-m", "zkrollup.cli", "wtns", "calculate", "-q", str(wasm), str(input_json), "ours.wtns"]
    log("snarkjs CLI ...")
    snarkjs_wall = _wall(snarkjs, folder, repeat)
    log("zkrollup CLI ...")
    ours_wall = _wall(ours, folder, repeat)
    if (folder / "ours.wtns").read_bytes() != (folder / "theirs.wtns").read_bytes():
        raise SystemExit("the witnesses differ: ours.wtns != snarkjs's theirs.wtns")

    log("in process ...")
    start = time.perf_counter()
    calculator = WitnessCalculator(wasm, log=lambda line: None)
    load = time.perf_counter() - start
    inputs = json.loads(input_json.read_text())
    ours_calc = []
    for _ in range(repeat):
        start = time.perf_counter()
        data = calculator.calculate_wtns(inputs)
        ours_calc.append(time.perf_counter() - start)
    if data != (folder / "theirs.wtns").read_bytes():
        raise SystemExit("the in-process witness differs from snarkjs's")
    script = NODE_IN_PROCESS.format(input=json.dumps(str(input_json)), wasm=json.dumps(str(wasm)),
                                    out=json.dumps(str(folder / "inproc.wtns")), repeat=max(2, repeat))
    done = subprocess.run(["node", "--input-type=module", "-e", script], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"snarkjs in process failed: {done.stderr[-500:]}")
    node_ms = json.loads(done.stdout.strip().splitlines()[-1])
    snarkjs_first, snarkjs_best = node_ms[0] / 1e3, min(node_ms[1:]) / 1e3
    return {
        "witness_size": calculator.witness_size,
        "wasm_bytes": wasm.stat().st_size,
        "cli_wall_seconds": {"ours": min(ours_wall), "snarkjs": min(snarkjs_wall),
                             "ours_median": statistics.median(ours_wall), "snarkjs_median": statistics.median(snarkjs_wall)},
        "in_process_seconds": {"ours_load": load, "ours_calculate": min(ours_calc),
                               "snarkjs_first": snarkjs_first, "snarkjs_best": snarkjs_best},
        "ratio_cli": min(snarkjs_wall) / min(ours_wall),
        "ratio_in_process": snarkjs_best / min(ours_calc),
        "byte_identical": True,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=256, help="Poseidon(2) hashes in the chain (default 256, ~61k constraints)")
    parser.add_argument("--quick", action="store_true", help="a chain of 16 hashes (a smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported (default 3)")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default $ZKROLLUP_BENCH_CACHE or ~/.cache/zkrollup-bench)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if shutil.which("node") is None or not (NODE_BIN / "snarkjs").exists() or not (NODE_BIN / "circom2").exists():
        print("error: node and node_modules (snarkjs, circom2) are needed: run npm ci", file=sys.stderr)
        return 2
    hashes = 16 if args.quick else args.hashes
    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    folder = prepare(hashes, args.cache or default_cache_root(), log=log)
    figures = {"hashes": hashes, **measure(folder, max(1, args.repeat), log=log)}
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    wall, inproc = figures["cli_wall_seconds"], figures["in_process_seconds"]
    print(f"\nPoseidon(2) chain of {hashes}: {figures['witness_size']} witness values, wasm {figures['wasm_bytes']} bytes; "
          f"outputs byte-identical")
    print(f"  CLI wall (best of {args.repeat})   zkrollup {wall['ours']:.3f} s   snarkjs {wall['snarkjs']:.3f} s   "
          f"snarkjs/ours {figures['ratio_cli']:.2f}x")
    print(f"  in process, one witness    zkrollup {inproc['ours_calculate']:.3f} s   snarkjs {inproc['snarkjs_best']:.3f} s "
          f"(first call {inproc['snarkjs_first']:.3f} s)   snarkjs/ours {figures['ratio_in_process']:.2f}x")
    print(f"  zkrollup loading the wasm (wasmtime compile or cache load): {inproc['ours_load']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
