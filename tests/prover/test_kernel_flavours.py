"""One compilation per kernel: after `ensure_compiled`, no key or witness makes Numba compile again.

Numba compiles a kernel once per argument type, and a read-only mapped section, an unaligned buffer
or a strided slice is a type of its own: before the kernels' inputs were normalised, the first proof
with a snarkjs key recompiled the G2 MSM for about a minute. Here, in an empty NUMBA_CACHE_DIR, one
process warms up and then proves with keys of both origins (ours from a file and from memory,
snarkjs's after a contribution) and with awkward arrays; a second process does the same work from
the cache. Each reports how many kernel signatures it compiled: none after the warm-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WORK = textwrap.dedent("""
    import json, sys
    import numpy as np
    from prover import convert, msm
    from prover.warmup import compiled_count, ensure_compiled

    warm_up, ours_path, snarkjs_folder = sys.argv[1] == "warm", sys.argv[2], sys.argv[3]
    report = {}
    if warm_up:
        report["warm_up_compiled"] = ensure_compiled(helper=False).compiled
    before = compiled_count()

    from circuits.builder import ConstraintSystem
    from prover.groth16 import prove
    from prover.setup import setup
    from prover.witness import load_wtns
    from prover.zkey import load_zkey, write_zkey

    cs = ConstraintSystem()
    x = cs.public_input("x")
    acc = cs.private_input("y")
    for i in range(40):
        acc = cs.mul(acc, acc + x + i)
    cs.public_output("out", acc)
    circuit = cs.compile()
    witness = circuit.solve({"x": 3, "y": 5})
    key = setup(circuit.r1cs, quiet=True)                     # a key in memory: fresh writeable arrays
    write_zkey(ours_path, key)
    prove(key, witness)
    prove(load_zkey(ours_path), witness)                      # mapped read-only, some sections copied
    prove(load_zkey(ours_path, mmap=False), np.array(convert.ints_to_limbs(witness)))
    if snarkjs_folder != "-":
        prove(load_zkey(snarkjs_folder + "/main.zkey"), load_wtns(snarkjs_folder + "/w.wtns"))

    points = convert.g1_from_ints([(1, 2)] * 16)
    scalars = convert.scalars_from_ints(range(3, 19))
    raw = b"\\0" + points.tobytes()
    unaligned = np.frombuffer(raw, dtype=np.uint64, offset=1, count=points.size).reshape(points.shape)
    assert not unaligned.flags.aligned and not unaligned.flags.writeable
    doubled = np.repeat(points, 2, axis=0)[::2]               # strided: not contiguous
    for p in (unaligned, doubled, np.asfortranarray(points)):
        msm.msm_g1(p, scalars)
    report["compiled_after_warm_up"] = compiled_count() - before
    print(json.dumps(report))
""")


def _run(tmp_path: Path, cache: Path, warm: bool, snarkjs_folder: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    done = subprocess.run([sys.executable, "-c", WORK, "warm" if warm else "cold", str(tmp_path / "ours.zkey"),
                           snarkjs_folder], capture_output=True, text=True, env=env, timeout=3600,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def snarkjs_folder(request):
    """The snarkjs key of test_groth16 (setup from a tiny powers of tau, one contribution), when node is here."""
    try:
        return str(request.getfixturevalue("snarkjs_key"))
    except pytest.skip.Exception:
        return "-"


def test_no_kernel_is_compiled_after_the_warm_up_for_keys_of_either_origin(tmp_path, snarkjs_folder):
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    first = _run(tmp_path, cache, warm=True, snarkjs_folder=snarkjs_folder)
    assert first["warm_up_compiled"], "the cache directory was not empty"
    assert first["compiled_after_warm_up"] == 0
    second = _run(tmp_path, cache, warm=False, snarkjs_folder=snarkjs_folder)
    assert second["compiled_after_warm_up"] == 0
    if snarkjs_folder == "-":
        pytest.skip("node or the npm tools are missing: proved with our keys only")
