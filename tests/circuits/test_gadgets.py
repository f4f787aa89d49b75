"""Gadgets against their native twins, tampered witnesses, and the under-constraint checker over all of them."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings, strategies as st

from circuits import gadgets as g
from circuits.builder import R, ConstraintSystem, ConstraintSystemError, UnsatisfiedConstraint, is_satisfied
from circuits.check import UnderConstrained, check_gadget, is_rejected, run_gadget

RNG = random.Random(20240601)


evaluate = run_gadget
rejected = is_rejected


def tampered_is_rejected(build, inputs, pick_overrides) -> UnsatisfiedConstraint:
    """Solve with some wires forced (later wires recomputed honestly); return the failure it must cause."""
    cs = ConstraintSystem()
    wires = {name: cs.private_input(name) for name in inputs}
    outputs = build(cs, wires)
    compiled = cs.compile()
    overrides = pick_overrides(outputs)
    z = compiled.to_layout(compiled.solve_internal(inputs, overrides=overrides))
    with pytest.raises(UnsatisfiedConstraint) as info:
        is_satisfied(compiled.r1cs, z)
    return info.value


# --- bits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 8, 64, 253])
def test_to_binary_equals_its_native_twin(n):
    for x in {0, 1, (1 << n) - 1, RNG.randrange(1 << n)}:
        assert evaluate(lambda cs, w: g.to_binary(cs, w["x"], n), {"x": x}) == g.to_binary_native(x, n)


@pytest.mark.parametrize("n, x", [(1, 2), (8, 256), (64, 2**64), (64, R - 1), (253, 2**253)])
def test_value_too_wide_for_to_binary_is_unsatisfiable(n, x):
    assert rejected(lambda cs, w: g.to_binary(cs, w["x"], n), {"x": x})
    with pytest.raises(ValueError):
        g.to_binary_native(x, n)


def test_to_binary_of_zero_bits_forces_zero():
    assert evaluate(lambda cs, w: g.to_binary(cs, w["x"], 0), {"x": 0}) == []
    assert rejected(lambda cs, w: g.to_binary(cs, w["x"], 0), {"x": 1})


def test_non_boolean_bit_is_unsatisfiable_even_when_the_sum_still_matches():
    # x = 4 = 1·2^2; a cheat sets bit1 = 2, bit2 = 0, which still sums to 4.
    failure = tampered_is_rejected(lambda cs, w: g.to_binary(cs, w["x"], 3), {"x": 4},
                                   lambda bits: {bits[1].single_wire: 2, bits[2].single_wire: 0})
    assert failure.gadget.endswith("assert_bool")


def test_flipped_bit_is_unsatisfiable():
    for i in range(1, 8):
        tampered_is_rejected(lambda cs, w: g.to_binary(cs, w["x"], 8), {"x": 0b10110101},
                             lambda bits: {bits[i].single_wire: 1 - ((0b10110101 >> i) & 1)})


def test_constant_input_decomposes_at_build_time_and_too_wide_constant_is_an_error():
    cs = ConstraintSystem()
    assert [b.constant_value for b in g.to_binary(cs, 5, 3)] == [1, 0, 1]
    assert cs.n_constraints == 0
    with pytest.raises(ValueError):
        g.to_binary(cs, 8, 3)


def test_widths_beyond_the_unique_range_are_refused():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    with pytest.raises(ConstraintSystemError):
        g.to_binary(cs, x, 254)
    with pytest.raises(ConstraintSystemError):
        g.less_than(cs, x, x, 253)


def test_from_binary_equals_its_native_twin_and_rejects_non_bits():
    bits = [1, 0, 1, 1, 0, 0, 1, 0]
    assert evaluate(lambda cs, w: g.from_binary(cs, w["b"]), {"b": bits}) == g.from_binary_native(bits)
    assert rejected(lambda cs, w: g.from_binary(cs, w["b"]), {"b": [2] + bits[1:]})


def test_range_check_accepts_exactly_the_n_bit_values():
    for x, ok in [(0, True), (255, True), (256, False), (R - 1, False)]:
        assert rejected(lambda cs, w: g.range_check(cs, w["x"], 8), {"x": x}) == (not ok)
        assert g.range_check_native(x, 8) == ok


def test_range_check_is_free_when_the_value_is_already_known_to_fit():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    g.range_check(cs, x, 8)
    before = cs.n_constraints
    g.range_check(cs, x, 16)
    g.range_check(cs, x, 8)
    assert cs.n_constraints == before
    g.range_check(cs, x, 4)     # narrower: must be checked again
    assert cs.n_constraints == before + 4


def test_bits_at_most_a_constant_matches_integer_comparison_exhaustively():
    n = 5
    for bound in range(1 << n):
        cs = ConstraintSystem()
        bits = cs.private_inputs("b", n)
        g.assert_bits_at_most(cs, bits, bound)
        compiled = cs.compile()
        for value in range(1 << n):
            witness_bits = g.to_binary_native(value, n)
            try:
                compiled.solve({"b": witness_bits})
                accepted = True
            except UnsatisfiedConstraint:
                accepted = False
            assert accepted == (value <= bound), (bound, value)


@pytest.mark.parametrize("x", [0, 1, 5, R - 1, R - 2**200])
def test_to_binary_strict_equals_its_native_twin(x):
    assert evaluate(lambda cs, w: g.to_binary_strict(cs, w["x"]), {"x": x}) == g.to_binary_strict_native(x)


def test_aliased_decomposition_x_plus_r_is_unsatisfiable_in_the_strict_variant_only():
    x = 5
    alias = x + R                        # < 2**254, ≡ x (mod r): the bits a plain 254-bit check would accept
    alias_bits = [(alias >> i) & 1 for i in range(254)]
    assert alias_bits != g.to_binary_native(x, 254)

    def override(bits):
        return {bit.single_wire: value for bit, value in zip(bits[1:], alias_bits[1:])}

    # Without the bound on the bits the alias passes: the check below is what forbids it.
    from circuits.gadgets import _decompose
    cs = ConstraintSystem()
    xw = cs.private_input("x")
    plain = _decompose(cs, xw, 254)
    compiled = cs.compile()
    z = compiled.to_layout(compiled.solve_internal({"x": x}, overrides=override(plain)))
    assert is_satisfied(compiled.r1cs, z)

    failure = tampered_is_rejected(lambda cs, w: g.to_binary_strict(cs, w["x"]), {"x": x}, override)
    assert "bits_at_most" in failure.gadget


# --- comparators -----------------------------------------------------------------------------------

COMPARATORS = [
    (g.less_than, g.less_than_native),
    (g.less_or_equal, g.less_or_equal_native),
    (g.greater_than, g.greater_than_native),
    (g.greater_or_equal, g.greater_or_equal_native),
]


@pytest.mark.parametrize("gadget, native", COMPARATORS, ids=lambda f: getattr(f, "__name__", ""))
def test_comparator_equals_its_native_twin_exhaustively_on_3_bits(gadget, native):
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    cs.public_output("out", gadget(cs, a, b, 3))
    compiled = cs.compile()
    for x, y in itertools.product(range(8), repeat=2):
        assert compiled.solve({"a": x, "b": y})[1] == native(x, y, 3)


@pytest.mark.parametrize("gadget, native", COMPARATORS, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("a, b", [(8, 0), (0, 8), (R - 1, 3), (3, R - 1), (2**200, 1)])
def test_comparator_inputs_out_of_range_are_unsatisfiable(gadget, native, a, b):
    assert rejected(lambda cs, w: gadget(cs, w["a"], w["b"], 3), {"a": a, "b": b})
    with pytest.raises(ValueError):
        native(a, b, 3)


def test_comparators_are_correct_at_252_bits():
    top = (1 << 252) - 1
    for a, b in [(top, 0), (0, top), (top, top), (top - 1, top), (2**251, 2**251 + 1)]:
        got = evaluate(lambda cs, w: g.less_than(cs, w["a"], w["b"], 252), {"a": a, "b": b})
        assert got == g.less_than_native(a, b, 252)


@pytest.mark.parametrize("gadget, native, holds", [
    (g.assert_less_or_equal, g.assert_less_or_equal_native, lambda a, b: a <= b),
    (g.assert_less_than, g.assert_less_than_native, lambda a, b: a < b),
])
def test_assertion_comparators_accept_exactly_the_true_pairs(gadget, native, holds):
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    gadget(cs, a, b, 3)
    compiled = cs.compile()
    for x, y in itertools.product(range(8), repeat=2):
        try:
            compiled.solve({"a": x, "b": y})
            accepted = True
        except UnsatisfiedConstraint:
            accepted = False
        assert accepted == holds(x, y)
        if holds(x, y):
            native(x, y, 3)
        else:
            with pytest.raises(ValueError):
                native(x, y, 3)


def test_assert_less_or_equal_does_not_wrap_around_the_field():
    # b − a = r − 1 ≡ −1 would "fit" if it were reduced to a small value; inputs are range-checked too.
    for a, b in [(1, 0), (2**64 - 1, 0), (0, R - 1), (R - 1, 0)]:
        assert rejected(lambda cs, w: g.assert_less_or_equal(cs, w["a"], w["b"], 64), {"a": a, "b": b})
    assert not rejected(lambda cs, w: g.assert_less_or_equal(cs, w["a"], w["b"], 64),
                        {"a": 2**64 - 1, "b": 2**64 - 1})


def test_comparator_skips_range_checks_of_inputs_already_checked():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    g.range_check(cs, a, 64)
    g.range_check(cs, b, 32)
    before = cs.n_constraints
    g.less_than(cs, a, b, 64)
    assert cs.n_constraints - before == 65


# --- zero tests, selection -------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0, 1, 2, R - 1, RNG.randrange(R)])
def test_is_zero_equals_its_native_twin(x):
    assert evaluate(lambda cs, w: g.is_zero(cs, w["x"]), {"x": x}) == g.is_zero_native(x)


@pytest.mark.parametrize("a, b", [(0, 0), (5, 5), (5, 6), (0, R - 1), (R - 1, R - 1)])
def test_is_equal_equals_its_native_twin(a, b):
    assert evaluate(lambda cs, w: g.is_equal(cs, w["a"], w["b"]), {"a": a, "b": b}) == g.is_equal_native(a, b)


def test_is_zero_output_cannot_be_forged():
    for x, forged in [(0, 0), (7, 1)]:
        cs = ConstraintSystem()
        xw = cs.private_input("x")
        out = g.is_zero(cs, xw)
        compiled = cs.compile()
        internal = compiled.solve_internal({"x": x})
        product = next(w for w in out.terms if w != 0)          # out = 1 − x·inv
        inverse = next(w for w in range(1, len(internal)) if w not in (xw.single_wire, product))
        for inv in (0, 1, 2, pow(x, -1, R) if x else 5):
            tampered = list(internal)
            tampered[product] = (1 - forged) % R
            tampered[inverse] = inv
            assert out.evaluate(tampered) == forged
            with pytest.raises(UnsatisfiedConstraint):
                is_satisfied(compiled.r1cs, compiled.to_layout(tampered))


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("constant", [True, False])
def test_mux_selects_every_index(k, constant):
    table = [RNG.randrange(R) for _ in range(1 << k)]

    def build(cs, w):
        values = table if constant else w["t"]
        return g.mux(cs, w["s"], values)

    for index in range(1 << k):
        bits = g.to_binary_native(index, k)
        inputs = {"s": bits} if constant else {"s": bits, "t": table}
        if k == 0:
            inputs["s"] = []
        assert evaluate(build, inputs) == g.mux_native(bits, table) == table[index]


def test_multi_mux_shares_selectors_across_tables():
    tables = [[RNG.randrange(R) for _ in range(8)] for _ in range(3)]
    for index in range(8):
        bits = g.to_binary_native(index, 3)
        got = evaluate(lambda cs, w: g.multi_mux(cs, w["s"], tables), {"s": bits})
        assert got == g.multi_mux_native(bits, tables) == [t[index] for t in tables]


@pytest.mark.parametrize("constant", [True, False])
def test_mux_with_a_non_boolean_selector_is_unsatisfiable(constant):
    table = [11, 22, 33, 44]

    def build(cs, w):
        return g.mux(cs, w["s"], table if constant else w["t"])

    inputs = {"s": [2, 0]} if constant else {"s": [2, 0], "t": table}
    assert rejected(build, inputs)


def test_select_equals_its_native_twin():
    for c in (0, 1):
        got = evaluate(lambda cs, w: g.select(cs, w["c"], w["a"], w["b"]), {"c": c, "a": 5, "b": 9})
        assert got == g.select_native(c, 5, 9)
    with pytest.raises(ValueError):
        g.select_native(2, 5, 9)


# --- the under-constraint checker over every gadget ------------------------------------------------

CHECKED_GADGETS = [
    ("to_binary(8)", lambda cs, w: g.to_binary(cs, w["x"], 8), [{"x": 0}, {"x": 255}, {"x": 0b10110010}], ()),
    ("to_binary(64)", lambda cs, w: g.to_binary(cs, w["x"], 64), [{"x": RNG.randrange(2**64)}], ()),
    ("to_binary_strict", lambda cs, w: g.to_binary_strict(cs, w["x"]), [{"x": 0}, {"x": R - 1}], ()),
    ("from_binary(8)", lambda cs, w: g.from_binary(cs, w["b"]), [{"b": [1, 0, 1, 1, 0, 0, 1, 0]}], ()),
    ("range_check(8)", lambda cs, w: g.range_check(cs, w["x"], 8) or w["x"], [{"x": 200}], ()),
    ("bits_at_most(8, 200)", lambda cs, w: g.assert_bits_at_most(cs, w["b"], 200) or w["b"],
     [{"b": g.to_binary_native(200, 8)}, {"b": g.to_binary_native(13, 8)}], ()),
    ("less_than(8)", lambda cs, w: g.less_than(cs, w["a"], w["b"], 8),
     [{"a": 3, "b": 5}, {"a": 5, "b": 3}, {"a": 7, "b": 7}, {"a": 0, "b": 255}], ()),
    ("less_or_equal(8)", lambda cs, w: g.less_or_equal(cs, w["a"], w["b"], 8), [{"a": 3, "b": 3}, {"a": 9, "b": 3}], ()),
    ("greater_than(8)", lambda cs, w: g.greater_than(cs, w["a"], w["b"], 8), [{"a": 4, "b": 3}], ()),
    ("greater_or_equal(8)", lambda cs, w: g.greater_or_equal(cs, w["a"], w["b"], 8), [{"a": 3, "b": 4}], ()),
    ("assert_less_or_equal(8)", lambda cs, w: g.assert_less_or_equal(cs, w["a"], w["b"], 8),
     [{"a": 3, "b": 3}, {"a": 0, "b": 255}], ()),
    ("assert_less_than(8)", lambda cs, w: g.assert_less_than(cs, w["a"], w["b"], 8), [{"a": 3, "b": 4}], ()),
    # x = 0: the inverse wire is free (x·inv = 0 for any inv) but cannot move the output.
    ("is_zero", lambda cs, w: g.is_zero(cs, w["x"]), [{"x": 0}, {"x": 5}, {"x": R - 1}], ("is_zero",)),
    ("is_equal", lambda cs, w: g.is_equal(cs, w["a"], w["b"]), [{"a": 4, "b": 4}, {"a": 4, "b": 5}], ("is_zero",)),
    ("select", lambda cs, w: g.select(cs, w["c"], w["a"], w["b"]), [{"c": 0, "a": 4, "b": 5}, {"c": 1, "a": 4, "b": 5}], ()),
    ("mux(3), constant table", lambda cs, w: g.mux(cs, w["s"], [3, 1, 4, 1, 5, 9, 2, 6]),
     [{"s": [1, 0, 1]}, {"s": [0, 0, 0]}], ()),
    ("mux(2), wire values", lambda cs, w: g.mux(cs, w["s"], w["t"]), [{"s": [1, 1], "t": [7, 8, 9, 10]}], ()),
    ("multi_mux(2), constant tables", lambda cs, w: g.multi_mux(cs, w["s"], [[1, 2, 3, 5], [8, 13, 21, 34]]),
     [{"s": [0, 1]}], ()),
    ("inverse", lambda cs, w: cs.inverse(w["x"]), [{"x": 3}], ()),
    ("div", lambda cs, w: cs.div(w["a"], w["b"]), [{"a": 0, "b": 3}, {"a": 7, "b": R - 1}], ()),
    ("assert_nonzero", lambda cs, w: cs.assert_nonzero(w["x"]) or w["x"], [{"x": 9}], ()),
]


@pytest.mark.parametrize("name, build, samples, allow_free", CHECKED_GADGETS, ids=[c[0] for c in CHECKED_GADGETS])
def test_no_wire_of_the_gadget_can_change_while_all_constraints_hold(name, build, samples, allow_free):
    for inputs in samples:
        check_gadget(build, inputs).assert_sound(allow_free=allow_free)


def test_is_zero_reports_its_free_inverse_at_zero_but_no_output_change():
    report = check_gadget(lambda cs, w: g.is_zero(cs, w["x"]), {"x": 0})
    assert report.findings and not report.output_changing
    with pytest.raises(UnderConstrained):
        report.assert_sound()


# The checker must catch real under-constraint bugs: gadgets each missing one constraint.

def _is_zero_missing_x_times_out(cs, w):
    x = w["x"]
    inv, = cs.hint(lambda v: pow(v, -1, R) if v else 0, [x])
    return 1 - cs.mul(x, inv)


def _less_than_with_an_unbound_result(cs, w):
    out, = cs.hint(lambda a, b: int(a < b), [w["a"], w["b"]])
    cs.assert_bool(out)
    return out


def _to_binary_without_recomposition(cs, w):
    bits = cs.hint(lambda v: [(v >> i) & 1 for i in range(4)], [w["x"]], 4)
    for bit in bits:
        cs.assert_bool(bit)
    return bits


@pytest.mark.parametrize("broken, inputs", [
    (_is_zero_missing_x_times_out, {"x": 5}),
    (_less_than_with_an_unbound_result, {"a": 1, "b": 2}),
    (_to_binary_without_recomposition, {"x": 9}),
])
def test_checker_reports_output_changing_perturbations_of_broken_gadgets(broken, inputs):
    report = check_gadget(broken, inputs)
    assert report.output_changing
    with pytest.raises(UnderConstrained):
        report.assert_sound()


# --- properties on random 64-bit values ------------------------------------------------------------

_U64 = st.integers(min_value=0, max_value=2**64 - 1)


def _comparison_circuit():
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    cs.public_output("lt", g.less_than(cs, a, b, 64))
    cs.public_output("le", g.less_or_equal(cs, a, b, 64))
    cs.public_output("eq", g.is_equal(cs, a, b))
    return cs.compile()


_COMPARISON = _comparison_circuit()


@settings(max_examples=60, deadline=None)
@given(_U64, _U64)
def test_u64_comparisons_equal_their_native_twins(a, b):
    z = _COMPARISON.solve({"a": a, "b": b})
    assert z[1:4] == [g.less_than_native(a, b, 64), g.less_or_equal_native(a, b, 64), g.is_equal_native(a, b)]


def test_a_compiled_circuit_pickles_and_still_solves():
    import pickle
    restored = pickle.loads(pickle.dumps(_COMPARISON))
    assert restored.r1cs == _COMPARISON.r1cs
    assert restored.solve({"a": 3, "b": 9})[1:4] == [1, 1, 0]


def test_bits_greater_than_constant_matches_integer_comparison_exhaustively():
    n = 5
    for bound in range(1 << n):
        cs = ConstraintSystem()
        bits = cs.private_inputs("b", n)
        cs.public_output("gt", g.bits_greater_than_constant(cs, bits, bound))
        compiled = cs.compile()
        for value in range(1 << n):
            witness_bits = g.to_binary_native(value, n)
            z = compiled.solve({"b": witness_bits})
            assert z[1] == g.bits_greater_than_constant_native(witness_bits, bound) == int(value > bound)
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve({"b": [2, 0, 0, 0, 0]})


def test_sign_of_a_field_element_by_strict_bits_and_constant_comparison():
    half = (R - 1) // 2

    def sign(cs, w):
        return g.bits_greater_than_constant(cs, g.to_binary_strict(cs, w["x"]), half)

    for x in (0, 1, half, half + 1, R - 1):
        assert evaluate(sign, {"x": x}) == int(x > half)
    check_gadget(sign, {"x": half + 1}).assert_sound()
    check_gadget(sign, {"x": 3}).assert_sound()
