"""G1 and G2 point arithmetic on arrays, backed by Numba kernels: Jacobian, mixed and batch-affine
addition, doubling, conversion, and validation (on the curve; in G2's order-r subgroup).

Shapes (uint64, Montgomery form): G1 affine (n, 2, 4), Jacobian (n, 3, 4); G2 affine (n, 2, 2, 4),
Jacobian (n, 3, 2, 4). Affine infinity is (0, 0); Jacobian infinity has Z = 0. The plain-Python
twin is `prover.reference.curve`.
"""

from __future__ import annotations

import numpy as np

from .arrays import below_modulus, check_elements, same_length
from .kernels import curve as k
from .kernels.field import FQ2_LIKE, FQ_LIKE
from .constants import Q


class PointNotOnCurve(ValueError):
    """A point given as input does not satisfy the curve equation (or is outside the subgroup)."""


def _group(like, fe_shape):
    affine_shape = (2,) + fe_shape
    jac_shape = (3,) + fe_shape

    def add(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Jacobian + Jacobian."""
        p = check_elements(p, jac_shape, "p")
        q = check_elements(q, jac_shape, "q")
        same_length(p, q)
        out = np.empty_like(p)
        if len(p):
            k.jac_binary_arrays(p, q, out, 0, like)
        return out

    def add_mixed(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Jacobian + affine."""
        p = check_elements(p, jac_shape, "p")
        q = check_elements(q, affine_shape, "q")
        same_length(p, q)
        out = np.empty_like(p)
        if len(p):
            k.jac_binary_arrays(p, q, out, 1, like)
        return out

    def double(p: np.ndarray) -> np.ndarray:
        p = check_elements(p, jac_shape, "p")
        out = np.empty_like(p)
        if len(p):
            k.jac_double_arrays(p, out, like)
        return out

    def to_affine(p: np.ndarray) -> np.ndarray:
        p = check_elements(p, jac_shape, "p")
        out = np.empty((len(p),) + affine_shape, np.uint64)
        if len(p):
            k.jac_to_affine_arrays(p, out, like)
        return out

    def from_affine(p: np.ndarray) -> np.ndarray:
        p = check_elements(p, affine_shape, "p")
        out = np.empty((len(p),) + jac_shape, np.uint64)
        if len(p):
            k.affine_to_jac_arrays(p, out, like)
        return out

    def batch_affine_add(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Affine + affine for n pairs, with one field inversion for all of them."""
        p = check_elements(p, affine_shape, "p")
        q = check_elements(q, affine_shape, "q")
        same_length(p, q)
        out = np.empty_like(p)
        if len(p):
            scratch = np.empty((3 * len(p),) + fe_shape, np.uint64)
            k.batch_affine_add_arrays(p, q, out, scratch, like)
        return out

    def is_on_curve(p: np.ndarray) -> np.ndarray:
        """Per point: canonical coordinates (< q) satisfying the curve equation; (0, 0) passes."""
        p = check_elements(p, affine_shape, "p")
        out = np.empty(len(p), np.bool_)
        if len(p):
            canonical = below_modulus(p, Q).reshape(len(p), -1).all(axis=1)
            k.on_curve_arrays(p, out, like)
            out &= canonical
        return out

    def is_in_subgroup(p: np.ndarray) -> np.ndarray:
        """Per point: on the curve and of order dividing r (r * P = infinity)."""
        p = check_elements(p, affine_shape, "p")
        out = is_on_curve(p)
        if len(p):
            member = np.empty(len(p), np.bool_)
            k.in_subgroup_arrays(p, member, like)
            out &= member
        return out

    def validate(p: np.ndarray, name: str = "points", subgroup: bool = False) -> np.ndarray:
        """Raise PointNotOnCurve naming the first bad point; return the array (a read-only view)."""
        p = check_elements(p, affine_shape, name)
        ok = is_in_subgroup(p) if subgroup else is_on_curve(p)
        if not ok.all():
            where = int(np.flatnonzero(~ok)[0])
            what = "in the subgroup of order r" if subgroup else "on the curve"
            raise PointNotOnCurve(f"{name}[{where}] is not {what}")
        return p

    return add, add_mixed, double, to_affine, from_affine, batch_affine_add, is_on_curve, is_in_subgroup, validate


(g1_add, g1_add_mixed, g1_double, g1_to_affine, g1_from_affine, g1_batch_affine_add,
 g1_is_on_curve, g1_is_in_subgroup, g1_validate) = _group(FQ_LIKE, (4,))
(g2_add, g2_add_mixed, g2_double, g2_to_affine, g2_from_affine, g2_batch_affine_add,
 g2_is_on_curve, g2_is_in_subgroup, g2_validate) = _group(FQ2_LIKE, (2, 4))
