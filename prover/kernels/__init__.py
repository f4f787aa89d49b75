"""Kernels compiled by Numba; use them through prover.field, curve, ntt and msm."""
