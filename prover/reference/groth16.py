"""Plain-Python twins of `prover.setup.setup` and `prover.groth16.prove`: the same keys and proofs
from the same randomness, computed the textbook way on Python ints (Lagrange basis by its formula,
polynomials evaluated by Horner's rule, points by py_ecc-free double-and-add). For tiny circuits.
"""

from __future__ import annotations

import numpy as np

from verifier.types import Proof

from .. import convert
from ..constants import G1_GENERATOR, G2_GENERATOR, MONT_R, R, root_of_unity
from ..zkey import ProvingKey, circuit_hash_of, domain_size_for
from . import msm as ref_msm


def _lagrange_at(x: int, domain: int, omega: int) -> list[int]:
    """L_i(x) = omega^i (x^n - 1) / (n (x - omega^i)) for the n-th roots of unity."""
    zx = (pow(x, domain, R) - 1) % R
    n_inv = pow(domain, -1, R)
    return [pow(omega, i, R) * zx * n_inv * pow(x - pow(omega, i, R), -1, R) % R for i in range(domain)]


def _column_sums(matrix, row_values: list[int], n_vars: int) -> list[int]:
    out = [0] * n_vars
    coeffs = convert.limbs_to_ints(matrix.coeffs)
    for i in range(matrix.n_rows):
        for k in range(int(matrix.indptr[i]), int(matrix.indptr[i + 1])):
            j = int(matrix.indices[k])
            out[j] = (out[j] + coeffs[k] * row_values[i]) % R
    return out


def _g1_times(scalars: list[int]) -> np.ndarray:
    gen = convert.g1_from_ints([G1_GENERATOR])
    return np.stack([ref_msm.msm_g1(gen, convert.ints_to_limbs([s])) for s in scalars]) \
        if scalars else np.zeros((0, 2, 4), np.uint64)


def _g2_times(scalars: list[int]) -> np.ndarray:
    gen = convert.g2_from_ints([G2_GENERATOR])
    return np.stack([ref_msm.msm_g2(gen, convert.ints_to_limbs([s])) for s in scalars]) \
        if scalars else np.zeros((0, 2, 2, 4), np.uint64)


def setup(r1cs, *, rng, progress=None, quiet: bool = True) -> ProvingKey:
    """The key `prover.setup.setup` makes when its rng yields the same toxic waste."""
    from ..setup import _coefficients

    m, n_public, n_vars = r1cs.n_constraints, r1cs.n_public, r1cs.n_wires
    domain = domain_size_for(m, n_public)
    tau, alpha, beta, gamma, delta = (1 + rng.randrange(R - 1) for _ in range(5))
    while pow(tau, 2 * domain, R) == 1:
        tau = 1 + rng.randrange(R - 1)
    log_n = domain.bit_length() - 1
    lagrange = _lagrange_at(tau, domain, root_of_unity(log_n))
    u = _column_sums(r1cs.a, lagrange, n_vars)
    v = _column_sums(r1cs.b, lagrange, n_vars)
    w = _column_sums(r1cs.c, lagrange, n_vars)
    for j in range(n_public + 1):  # the extra rows x_j * 0 = 0
        u[j] = (u[j] + lagrange[m + j]) % R
    k = [(beta * u[j] + alpha * v[j] + w[j]) % R for j in range(n_vars)]
    gamma_inv, delta_inv = pow(gamma, -1, R), pow(delta, -1, R)
    # H query: the size-2n Lagrange basis at the odd points, over delta
    lagrange_2n = _lagrange_at(tau, 2 * domain, root_of_unity(log_n + 1))
    h = [lagrange_2n[2 * i + 1] * delta_inv % R for i in range(domain)]
    coefficients = _coefficients(r1cs, m, n_public)
    return ProvingKey(
        n_vars=n_vars, n_public=n_public, domain_size=domain,
        alpha_g1=_g1_times([alpha])[0], beta_g1=_g1_times([beta])[0], beta_g2=_g2_times([beta])[0],
        gamma_g2=_g2_times([gamma])[0], delta_g1=_g1_times([delta])[0], delta_g2=_g2_times([delta])[0],
        ic_g1=_g1_times([x * gamma_inv % R for x in k[:n_public + 1]]),
        a_g1=_g1_times(u), b_g1=_g1_times(v), b_g2=_g2_times(v),
        c_g1=_g1_times([x * delta_inv % R for x in k[n_public + 1:]]),
        h_g1=_g1_times(h),
        coefficients=coefficients,
        circuit_hash=circuit_hash_of(n_vars, n_public, (r1cs.a, r1cs.b, r1cs.c)),
    )


def _interpolate_and_evaluate(values: list[int], domain: int, points: list[int]) -> list[int]:
    """The polynomial of degree < n through (omega^i, values[i]), evaluated at each of `points`."""
    omega = root_of_unity(domain.bit_length() - 1)
    return [sum(v * l for v, l in zip(values, _lagrange_at(x, domain, omega))) % R for x in points]


def prove(pk: ProvingKey, witness, *, rng, **_ignored) -> tuple[Proof, list[int]]:
    """The proof `prover.groth16.prove` makes with the same r, s (no self-check: a twin of the maths)."""
    z = [int(v) for v in witness] if not isinstance(witness, np.ndarray) else convert.limbs_to_ints(witness)
    n = pk.domain_size
    r2_inv = pow(MONT_R * MONT_R, -1, R)
    a_rows, b_rows = [0] * n, [0] * n
    values = convert.limbs_to_ints(pk.coef_value)
    for matrix, row, signal, value in zip(pk.coef_matrix, pk.coef_constraint, pk.coef_signal, values):
        target = a_rows if matrix == 0 else b_rows
        target[int(row)] = (target[int(row)] + value * r2_inv * z[int(signal)]) % R
    c_rows = [a * b % R for a, b in zip(a_rows, b_rows)]
    shift = root_of_unity(pk.log_domain_size + 1)
    omega = root_of_unity(pk.log_domain_size)
    odd = [shift * pow(omega, i, R) % R for i in range(n)]
    a_odd, b_odd, c_odd = (_interpolate_and_evaluate(rows, n, odd) for rows in (a_rows, b_rows, c_rows))
    h = [(a * b - c) % R for a, b, c in zip(a_odd, b_odd, c_odd)]

    def g1_sum(points, scalars):
        return ref_msm.msm_g1(np.asarray(points), convert.ints_to_limbs(scalars))

    r = rng.randrange(R)
    s = rng.randrange(R)
    a_sum = g1_sum(pk.a_g1, z)
    b1_sum = g1_sum(pk.b_g1, z)
    b2_sum = ref_msm.msm_g2(np.asarray(pk.b_g2), convert.ints_to_limbs(z))
    c_sum = g1_sum(pk.c_g1, z[pk.n_public + 1:])
    h_sum = g1_sum(pk.h_g1, h)
    pi_a = g1_sum(np.stack([a_sum, pk.alpha_g1, pk.delta_g1]), [1, 1, r])
    pi_b = ref_msm.msm_g2(np.stack([b2_sum, pk.beta_g2, pk.delta_g2]), convert.ints_to_limbs([1, 1, s]))
    b1 = g1_sum(np.stack([b1_sum, pk.beta_g1, pk.delta_g1]), [1, 1, s])
    pi_c = g1_sum(np.stack([c_sum, h_sum, pi_a, b1, pk.delta_g1]), [1, 1, s, r, (-r * s) % R])
    proof = Proof(a=convert.g1_to_ints(pi_a[None])[0], b=convert.g2_to_ints(pi_b[None])[0],
                  c=convert.g1_to_ints(pi_c[None])[0])
    return proof, z[1:pk.n_public + 1]
