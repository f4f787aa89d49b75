"""Stale Numba caches are cleared when any kernel source (or the constants) changes."""

from pathlib import Path

from prover import kernels
from prover.kernels import clear_stale_cache, numba_cache_dir


def test_cache_is_cleared_when_a_dependency_changes_and_only_then(tmp_path):
    (tmp_path / "ir.py").write_text("A = 1\n")
    (tmp_path / "msm.py").write_text("B = 2\n")
    constants = tmp_path / "constants.txt"
    constants.write_text("Q = 7\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "msm.window_sum-1.py311.nbi").write_text("index")
    (cache / "msm.window_sum-1.py311.1.nbc").write_text("code")

    assert clear_stale_cache(tmp_path, (constants,))          # no record yet: cleared
    assert not list(cache.glob("*.nb?"))
    (cache / "msm.window_sum-1.py311.nbi").write_text("fresh index")
    assert not clear_stale_cache(tmp_path, (constants,))      # nothing changed: kept
    assert (cache / "msm.window_sum-1.py311.nbi").exists()

    (tmp_path / "ir.py").write_text("A = 3\n")                # an edit to a file the kernels depend on
    assert clear_stale_cache(tmp_path, (constants,))
    assert not (cache / "msm.window_sum-1.py311.nbi").exists()

    (cache / "x.nbi").write_text("index")
    (cache / "warm-0123").write_text("a warm-up completed")   # prover.warmup's marker goes with the cache
    constants.write_text("Q = 11\n")                          # and to the constants
    assert clear_stale_cache(tmp_path, (constants,))
    assert not (cache / "x.nbi").exists() and not (cache / "warm-0123").exists()


def test_the_cache_checked_is_numbas_own_directory_also_under_numba_cache_dir(tmp_path, monkeypatch):
    from numba.core import config

    here = Path(kernels.__file__).resolve().parent
    monkeypatch.setattr(config, "CACHE_DIR", "")
    assert numba_cache_dir(here) == here / "__pycache__"
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))
    located = numba_cache_dir(here)
    assert located.parent == tmp_path and located.name.startswith("kernels_")
    # the directory Numba itself would use for a kernel of this package under NUMBA_CACHE_DIR
    from numba.core.caching import UserProvidedCacheLocator

    from prover.kernels import qap

    assert Path(UserProvidedCacheLocator(qap.build_ab.py_func, qap.__file__).get_cache_path()) == located
