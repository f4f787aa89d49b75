"""Fixtures for the verifier suites: both pairing backends, and Groth16 instances from a known-discrete-log setup.

The instances need no prover: with every secret known, C is solved from the verification equation.
Points are made with py_ecc, the reference, so neither the prover nor mcl is trusted to build them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from py_ecc import optimized_bn128 as bn

from verifier.curve import CURVE_ORDER, FIELD_MODULUS, G2_B, mcl_available
from verifier.types import Proof, VerifyingKey

R = CURVE_ORDER
Q = FIELD_MODULUS


def g1_times(k: int):
    point = bn.multiply(bn.G1, k % R)
    if bn.is_inf(point):
        return None
    x, y = bn.normalize(point)
    return (int(x), int(y))


def g2_times(k: int):
    point = bn.multiply(bn.G2, k % R)
    if bn.is_inf(point):
        return None
    x, y = bn.normalize(point)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


@dataclass(frozen=True)
class Instance:
    """A verifying key, public inputs and a proof that satisfies the equation, with the discrete logs behind them."""

    vk: VerifyingKey
    public_inputs: tuple[int, ...]
    proof: Proof
    a: int
    b: int
    c: int


def make_instance(seed: int, n_public: int = 3, public_inputs: tuple[int, ...] | None = None) -> Instance:
    rng = random.Random(seed)
    alpha, beta, gamma, delta = (rng.randrange(1, R) for _ in range(4))
    ic = [rng.randrange(1, R) for _ in range(n_public + 1)]
    inputs = public_inputs if public_inputs is not None else tuple(rng.randrange(R) for _ in range(n_public))
    a, b = rng.randrange(1, R), rng.randrange(1, R)
    # a*b = alpha*beta + gamma*(ic_0 + sum x_i ic_i) + delta*c, solved for c.
    vk_x = (ic[0] + sum(x * k for x, k in zip(inputs, ic[1:]))) % R
    c = (a * b - alpha * beta - gamma * vk_x) * pow(delta, -1, R) % R
    vk = VerifyingKey(
        alpha_g1=g1_times(alpha),
        beta_g2=g2_times(beta),
        gamma_g2=g2_times(gamma),
        delta_g2=g2_times(delta),
        gamma_abc_g1=tuple(g1_times(k) for k in ic),
    )
    return Instance(vk, tuple(inputs), Proof(g1_times(a), g2_times(b), g1_times(c)), a, b, c)


def _fq_sqrt(value: int) -> int | None:
    root = pow(value, (Q + 1) // 4, Q)  # q = 3 mod 4
    return root if root * root % Q == value % Q else None


def _fq2_sqrt(a0: int, a1: int) -> tuple[int, int] | None:
    """sqrt(a0 + a1*u) with u^2 = -1, the "complex" method: |x|^2 = |a| fixes x0^2 = (a0 + |a|)/2."""
    norm = _fq_sqrt((a0 * a0 + a1 * a1) % Q)
    if norm is None:
        return None
    half = pow(2, -1, Q)
    for t in (norm, Q - norm):
        x0 = _fq_sqrt((a0 + t) * half % Q)
        if x0:
            x1 = a1 * pow(2 * x0, -1, Q) % Q
            if ((x0 * x0 - x1 * x1) % Q, 2 * x0 * x1 % Q) == (a0 % Q, a1 % Q):
                return (x0, x1)
    return None


def twist_point_outside_g2(start: int = 1):
    """A point on y^2 = x^3 + 3/(9+u) whose order is not r (the twist's cofactor is about q)."""
    for k in range(start, start + 1000):
        x = (k, 1)
        x_sq = ((x[0] * x[0] - x[1] * x[1]) % Q, 2 * x[0] * x[1] % Q)
        x_cu = ((x_sq[0] * x[0] - x_sq[1] * x[1]) % Q, (x_sq[0] * x[1] + x_sq[1] * x[0]) % Q)
        y = _fq2_sqrt((x_cu[0] + G2_B[0]) % Q, (x_cu[1] + G2_B[1]) % Q)
        if y is None:
            continue
        point = (x, y)
        as_py_ecc = (bn.FQ2(list(x)), bn.FQ2(list(y)), bn.FQ2.one())
        assert bn.is_on_curve(as_py_ecc, bn.b2)
        if not bn.is_inf(bn.multiply(as_py_ecc, R)):
            return point
    raise AssertionError("no twist point outside G2 found")


BACKENDS = [
    "py_ecc",
    pytest.param("mcl", marks=pytest.mark.skipif(not mcl_available(), reason="mclbn256 does not load here")),
]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def instance() -> Instance:
    return make_instance(seed=20261121)


@pytest.fixture(scope="session")
def other_instance(instance) -> Instance:
    """Another key for the same public inputs."""
    return make_instance(seed=7, public_inputs=instance.public_inputs)


@pytest.fixture(scope="session")
def point_outside_g2():
    return twist_point_outside_g2()


@pytest.fixture(scope="session")
def known_dlog():
    """The known-discrete-log helpers, for tests that build their own instances or move points by known steps."""
    from types import SimpleNamespace

    return SimpleNamespace(g1=g1_times, g2=g2_times, make_instance=make_instance)
