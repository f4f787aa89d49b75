"""The Numba setup and prover against their plain-Python twins: same randomness, identical keys and proofs."""

import random

import numpy as np
import pytest

import prover.reference.groth16 as reference
from circuits.builder import ConstraintSystem
from prover.groth16 import prove, verifying_key
from prover.setup import setup
from verifier.groth16 import verify

KEY_FIELDS = ("alpha_g1", "beta_g1", "beta_g2", "gamma_g2", "delta_g1", "delta_g2", "ic_g1", "a_g1", "b_g1",
              "b_g2", "c_g1", "h_g1", "coef_matrix", "coef_constraint", "coef_signal", "coef_value")


@pytest.fixture(scope="module")
def tiny():
    cs = ConstraintSystem()
    x = cs.public_input("x")
    y = cs.private_input("y")
    t = cs.mul(x, y)
    u = cs.mul(t + 3, y - x)
    cs.public_output("out", cs.mul(u, u) + t)
    compiled = cs.compile()
    return compiled, compiled.solve({"x": 3, "y": 10})


@pytest.fixture(scope="module")
def keys(tiny):
    compiled, _ = tiny
    fast = setup(compiled.r1cs, rng=random.Random(7), quiet=True)
    plain = reference.setup(compiled.r1cs, rng=random.Random(7))
    return fast, plain


def test_setup_twins_make_identical_keys(keys):
    fast, plain = keys
    for name in KEY_FIELDS:
        assert np.array_equal(np.asarray(getattr(fast, name)), np.asarray(getattr(plain, name))), name
    assert (fast.n_vars, fast.n_public, fast.domain_size) == (plain.n_vars, plain.n_public, plain.domain_size)


def test_prover_twins_make_identical_proofs(keys, tiny):
    fast_key, _ = keys
    _, witness = tiny
    fast_proof, fast_public = prove(fast_key, witness, rng=random.Random(11))
    plain_proof, plain_public = reference.prove(fast_key, witness, rng=random.Random(11))
    assert fast_proof == plain_proof
    assert list(fast_public) == list(plain_public)
    assert verify(verifying_key(fast_key), plain_public, plain_proof)


def test_different_randomness_gives_a_different_valid_proof(keys, tiny):
    fast_key, _ = keys
    _, witness = tiny
    first, public = prove(fast_key, witness, rng=random.Random(1))
    second, _ = prove(fast_key, witness, rng=random.Random(2))
    assert first != second
    assert verify(verifying_key(fast_key), public, second)
