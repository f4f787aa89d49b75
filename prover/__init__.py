"""The Groth16 prover's arithmetic core over BN254: fields, curves, NTT and MSM in Numba.

Public modules: `field`, `curve`, `ntt`, `msm` (Numba kernels behind array functions) and
`reference` (their plain-Python twins, same names and signatures). `convert` handles the
boundary to Python ints and py_ecc points; `constants` holds the curve parameters.
"""

import os

# Numba's OpenMP threads spin between parallel kernels by default. On a machine whose cores are
# shared (CI, a laptop running other work) that spinning costs more than the kernels: measured
# here, a 2^12 NTT went from 0.6 ms to 2-5 ms beside one busy process, and stayed at 0.6 ms with
# passive waiting. Set before any kernel runs (OpenMP reads it once); the caller's value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
