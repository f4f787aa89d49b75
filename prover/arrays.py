"""Validation of the limb arrays every public prover function takes (shape, dtype, canonical values).

Shared by the Numba-backed modules and their plain-Python twins, so both refuse the same input.
"""

from __future__ import annotations

import numpy as np


def check_elements(array, trailing: tuple[int, ...], name: str, modulus: int | None = None) -> np.ndarray:
    """Validate shape (n, *trailing) and dtype uint64; return a C-contiguous array.

    With `modulus`, also refuse limbs encoding a value >= modulus (not a canonical element).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(array).__name__}")
    if array.dtype != np.uint64:
        raise TypeError(f"{name}: expected dtype uint64, got {array.dtype}")
    if array.ndim != 1 + len(trailing) or tuple(array.shape[1:]) != trailing:
        raise ValueError(f"{name}: expected shape (n, {', '.join(map(str, trailing))}), got {array.shape}")
    array = np.ascontiguousarray(array)
    if modulus is not None and array.size and not below_modulus(array, modulus).all():
        raise ValueError(f"{name}: an element is not below the field modulus")
    return array


def below_modulus(array: np.ndarray, modulus: int) -> np.ndarray:
    """Per 4-limb element: is its value < modulus? Vectorised lexicographic compare from the top limb."""
    limbs = array.reshape(-1, 4)
    m = [np.uint64((modulus >> (64 * i)) & (2**64 - 1)) for i in range(4)]
    less = np.zeros(len(limbs), dtype=bool)
    equal = np.ones(len(limbs), dtype=bool)
    for i in (3, 2, 1, 0):
        less |= equal & (limbs[:, i] < m[i])
        equal &= limbs[:, i] == m[i]
    return less.reshape(array.shape[:-1])


def same_length(a: np.ndarray, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(f"operands differ in length: {len(a)} and {len(b)}")


def scalars_below_r(scalars: np.ndarray, r: int) -> None:
    """Refuse MSM scalars >= r, naming the first one."""
    ok = below_modulus(scalars, r)
    if not ok.all():
        where = int(np.flatnonzero(~ok)[0])
        raise ValueError(f"scalars[{where}] is not below r (scalars must be standard-form Fr elements)")
