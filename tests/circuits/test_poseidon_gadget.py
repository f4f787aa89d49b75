"""Poseidon gadget: outputs equal the native Poseidon (checked against circomlibjs elsewhere) for 1 to 16
inputs, constraint counts at circomlib's, and every S-box wire is bound by its constraints."""

from __future__ import annotations

import random

import pytest

from circuits.builder import R, ConstraintSystem, first_failure
from circuits.check import check_gadget
from circuits.poseidon import (
    MAX_INPUTS,
    poseidon,
    poseidon_ex,
    poseidon_ex_gadget,
    poseidon_gadget,
    poseidon_permutation,
    poseidon_permutation_gadget,
    _permutation_stepwise,
)

RNG = random.Random(20261121)


def build_poseidon(n_inputs: int):
    cs = ConstraintSystem()
    xs = cs.private_inputs("x", n_inputs)
    cs.public_output("h", poseidon_gadget(cs, xs))
    return cs


@pytest.mark.parametrize("n_inputs", range(1, MAX_INPUTS + 1))
def test_poseidon_gadget_output_equals_native_poseidon(n_inputs):
    compiled = build_poseidon(n_inputs).compile()
    for values in ([0] * n_inputs, [R - 1] * n_inputs, [RNG.randrange(R) for _ in range(n_inputs)]):
        witness = compiled.solve({"x": values})
        assert compiled.output_values(witness)["h"] == poseidon(values)


@pytest.mark.parametrize("n_inputs, expected", [(1, 213), (2, 240), (4, 297), (5, 321), (16, 609)])
def test_poseidon_constraint_count_is_three_per_sbox_and_240_for_two_inputs(n_inputs, expected):
    cs = ConstraintSystem()
    poseidon_gadget(cs, cs.private_inputs("x", n_inputs))
    assert cs.n_constraints == expected


def test_poseidon_ex_gadget_with_initial_state_and_several_outputs_equals_native():
    cs = ConstraintSystem()
    xs = cs.private_inputs("x", 3)
    init = cs.private_input("init")
    outs = poseidon_ex_gadget(cs, xs, init_state=init, n_outs=4)
    for i, out in enumerate(outs):
        cs.public_output(f"o{i}", out)
    compiled = cs.compile()
    values, init_value = [RNG.randrange(R) for _ in range(3)], RNG.randrange(R)
    witness = compiled.solve({"x": values, "init": init_value})
    assert list(compiled.output_values(witness).values()) == poseidon_ex(values, init_value, 4)
    assert cs.n_constraints == 8 * 4 * 3 + 56 * 3 + 4   # no constant cell, plus 4 output wires


def test_permutation_gadget_mixing_constant_and_wire_cells_equals_native():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    outs = poseidon_permutation_gadget(cs, [7, x, 0, 11])
    for i, out in enumerate(outs):
        cs.public_output(f"o{i}", out)
    compiled = cs.compile()
    value = RNG.randrange(R)
    witness = compiled.solve({"x": value})
    assert list(compiled.output_values(witness).values()) == poseidon_permutation([7, value, 0, 11])
    assert cs.n_constraints == 3 * (8 * 4 + 56) - 9 + 4   # three constant cells in the first round


def test_poseidon_of_constants_costs_nothing_and_is_the_native_value():
    cs = ConstraintSystem()
    out = poseidon_gadget(cs, [1, 2])
    assert out.is_constant() and out.constant_value == poseidon([1, 2])
    assert cs.n_constraints == 0


def test_every_perturbed_sbox_wire_of_poseidon2_violates_a_constraint():
    compiled = build_poseidon(2).compile()
    witness = compiled.solve({"x": [RNG.randrange(R), RNG.randrange(R)]})
    first_internal = 1 + compiled.r1cs.n_public + compiled.r1cs.n_private_inputs
    assert len(witness) - first_internal == 3 * (3 * 8 + 57) - 3
    for i in range(first_internal, len(witness)):
        tampered = list(witness)
        tampered[i] = (tampered[i] + 1) % R
        assert first_failure(compiled.r1cs, tampered) is not None, f"wire {i} is free"


def test_changed_output_of_poseidon_violates_a_constraint():
    compiled = build_poseidon(2).compile()
    witness = compiled.solve({"x": [1, 2]})
    witness[1] = (witness[1] + 1) % R
    assert first_failure(compiled.r1cs, witness) is not None


@pytest.mark.parametrize("n_inputs", [1, 2, 5])
def test_under_constraint_checker_finds_no_free_wire_in_poseidon(n_inputs):
    report = check_gadget(lambda cs, w: poseidon_gadget(cs, w["x"]),
                          {"x": [RNG.randrange(R) for _ in range(n_inputs)]}, replay=n_inputs == 1)
    report.assert_sound()


def test_poseidon_gadget_refuses_widths_outside_one_to_sixteen():
    cs = ConstraintSystem()
    with pytest.raises(ValueError):
        poseidon_gadget(cs, [])
    with pytest.raises(ValueError):
        poseidon_gadget(cs, cs.private_inputs("x", 17))


def _permutation_circuit(permutation, t: int, pattern: str, seed: int):
    # Cells by pattern letter: c a constant, w a wire, l a multi-term combination sharing wires with others.
    rng = random.Random(seed)
    cs = ConstraintSystem()
    x = cs.private_inputs("x", 2)
    kinds = {"c": lambda: rng.randrange(R), "w": lambda: x[0], "l": lambda: x[0] * 3 + x[1] + rng.randrange(R)}
    outputs = permutation(cs, [kinds[pattern[i % len(pattern)]]() for i in range(t)])
    for i, out in enumerate(outputs):
        cs.public_output(f"o{i}", out)
    return cs.compile()


@pytest.mark.parametrize("t", range(2, MAX_INPUTS + 2))
@pytest.mark.parametrize("pattern", ["w", "cw", "wl", "lcc"])
def test_permutation_gadget_builds_exactly_the_r1cs_of_the_step_by_step_build(t, pattern):
    # Same rows, same terms in the same order, same labels, and the same witness.
    fast = _permutation_circuit(poseidon_permutation_gadget, t, pattern, seed=t)
    stepwise = _permutation_circuit(_permutation_stepwise, t, pattern, seed=t)
    assert fast.r1cs == stepwise.r1cs
    assert fast.r1cs.constraint_gadget.tolist() == stepwise.r1cs.constraint_gadget.tolist()
    assert fast.assertion_rows.tolist() == stepwise.assertion_rows.tolist()
    assert fast.solve({"x": [5, 6]}) == stepwise.solve({"x": [5, 6]})
