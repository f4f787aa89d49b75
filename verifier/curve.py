"""BN254 for the verifier: constants, point validation, and pairing backends (py_ecc here, mcl in `verifier.mcl`).

Independent of the prover's kernels on purpose: a bug there must not be able to make a bad proof
pass here. py_ecc is the slow reference; `mcl` is the fast path, and the tests hold them together.
"""

from __future__ import annotations

import functools
from typing import Protocol, Sequence

from py_ecc import optimized_bn128 as _bn
from py_ecc.optimized_bn128 import optimized_pairing as _pairing

from verifier.types import G1, G2, BadPoint

# One place for the curve's numbers; tests check them against EIP-196/197's published values.
FIELD_MODULUS: int = _bn.field_modulus  # q, the base field
CURVE_ORDER: int = _bn.curve_order  # r, the scalar field and the order of G1, G2 and GT
BN_X: int = 4965661367192848881  # the BN parameter x: q and r are polynomials in it
G1_GENERATOR: tuple[int, int] = (1, 2)
G2_GENERATOR: tuple[tuple[int, int], tuple[int, int]] = (
    (int(_bn.G2[0].coeffs[0]), int(_bn.G2[0].coeffs[1])),
    (int(_bn.G2[1].coeffs[0]), int(_bn.G2[1].coeffs[1])),
)
G1_B: int = 3
G2_B: tuple[int, int] = (int(_bn.b2.coeffs[0]), int(_bn.b2.coeffs[1]))  # 3 / (9 + u): the D-type twist

# An element of GT in the layout snarkjs/ffjavascript writes (vk_alphabeta_12): Fq12 = Fq6[w]/(w^2 - v),
# Fq6 = Fq2[v]/(v^3 - (9 + u)), Fq2 = Fq[u]/(u^2 + 1); nested [c0, c1] of [c0, c1, c2] of [real, imaginary].
Gt = tuple[tuple[tuple[int, int], tuple[int, int], tuple[int, int]], tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]

# mcl and ffjavascript finish the pairing with the Fuentes-Castaneda et al. hard part ("Faster hashing
# to G2", 2011, §5), which lands on e(P, Q)^m for this m; py_ecc's plain exponentiation does not.
# Raising py_ecc's value to m gives the numbers snarkjs writes in vk_alphabeta_12 (checked in tests).
_FFJAVASCRIPT_GT_EXPONENT = 2 * BN_X * (6 * BN_X * BN_X + 3 * BN_X + 1)


def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    q = FIELD_MODULUS
    return ((a[0] * b[0] - a[1] * b[1]) % q, (a[0] * b[1] + a[1] * b[0]) % q)


def is_on_curve_g1(point: G1) -> bool:
    """y^2 = x^3 + 3 over Fq with both coordinates reduced; infinity is on the curve."""
    if point is None:
        return True
    x, y = point
    q = FIELD_MODULUS
    return 0 <= x < q and 0 <= y < q and (y * y - x * x * x - G1_B) % q == 0


def is_on_curve_g2(point: G2) -> bool:
    """y^2 = x^3 + 3/(9+u) over Fq2 with all four coordinates reduced; infinity is on the curve."""
    if point is None:
        return True
    x, y = point
    q = FIELD_MODULUS
    if not all(0 <= c < q for c in (*x, *y)):
        return False
    lhs = _fq2_mul(y, y)
    x3 = _fq2_mul(_fq2_mul(x, x), x)
    return (lhs[0] - x3[0] - G2_B[0]) % q == 0 and (lhs[1] - x3[1] - G2_B[1]) % q == 0


def check_g1(point: G1, name: str) -> None:
    """Refuse a G1 point with a coordinate outside [0, q) or off the curve (G1 has cofactor 1, so that is all)."""
    if point is None:
        return
    if not all(0 <= c < FIELD_MODULUS for c in point):
        raise BadPoint(f"{name}: a coordinate is not in [0, q)")
    if not is_on_curve_g1(point):
        raise BadPoint(f"{name}: the point is not on the curve y^2 = x^3 + 3")


def check_g2_on_curve(point: G2, name: str) -> None:
    """Refuse a G2 point with a coordinate outside [0, q) or off the twist; subgroup membership is the backend's."""
    if point is None:
        return
    if not all(0 <= c < FIELD_MODULUS for c in (*point[0], *point[1])):
        raise BadPoint(f"{name}: a coordinate is not in [0, q)")
    if not is_on_curve_g2(point):
        raise BadPoint(f"{name}: the point is not on the twist y^2 = x^3 + 3/(9+u)")


class PairingBackend(Protocol):
    """What verification needs from an implementation of BN254; points are already on their curves."""

    name: str

    def in_g2_subgroup(self, point: G2) -> bool:
        """Whether an on-twist point has order r (the twist's cofactor is not 1)."""

    def g1_linear_combination(self, points: Sequence[G1], scalars: Sequence[int]) -> G1:
        """sum scalars[i] * points[i], scalars in [0, r)."""

    def pairing_product_is_one(self, pairs: Sequence[tuple[G1, G2]]) -> bool:
        """Whether prod e(P_i, Q_i) == 1 in GT, with one shared final exponentiation."""

    def pairing(self, p: G1, q: G2) -> Gt:
        """e(p, q) as snarkjs writes it (ffjavascript's normalisation and layout)."""


def _to_py_ecc_g1(point: G1):
    if point is None:
        return _bn.Z1
    return (_bn.FQ(point[0]), _bn.FQ(point[1]), _bn.FQ.one())


def _to_py_ecc_g2(point: G2):
    if point is None:
        return _bn.Z2
    (x0, x1), (y0, y1) = point
    return (_bn.FQ2([x0, x1]), _bn.FQ2([y0, y1]), _bn.FQ2.one())


def _from_py_ecc_g1(point) -> G1:
    if _bn.is_inf(point):
        return None
    x, y = _bn.normalize(point)
    return (int(x), int(y))


def py_ecc_fq12_to_gt(value) -> Gt:
    """Rewrite py_ecc's Fq12 (coefficients of w^0..w^11, w^12 = 18 w^6 - 82) in snarkjs's tower layout.

    py_ecc embeds Fq2 by u = w^6 - 9 and Fq6 by v = w^2, so a tower coefficient a + b*u at w^e
    (e = 2k + i < 6) contributes (a - 9b) to w^e and b to w^(e+6).
    """
    q = FIELD_MODULUS
    c = [int(x) for x in value.coeffs]

    def coefficient(i: int, k: int) -> tuple[int, int]:
        e = 2 * k + i
        return ((c[e] + 9 * c[e + 6]) % q, c[e + 6] % q)

    return tuple(tuple(coefficient(i, k) for k in range(3)) for i in range(2))  # type: ignore[return-value]


class PyEccBackend:
    """The reference: py_ecc's optimized_bn128 (about 0.4 s a pairing, 0.6 s a Groth16 check)."""

    name = "py_ecc"

    def in_g2_subgroup(self, point: G2) -> bool:
        if point is None:
            return True
        return _bn.is_inf(_bn.multiply(_to_py_ecc_g2(point), CURVE_ORDER))

    def g1_linear_combination(self, points: Sequence[G1], scalars: Sequence[int]) -> G1:
        total = _bn.Z1
        for point, scalar in zip(points, scalars, strict=True):
            if point is not None and scalar != 0:
                total = _bn.add(total, _bn.multiply(_to_py_ecc_g1(point), scalar))
        return _from_py_ecc_g1(total)

    def _miller_product(self, pairs: Sequence[tuple[G1, G2]]):
        product = _bn.FQ12.one()
        for p, q in pairs:
            # A pair with infinity contributes 1; py_ecc's pairing says so too, but only after its own checks.
            if p is None or q is None:
                continue
            product = product * _pairing.pairing(_to_py_ecc_g2(q), _to_py_ecc_g1(p), final_exponentiate=False)
        return product

    def pairing_product_is_one(self, pairs: Sequence[tuple[G1, G2]]) -> bool:
        return _pairing.final_exponentiate(self._miller_product(pairs)) == _bn.FQ12.one()

    def pairing(self, p: G1, q: G2) -> Gt:
        value = _pairing.final_exponentiate(self._miller_product([(p, q)]))
        return py_ecc_fq12_to_gt(value ** (_FFJAVASCRIPT_GT_EXPONENT % CURVE_ORDER))


_BACKENDS: dict[str, PairingBackend] = {}


@functools.cache
def mcl_available() -> bool:
    """Whether the fast backend can load (mclbn256 installed and its library loads here); asked once a process."""
    try:
        get_backend("mcl")
    except ImportError:
        return False
    return True


def get_backend(name: str) -> PairingBackend:
    """The backend called `name` ("mcl" or "py_ecc"), built once per process."""
    if name not in _BACKENDS:
        if name == "py_ecc":
            _BACKENDS[name] = PyEccBackend()
        elif name == "mcl":
            from verifier.mcl import MclBackend  # imported late: mclbn256 is optional for the reference path

            _BACKENDS[name] = MclBackend()
        else:
            raise ValueError(f"unknown pairing backend {name!r}: use 'mcl' or 'py_ecc'")
    return _BACKENDS[name]


def default_backend_name() -> str:
    """mcl when it loads (the 5 ms path), else py_ecc."""
    return "mcl" if mcl_available() else "py_ecc"
