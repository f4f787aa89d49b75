"""Baby Jubjub gadgets equal the native group law, scalar multiplications and packPoint bits, and reject
off-curve points, low-order points, wrong sign bits and non-canonical encodings of y."""

from __future__ import annotations

import random

import pytest

from circuits.babyjub import (
    BASE8,
    GENERATOR,
    IDENTITY,
    SUBGROUP_ORDER,
    _HALF,
    assert_not_low_order,
    assert_on_curve,
    fixed_base_mul_gadget,
    is_low_order,
    pack_point_bits_native,
    pack_point_gadget,
    point_add,
    point_add_gadget,
    point_double,
    point_double_gadget,
    point_select_gadget,
    scalar_mul,
    scalar_mul_gadget,
    scalar_mul_prime_order_gadget,
    x_sign_gadget,
    x_sign_native,
)
from circuits.builder import R, ConstraintSystem, first_failure
from circuits.check import check_gadget

RNG = random.Random(2494)
ORDER_8 = scalar_mul(GENERATOR, SUBGROUP_ORDER)
LOW_ORDER_POINTS = [scalar_mul(ORDER_8, k) for k in range(8)]


def random_point():
    return scalar_mul(GENERATOR, RNG.randrange(1, 8 * SUBGROUP_ORDER))


def subgroup_point():
    return scalar_mul(BASE8, RNG.randrange(1, SUBGROUP_ORDER))


SAMPLE_POINTS = [IDENTITY, LOW_ORDER_POINTS[4], LOW_ORDER_POINTS[1], BASE8, GENERATOR] + \
    [random_point() for _ in range(3)]


def internal_positions(compiled):
    return range(1 + compiled.r1cs.n_public + compiled.r1cs.n_private_inputs, compiled.r1cs.n_wires)


def assert_every_internal_wire_is_bound(compiled, witness):
    for i in internal_positions(compiled):
        tampered = list(witness)
        tampered[i] = (tampered[i] + 1) % R
        assert first_failure(compiled.r1cs, tampered) is not None, f"wire {i} is free"


@pytest.fixture(scope="module")
def add_circuit():
    cs = ConstraintSystem()
    p, q = cs.private_inputs("p", 2), cs.private_inputs("q", 2)
    x, y = point_add_gadget(cs, p, q)
    cs.public_output("x", x)
    cs.public_output("y", y)
    return cs.compile()


def test_point_add_gadget_equals_native_addition_including_identity_and_doubling(add_circuit):
    pairs = [(p, q) for p in SAMPLE_POINTS for q in SAMPLE_POINTS[:4]] + [(BASE8, BASE8), (BASE8, (R - BASE8[0], BASE8[1]))]
    for p, q in pairs:
        witness = add_circuit.solve({"p": list(p), "q": list(q)})
        assert tuple(add_circuit.output_values(witness).values()) == point_add(p, q)


def test_point_add_costs_six_constraints_as_circomlibs_babyadd():
    cs = ConstraintSystem()
    point_add_gadget(cs, cs.private_inputs("p", 2), cs.private_inputs("q", 2))
    assert cs.n_constraints == 6


def test_every_perturbed_wire_of_an_addition_violates_a_constraint(add_circuit):
    witness = add_circuit.solve({"p": list(random_point()), "q": list(random_point())})
    assert_every_internal_wire_is_bound(add_circuit, witness)
    for output in (1, 2):
        tampered = list(witness)
        tampered[output] = (tampered[output] + 1) % R
        assert first_failure(add_circuit.r1cs, tampered) is not None


def test_point_double_gadget_equals_native_doubling_in_five_constraints():
    cs = ConstraintSystem()
    x, y = point_double_gadget(cs, cs.private_inputs("p", 2))
    assert cs.n_constraints == 5
    cs.public_output("x", x)
    cs.public_output("y", y)
    compiled = cs.compile()
    for p in SAMPLE_POINTS:
        witness = compiled.solve({"p": list(p)})
        assert tuple(compiled.output_values(witness).values()) == point_double(p)
    assert_every_internal_wire_is_bound(compiled, compiled.solve({"p": list(random_point())}))


def test_on_curve_assertion_accepts_curve_points_and_rejects_others():
    cs = ConstraintSystem()
    assert_on_curve(cs, cs.private_inputs("p", 2))
    assert cs.n_constraints == 3
    compiled = cs.compile()
    for p in SAMPLE_POINTS:
        assert first_failure(compiled.r1cs, compiled.solve({"p": list(p)}, check=False)) is None
    for p in [(1, 1), (BASE8[0], BASE8[1] + 1), (0, 0), (BASE8[1], BASE8[0])]:
        assert first_failure(compiled.r1cs, compiled.solve({"p": list(p)}, check=False)) is not None


def test_not_low_order_rejects_all_eight_low_order_points_and_accepts_the_others():
    cs = ConstraintSystem()
    p = cs.private_inputs("p", 2)
    p8 = assert_not_low_order(cs, p)
    cs.public_output("x8", p8[0])
    cs.public_output("y8", p8[1])
    compiled = cs.compile()
    assert len(set(LOW_ORDER_POINTS)) == 8 and all(is_low_order(q) for q in LOW_ORDER_POINTS)
    for q in LOW_ORDER_POINTS:
        failure = first_failure(compiled.r1cs, compiled.solve({"p": list(q)}, check=False))
        assert failure is not None and "inverse" in failure.gadget
    for q in [BASE8, GENERATOR, random_point(), point_add(BASE8, LOW_ORDER_POINTS[3])]:
        witness = compiled.solve({"p": list(q)})
        assert tuple(compiled.output_values(witness).values()) == scalar_mul(q, 8)
        assert_every_internal_wire_is_bound(compiled, witness)


@pytest.fixture(scope="module")
def scalar_mul_circuit():
    cs = ConstraintSystem()
    p = cs.private_inputs("p", 2)
    bits = cs.private_inputs("k", 254)
    x, y = scalar_mul_gadget(cs, p, bits)
    cs.public_output("x", x)
    cs.public_output("y", y)
    return cs.compile()


def bits_of(k, n):
    return [(k >> i) & 1 for i in range(n)]


def test_variable_base_scalar_mul_equals_native_for_any_curve_point(scalar_mul_circuit):
    cases = [(BASE8, 0), (BASE8, 1), (BASE8, (1 << 254) - 1), (GENERATOR, RNG.randrange(1 << 254)),
             (LOW_ORDER_POINTS[1], RNG.randrange(1 << 254)), (IDENTITY, RNG.randrange(1 << 254)),
             (subgroup_point(), SUBGROUP_ORDER), (subgroup_point(), SUBGROUP_ORDER - 1),
             (random_point(), RNG.randrange(1 << 254))]
    for p, k in cases:
        witness = scalar_mul_circuit.solve({"p": list(p), "k": bits_of(k, 254)})
        assert tuple(scalar_mul_circuit.output_values(witness).values()) == scalar_mul(p, k)


def test_variable_base_scalar_mul_rejects_a_non_boolean_scalar_bit_and_perturbed_wires(scalar_mul_circuit):
    p, k = subgroup_point(), RNG.randrange(1 << 254)
    bits = bits_of(k, 254)
    bits[17] = 2
    witness = scalar_mul_circuit.solve({"p": list(p), "k": bits}, check=False)
    assert first_failure(scalar_mul_circuit.r1cs, witness) is not None
    witness = scalar_mul_circuit.solve({"p": list(p), "k": bits_of(k, 254)})
    positions = list(internal_positions(scalar_mul_circuit))
    for i in RNG.sample(positions, 150) + positions[-20:]:
        tampered = list(witness)
        tampered[i] = (tampered[i] + 1) % R
        assert first_failure(scalar_mul_circuit.r1cs, tampered) is not None, f"wire {i} is free"


def test_fixed_base_scalar_mul_equals_native_at_about_three_constraints_a_bit():
    cs = ConstraintSystem()
    bits = cs.private_inputs("k", 251)
    for b in bits:
        cs.assert_bool(b)
    before = cs.n_constraints
    x, y = fixed_base_mul_gadget(cs, BASE8, bits)
    assert cs.n_constraints - before <= 3 * 251
    cs.public_output("x", x)
    cs.public_output("y", y)
    compiled = cs.compile()
    for k in [0, 1, SUBGROUP_ORDER - 1, (1 << 251) - 1, RNG.randrange(SUBGROUP_ORDER)]:
        witness = compiled.solve({"k": bits_of(k, 251)})
        assert tuple(compiled.output_values(witness).values()) == scalar_mul(BASE8, k)
    assert_every_internal_wire_is_bound(compiled, witness)


def test_point_select_picks_either_point():
    cs = ConstraintSystem()
    c = cs.private_input("c")
    x, y = point_select_gadget(cs, c, BASE8, GENERATOR)
    cs.public_output("x", x)
    cs.public_output("y", y)
    compiled = cs.compile()
    assert tuple(compiled.output_values(compiled.solve({"c": 1})).values()) == BASE8
    assert tuple(compiled.output_values(compiled.solve({"c": 0})).values()) == GENERATOR


@pytest.fixture(scope="module")
def sign_circuit():
    cs = ConstraintSystem()
    x = cs.private_input("x")
    sign = x_sign_gadget(cs, x)
    cs.public_output("sign", sign)
    return cs.compile(), sign.single_wire


@pytest.mark.parametrize("x", [0, 1, _HALF - 1, _HALF, _HALF + 1, R - 1, 12345, R - 12345])
def test_x_sign_is_one_exactly_above_half_the_modulus(sign_circuit, x):
    compiled, _ = sign_circuit
    witness = compiled.solve({"x": x})
    assert compiled.output_values(witness)["sign"] == x_sign_native(x) == int(x > _HALF)


@pytest.mark.parametrize("x", [0, 1, _HALF, _HALF + 1, R - 1, RNG.randrange(R)])
def test_wrong_sign_bit_is_unsatisfiable_even_with_the_rest_recomputed(sign_circuit, x):
    compiled, sign_wire = sign_circuit
    wrong = 1 - x_sign_native(x)
    internal = compiled.solve_internal({"x": x}, overrides={sign_wire: wrong})
    assert first_failure(compiled.r1cs, compiled.to_layout(internal)) is not None


def test_under_constraint_checker_finds_no_free_wire_in_the_sign_and_the_addition():
    check_gadget(lambda cs, w: x_sign_gadget(cs, w["x"]), {"x": R - 5}).assert_sound()
    check_gadget(lambda cs, w: x_sign_gadget(cs, w["x"]), {"x": 0}).assert_sound()
    check_gadget(lambda cs, w: point_add_gadget(cs, w["p"], w["q"]),
                 {"p": list(random_point()), "q": list(random_point())}).assert_sound()
    check_gadget(lambda cs, w: assert_not_low_order(cs, w["p"]), {"p": list(random_point())}).assert_sound()


@pytest.fixture(scope="module")
def pack_circuit():
    cs = ConstraintSystem()
    p = cs.private_inputs("p", 2)
    bits = pack_point_gadget(cs, p)
    for i, b in enumerate(bits):
        cs.public_output(f"b{i}", b)
    return cs.compile(), bits


def test_packed_bits_equal_circomlibjs_packpoint(pack_circuit):
    compiled, _ = pack_circuit
    for p in [BASE8, GENERATOR, LOW_ORDER_POINTS[2], random_point(), point_add(BASE8, LOW_ORDER_POINTS[4])]:
        witness = compiled.solve({"p": list(p)})
        assert list(compiled.output_values(witness).values()) == pack_point_bits_native(p)


def test_non_canonical_y_encoding_is_rejected(pack_circuit):
    compiled, bits = pack_circuit
    point = (BASE8[0], 5)   # packing does not need a curve point; y + r < 2^254 has an alias
    alias = 5 + R
    overrides = {bits[i].single_wire: (alias >> i) & 1 for i in range(1, 254)}
    assert all(w is not None for w in overrides)
    internal = compiled.solve_internal({"p": list(point)}, overrides=overrides)
    assert bits[0].evaluate(internal) == alias & 1
    failure = first_failure(compiled.r1cs, compiled.to_layout(internal))
    assert failure is not None and "to_binary_strict" in failure.gadget


def test_every_perturbed_wire_of_the_packing_violates_a_constraint(pack_circuit):
    compiled, _ = pack_circuit
    witness = compiled.solve({"p": list(random_point())})
    assert_every_internal_wire_is_bound(compiled, witness)


@pytest.fixture(scope="module")
def prime_order_circuit():
    cs = ConstraintSystem()
    p = cs.private_inputs("p", 2)
    bits = cs.private_inputs("k", 254)
    for b in bits:
        cs.assert_bool(b)
    before = cs.n_constraints
    x, y = scalar_mul_prime_order_gadget(cs, p, bits)
    cost = cs.n_constraints - before
    cs.public_output("x", x)
    cs.public_output("y", y)
    return cs.compile(), cost


def test_prime_order_scalar_mul_equals_native_at_about_eight_constraints_a_bit(prime_order_circuit):
    compiled, cost = prime_order_circuit
    assert cost <= 8 * 254 + 10
    cases = [0, 1, 2, 3, 4, 5, (1 << 254) - 1, (1 << 253), SUBGROUP_ORDER - 2, SUBGROUP_ORDER + 1,
             *(RNG.randrange(1 << 254) for _ in range(4))]
    for k in cases:
        p = subgroup_point()
        witness = compiled.solve({"p": list(p), "k": bits_of(k, 254)})
        assert tuple(compiled.output_values(witness).values()) == scalar_mul(p, k), k


@pytest.mark.parametrize("n_bits", [2, 3, 4, 7, 251])
def test_prime_order_scalar_mul_handles_any_scalar_width(n_bits):
    cs = ConstraintSystem()
    p = cs.private_inputs("p", 2)
    bits = cs.private_inputs("k", n_bits)
    x, y = scalar_mul_prime_order_gadget(cs, p, bits)
    cs.public_output("x", x)
    cs.public_output("y", y)
    compiled = cs.compile()
    for k in {0, 1, (1 << n_bits) - 1, RNG.randrange(1 << n_bits)}:
        point = subgroup_point()
        witness = compiled.solve({"p": list(point), "k": bits_of(k, n_bits)})
        assert tuple(compiled.output_values(witness).values()) == scalar_mul(point, k)


def test_prime_order_scalar_mul_exceptional_scalars_are_unsatisfiable_never_wrong(prime_order_circuit):
    # k = l and l − 1 make the odd multiple (2k' + 1)·p the identity, which Montgomery form cannot hold:
    # the honest witness fails (a completeness gap a hash output hits with negligible probability).
    compiled, _ = prime_order_circuit
    for k in (SUBGROUP_ORDER, SUBGROUP_ORDER - 1):
        witness = compiled.solve({"p": list(BASE8), "k": bits_of(k, 254)}, check=False)
        assert first_failure(compiled.r1cs, witness) is not None


def test_every_perturbed_wire_of_a_prime_order_scalar_mul_violates_a_constraint(prime_order_circuit):
    compiled, _ = prime_order_circuit
    witness = compiled.solve({"p": list(subgroup_point()), "k": bits_of(RNG.randrange(1 << 254), 254)})
    assert_every_internal_wire_is_bound(compiled, witness)


def test_under_constraint_checker_finds_no_free_wire_in_the_scalar_multiplications():
    point = list(subgroup_point())
    k = bits_of(RNG.randrange(1 << 16), 16)
    check_gadget(lambda cs, w: scalar_mul_prime_order_gadget(cs, w["p"], w["k"]), {"p": point, "k": k}).assert_sound()
    check_gadget(lambda cs, w: scalar_mul_gadget(cs, w["p"], w["k"]), {"p": point, "k": k}).assert_sound()
    check_gadget(lambda cs, w: fixed_base_mul_gadget(cs, BASE8, w["k"]), {"k": k}).assert_sound()
