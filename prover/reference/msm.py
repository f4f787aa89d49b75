"""Plain-Python twin of `prover.msm`: sum_i s_i * P_i by double-and-add on Python ints.

Same arrays in and out, same refusals (shapes, scalars >= r); `window` and `vectorised` are
accepted and ignored.
"""

from __future__ import annotations

import numpy as np

from .. import convert
from ..arrays import check_elements, scalars_below_r
from ..constants import R
from .curve import G1_OPS, G2_OPS, _read, add_points, from_affine_point, scalar_mul, to_affine_point


def _msm(F, points, scalars, point_shape):
    points = check_elements(points, point_shape, "points")
    scalars = check_elements(scalars, (4,), "scalars")
    if len(points) != len(scalars):
        raise ValueError(f"{len(points)} points but {len(scalars)} scalars")
    if len(points) == 0:
        return np.zeros(point_shape, np.uint64)
    scalars_below_r(scalars, R)
    total = (F.one, F.one, F.zero)
    for (x, y), k in zip(_read(F, points, 2), convert.limbs_to_ints(scalars)):
        total = add_points(F, total, scalar_mul(F, from_affine_point(F, x, y), k))
    x, y = to_affine_point(F, total)
    return F.from_ints([x, y]).reshape(point_shape)


def msm_g1(points: np.ndarray, scalars: np.ndarray, window: int | None = None,
           vectorised: bool | None = None) -> np.ndarray:
    return _msm(G1_OPS, points, scalars, (2, 4))


def msm_g2(points: np.ndarray, scalars: np.ndarray, window: int | None = None,
           vectorised: bool | None = None) -> np.ndarray:
    return _msm(G2_OPS, points, scalars, (2, 2, 4))
