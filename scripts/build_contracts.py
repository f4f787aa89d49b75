#!/usr/bin/env python3
"""Compile the rollup's fixed contracts (verifier/contracts/*.sol) with solc-js into verifier/build/NAME.json:
ABI, creation bytecode and runtime bytecode, with the compiler version, settings and the source's SHA-256.

These are build outputs: never edit them by hand; run this script after changing a contract
(tests/verifier/test_contracts_build.py checks they are current). The Groth16 verifier is not here: it is
rendered from each verifying key (verifier/solidity.py) and compiled when a rollup is deployed.

Usage: .venv/bin/python scripts/build_contracts.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from verifier.solc import EVM_VERSION, OPTIMIZER_RUNS, compile_sources, solc_version  # noqa: E402

CONTRACTS = REPO / "verifier" / "contracts"
BUILD = REPO / "verifier" / "build"


def build() -> dict[str, str]:
    """{output file name: its JSON text} for every contract in verifier/contracts."""
    sources = {p.name: p.read_text() for p in sorted(CONTRACTS.glob("*.sol"))}
    compiled = compile_sources(sources)
    version = solc_version()
    outputs = {}
    for file_name, text in sources.items():
        name = file_name.removesuffix(".sol")
        c = compiled[name]
        outputs[f"{name}.json"] = json.dumps({
            "contractName": name,
            "source": f"verifier/contracts/{file_name}",
            "sourceSha256": hashlib.sha256(text.encode()).hexdigest(),
            "compiler": {"solc": version, "evmVersion": EVM_VERSION, "optimizerRuns": OPTIMIZER_RUNS},
            "abi": c.abi,
            "bytecode": "0x" + c.bytecode.hex(),
            "deployedBytecode": "0x" + c.runtime.hex(),
        }, indent=1) + "\n"
    return outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a build output is missing or stale")
    args = parser.parse_args()
    outputs = build()
    stale = [n for n, text in outputs.items() if not (BUILD / n).is_file() or (BUILD / n).read_text() != text]
    if args.check:
        for n in stale:
            print(f"error: verifier/build/{n}: stale or missing (run scripts/build_contracts.py)", file=sys.stderr)
        return 1 if stale else 0
    BUILD.mkdir(exist_ok=True)
    for n, text in outputs.items():
        (BUILD / n).write_text(text)
        print(f"verifier/build/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
