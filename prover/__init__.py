"""The Groth16 prover's arithmetic core over BN254: fields, curves, NTT and MSM in Numba.

Public modules: `field`, `curve`, `ntt`, `msm` (Numba kernels behind array functions) and
`reference` (their plain-Python twins, same names and signatures). `convert` handles the
boundary to Python ints and py_ecc points; `constants` holds the curve parameters.
"""
