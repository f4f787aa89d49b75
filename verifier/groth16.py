"""Groth16 verification over BN254 as one multi-pairing, with every input checked before it is used.

Owns the refusal rules (points, public inputs, key shape) and the pairing equation; the curve
arithmetic comes from a backend in `verifier.curve`, never from the prover's kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from verifier.curve import (
    CURVE_ORDER,
    FIELD_MODULUS,
    PairingBackend,
    check_g1,
    check_g2_on_curve,
    default_backend_name,
    get_backend,
)
from verifier.types import G1, G2, BadPoint, BadPublicInput, InvalidProof, MalformedInput, Proof, VerifyingKey


def _check_g2(point: G2, name: str, backend: PairingBackend) -> None:
    check_g2_on_curve(point, name)
    # The twist has a large cofactor: a point outside the order-r subgroup would let the pairing
    # equation be met by values that are not a proof (small-subgroup attacks).
    if not backend.in_g2_subgroup(point):
        raise BadPoint(f"{name}: the point is on the twist but not in the order-r subgroup G2")


@dataclass(frozen=True)
class PreparedVerifyingKey:
    """A verifying key whose points were checked once, bound to the backend that checked them (as ark-groth16's)."""

    vk: VerifyingKey
    backend: str


def prepare_verifying_key(vk: VerifyingKey, backend: Optional[str] = None) -> PreparedVerifyingKey:
    """Check every point of `vk` (coordinates < q, on the curve, G2 points in the subgroup) and keep it for reuse."""
    if not isinstance(vk, VerifyingKey):
        raise MalformedInput(f"expected a VerifyingKey, got {type(vk).__name__}")
    name = backend or default_backend_name()
    arithmetic = get_backend(name)
    # A key with alpha, beta, gamma or delta at infinity is degenerate: with gamma = O, say, the
    # public inputs drop out of the equation and any inputs would be accepted.
    for label, point in (
        ("vk.alpha_g1", vk.alpha_g1),
        ("vk.beta_g2", vk.beta_g2),
        ("vk.gamma_g2", vk.gamma_g2),
        ("vk.delta_g2", vk.delta_g2),
    ):
        if point is None:
            raise BadPoint(f"{label}: the point at infinity is not a usable key element")
    # gamma = delta merges e(vk_x, gamma) e(C, delta) into e(vk_x + C, delta): from one valid proof
    # anyone can then shift C to match any public inputs. snarkjs's uncontributed zkey (zkey_0000)
    # has this shape, so it is refused here, with the reason.
    if vk.gamma_g2 == vk.delta_g2:
        raise BadPoint("vk: gamma_2 equals delta_2, so proofs can be forged for any public inputs "
                       "(an uncontributed snarkjs key? run `snarkjs zkey contribute` first)")
    # IC_i at infinity (i >= 1) drops public input i from the equation: any value would verify.
    for i, point in enumerate(vk.gamma_abc_g1[1:], start=1):
        if point is None:
            raise BadPoint(f"vk.gamma_abc_g1[{i}]: the point at infinity leaves public input {i} unbound")
    check_g1(vk.alpha_g1, "vk.alpha_g1")
    for label, point in (("vk.beta_g2", vk.beta_g2), ("vk.gamma_g2", vk.gamma_g2), ("vk.delta_g2", vk.delta_g2)):
        _check_g2(point, label, arithmetic)
    for i, point in enumerate(vk.gamma_abc_g1):
        check_g1(point, f"vk.gamma_abc_g1[{i}]")
    return PreparedVerifyingKey(vk=vk, backend=name)


def check_public_inputs(public_inputs: Sequence[int], n_public: int) -> tuple[int, ...]:
    """Refuse the wrong number of inputs or an input outside [0, r); return them as a tuple."""
    if isinstance(public_inputs, (str, bytes)) or not isinstance(public_inputs, Sequence):
        raise MalformedInput(f"public inputs: expected a sequence of ints, got {type(public_inputs).__name__}")
    if len(public_inputs) != n_public:
        raise BadPublicInput(f"public inputs: the key expects {n_public}, got {len(public_inputs)}")
    for i, value in enumerate(public_inputs):
        if not isinstance(value, int) or isinstance(value, bool):
            raise MalformedInput(f"public input {i}: expected an int, got {type(value).__name__}")
        # x and x + r are the same field element: accepting both would make a proof valid for two
        # different statements as the caller reads them (the classic snarkjs/solidity malleability).
        if not 0 <= value < CURVE_ORDER:
            raise BadPublicInput(f"public input {i}: not in [0, r)")
    return tuple(public_inputs)


def check_proof(proof: Proof, backend: PairingBackend) -> None:
    """Refuse a proof whose points are not in their groups (A, C on the curve; B also in G2's subgroup)."""
    if not isinstance(proof, Proof):
        raise MalformedInput(f"expected a Proof, got {type(proof).__name__}")
    check_g1(proof.a, "proof.a")
    _check_g2(proof.b, "proof.b", backend)
    check_g1(proof.c, "proof.c")


def _negate_g1(point: G1) -> G1:
    if point is None:
        return None
    x, y = point
    return (x, (FIELD_MODULUS - y) % FIELD_MODULUS)


def verify_prepared(pvk: PreparedVerifyingKey, public_inputs: Sequence[int], proof: Proof) -> bool:
    """Whether `proof` is valid for `public_inputs` under the prepared key; raises VerifierInputError on bad input."""
    arithmetic = get_backend(pvk.backend)
    vk = pvk.vk
    inputs = check_public_inputs(public_inputs, vk.n_public)
    check_proof(proof, arithmetic)
    # vk_x = IC_0 + sum x_i IC_i binds the public inputs into the equation.
    vk_x = arithmetic.g1_linear_combination(vk.gamma_abc_g1, (1, *inputs))
    # e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta), written as one product equal to 1 so that
    # the four Miller loops share a single final exponentiation.
    return arithmetic.pairing_product_is_one(
        [
            (_negate_g1(proof.a), proof.b),
            (vk.alpha_g1, vk.beta_g2),
            (vk_x, vk.gamma_g2),
            (proof.c, vk.delta_g2),
        ]
    )


def verify(
    vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof, *, backend: Optional[str] = None
) -> bool:
    """Whether `proof` is valid for `public_inputs` under `vk`.

    Returns False for a well-formed proof that does not verify; raises a `VerifierInputError`
    subclass for input that is not well formed (bad point, input >= r, wrong count).
    `backend` is "mcl" (fast) or "py_ecc" (reference); default: mcl when it loads.
    """
    return verify_prepared(prepare_verifying_key(vk, backend), public_inputs, proof)


def require_valid(
    vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof, *, backend: Optional[str] = None
) -> None:
    """Like `verify`, but raises `InvalidProof` where `verify` returns False."""
    if not verify(vk, public_inputs, proof, backend=backend):
        raise InvalidProof("the proof does not verify for these public inputs under this key")
