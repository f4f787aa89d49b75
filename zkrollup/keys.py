"""Batch circuits and their Groth16 proving keys, made once per circuit shape and cached on disk.

Cache folder: `$ZKROLLUP_CACHE` or `~/.cache/zkrollup`. Entries are named by the layout's shape and a hash
of the layout and of the circuit code (`circuits/` sources), so an edit to a gadget never serves a stale
circuit or key. Each file has a `.sha256` beside it, checked on every load: a corrupted or truncated file
is refused (`CorruptCacheFile`, naming the file), never trusted. Owns the cache; not the circuit
(`circuits.rollup.batch`) nor the setup (`prover.setup`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Callable

from circuits.rollup.layout import Layout

__all__ = ["CorruptCacheFile", "cache_dir", "circuit_for", "circuit_hash", "key_path_for", "load_key", "proving_key_for"]

ROOT = Path(__file__).resolve().parents[1]


class CorruptCacheFile(ValueError):
    """A cached circuit or key whose bytes do not match the hash recorded when it was written."""


def cache_dir() -> Path:
    """The cache folder ($ZKROLLUP_CACHE, default ~/.cache/zkrollup), created on first use."""
    path = Path(os.environ.get("ZKROLLUP_CACHE") or Path.home() / ".cache" / "zkrollup")
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def _code_hash() -> str:
    digest = hashlib.sha256()
    for source in sorted((ROOT / "circuits").rglob("*.py")):
        digest.update(source.relative_to(ROOT).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _entry_name(layout: Layout) -> str:
    tag = hashlib.sha256((layout.fingerprint() + _code_hash()).encode()).hexdigest()[:16]
    return f"{layout.shape_id}-{tag}"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_checked(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temp file in the same folder, record its hash, then rename both into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
    os.close(fd)
    try:
        write(Path(tmp))
        (path.parent / (path.name + ".sha256")).write_text(_sha256_file(Path(tmp)) + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _verify_checked(path: Path) -> None:
    sidecar = path.parent / (path.name + ".sha256")
    if not sidecar.exists():
        raise CorruptCacheFile(f"{path}: no recorded hash beside it (delete it to rebuild)")
    if _sha256_file(path) != sidecar.read_text().strip():
        raise CorruptCacheFile(f"{path}: contents do not match the hash recorded when it was written "
                               "(corrupted or truncated; delete it to rebuild)")


_memory: dict[str, object] = {}


def circuit_for(layout: Layout, *, progress: Callable[[str], None] | None = None):
    """The compiled `BatchCircuit` for `layout`: from memory, from the disk cache, or built (and cached)."""
    from circuits.rollup.batch import build_batch_circuit

    name = _entry_name(layout)
    if name in _memory:
        return _memory[name]
    path = cache_dir() / (name + ".circuit.pickle")
    if path.exists():
        _verify_checked(path)
        with open(path, "rb") as f:
            circuit = pickle.load(f)
    else:
        if progress:
            progress(f"building the batch circuit {layout.shape_id} (once per shape)")
        circuit = build_batch_circuit(layout)

        def dump(tmp: Path):
            with open(tmp, "wb") as f:
                pickle.dump(circuit, f, protocol=pickle.HIGHEST_PROTOCOL)

        _write_checked(path, dump)
    _memory[name] = circuit
    return circuit


def circuit_hash(circuit) -> str:
    """Hex BLAKE2b-512 of the circuit's R1CS (prover.zkey.circuit_hash_of: sizes and the A, B, C matrices), the
    hash a .zkey made by our setup records in its section 10. Memoised per circuit object."""
    from prover.zkey import circuit_hash_of

    cached = getattr(circuit, "_r1cs_hash", None)
    if cached is None:
        r1cs = circuit.r1cs
        cached = circuit_hash_of(r1cs.n_wires, r1cs.n_public, (r1cs.a, r1cs.b, r1cs.c)).hex()
        object.__setattr__(circuit, "_r1cs_hash", cached)
    return cached


def key_path_for(layout: Layout, r1cs_hash: str) -> Path:
    """The cache file of the proving key for this shape and R1CS (keyed by the R1CS, not the code: an edit
    that leaves the constraints alone keeps its key)."""
    return cache_dir() / f"{layout.shape_id}-{r1cs_hash[:16]}.zkey"


def proving_key_for(layout: Layout, *, setup_progress=None, notify: Callable[[str], None] | None = None):
    """(path, ProvingKey) for `layout`'s circuit as the code builds it now, running the single-party
    development setup the first time (it sends prover.setup.SETUP_WARNING through `notify`)."""
    from prover.setup import SETUP_WARNING, setup
    from prover.zkey import write_zkey

    circuit = circuit_for(layout, progress=notify)
    path = key_path_for(layout, circuit_hash(circuit))
    if not path.exists():
        if notify:
            notify(f"warning: {SETUP_WARNING}")
            notify(f"making the proving key for {layout.shape_id} (once per shape; "
                   f"{circuit.r1cs.n_constraints:,} constraints)")
        pk = setup(circuit.r1cs, progress=setup_progress, quiet=True)
        _write_checked(path, lambda tmp: write_zkey(tmp, pk))
    return path, load_key(path)


def load_key(path: Path):
    """The proving key at `path` (memory-mapped) after checking its recorded SHA-256; CorruptCacheFile, or
    FileNotFoundError when it is gone."""
    from prover.zkey import load_zkey

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    _verify_checked(path)
    return load_zkey(path)


def verifier_contract(vk):
    """The Groth16 verifier contract rendered from `vk` (verifier.solidity.render_verifier) and compiled with
    solc-js, cached by the SHA-256 of its source and the compiler settings (solc's output is deterministic:
    no metadata hash), so a deployment and a later `zkrollup sync` on the same machine compile it once.
    Returns a verifier.solc.CompiledContract; SolcError if it must be compiled and cannot be."""
    from verifier.solc import CompiledContract, standard_input
    from verifier.solidity import compile_verifier, render_verifier

    source = render_verifier(vk)
    tag = hashlib.sha256(json.dumps(standard_input({"Groth16Verifier.sol": source}), sort_keys=True).encode()).hexdigest()
    path = cache_dir() / f"verifier-{tag[:16]}.json"
    if path.exists():
        _verify_checked(path)
        data = json.loads(path.read_text())
        return CompiledContract(data["name"], data["abi"], bytes.fromhex(data["bytecode"]),
                                bytes.fromhex(data["runtime"]))
    compiled = compile_verifier(vk)
    text = json.dumps({"name": compiled.name, "abi": compiled.abi, "bytecode": compiled.bytecode.hex(),
                       "runtime": compiled.runtime.hex()})
    _write_checked(path, lambda tmp: tmp.write_text(text))
    return compiled
