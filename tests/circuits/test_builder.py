"""The constraint-system builder: layout, linear combinations, constraints, hints, solving, satisfaction."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from circuits.builder import (R, ConstraintFailure, ConstraintSystem, ConstraintSystemError, HintFailed,
                              InvalidAssignment, InvalidWitness, LinearCombination, UnsatisfiedConstraint,
                              first_failure, ints_to_limbs, is_satisfied, limbs_to_ints, linear_sum)
from circuits.check import check_gadget


def _tampered(witness, index, value):
    out = list(witness)
    out[index] = value % R
    return out


# --- wire layout -------------------------------------------------------------------------------------


def test_wire_layout_is_one_then_outputs_then_public_then_private_inputs():
    cs = ConstraintSystem()
    secret = cs.private_input("secret")          # declared first, still placed after public inputs
    x = cs.public_input("x")
    ys = cs.public_inputs("ys", 2)
    product = cs.mul(secret, x)
    cs.public_output("product", product)
    cs.public_output("total", x + ys[0] + ys[1])
    compiled = cs.compile()
    r1cs = compiled.r1cs
    assert (r1cs.n_public_outputs, r1cs.n_public_inputs, r1cs.n_private_inputs) == (2, 3, 1)
    z = compiled.solve({"secret": 7, "x": 3, "ys": [10, 20]})
    assert z[:7] == [1, 21, 33, 3, 10, 20, 7]
    assert compiled.public_names == ["product", "total", "x", "ys[0]", "ys[1]"]
    assert compiled.output_values(z) == {"product": 21, "total": 33}


def test_public_output_promotes_an_internal_wire_without_a_constraint():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    product = cs.mul(a, b)
    before = cs.n_constraints
    cs.public_output("p", product)
    assert cs.n_constraints == before


def test_public_output_of_an_input_gets_its_own_wire_and_one_linear_constraint():
    cs = ConstraintSystem()
    a = cs.private_input("a")
    out = cs.public_output("echo", a)
    assert cs.n_constraints == 1 and out.single_wire != a.single_wire
    compiled = cs.compile()
    z = compiled.solve({"a": 5})
    assert z[1] == 5
    with pytest.raises(UnsatisfiedConstraint):
        is_satisfied(compiled.r1cs, _tampered(z, 1, 6))


def test_duplicate_names_are_refused():
    cs = ConstraintSystem()
    cs.public_input("x")
    with pytest.raises(ConstraintSystemError):
        cs.private_input("x")
    with pytest.raises(ConstraintSystemError):
        cs.public_output("x", 1)


# --- linear combinations ---------------------------------------------------------------------------


def test_linear_combination_arithmetic_matches_field_arithmetic():
    rng = random.Random(1)
    cs = ConstraintSystem()
    xs = cs.private_inputs("x", 4)
    values = [1] + [rng.randrange(R) for _ in range(4)]
    for _ in range(50):
        k1, k2, c = rng.randrange(R), rng.randrange(R), rng.randrange(R)
        i, j = rng.randrange(4), rng.randrange(4)
        lc = k1 * xs[i] - xs[j] * k2 + c - (-xs[i])
        expected = (k1 * values[i + 1] - values[j + 1] * k2 + c + values[i + 1]) % R
        assert lc.evaluate(values) == expected


def test_linear_sum_equals_repeated_addition():
    cs = ConstraintSystem()
    xs = cs.private_inputs("x", 5)
    coeffs = [3, R - 1, 0, 2**200, 7]
    expected = LinearCombination({})
    for x, k in zip(xs, coeffs):
        expected = expected + x * k
    assert linear_sum(xs, coeffs) == expected
    assert linear_sum([xs[0], -xs[0], 5]) == 5


def test_cancelled_terms_disappear_and_constants_compare_as_ints():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    assert (x + 3 - x).is_constant() and (x + 3 - x) == 3
    assert (x - x).terms == {}
    assert (x * R).terms == {}


def test_multiplying_two_linear_combinations_needs_mul():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    with pytest.raises(TypeError, match="cs.mul"):
        _ = a * b


def test_a_linear_combination_has_no_truth_value():
    cs = ConstraintSystem()
    with pytest.raises(TypeError):
        bool(cs.private_input("a"))


# --- constraints -----------------------------------------------------------------------------------


def test_mul_by_a_constant_adds_no_constraint():
    cs = ConstraintSystem()
    a = cs.private_input("a")
    assert cs.mul(a, 5) == a * 5 and cs.mul(7, a + 1) == 7 * a + 7
    assert cs.n_constraints == 0


def test_mul_adds_one_constraint_and_solves_its_product():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    p = cs.mul(a + 1, b * 2 + a)
    cs.public_output("p", p)
    compiled = cs.compile()
    assert compiled.r1cs.n_constraints == 1
    z = compiled.solve({"a": 4, "b": 9})
    assert z[1] == 5 * 22


def test_tampered_product_wire_is_unsatisfiable():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    cs.public_output("p", cs.mul(a, b))
    compiled = cs.compile()
    z = compiled.solve({"a": 4, "b": 9})
    with pytest.raises(UnsatisfiedConstraint):
        is_satisfied(compiled.r1cs, _tampered(z, 1, 37))


def test_assert_equal_of_unequal_constants_is_a_build_error():
    cs = ConstraintSystem()
    with pytest.raises(ConstraintSystemError):
        cs.assert_equal(3, 4)
    cs.assert_equal(3, 3)
    assert cs.n_constraints == 0


def test_assert_equal_rejects_different_values():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    cs.assert_equal(a, b + 1)
    compiled = cs.compile()
    compiled.solve({"a": 6, "b": 5})
    with pytest.raises(UnsatisfiedConstraint):
        compiled.solve({"a": 6, "b": 6})


@pytest.mark.parametrize("value", [2, R - 1, 12345])
def test_non_boolean_value_fails_assert_bool(value):
    cs = ConstraintSystem()
    x = cs.private_input("x")
    cs.assert_bool(x)
    compiled = cs.compile()
    compiled.solve({"x": 0})
    compiled.solve({"x": 1})
    with pytest.raises(UnsatisfiedConstraint) as info:
        compiled.solve({"x": value})
    assert info.value.gadget == "assert_bool"


def test_assert_bool_is_not_repeated_on_a_known_boolean():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    cs.assert_bool(x)
    cs.assert_bool(x)
    cs.select(x, 1, 2)
    assert cs.n_constraints == 1      # select's multiplication is by a constant difference: free


def test_select_picks_by_condition_and_rejects_a_non_boolean_condition():
    cs = ConstraintSystem()
    c, a, b = cs.private_input("c"), cs.private_input("a"), cs.private_input("b")
    cs.public_output("out", cs.select(c, a, b))
    compiled = cs.compile()
    assert compiled.solve({"c": 1, "a": 10, "b": 20})[1] == 10
    assert compiled.solve({"c": 0, "a": 10, "b": 20})[1] == 20
    with pytest.raises(UnsatisfiedConstraint):
        compiled.solve({"c": 2, "a": 10, "b": 20})


def test_inverse_and_div_compute_and_zero_is_unsatisfiable():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    cs.public_output("q", cs.div(a, b))
    compiled = cs.compile()
    z = compiled.solve({"a": 10, "b": 4})
    assert z[1] * 4 % R == 10
    with pytest.raises(UnsatisfiedConstraint) as info:
        compiled.solve({"a": 0, "b": 0})     # 0/0 must not be free
    assert "inverse" in info.value.gadget


def test_division_by_a_constant_is_free_and_by_constant_zero_is_refused():
    cs = ConstraintSystem()
    a = cs.private_input("a")
    assert cs.div(a, 2) * 2 == a
    assert cs.n_constraints == 0
    with pytest.raises(ConstraintSystemError):
        cs.div(a, 0)


def test_assert_nonzero_rejects_zero():
    cs = ConstraintSystem()
    cs.assert_nonzero(cs.private_input("x"))
    compiled = cs.compile()
    compiled.solve({"x": 3})
    with pytest.raises(UnsatisfiedConstraint):
        compiled.solve({"x": 0})


# --- hints -----------------------------------------------------------------------------------------


def _square_root_hint(x):
    return 5 if x == 25 else 0


def test_hint_outputs_are_free_until_the_caller_constrains_them():
    def unconstrained(cs, w):
        root, = cs.hint(_square_root_hint, [w["x"]])
        return root

    def constrained(cs, w):
        root, = cs.hint(_square_root_hint, [w["x"]])
        cs.assert_product(root, root, w["x"])
        cs.assert_bool(cs.hint(lambda r: r & 1, [root])[0])  # a second, constrained-only-to-bool hint
        return root

    free = check_gadget(unconstrained, {"x": 25})
    assert free.output_changing, "an unconstrained hint output must be reported"
    bound = check_gadget(constrained, {"x": 25})
    # root is fixed up to sign, but −5 is not reachable by a single +1/−1/random step: no output changes.
    assert not bound.output_changing


def test_hint_with_several_outputs_fills_every_wire():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    q, rem = cs.hint(lambda v: divmod(v, 7), [x], 2)
    cs.assert_equal(q * 7 + rem, x)
    cs.public_output("q", q)
    cs.public_output("r", rem)
    assert cs.compile().solve({"x": 100})[1:3] == [14, 2]


def test_failing_hint_is_reported_with_its_gadget():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    with cs.gadget("outer"):
        cs.hint(lambda v: 1 // 0, [x])
    with pytest.raises(HintFailed, match="outer"):
        cs.compile().solve({"x": 1})


def test_hint_returning_the_wrong_number_of_values_is_reported():
    cs = ConstraintSystem()
    cs.hint(lambda v: [1, 2, 3], [cs.private_input("x")], 2)
    with pytest.raises(HintFailed, match="expected 2"):
        cs.compile().solve({"x": 1})


# --- gadget labels and satisfaction reports --------------------------------------------------------


def test_gadget_names_nest_and_label_each_constraint():
    cs = ConstraintSystem()
    a = cs.private_input("a")
    cs.mul(a, a)
    with cs.gadget("outer"):
        cs.mul(a, a)
        with cs.gadget("inner"):
            cs.assert_bool(a)
    compiled = cs.compile()
    names = [compiled.r1cs.gadget_of(i) for i in range(compiled.r1cs.n_constraints)]
    assert names == ["(top level)", "outer", "outer/inner/assert_bool"]


def test_is_satisfied_names_the_first_failing_constraint_and_its_gadget():
    cs = ConstraintSystem()
    a = cs.private_input("a")
    with cs.gadget("first"):
        b = cs.mul(a, a)
    with cs.gadget("second"):
        cs.assert_equal(b, 9)
    with cs.gadget("third"):
        cs.assert_equal(a, 3)
    compiled = cs.compile()
    z = compiled.solve({"a": 3})
    bad = _tampered(z, 1, 4)         # a := 4 breaks "first" (a·a = b) and "third"
    with pytest.raises(UnsatisfiedConstraint) as info:
        is_satisfied(compiled.r1cs, bad)
    assert (info.value.index, info.value.gadget) == (0, "first")
    failure = first_failure(compiled.r1cs, bad)
    assert failure == ConstraintFailure(0, "first", 4, 4, 9)
    assert first_failure(compiled.r1cs, z) is None


@pytest.mark.parametrize("bad, message", [
    (lambda z: z[:-1], "wires"),
    (lambda z: z + [0], "wires"),
    (lambda z: _raw_set(z, 2, R), "outside"),
    (lambda z: _raw_set(z, 2, -1), "outside"),
    (lambda z: _raw_set(z, 0, 2), "constant wire"),
    (lambda z: _raw_set(z, 1, "3"), "not an integer"),
])
def test_malformed_witness_is_a_value_error_naming_the_problem(bad, message):
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    cs.public_output("p", cs.mul(a, b))
    compiled = cs.compile()
    z = compiled.solve({"a": 2, "b": 3})
    with pytest.raises(InvalidWitness, match=message) as info:
        is_satisfied(compiled.r1cs, bad(z))
    assert isinstance(info.value, ValueError)


def _raw_set(z, i, v):
    out = list(z)
    out[i] = v
    return out


def test_numpy_integer_witness_values_are_accepted():
    cs = ConstraintSystem()
    a = cs.private_input("a")
    cs.assert_bool(a)
    compiled = cs.compile()
    z = compiled.solve({"a": 1})
    assert is_satisfied(compiled.r1cs, [np.int64(v) for v in z])


@pytest.mark.parametrize("assignment, message", [
    ({}, "missing"),
    ({"a": 1, "b": [1, 2], "c": 3}, "unknown"),
    ({"a": R, "b": [1, 2]}, "outside"),
    ({"a": -1, "b": [1, 2]}, "outside"),
    ({"a": 1, "b": [1]}, "needs 2"),
    ({"a": 1, "b": 5}, "array"),
    ({"a": 1.5, "b": [1, 2]}, "integer"),
])
def test_bad_assignment_is_refused_with_a_clear_message(assignment, message):
    cs = ConstraintSystem()
    cs.private_input("a")
    cs.public_inputs("b", 2)
    with pytest.raises(InvalidAssignment, match=message):
        cs.compile().solve(assignment)


# --- compiled structure ----------------------------------------------------------------------------


def test_one_compiled_circuit_solves_many_assignments():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    acc = x
    for _ in range(10):
        acc = cs.mul(acc, x) + 1
    cs.public_output("y", acc)
    compiled = cs.compile()
    for value in (0, 1, 2, R - 1, 123456789):
        expected = value
        for _ in range(10):
            expected = (expected * value + 1) % R
        assert compiled.solve({"x": value})[1] == expected


def test_limbs_are_standard_form_and_round_trip_to_ints():
    values = [0, 1, 2**64, R - 1, 2**200 + 5]
    limbs = ints_to_limbs(values)
    assert limbs.dtype == np.uint64 and limbs.shape == (5, 4)
    assert limbs[2].tolist() == [0, 1, 0, 0]
    assert limbs_to_ints(limbs) == values


def test_compiled_rows_hold_the_built_terms_and_match_their_int_coefficients():
    cs = ConstraintSystem()
    xs = cs.private_inputs("x", 5)
    cs.mul(xs[4] * 3 + xs[0] + 2, xs[2] - xs[1])
    compiled = cs.compile()
    a = compiled.r1cs.a
    assert sorted(a.row(0)) == [(0, 2), (1, 1), (5, 3)]
    assert limbs_to_ints(a.coeffs) == a.coeff_ints
    assert a.indptr.dtype == np.int64 and a.indices.dtype == np.int64


def test_solving_a_large_circuit_takes_well_under_a_second_per_hundred_thousand_constraints():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    state = [x, x + 1, x + 2]
    while cs.n_constraints < 100_000:
        squares = [cs.mul(s, s) for s in state]
        state = [cs.mul(squares[0] + 2 * squares[1], state[2]) + 1, squares[2] + state[0], squares[1] * 5]
        cs.assert_bool(cs.hint(lambda v: v & 1, [state[0]])[0])
    compiled = cs.compile()
    start = time.perf_counter()
    compiled.solve({"x": 3}, check=False)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"solving {compiled.r1cs.n_constraints} constraints took {elapsed:.2f} s"


def test_solve_checks_only_assertion_rows_and_they_are_exactly_the_non_defining_ones():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    p = cs.mul(a + 1, b)             # row 0: defines p
    cs.assert_bool(a)                # row 1: assertion
    w = cs.to_wire(p + a)            # row 2: defines w
    cs.assert_equal(w, 7)            # row 3: assertion
    cs.public_output("out", b + 1)   # row 4: defines the output wire
    compiled = cs.compile()
    assert compiled.assertion_rows.tolist() == [1, 3]
    z = compiled.solve({"a": 1, "b": 3})
    assert is_satisfied(compiled.r1cs, z)
    with pytest.raises(UnsatisfiedConstraint) as info:
        compiled.solve({"a": 0, "b": 3})
    assert info.value.index == 3


def test_first_failure_over_selected_rows_reports_the_original_index():
    cs = ConstraintSystem()
    xs = cs.private_inputs("x", 4)
    for i, x in enumerate(xs):
        with cs.gadget(f"row{i}"):
            cs.assert_equal(x, i)
    compiled = cs.compile()
    z = compiled.solve({"x": [0, 1, 2, 3]})
    bad = _tampered(_tampered(z, 2, 9), 4, 9)            # breaks rows 1 and 3
    assert first_failure(compiled.r1cs, bad).index == 1
    assert first_failure(compiled.r1cs, bad, np.array([0, 2, 3])) == ConstraintFailure(3, "row3", 6, 1, 0)
    assert first_failure(compiled.r1cs, bad, np.array([0, 2])) is None


def _square_off_by_one(x):
    return x * x % R + 1     # claims x·x, is off by one


def test_row_that_holds_by_construction_is_left_out_of_solves_check_but_not_out_of_the_r1cs():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    square, = cs.hint(_square_off_by_one, [x])
    cs.assert_product(x, x, square, holds_by_construction=True)   # a false promise, to show what it skips
    cs.assert_equal(x, 3)
    compiled = cs.compile()
    assert compiled.assertion_rows.tolist() == [1]
    z = compiled.solve({"x": 3})                                   # the lying hint's row is not re-checked ...
    with pytest.raises(UnsatisfiedConstraint) as info:
        is_satisfied(compiled.r1cs, z)                             # ... but it is a constraint like any other
    assert info.value.index == 0
