"""Shared fixtures for the prover suites: each Numba module beside its plain-Python twin."""

import random

import pytest

import prover.curve
import prover.field
import prover.msm
import prover.reference.curve
import prover.reference.field
import prover.reference.msm


@pytest.fixture(params=[prover.field, prover.reference.field], ids=["numba", "python"])
def field(request):
    return request.param


@pytest.fixture(params=[prover.curve, prover.reference.curve], ids=["numba", "python"])
def curve(request):
    return request.param


@pytest.fixture(params=[prover.msm, prover.reference.msm], ids=["numba", "python"])
def msm(request):
    return request.param


@pytest.fixture
def rng():
    return random.Random(20261121)
