"""Kernels compiled by Numba; use them through prover.field, curve, ntt and msm.

Numba's on-disk cache (cache=True) checks only the time stamp of each kernel's own file, not of
the files it depends on (the IR emitters in ir.py and ifma.py, the constants). So that an edit or an
upgrade can never run stale machine code, the sources of all kernels are hashed at import and the
cache in this package's __pycache__ is cleared whenever the hash changes.
"""

import hashlib
from pathlib import Path


def clear_stale_cache(here: Path, extra_sources: tuple[Path, ...] = ()) -> bool:
    """Delete the Numba cache files in here/__pycache__ unless the hash of here/*.py and
    extra_sources equals the one recorded beside them; True when it cleared."""
    sources = sorted(here.glob("*.py")) + list(extra_sources)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    cache = here / "__pycache__"
    stamp = cache / "kernel-sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return False
        cache.mkdir(exist_ok=True)
        for stale in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            stale.unlink(missing_ok=True)
        stamp.write_text(digest)
        return True
    except OSError:  # a read-only install: Numba then caches elsewhere or not at all
        return False


_HERE = Path(__file__).resolve().parent
clear_stale_cache(_HERE, (_HERE.parent / "constants.py",))
