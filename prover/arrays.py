"""Validation of the limb arrays every public prover function takes (shape, dtype, canonical values),
and the one array flavour the Numba kernels are handed.

Shared by the Numba-backed modules and their plain-Python twins, so both refuse the same input.
Numba compiles a kernel once per argument *type*, and an array's type includes whether it is
C-contiguous, aligned and writeable: a read-only memory-mapped key section and a fresh array are
two types, and the second one met costs a full compilation (about a minute for an MSM). So every
array a kernel only reads goes through `kernel_input`, which gives one flavour for all of them.
"""

from __future__ import annotations

import numpy as np


def kernel_input(array: np.ndarray, dtype=None) -> np.ndarray:
    """`array` as the kernels read their inputs: a plain (not memmap) C-contiguous, aligned,
    read-only ndarray of `dtype` (default: its own).

    A view when the array already is contiguous and aligned, whatever its writeability or its
    subclass (the common case: mapped key sections, fresh arrays); a copy only when its memory
    layout or dtype must change (strided slices, unaligned buffers).
    """
    array = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
    if not (array.flags.c_contiguous and array.flags.aligned):
        array = np.array(array, order="C")  # a fresh array is aligned
    view = array.view(np.ndarray)
    view.flags.writeable = False
    return view


def check_elements(array, trailing: tuple[int, ...], name: str, modulus: int | None = None) -> np.ndarray:
    """Validate shape (n, *trailing) and dtype uint64; return it as a `kernel_input` (read-only).

    With `modulus`, also refuse limbs encoding a value >= modulus (not a canonical element).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(array).__name__}")
    if array.dtype != np.uint64:
        raise TypeError(f"{name}: expected dtype uint64, got {array.dtype}")
    if array.ndim != 1 + len(trailing) or tuple(array.shape[1:]) != trailing:
        raise ValueError(f"{name}: expected shape (n, {', '.join(map(str, trailing))}), got {array.shape}")
    array = kernel_input(array)
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
