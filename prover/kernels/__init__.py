"""Kernels compiled by Numba; use them through prover.field, curve, ntt and msm.

Numba's on-disk cache (cache=True) checks only the source of each kernel's own file, not of the
files it depends on (the IR emitters in ir.py and ifma.py, the constants). So that an edit or an
upgrade can never run stale machine code, the sources of all kernels are hashed at import and the
cache of this package (in its __pycache__, or under NUMBA_CACHE_DIR when that is set) is cleared
whenever the hash changes. `ensure_compiled` compiles or loads every kernel up front, with progress.
"""

import hashlib
from pathlib import Path


def clear_stale_cache(here: Path, extra_sources: tuple[Path, ...] = (), cache: Path | None = None) -> bool:
    """Delete the Numba cache files in `cache` (default here/__pycache__) unless the hash of
    here/*.py and extra_sources equals the one recorded beside them; True when it cleared."""
    sources = sorted(here.glob("*.py")) + list(extra_sources)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    cache = cache or here / "__pycache__"
    stamp = cache / "kernel-sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return False
        cache.mkdir(parents=True, exist_ok=True)
        for stale in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")) + list(cache.glob("warm-*")):
            stale.unlink(missing_ok=True)
        stamp.write_text(digest)
        return True
    except OSError:  # a read-only install: Numba then caches elsewhere or not at all
        return False


def numba_cache_dir(here: Path) -> Path:
    """Where Numba caches the kernels of the files in `here`: under NUMBA_CACHE_DIR when it is set
    (numba.core.caching.UserProvidedCacheLocator's layout), else in here/__pycache__."""
    from numba.core import config
    from numba.core.caching import UserProvidedCacheLocator

    root = config.CACHE_DIR
    if not root:
        return here / "__pycache__"

    return Path(root) / UserProvidedCacheLocator.get_suitable_cache_subpath(str(here / "__init__.py"))


def ensure_compiled(progress=None, helper=None, force=False):
    """Compile (cold cache) or load (warm) every kernel the prover uses; see prover.warmup.

    `progress(done, total, name)` is called before each step and once at the end (done == total).
    Returns at once when an earlier warm-up on this machine completed (unless `force`). Returns a
    prover.warmup.CompileReport.
    """
    from ..warmup import ensure_compiled as run

    return run(progress, helper, force)


_HERE = Path(__file__).resolve().parent
clear_stale_cache(_HERE, (_HERE.parent / "constants.py",), numba_cache_dir(_HERE))
