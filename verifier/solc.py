"""Solidity compilation through solc-js (npm `solc`, pinned in package-lock.json), run by Node.

`compile_sources({"Verifier.sol": text, ...})` feeds the compiler its Standard JSON input (one fixed set of
settings: optimizer on, 1,000 runs, `evmVersion` EVM_VERSION, no metadata hash so that equal sources give
equal bytecode anywhere) and returns each contract's ABI, creation bytecode and runtime bytecode. Owns the
compiler settings; not the contracts' text (verifier/solidity.py, verifier/contracts/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CompiledContract", "SolcError", "SOLC_VERSION", "EVM_VERSION", "compile_sources", "node_modules"]

#: The compiler release package-lock.json pins (checked against what solc-js reports).
SOLC_VERSION = "0.8.37"
#: The hard fork the bytecode targets: the newest that both py-evm (eth-tester) and anvil run.
EVM_VERSION = "prague"
OPTIMIZER_RUNS = 1000

_HERE = Path(__file__).resolve().parent


class SolcError(RuntimeError):
    """Compilation failed, or Node/solc-js is not installed (one line: what to do)."""


@dataclass(frozen=True)
class CompiledContract:
    """One compiled contract: `abi` (list of JSON ABI entries), `bytecode` (creation code) and
    `runtime` (deployed code), both as bytes."""

    name: str
    abi: list
    bytecode: bytes
    runtime: bytes


def node_modules() -> Path:
    """The npm packages folder: $ZKROLLUP_NODE_MODULES, else the first `node_modules` found going up from
    this package (the checkout's, installed by `npm ci`). SolcError if there is none."""
    override = os.environ.get("ZKROLLUP_NODE_MODULES")
    if override:
        return Path(override)
    for folder in (_HERE, *_HERE.parents):
        candidate = folder / "node_modules"
        if candidate.is_dir():
            return candidate
    raise SolcError("no node_modules folder found: run `npm ci` in the zkrollup checkout "
                    "(or set ZKROLLUP_NODE_MODULES)")


def standard_input(sources: dict[str, str]) -> dict:
    """The Standard JSON input for `sources` (file name -> Solidity text) with the project's settings."""
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": EVM_VERSION,
            "metadata": {"bytecodeHash": "none", "appendCBOR": False},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }


def compile_sources(sources: dict[str, str], *, timeout: float = 300.0) -> dict[str, CompiledContract]:
    """Compile Solidity sources with solc-js; returns {contract name: CompiledContract} over all sources.

    Raises SolcError naming the first compiler error (file:line: message), or what is missing (Node, the
    npm `solc` package)."""
    node = shutil.which("node")
    if node is None:
        raise SolcError("Node.js is not on PATH: it runs the Solidity compiler (solc-js)")
    modules = node_modules()
    if not (modules / "solc").is_dir():
        raise SolcError(f"{modules}/solc is missing: run `npm ci` in the zkrollup checkout")
    env = dict(os.environ, NODE_PATH=str(modules))
    try:
        done = subprocess.run([node, str(_HERE / "solc_compile.cjs")], input=json.dumps(standard_input(sources)),
                              capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SolcError(f"solc-js took more than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise SolcError(f"solc-js failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        first = errors[0]
        where = first.get("sourceLocation", {}).get("file", "")
        raise SolcError(f"{where}: {first.get('formattedMessage', first.get('message')).strip().splitlines()[0]}")
    contracts = {}
    for per_file in output.get("contracts", {}).values():
        for name, c in per_file.items():
            contracts[name] = CompiledContract(name, c["abi"], bytes.fromhex(c["evm"]["bytecode"]["object"]),
                                               bytes.fromhex(c["evm"]["deployedBytecode"]["object"]))
    return contracts


def solc_version() -> str:
    """The version solc-js reports (e.g. `0.8.37+commit.…`)."""
    node = shutil.which("node")
    if node is None:
        raise SolcError("Node.js is not on PATH")
    env = dict(os.environ, NODE_PATH=str(node_modules()))
    done = subprocess.run([node, "-e", "process.stdout.write(require('solc').version())"], capture_output=True,
                          text=True, env=env, check=True)
    return done.stdout.strip()
