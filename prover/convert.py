"""Conversions at the boundary: Python ints and py_ecc points to and from limb arrays.

Array layouts (all uint64, C-contiguous, little-endian limbs):
  field vector       (n, 4)        Fq or Fr, Montgomery form unless the name says "standard"
  Fq2 vector         (n, 2, 4)     c0, c1
  G1 affine          (n, 2, 4)     x, y; the point at infinity is (0, 0), as in snarkjs .zkey
  G2 affine          (n, 2, 2, 4)  x, y in Fq2
  G1 / G2 Jacobian   (n, 3, ...)   X, Y, Z; infinity has Z = 0
  scalars            (n, 4)        Fr in standard form, each below r
Python ints appear only here and in the plain-Python twins; nothing here is fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .constants import LIMB_BITS, LIMBS, MONT_R, Q, R

_BYTES = LIMBS * LIMB_BITS // 8


def ints_to_limbs(values: Iterable[int]) -> np.ndarray:
    """(n, 4) uint64 limbs of ints in [0, 2^256), no change of form."""
    values = [int(v) for v in values]
    for v in values:
        if not 0 <= v < 1 << (LIMBS * LIMB_BITS):
            raise ValueError(f"value {v} does not fit in 256 bits")
    raw = b"".join(v.to_bytes(_BYTES, "little") for v in values)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(len(values), LIMBS)


def limbs_to_ints(array: np.ndarray) -> list[int]:
    """Ints of the last axis' 4 limbs, flattened over the other axes."""
    flat = np.ascontiguousarray(array, dtype=np.uint64).reshape(-1, LIMBS)
    raw = flat.astype("<u8").tobytes()
    return [int.from_bytes(raw[i * _BYTES:(i + 1) * _BYTES], "little") for i in range(len(flat))]


def _to_mont(values: Iterable[int], modulus: int) -> np.ndarray:
    return ints_to_limbs((int(v) % modulus) * MONT_R % modulus for v in values)


def _from_mont(array: np.ndarray, modulus: int) -> list[int]:
    r_inv = pow(MONT_R, -1, modulus)
    return [v * r_inv % modulus for v in limbs_to_ints(array)]


def fq_from_ints(values: Iterable[int]) -> np.ndarray:
    """Fq elements (reduced mod q) as an (n, 4) Montgomery array."""
    return _to_mont(values, Q)


def fq_to_ints(array: np.ndarray) -> list[int]:
    return _from_mont(array, Q)


def fr_from_ints(values: Iterable[int]) -> np.ndarray:
    """Fr elements (reduced mod r) as an (n, 4) Montgomery array."""
    return _to_mont(values, R)


def fr_to_ints(array: np.ndarray) -> list[int]:
    return _from_mont(array, R)


def fq2_from_ints(values: Iterable[tuple[int, int]]) -> np.ndarray:
    """Fq2 elements given as (c0, c1) pairs, as an (n, 2, 4) Montgomery array."""
    pairs = [tuple(v) for v in values]
    return fq_from_ints(c for pair in pairs for c in pair).reshape(len(pairs), 2, LIMBS)


def fq2_to_ints(array: np.ndarray) -> list[tuple[int, int]]:
    flat = fq_to_ints(array)
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def scalars_from_ints(values: Iterable[int]) -> np.ndarray:
    """MSM scalars: standard-form (n, 4) limbs. Values must already be in [0, r)."""
    values = [int(v) for v in values]
    for v in values:
        if not 0 <= v < R:
            raise ValueError(f"scalar {v} is not in [0, r)")
    return ints_to_limbs(values)


# --- Points ----------------------------------------------------------------------------------------
# Affine points are (x, y) int pairs (G1) or ((x0, x1), (y0, y1)) (G2); None is the point at infinity.

def g1_from_ints(points: Sequence[tuple[int, int] | None]) -> np.ndarray:
    coords = []
    for p in points:
        coords += [0, 0] if p is None else [p[0], p[1]]
    return fq_from_ints(coords).reshape(len(points), 2, LIMBS)


def g1_to_ints(array: np.ndarray) -> list[tuple[int, int] | None]:
    flat = fq_to_ints(array)
    out = []
    for i in range(0, len(flat), 2):
        x, y = flat[i], flat[i + 1]
        out.append(None if x == 0 and y == 0 else (x, y))
    return out


def g2_from_ints(points) -> np.ndarray:
    coords = []
    for p in points:
        coords += [(0, 0), (0, 0)] if p is None else [tuple(p[0]), tuple(p[1])]
    return fq2_from_ints(coords).reshape(len(points), 2, 2, LIMBS)


def g2_to_ints(array: np.ndarray):
    flat = fq2_to_ints(array)
    out = []
    for i in range(0, len(flat), 2):
        x, y = flat[i], flat[i + 1]
        out.append(None if x == (0, 0) and y == (0, 0) else (x, y))
    return out


def g1_from_py_ecc(points) -> np.ndarray:
    """py_ecc.bn128 / optimized_bn128 G1 points (affine, or Jacobian triples) to an (n, 2, 4) array."""
    return g1_from_ints([_py_ecc_affine(p) for p in points])


def g2_from_py_ecc(points) -> np.ndarray:
    return g2_from_ints([_py_ecc_affine(p) for p in points])


def g1_to_py_ecc(array: np.ndarray):
    """(n, 2, 4) G1 array to py_ecc.bn128 affine points (None at infinity)."""
    from py_ecc.bn128 import FQ

    return [None if p is None else (FQ(p[0]), FQ(p[1])) for p in g1_to_ints(array)]


def g2_to_py_ecc(array: np.ndarray):
    from py_ecc.bn128 import FQ2

    return [None if p is None else (FQ2(list(p[0])), FQ2(list(p[1]))) for p in g2_to_ints(array)]


def _field_ints(element):
    coeffs = getattr(element, "coeffs", None)
    if coeffs is not None:
        return tuple(int(c) for c in coeffs)
    return int(element)


def _py_ecc_affine(point):
    if point is None:
        return None
    if len(point) == 3:  # optimized_bn128 Jacobian-style (x, y, z) with x/z, y/z affine
        from py_ecc.optimized_bn128 import is_inf, normalize

        if is_inf(point):
            return None
        point = normalize(point)
    return (_field_ints(point[0]), _field_ints(point[1]))
