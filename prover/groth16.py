"""Groth16 proving over BN254 from a snarkjs-format proving key and a witness, in Numba end to end.

The pipeline is snarkjs's (groth16_prove.js): A·z and B·z from the key's coefficients, C·z = A·z ∘ B·z
on the domain, each moved to the odd coset of the size-2n domain (inverse NTT, coset NTT), joined
as A·B − C there (that is H·Z at those points, Z = −2, folded into the key's H query), then four G1
MSMs and one G2 MSM, and fresh randomisers r and s per proof (Groth 2016, §3.2).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field as dc_field
from typing import Callable

import numpy as np

from verifier.types import Proof, VerifyingKey

from . import convert, field, msm, ntt
from .arrays import below_modulus, kernel_input
from .constants import R, root_of_unity
from .kernels import qap
from .zkey import COEF_RECORD, ProvingKey, ZkeyError, check_points, describe_bad_coefficient


class ProvingError(ValueError):
    """The witness cannot be proved with this key (wrong size, values >= r, unsatisfied)."""


@dataclass
class ProveTimings:
    """Seconds per stage of one proof."""

    stages: dict[str, float] = dc_field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.stages.values())

    def summary(self) -> str:
        parts = ", ".join(f"{k} {v:.3f}s" for k, v in self.stages.items())
        return f"prove {self.total:.3f}s ({parts})"


Progress = Callable[[str, int], None]
PROVE_STAGES = ("witness", "A·z B·z", "coset NTTs", "MSM A", "MSM B1", "MSM B2", "MSM C", "MSM H", "finish")


def verifying_key(pk: ProvingKey) -> VerifyingKey:
    """The verifying key inside a proving key, as the verifier's plain-int type."""
    return VerifyingKey(
        alpha_g1=convert.g1_to_ints(pk.alpha_g1[None])[0],
        beta_g2=convert.g2_to_ints(pk.beta_g2[None])[0],
        gamma_g2=convert.g2_to_ints(pk.gamma_g2[None])[0],
        delta_g2=convert.g2_to_ints(pk.delta_g2[None])[0],
        gamma_abc_g1=tuple(convert.g1_to_ints(np.asarray(pk.ic_g1))),
    )


def witness_array(witness) -> np.ndarray:
    """A witness as (n, 4) standard-form limbs: from a list of ints, or an array already in that form."""
    if isinstance(witness, np.ndarray):
        if witness.dtype != np.uint64 or witness.ndim != 2 or witness.shape[1] != 4:
            raise ProvingError(f"witness array must be (n, 4) uint64, got {witness.shape} {witness.dtype}")
        return np.ascontiguousarray(witness)
    values = [int(v) for v in witness]
    bad = next((i for i, v in enumerate(values) if not 0 <= v < R), None)
    if bad is not None:
        raise ProvingError(f"witness[{bad}] is not in [0, r)")
    return convert.ints_to_limbs(values)


def public_inputs_of(pk: ProvingKey, witness: np.ndarray) -> list[int]:
    return convert.limbs_to_ints(witness[1:pk.n_public + 1])


def prove(pk: ProvingKey, witness, *, r1cs=None, check: bool = True, rng=None,
          progress: Progress | None = None, timings: ProveTimings | None = None) -> tuple[Proof, list[int]]:
    """A Groth16 proof that `witness` (wire 0 = 1, then publics, then the rest) satisfies the key's circuit.

    With `r1cs`, the witness is checked against the constraints first and an unsatisfied one is
    refused naming the constraint. With `check` (the default), the finished proof is verified
    against the key's own verifying key and refused if it does not hold, so an unsatisfying witness
    never leaves as a "proof". `check=False` exists for tests that show the verifier rejects it.

    Raises ProvingError for a witness that does not fit or does not satisfy the key's circuit, and
    ZkeyError (naming the key's file and section) for a key found corrupt: a coefficient out of
    range, or, when the self-check fails, a point off the curve or an unusable verifying key.
    """
    rng = rng or secrets.SystemRandom()
    timings = timings if timings is not None else ProveTimings()
    step = progress or (lambda name, i: None)
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings.stages[name] = now - clock
        clock = now
        step(name, PROVE_STAGES.index(name))

    z = witness_array(witness)
    if len(z) != pk.n_vars:
        raise ProvingError(f"witness has {len(z)} wires but the key's circuit has {pk.n_vars}")
    ok = below_modulus(z, R)
    if not ok.all():
        raise ProvingError(f"witness[{int(np.flatnonzero(~ok)[0])}] is not in [0, r)")
    if not (z[0, 0] == 1 and not z[0, 1:].any()):
        raise ProvingError("witness[0] must be 1 (the constant wire)")
    if r1cs is not None:
        _check_satisfied(r1cs, z, pk)
    lap("witness")

    n = pk.domain_size
    a_eval = np.zeros((n, 4), np.uint64)
    b_eval = np.zeros((n, 4), np.uint64)
    records = np.ascontiguousarray(pk.coefficients, dtype=COEF_RECORD).view(np.uint8)
    bad = qap.build_ab(kernel_input(records), pk.n_vars, pk.domain_size, kernel_input(z), a_eval, b_eval)
    if bad >= 0:
        raise ZkeyError(describe_bad_coefficient(pk, bad))
    c_eval = field.fr_mul(a_eval, b_eval)
    lap("A·z B·z")

    shift = root_of_unity(pk.log_domain_size + 1)  # odd points of the 2n domain: shift * omega^i
    a_odd = ntt.coset_ntt(ntt.intt(a_eval), shift)
    b_odd = ntt.coset_ntt(ntt.intt(b_eval), shift)
    c_odd = ntt.coset_ntt(ntt.intt(c_eval), shift)
    h_scalars = field.fr_from_montgomery(field.fr_sub(field.fr_mul(a_odd, b_odd), c_odd))
    del a_eval, b_eval, c_eval, a_odd, b_odd, c_odd
    lap("coset NTTs")

    a_sum = msm.msm_g1(pk.a_g1, z)
    lap("MSM A")
    b1_sum = msm.msm_g1(pk.b_g1, z)
    lap("MSM B1")
    b2_sum = msm.msm_g2(pk.b_g2, z)
    lap("MSM B2")
    c_sum = msm.msm_g1(pk.c_g1, z[pk.n_public + 1:])
    lap("MSM C")
    h_sum = msm.msm_g1(pk.h_g1, h_scalars)
    lap("MSM H")

    r = rng.randrange(R)
    s = rng.randrange(R)
    scalars = convert.ints_to_limbs  # standard-form limbs of small lists
    pi_a = msm.msm_g1(np.stack([a_sum, pk.alpha_g1, pk.delta_g1]), scalars([1, 1, r]))
    pi_b = msm.msm_g2(np.stack([b2_sum, pk.beta_g2, pk.delta_g2]), scalars([1, 1, s]))
    b1 = msm.msm_g1(np.stack([b1_sum, pk.beta_g1, pk.delta_g1]), scalars([1, 1, s]))
    pi_c = msm.msm_g1(np.stack([c_sum, h_sum, pi_a, b1, pk.delta_g1]),
                      scalars([1, 1, s, r, (-r * s) % R]))
    proof = Proof(a=convert.g1_to_ints(pi_a[None])[0], b=convert.g2_to_ints(pi_b[None])[0],
                  c=convert.g1_to_ints(pi_c[None])[0])
    public = public_inputs_of(pk, z)
    if check:
        _self_check(pk, public, proof)
    lap("finish")
    return proof, public


def _self_check(pk: ProvingKey, public: list[int], proof: Proof) -> None:
    """Verify the new proof against the key's own verifying key; when it fails, find out whether the
    key is corrupt (its points are checked only then: free when all is well) before blaming the witness."""
    from verifier.groth16 import prepare_verifying_key, verify_prepared
    from verifier.types import VerifierInputError

    try:
        prepared = prepare_verifying_key(verifying_key(pk))
    except VerifierInputError as exc:
        raise ZkeyError(f"{pk.name}: its verifying key cannot be used: {exc}") from exc
    try:
        if verify_prepared(prepared, public, proof):
            return
        failed = "the pairing check e(A, B) = e(alpha, beta) e(IC, gamma) e(C, delta) fails"
    except VerifierInputError as exc:
        failed = str(exc)
    check_points(pk)
    raise ProvingError(f"the proof does not verify against the key's own verifying key ({failed}): the witness "
                       f"does not satisfy the circuit of {pk.name}, or the key's coefficients (section 4) "
                       "are corrupt (its points are all on the curve)")


def _check_satisfied(r1cs, z: np.ndarray, pk: ProvingKey) -> None:
    from circuits.builder import first_failure

    if r1cs.n_wires != pk.n_vars or r1cs.n_public != pk.n_public:
        raise ProvingError("the R1CS does not match the proving key (wire or public-input counts differ)")
    failure = first_failure(r1cs, convert.limbs_to_ints(z))
    if failure is not None:
        raise ProvingError(f"the witness does not satisfy the circuit: {failure.describe()}")
