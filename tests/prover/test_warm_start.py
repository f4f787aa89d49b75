"""The kernels are cached on disk (Numba cache=True): a second process loads instead of compiling."""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from prover import convert, field, msm
    from prover.kernels import field as kf, msm as km

    a = convert.fq_from_ints([3, 5])
    field.fq_mul(a, a)
    msm.msm_g1(convert.g1_from_ints([(1, 2)] * 2), convert.scalars_from_ints([7, 1]), window=4)
    stats = {}
    for name, fn in [("fq_binary_arrays", kf.fq_binary_arrays), ("signed_digits", km.signed_digits),
                     ("window_sums", km.window_sums), ("combine_windows", km.combine_windows), ("sum_flagged", km.sum_flagged)]:
        stats[name] = [sum(fn.stats.cache_hits.values()), sum(fn.stats.cache_misses.values())]
    print(json.dumps(stats))
""")


def _run():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_loads_every_kernel_from_the_cache():
    _run()  # compiles and writes the cache, unless an earlier run already did
    second = _run()
    for name, (hits, misses) in second.items():
        assert misses == 0, f"{name} was compiled again in a warm process"
        assert hits >= 1, f"{name} was not loaded from the cache"
