"""Groth16 key generation from an R1CS: a single-party development setup, snarkjs-compatible keys.

The toxic waste (tau, alpha, beta, gamma, delta) comes from the OS CSPRNG, lives only in this
process's memory and is never written anywhere; whoever runs the setup could forge proofs, so it
is for development and tests, not for production (use an MPC ceremony and `snarkjs zkey` then).
The key has snarkjs's shape: extra A rows x_i * 0 = 0 for the constant wire and each public input,
domain 2^(floor(log2(nConstraints + nPublic)) + 1), H query = odd points of the size-2n Lagrange
basis over delta (Groth 2016, §3.2, with snarkjs's coset evaluation of H).
"""

from __future__ import annotations

import secrets
import sys
from typing import Callable

import numpy as np

from . import field
from .arrays import kernel_input
from .constants import G1_GENERATOR, G2_GENERATOR, MONT_R, R, root_of_unity, to_limbs
from .convert import fr_from_ints, g1_from_ints, g2_from_ints
from .kernels import qap
from .kernels.field import FQ2_LIKE, FQ_LIKE
from .zkey import ProvingKey, circuit_hash_of, coefficient_records, domain_size_for

SETUP_WARNING = ("single-party development setup: toxic waste drawn from the OS CSPRNG and discarded "
                 "after use; anyone who ran this setup could forge proofs; not for production")

FIXED_BASE_WINDOW = 8
_SCALAR_BITS = 256

Progress = Callable[[str, int], None]  # (stage name, stage number) -> None


class SetupError(ValueError):
    """The circuit cannot be set up (too large for the field's 2-adic domain, no constraints...)."""


def _standard(mont: np.ndarray) -> np.ndarray:
    return field.fr_from_montgomery(mont)


def _fixed_base_table(generator_array: np.ndarray, like, window: int):
    """table[w * 2^window + d] = d * 2^(w * window) * G, affine, for every window w."""
    nwin = -(-_SCALAR_BITS // window)
    entries = nwin << window
    table = np.zeros((entries,) + generator_array.shape[1:], np.uint64)
    scratch = np.empty(5 * entries * len(like), np.uint64)
    qap.fixed_base_table(kernel_input(generator_array), window, nwin, table, scratch, like)
    return table, nwin


class _FixedBase:
    """Batch scalar multiplication of one fixed point by many scalars (key generation)."""

    def __init__(self, generator_array: np.ndarray, like):
        self.like = like
        self.point_shape = generator_array.shape[1:]
        self.table, self.nwin = _fixed_base_table(generator_array, like, FIXED_BASE_WINDOW)

    def __call__(self, scalars_std: np.ndarray) -> np.ndarray:
        n = len(scalars_std)
        out = np.zeros((n,) + self.point_shape, np.uint64)
        if n == 0:
            return out
        width = len(self.like)
        scratch = np.empty(5 * n * width, np.uint64)
        qap.fixed_base_mul(self.table, FIXED_BASE_WINDOW, self.nwin, kernel_input(scalars_std),
                           out, scratch, self.like)
        return out


def _random_nonzero(rng) -> int:
    return 1 + rng.randrange(R - 1)


def setup(r1cs, *, progress: Progress | None = None, rng=None, quiet: bool = False) -> ProvingKey:
    """Make a Groth16 proving key (which contains the verifying key) for `r1cs` (circuits.builder.R1CS).

    Prints SETUP_WARNING on stderr unless quiet.
    """
    if not quiet:
        print(f"warning: {SETUP_WARNING}", file=sys.stderr)
    rng = rng or secrets.SystemRandom()
    step = progress or (lambda name, i: None)

    m = r1cs.n_constraints
    n_public = r1cs.n_public
    n_vars = r1cs.n_wires
    domain = domain_size_for(m, n_public)
    log_n = domain.bit_length() - 1
    if log_n + 1 > 28:
        raise SetupError(f"{m} constraints need a 2^{log_n} domain; BN254's Fr supports at most 2^27 here")

    step("toxic waste", 0)
    tau, alpha, beta, gamma, delta = (_random_nonzero(rng) for _ in range(5))
    while pow(tau, 2 * domain, R) == 1:  # tau must lie outside both evaluation domains
        tau = _random_nonzero(rng)

    step("Lagrange basis at tau", 1)
    omega = root_of_unity(log_n)
    omega_powers = np.empty((domain, 4), np.uint64)
    qap.fr_powers(_fr1(omega), _fr1(1), omega_powers)
    tau_vec = _frn(tau, domain)
    # L_i(tau) = omega^i (tau^n - 1) / (n (tau - omega^i))
    lagrange = field.fr_mul(omega_powers, field.fr_batch_inv(field.fr_sub(tau_vec, omega_powers)))
    lagrange = field.fr_mul(lagrange, _frn((pow(tau, domain, R) - 1) * pow(domain, -1, R), domain))

    step("QAP polynomials at tau", 2)
    u, v, w = (np.zeros((n_vars, 4), np.uint64) for _ in range(3))
    for matrix, out in ((r1cs.a, u), (r1cs.b, v), (r1cs.c, w)):
        coeffs_mont = field.fr_to_montgomery(matrix.coeffs)
        qap.accumulate_columns(kernel_input(matrix.indptr, np.int64), kernel_input(matrix.indices, np.int64),
                               kernel_input(coeffs_mont), kernel_input(lagrange), out)
    # the extra rows x_j * 0 = 0 for j = 0..nPublic (snarkjs): A gets L_{m+j} on wire j
    u[:n_public + 1] = field.fr_add(u[:n_public + 1], lagrange[m:m + n_public + 1])

    # k_j = beta u_j + alpha v_j + w_j, over gamma (public wires) or delta (private wires)
    k = field.fr_add(field.fr_add(field.fr_mul(u, _frn(beta, n_vars)), field.fr_mul(v, _frn(alpha, n_vars))), w)
    ic = field.fr_mul(k[:n_public + 1], _frn(pow(gamma, -1, R), n_public + 1))
    c_priv = field.fr_mul(k[n_public + 1:], _frn(pow(delta, -1, R), n_vars - n_public - 1))

    # H query: L^{2n}_{2i+1}(tau) / delta = x_i (tau^{2n} - 1) / (2n (tau - x_i) delta), x_i = g omega^i
    shift = root_of_unity(log_n + 1)
    odd_points = np.empty((domain, 4), np.uint64)
    qap.fr_powers(_fr1(omega), _fr1(shift), odd_points)
    h = field.fr_mul(odd_points, field.fr_batch_inv(field.fr_sub(tau_vec, odd_points)))
    h_factor = (pow(tau, 2 * domain, R) - 1) * pow(2 * domain * delta, -1, R) % R
    h = field.fr_mul(h, _frn(h_factor, domain))

    step("G1 tables", 3)
    g1 = _FixedBase(g1_from_ints([G1_GENERATOR]), FQ_LIKE)
    g2 = _FixedBase(g2_from_ints([G2_GENERATOR]), FQ2_LIKE)
    step("A and B1 points", 4)
    a_g1 = g1(_standard(u))
    b_g1 = g1(_standard(v))
    step("B2 points", 5)
    b_g2 = g2(_standard(v))
    step("C and IC points", 6)
    c_g1 = g1(_standard(c_priv))
    ic_g1 = g1(_standard(ic))
    step("H points", 7)
    h_g1 = g1(_standard(h))

    step("coefficients", 8)
    coefficients = _coefficients(r1cs, m, n_public)
    scalars = fr_from_ints([alpha, beta, delta])
    scalars_std = _standard(scalars)
    alpha_g1, beta_g1, delta_g1 = g1(scalars_std)
    beta_g2, gamma_g2, delta_g2 = g2(_standard(fr_from_ints([beta, gamma, delta])))
    del tau, alpha, beta, gamma, delta  # the toxic waste goes no further than this frame

    return ProvingKey(
        n_vars=n_vars, n_public=n_public, domain_size=domain,
        alpha_g1=alpha_g1, beta_g1=beta_g1, beta_g2=beta_g2, gamma_g2=gamma_g2,
        delta_g1=delta_g1, delta_g2=delta_g2,
        ic_g1=ic_g1, a_g1=a_g1, b_g1=b_g1, b_g2=b_g2, c_g1=c_g1, h_g1=h_g1,
        coefficients=coefficients,
        circuit_hash=circuit_hash_of(n_vars, n_public, (r1cs.a, r1cs.b, r1cs.c)),
    )


SETUP_STAGES = 9


def _fr1(value: int):
    """One Fr element in Montgomery form as a kernel tuple."""
    limbs = to_limbs(value * MONT_R % R)
    return tuple(np.uint64(x) for x in limbs)


def _frn(value: int, n: int) -> np.ndarray:
    """n copies of one Fr element, Montgomery form."""
    return np.tile(fr_from_ints([value]), (n, 1))


def _coefficients(r1cs, m: int, n_public: int):
    """The .zkey coefficient records: A and B entries per constraint (A first), then the extra
    A rows for wires 0..nPublic; values as v * R^2 mod r in standard form, as snarkjs stores them."""
    parts = []
    for matrix_id, matrix in ((0, r1cs.a), (1, r1cs.b)):
        rows = np.repeat(np.arange(m, dtype=np.uint32), np.diff(matrix.indptr).astype(np.int64))
        parts.append((np.full(len(rows), matrix_id, np.uint32), rows,
                      np.asarray(matrix.indices, dtype=np.uint32), np.ascontiguousarray(matrix.coeffs)))
    extra = n_public + 1
    parts.append((np.zeros(extra, np.uint32), np.arange(m, m + extra, dtype=np.uint32),
                  np.arange(extra, dtype=np.uint32), np.tile(np.array(to_limbs(1), np.uint64), (extra, 1))))
    matrix_ids = np.concatenate([p[0] for p in parts])
    constraints = np.concatenate([p[1] for p in parts])
    signals = np.concatenate([p[2] for p in parts])
    values = np.concatenate([p[3] for p in parts]).astype(np.uint64)
    order = np.lexsort((matrix_ids, constraints))  # by constraint, A before B, stable within
    r3 = np.tile(np.array(to_limbs(pow(MONT_R, 3, R)), np.uint64), (len(values), 1))
    values = field.fr_mul(np.ascontiguousarray(values[order]), r3)  # v * R^3 / R = v * R^2
    return coefficient_records(matrix_ids[order], constraints[order], signals[order], values)
