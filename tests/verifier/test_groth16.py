"""Groth16 verification: what verifies, what is rejected (False), and what is refused (VerifierInputError), on both backends."""

from __future__ import annotations

import dataclasses

import pytest

from verifier.curve import (
    BN_X,
    CURVE_ORDER,
    FIELD_MODULUS,
    G1_GENERATOR,
    G2_GENERATOR,
    get_backend,
    is_on_curve_g1,
    is_on_curve_g2,
    mcl_available,
)
from verifier.groth16 import prepare_verifying_key, require_valid, verify, verify_prepared
from verifier.types import (
    BadPoint,
    BadPublicInput,
    InvalidProof,
    MalformedInput,
    Proof,
    VerifierInputError,
    VerifyingKey,
)

R = CURVE_ORDER
Q = FIELD_MODULUS
needs_mcl = pytest.mark.skipif(not mcl_available(), reason="mclbn256 does not load here")


def test_curve_constants_are_bn254_as_published_in_eip196():
    assert Q == 21888242871839275222246405745257275088696311157297823662689037894645226208583
    assert R == 21888242871839275222246405745257275088548364400416034343698204186575808495617
    # Both are the BN polynomials in x: q = 36x^4 + 36x^3 + 24x^2 + 6x + 1, r = q - 6x^2.
    assert Q == 36 * BN_X**4 + 36 * BN_X**3 + 24 * BN_X**2 + 6 * BN_X + 1
    assert R == Q - 6 * BN_X**2
    assert G1_GENERATOR == (1, 2) and is_on_curve_g1(G1_GENERATOR)
    # EIP-197's G2 generator, given there imaginary part first.
    assert G2_GENERATOR == (
        (
            10857046999023057135944570762232829481370756359578518086990519993285655852781,
            11559732032986387107991004021392285783925812861821192530917403151452391805634,
        ),
        (
            8495653923123431417604973247489272438418190587263600148770280649306958101930,
            4082367875863433681332203403145435568316851327593401208105741076214120093531,
        ),
    )
    assert is_on_curve_g2(G2_GENERATOR)


# --- proofs that verify -------------------------------------------------------------------------


def test_valid_proof_verifies(instance, backend):
    assert verify(instance.vk, instance.public_inputs, instance.proof, backend=backend) is True


def test_rerandomised_proof_still_verifies_but_differs(instance, known_dlog, backend):
    # (A/t, t*B, C) meets the same equation: Groth16 proofs are malleable, never use them as identifiers.
    t = 0x1234567
    moved = Proof(known_dlog.g1(instance.a * pow(t, -1, R)), known_dlog.g2(instance.b * t), instance.proof.c)
    assert moved != instance.proof
    assert verify(instance.vk, instance.public_inputs, moved, backend=backend)


def test_key_without_public_inputs_verifies(known_dlog):
    empty = known_dlog.make_instance(seed=3, n_public=0)
    assert empty.vk.n_public == 0
    assert verify(empty.vk, [], empty.proof)


def test_prepared_key_verifies_many_proofs(instance, other_instance):
    prepared = prepare_verifying_key(instance.vk)
    assert verify_prepared(prepared, instance.public_inputs, instance.proof)
    assert not verify_prepared(prepared, other_instance.public_inputs, other_instance.proof)


# --- proofs that are rejected -------------------------------------------------------------------


@pytest.mark.parametrize("moved", ["a", "b", "c"])
def test_proof_with_one_point_moved_is_rejected(instance, known_dlog, backend, moved):
    step = {"a": known_dlog.g1(instance.a + 1), "b": known_dlog.g2(instance.b + 1), "c": known_dlog.g1(instance.c + 1)}
    tampered = dataclasses.replace(instance.proof, **{moved: step[moved]})
    assert verify(instance.vk, instance.public_inputs, tampered, backend=backend) is False


def test_proof_with_wrong_public_input_is_rejected(instance, backend):
    inputs = list(instance.public_inputs)
    inputs[-1] = (inputs[-1] + 1) % R
    assert verify(instance.vk, inputs, instance.proof, backend=backend) is False


def test_proof_with_swapped_public_inputs_is_rejected(instance, backend):
    first, second, *rest = instance.public_inputs
    assert first != second
    assert verify(instance.vk, [second, first, *rest], instance.proof, backend=backend) is False


def test_proof_under_another_key_is_rejected(instance, other_instance, backend):
    assert verify(other_instance.vk, other_instance.public_inputs, other_instance.proof, backend=backend)
    assert verify(other_instance.vk, instance.public_inputs, instance.proof, backend=backend) is False


# One py_ecc case: test_backends_agree_on_valid_and_invalid_proofs holds the two together on A = O.
@pytest.mark.parametrize(
    "backend, at_infinity",
    [*(pytest.param("mcl", fields, marks=needs_mcl) for fields in ("a", "b", "c", "abc")), ("py_ecc", "abc")],
)
def test_proof_with_points_at_infinity_is_rejected(instance, backend, at_infinity):
    tampered = dataclasses.replace(instance.proof, **{field: None for field in at_infinity})
    assert verify(instance.vk, instance.public_inputs, tampered, backend=backend) is False


def test_require_valid_raises_invalid_proof_which_is_not_an_input_error(instance):
    require_valid(instance.vk, instance.public_inputs, instance.proof)
    wrong = [0] * instance.vk.n_public
    with pytest.raises(InvalidProof) as raised:
        require_valid(instance.vk, wrong, instance.proof)
    assert not isinstance(raised.value, VerifierInputError)


# --- input that is refused ----------------------------------------------------------------------


def test_public_input_plus_r_is_refused(instance):
    # x + r is the same field element as x: accepting it would let one proof stand for two statements.
    inputs = list(instance.public_inputs)
    inputs[0] += R
    with pytest.raises(BadPublicInput, match="public input 0"):
        verify(instance.vk, inputs, instance.proof)


@pytest.mark.parametrize("value", [-1, R, 2**256])
def test_public_input_outside_the_scalar_field_is_refused(instance, value):
    with pytest.raises(BadPublicInput):
        verify(instance.vk, [value, *instance.public_inputs[1:]], instance.proof)


@pytest.mark.parametrize("change", [-1, +1])
def test_wrong_number_of_public_inputs_is_refused(instance, change):
    inputs = list(instance.public_inputs) + [1] if change > 0 else list(instance.public_inputs)[:-1]
    with pytest.raises(BadPublicInput, match=f"expects {instance.vk.n_public}"):
        verify(instance.vk, inputs, instance.proof)


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_public_input_that_is_not_an_int_is_refused(instance, value):
    with pytest.raises(MalformedInput):
        verify(instance.vk, [value, *instance.public_inputs[1:]], instance.proof)


def _off_g1(point):
    x, y = point
    return (x, (y + 1) % Q)


def _off_g2(point):
    x, (y0, y1) = point
    return (x, ((y0 + 1) % Q, y1))


@pytest.mark.parametrize("field", ["a", "b", "c"])
def test_proof_point_off_the_curve_is_refused(instance, field):
    point = getattr(instance.proof, field)
    tampered = dataclasses.replace(instance.proof, **{field: _off_g2(point) if field == "b" else _off_g1(point)})
    with pytest.raises(BadPoint, match=f"proof.{field}: the point is not on the"):
        verify(instance.vk, instance.public_inputs, tampered)


def test_coordinate_plus_q_is_refused_though_the_curve_equation_holds_mod_q(instance):
    x, y = instance.proof.a
    with pytest.raises(BadPoint, match=r"proof.a: a coordinate is not in \[0, q\)"):
        verify(instance.vk, instance.public_inputs, dataclasses.replace(instance.proof, a=(x + Q, y)))
    (x0, x1), y2 = instance.proof.b
    with pytest.raises(BadPoint, match=r"proof.b: a coordinate is not in \[0, q\)"):
        verify(instance.vk, instance.public_inputs, dataclasses.replace(instance.proof, b=((x0, x1 + Q), y2)))


def test_proof_b_outside_the_g2_subgroup_is_refused(instance, point_outside_g2, backend):
    assert is_on_curve_g2(point_outside_g2)
    tampered = dataclasses.replace(instance.proof, b=point_outside_g2)
    with pytest.raises(BadPoint, match="proof.b: the point is on the twist but not in the order-r subgroup"):
        verify(instance.vk, instance.public_inputs, tampered, backend=backend)


@pytest.mark.parametrize("field", ["beta_g2", "gamma_g2", "delta_g2"])
def test_key_point_outside_the_g2_subgroup_is_refused(instance, point_outside_g2, field):
    vk = dataclasses.replace(instance.vk, **{field: point_outside_g2})
    with pytest.raises(BadPoint, match=f"vk.{field}: .*not in the order-r subgroup"):
        prepare_verifying_key(vk)


def test_key_point_off_the_curve_is_refused(instance):
    vk = dataclasses.replace(instance.vk, alpha_g1=_off_g1(instance.vk.alpha_g1))
    with pytest.raises(BadPoint, match="vk.alpha_g1"):
        verify(vk, instance.public_inputs, instance.proof)
    ic = list(instance.vk.gamma_abc_g1)
    ic[2] = _off_g1(ic[2])
    with pytest.raises(BadPoint, match=r"vk.gamma_abc_g1\[2\]"):
        verify(dataclasses.replace(instance.vk, gamma_abc_g1=tuple(ic)), instance.public_inputs, instance.proof)


@pytest.mark.parametrize("field", ["alpha_g1", "beta_g2", "gamma_g2", "delta_g2"])
def test_degenerate_key_with_a_point_at_infinity_is_refused(instance, field):
    # With gamma = O the public inputs would drop out of the equation entirely.
    with pytest.raises(BadPoint, match=f"vk.{field}: the point at infinity"):
        prepare_verifying_key(dataclasses.replace(instance.vk, **{field: None}))


def test_types_refuse_values_that_are_not_python_int_points():
    with pytest.raises(MalformedInput, match="proof.a"):
        Proof(a=(1, 2, 1), b=None, c=None)
    with pytest.raises(MalformedInput, match="proof.c"):
        Proof(a=None, b=None, c=(1.0, 2))
    with pytest.raises(MalformedInput, match="vk.gamma_abc_g1"):
        VerifyingKey(None, None, None, None, ())


def test_types_compare_by_value_whatever_sequence_they_were_given():
    assert Proof([1, 2], [[1, 2], [3, 4]], None) == Proof((1, 2), ((1, 2), (3, 4)), None)
    assert hash(Proof([1, 2], None, None)) == hash(Proof((1, 2), None, None))


def test_unknown_backend_is_refused(instance):
    with pytest.raises(ValueError, match="unknown pairing backend"):
        verify(instance.vk, instance.public_inputs, instance.proof, backend="gnark")


# --- the backends agree -------------------------------------------------------------------------


@needs_mcl
def test_backends_agree_on_linear_combinations_and_subgroup_membership(instance, point_outside_g2):
    mcl, reference = get_backend("mcl"), get_backend("py_ecc")
    scalars = (1, *instance.public_inputs)
    points = instance.vk.gamma_abc_g1
    assert mcl.g1_linear_combination(points, scalars) == reference.g1_linear_combination(points, scalars)
    assert mcl.g1_linear_combination([points[0], points[0]], [1, R - 1]) is None
    for point in (instance.proof.b, point_outside_g2, None):
        assert mcl.in_g2_subgroup(point) == reference.in_g2_subgroup(point)


@needs_mcl
def test_backends_agree_on_the_pairing_in_snarkjs_layout(instance):
    p, q = instance.vk.alpha_g1, instance.vk.beta_g2
    assert get_backend("mcl").pairing(p, q) == get_backend("py_ecc").pairing(p, q)


@needs_mcl
def test_backends_agree_on_valid_and_invalid_proofs(known_dlog):
    for seed in (0, 2):
        case = known_dlog.make_instance(seed=100 + seed, n_public=seed)
        wrong_c = dataclasses.replace(case.proof, c=known_dlog.g1(case.c + seed + 1))
        a_at_infinity = dataclasses.replace(case.proof, a=None)
        for proof, expected in ((case.proof, True), (wrong_c if seed else a_at_infinity, False)):
            results = {name: verify(case.vk, case.public_inputs, proof, backend=name) for name in ("mcl", "py_ecc")}
            assert results == {"mcl": expected, "py_ecc": expected}


# --- any change to one coordinate: rejected or refused, never accepted ----------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _with_coordinate(proof: Proof, index: int, value: int) -> Proof:
    """The proof with coordinate `index` of (ax, ay, bx0, bx1, by0, by1, cx, cy) replaced."""
    (ax, ay), ((bx0, bx1), (by0, by1)), (cx, cy) = proof.a, proof.b, proof.c
    flat = [ax, ay, bx0, bx1, by0, by1, cx, cy]
    flat[index] = value
    return Proof((flat[0], flat[1]), ((flat[2], flat[3]), (flat[4], flat[5])), (flat[6], flat[7]))


@needs_mcl
@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, 7), shift=st.integers(1, 2**256) | st.sampled_from([Q, 1, Q - 1]))
def test_proof_with_any_one_coordinate_changed_is_rejected_or_refused(instance, index, shift):
    flat = [*instance.proof.a, *instance.proof.b[0], *instance.proof.b[1], *instance.proof.c]
    tampered = _with_coordinate(instance.proof, index, flat[index] + shift)
    try:
        assert verify(instance.vk, instance.public_inputs, tampered, backend="mcl") is False
    except BadPoint:
        pass


def test_key_with_gamma_equal_to_delta_is_refused_because_it_allows_forgeries():
    from dataclasses import replace as _replace

    from verifier.groth16 import prepare_verifying_key
    from verifier.types import BadPoint as _BadPoint

    vk = _forgeable_base_key()
    with pytest.raises(_BadPoint, match="forged"):
        prepare_verifying_key(_replace(vk, delta_g2=vk.gamma_g2))


def test_key_with_an_input_point_at_infinity_is_refused_because_it_leaves_the_input_unbound():
    from dataclasses import replace as _replace

    from verifier.groth16 import prepare_verifying_key
    from verifier.types import BadPoint as _BadPoint

    vk = _forgeable_base_key()
    ic = list(vk.gamma_abc_g1)
    ic[1] = None
    with pytest.raises(_BadPoint, match="unbound"):
        prepare_verifying_key(_replace(vk, gamma_abc_g1=tuple(ic)))


def _forgeable_base_key():
    from py_ecc import bn128

    from verifier.types import VerifyingKey

    def g1(k):
        p = bn128.multiply(bn128.G1, k)
        return (int(p[0]), int(p[1]))

    def g2(k):
        p = bn128.multiply(bn128.G2, k)
        return (tuple(int(c) for c in p[0].coeffs), tuple(int(c) for c in p[1].coeffs))

    return VerifyingKey(alpha_g1=g1(3), beta_g2=g2(5), gamma_g2=g2(7), delta_g2=g2(11),
                        gamma_abc_g1=(g1(13), g1(17)))
