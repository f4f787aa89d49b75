"""The compiled witness solver (prover.solver) beside its plain twin (prover.reference.solver, the Python
solver of circuits.builder): on the rollup batch circuit and on every gadget family whose hints it does
natively, both give the Python solver's witness exactly, and every failure (bad input, failing hint,
unsatisfied row, a curve step's exceptional case) is the same exception naming the same place."""

from __future__ import annotations

import random

import numpy as np
import pytest
import rollup_fixtures  # registered by tests/conftest.py

import prover.reference.solver
import prover.solver
from circuits import babyjub, eddsa
from circuits import gadgets as g
from circuits.builder import (R, ConstraintSystem, HintFailed, InvalidAssignment, UnsatisfiedConstraint,
                              ints_to_limbs)
from circuits.poseidon import poseidon_ex_gadget, poseidon_permutation_gadget
from circuits.rollup.layout import Layout
from circuits.sha256 import sha256_bits
from zkrollup.executor import Registration, execute_batch

RNG = random.Random(20261130)


@pytest.fixture(params=[prover.solver, prover.reference.solver], ids=["numba", "python"])
def solver(request):
    return request.param




def _python_witness(compiled, assignment, check=True) -> np.ndarray:
    return ints_to_limbs(compiled.solve(assignment, check=check))


def _assert_same_witness(solver, compiled, assignment, check=True):
    witness = solver.solve_witness(compiled, assignment, check=check)
    assert witness.dtype == np.uint64 and witness.shape == (compiled.r1cs.n_wires, 4)
    expected = _python_witness(compiled, assignment, check)
    differing = np.flatnonzero((witness != expected).any(axis=1))
    assert len(differing) == 0, f"wires {differing[:8].tolist()} differ"


def _build(make):
    cs = ConstraintSystem()
    assignment = make(cs)
    return cs.compile(), assignment


# --- the rollup batch -------------------------------------------------------------------------------

@pytest.mark.parametrize("arity", [2, 4])
def test_batch_circuit_witness_equals_the_python_solvers(solver, arity):
    fx = rollup_fixtures
    layout = Layout(depth=4, arity=arity, n_transfers=2, n_registrations=1)
    state = fx.genesis(layout, {1: 0, 2: 1000, 3: 50})
    result = execute_batch(state, fx.CHAIN_ID, 1, [Registration(4, *fx.public_key(4))],
                           [fx.signed(2, 3, 100, 5, 0), fx.signed(3, 3, 10, 1, 0)])
    circuit = fx.batch_circuit(layout)
    _assert_same_witness(solver, circuit.compiled, circuit.assignment(result.inputs))


def test_every_hint_of_the_batch_circuit_but_the_sign_witness_runs_natively():
    # A renamed or rewrapped hint would silently fall back to Python: the speed would go, not the result.
    fx = rollup_fixtures
    circuit = fx.batch_circuit(Layout(depth=4, arity=4, n_transfers=2, n_registrations=1))
    assert set(prover.solver.python_hints(circuit.compiled)) == {"_sign_witness"}   # one per registration


# --- gadget families --------------------------------------------------------------------------------

@pytest.mark.parametrize("n_inputs", [1, 2, 4, 16])
def test_poseidon_witness_equals_the_python_solvers(solver, n_inputs):
    def make(cs):
        xs = cs.private_inputs("x", n_inputs)
        cs.public_output("h", poseidon_ex_gadget(cs, xs, init_state=cs.private_input("init"), n_outs=1)[0])
        return {"x": [RNG.randrange(R) for _ in range(n_inputs)], "init": RNG.randrange(R)}
    _assert_same_witness(solver, *_build(make))


def test_poseidon_with_constant_cells_skips_the_same_sboxes(solver):
    def make(cs):
        x = cs.private_input("x")
        for i, out in enumerate(poseidon_permutation_gadget(cs, [0, x, 7, x + 1, 5])):
            cs.public_output(f"o{i}", out)
        return {"x": RNG.randrange(R)}
    _assert_same_witness(solver, *_build(make))


def test_bits_comparators_and_inverses_equal_the_python_solvers(solver):
    def make(cs):
        a, b, z = cs.private_input("a"), cs.private_input("b"), cs.private_input("z")
        cs.public_output("lt", g.less_than(cs, a, b, 64))
        cs.public_output("zero", g.is_zero(cs, z))
        cs.public_output("nonzero", g.is_zero(cs, a))
        for i, bit in enumerate(g.to_binary_strict(cs, b)[:3]):
            cs.public_output(f"bit{i}", bit)
        cs.public_output("inv", cs.inverse(a + 1))
        return {"a": 2**64 - 5, "b": 12345678901, "z": 0}
    _assert_same_witness(solver, *_build(make))


def test_sha256_witness_equals_the_python_solvers(solver):
    def make(cs):
        bits = cs.private_inputs("m", 24)
        for i, bit in enumerate(sha256_bits(cs, bits)[:8]):
            cs.public_output(f"d{i}", bit)
        return {"m": [RNG.randrange(2) for _ in range(24)]}
    _assert_same_witness(solver, *_build(make))


def test_eddsa_verification_witness_equals_the_python_solvers(solver):
    key = bytes(range(32))
    public_key = eddsa.prv2pub(key)
    signature = eddsa.sign_poseidon(key, 42)

    def make(cs):
        msg, ax, ay, rx, ry, s = (cs.private_input(n) for n in ("msg", "ax", "ay", "rx", "ry", "s"))
        eddsa.verify_poseidon_gadget(cs, 1, msg, (ax, ay), (rx, ry), s)
        return {"msg": 42, "ax": public_key[0], "ay": public_key[1], "rx": signature.r8[0],
                "ry": signature.r8[1], "s": signature.s}
    _assert_same_witness(solver, *_build(make))


def test_montgomery_steps_with_a_zero_denominator_run_the_python_hint(solver):
    # u1 = u2 for the addition, v = 0 for the doubling: the native steps hand these to the hint itself,
    # whose zeros then fail the step's first constraint.
    def make(cs):
        u1, v1, u2, v2 = cs.private_inputs("p", 4)
        cs.public_output("add", babyjub._mont_add(cs, (u1, v1), (u2, v2))[0])
        cs.public_output("double", babyjub._mont_double(cs, (u1, cs.private_input("v")))[1])
        return {"p": [5, 6, 5, 7], "v": 0}
    compiled, assignment = _build(make)
    _assert_same_witness(solver, compiled, assignment, check=False)
    with pytest.raises(UnsatisfiedConstraint) as native:
        solver.solve_witness(compiled, assignment)
    with pytest.raises(UnsatisfiedConstraint) as python:
        compiled.solve(assignment)
    assert native.value.failure == python.value.failure


# --- hints in Python, and failures ------------------------------------------------------------------

def _cube_plus_one(x):
    return x ** 3 + 1      # not reduced: the solvers reduce hint results mod r


def test_hints_the_kernel_does_not_know_run_in_python_between_native_steps(solver):
    def make(cs):
        x = cs.private_input("x")
        y, = cs.hint(_cube_plus_one, [x])
        pair = cs.hint(lambda a, b: (a * b, a - b), [y, cs.mul(x, x)], 2)
        cs.public_output("out", cs.mul(pair[0], pair[1]) + cs.inverse(y))
        return {"x": R - 3}
    _assert_same_witness(solver, *_build(make))


def test_failing_hint_is_reported_as_the_python_solver_reports_it(solver):
    cs = ConstraintSystem()
    x = cs.private_input("x")
    with cs.gadget("divide"):
        q, = cs.hint(lambda v: 1 // v, [x])
    cs.public_output("q", q)
    compiled = cs.compile()
    with pytest.raises(HintFailed) as native:
        solver.solve_witness(compiled, {"x": 0})
    with pytest.raises(HintFailed) as python:
        compiled.solve({"x": 0})
    assert str(native.value) == str(python.value) and "divide" in str(native.value)


def test_unsatisfied_assertion_names_the_same_row_gadget_and_sides(solver):
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    with cs.gadget("spend"):
        g.assert_less_or_equal(cs, a, b, 16)
    compiled = cs.compile()
    assignment = {"a": 70000, "b": 3}          # a does not fit 16 bits
    with pytest.raises(UnsatisfiedConstraint) as native:
        solver.solve_witness(compiled, assignment)
    with pytest.raises(UnsatisfiedConstraint) as python:
        compiled.solve(assignment)
    assert native.value.failure == python.value.failure
    assert native.value.gadget.startswith("spend")
    _assert_same_witness(solver, compiled, assignment, check=False)


@pytest.mark.parametrize("assignment, message", [({}, "missing value"), ({"x": 1, "y": 2}, "unknown input"),
                                                  ({"x": R}, "outside")])
def test_bad_assignment_is_refused_as_the_python_solver_refuses_it(solver, assignment, message):
    cs = ConstraintSystem()
    cs.public_output("y", cs.mul(cs.private_input("x"), 3) + 1)
    with pytest.raises(InvalidAssignment, match=message):
        solver.solve_witness(cs.compile(), assignment)


def test_random_arithmetic_circuits_equal_the_python_solvers(solver):
    for seed in range(5):
        rng = random.Random(seed)

        def make(cs):
            values = cs.private_inputs("x", 4)
            for _ in range(200):
                a, b = rng.choice(values), rng.choice(values)
                pick = rng.randrange(4)
                if pick == 0:
                    values.append(cs.mul(a * rng.randrange(R) + rng.randrange(R), b - a))
                elif pick == 1:
                    values.append(cs.to_wire(a * 3 + b * rng.randrange(R) - 7))
                elif pick == 2:
                    values.append(g.is_zero(cs, a - b))
                else:
                    values.append(g.from_binary(cs, g.to_binary(cs, g.is_equal(cs, a, a), 2)))
            cs.public_output("out", values[-1] + values[-2])
            return {"x": [rng.randrange(R) for _ in range(4)]}
        _assert_same_witness(solver, *_build(make))
