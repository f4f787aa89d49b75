"""The kernels are cached on disk (Numba cache=True): a second process loads instead of compiling."""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json
    from prover import convert, field, msm
    from prover.kernels import field as kf, ifma, msm as km

    a = convert.fq_from_ints([3, 5])
    field.fq_mul(a, a)
    points, scalars = convert.g1_from_ints([(1, 2)] * 2), convert.scalars_from_ints([7, 1])
    kernels = [("fq_binary_arrays", kf.fq_binary_arrays), ("signed_digits", km.signed_digits),
               ("window_sums", km.window_sums), ("combine_windows", km.combine_windows),
               ("sum_flagged", km.sum_flagged)]
    msm.msm_g1(points, scalars, window=4, vectorised=False)
    if ifma.AVAILABLE:
        from prover.kernels import msm_ifma

        msm.msm_g1(points, scalars, window=4, vectorised=True)
        kernels += [("ifma window_sums", msm_ifma.window_sums), ("ifma conversion", msm_ifma.all_points_to_r52)]
    print(json.dumps({name: [sum(fn.stats.cache_hits.values()), sum(fn.stats.cache_misses.values())]
                      for name, fn in kernels}))
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
