"""snarkjs JSON: the exact text snarkjs writes, round trips, and a one-line refusal naming the key for every malformation."""

from __future__ import annotations

import copy
import json

import pytest

from verifier import snarkjs
from verifier.curve import CURVE_ORDER, FIELD_MODULUS
from verifier.groth16 import verify
from verifier.types import (BadPoint, BadPublicInput, MalformedInput, NonCanonicalDecimal, Proof, VerifierInputError,
                            canonical_decimal)

R = CURVE_ORDER
Q = FIELD_MODULUS


@pytest.fixture(scope="module")
def files(instance):
    """The instance as the three parsed snarkjs objects."""
    return {
        "vk": snarkjs.verifying_key_to_json(instance.vk),
        "proof": snarkjs.proof_to_json(instance.proof),
        "public": snarkjs.public_inputs_to_json(instance.public_inputs),
    }


# --- the text -----------------------------------------------------------------------------------


def test_dumps_indents_by_one_space_like_bfj_with_space_1():
    assert snarkjs.dumps({"pi_a": ["1", "2"], "n": 3}) == '{\n "pi_a": [\n  "1",\n  "2"\n ],\n "n": 3\n}'


def test_dumps_writes_empty_lists_over_two_lines_as_bfj_does():
    # bfj (snarkjs's writer) differs from JSON.stringify here: public.json of a key with nPublic = 0.
    assert snarkjs.dumps([]) == "[\n]"
    assert snarkjs.dumps({"a": []}) == '{\n "a": [\n ]\n}'


def test_written_files_end_without_a_newline_and_hold_the_same_values(instance, tmp_path):
    snarkjs.write_verifying_key(instance.vk, tmp_path / "verification_key.json")
    snarkjs.write_proof(instance.proof, tmp_path / "proof.json")
    snarkjs.write_public_inputs(instance.public_inputs, tmp_path / "public.json")
    for name in ("verification_key.json", "proof.json", "public.json"):
        text = (tmp_path / name).read_text()
        assert not text.endswith("\n")
        assert json.loads(text) is not None
    assert snarkjs.read_verifying_key(tmp_path / "verification_key.json") == instance.vk
    assert snarkjs.read_proof(tmp_path / "proof.json") == instance.proof
    assert snarkjs.read_public_inputs(tmp_path / "public.json") == instance.public_inputs


def test_verification_key_keys_come_in_snarkjs_order(files, instance):
    assert list(files["vk"]) == [
        "protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "vk_alphabeta_12", "IC",
    ]  # fmt: skip
    assert files["vk"]["nPublic"] == instance.vk.n_public == len(files["vk"]["IC"]) - 1
    assert list(files["proof"]) == ["pi_a", "pi_b", "pi_c", "protocol", "curve"]


def test_points_are_projective_decimal_strings_with_z_one(files, instance):
    x, y = instance.proof.a
    assert files["proof"]["pi_a"] == [str(x), str(y), "1"]
    (x0, x1), (y0, y1) = instance.proof.b
    assert files["proof"]["pi_b"] == [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def test_point_at_infinity_is_written_as_ffjavascript_does_and_read_back():
    assert snarkjs.g1_to_json(None) == ["0", "1", "0"]
    assert snarkjs.g2_to_json(None) == [["0", "0"], ["1", "0"], ["0", "0"]]
    assert snarkjs.g1_from_json(["0", "1", "0"], "pi_a") is None
    assert snarkjs.g2_from_json([["0", "0"], ["1", "0"], ["0", "0"]], "pi_b") is None
    proof = Proof(None, None, None)
    assert snarkjs.proof_from_json(snarkjs.proof_to_json(proof)) == proof


def test_points_without_z_are_read_as_affine(files, instance):
    assert snarkjs.g1_from_json(files["proof"]["pi_a"][:2], "pi_a") == instance.proof.a
    assert snarkjs.g2_from_json(files["proof"]["pi_b"][:2], "pi_b") == instance.proof.b


def test_public_inputs_written_as_json_numbers_are_refused_as_snarkjs_writes_strings():
    # [33] and ["33"] would be two texts for one statement; snarkjs writes strings, so only they pass.
    _refused(NonCanonicalDecimal, snarkjs.public_inputs_from_json, ["1", 2], "public input 1", "a JSON number (2)",
             "snarkjs writes numbers as strings")
    assert snarkjs.public_inputs_from_json(["1", "2"]) == (1, 2)


@pytest.mark.parametrize("backend", ["py_ecc", "mcl"])
def test_vk_alphabeta_12_does_not_depend_on_the_backend(instance, backend, files):
    from verifier.curve import mcl_available

    if backend == "mcl" and not mcl_available():
        pytest.skip("mclbn256 does not load here")
    assert snarkjs.verifying_key_to_json(instance.vk, backend=backend) == files["vk"]


# --- refusals -----------------------------------------------------------------------------------


def _refused(error_type, parse, obj, *fragments):
    with pytest.raises(error_type) as raised:
        parse(obj)
    message = str(raised.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize(
    "key", ["protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "vk_alphabeta_12", "IC"]
)
def test_verification_key_missing_a_key_is_refused_naming_it(files, key):
    obj = copy.deepcopy(files["vk"])
    del obj[key]
    _refused(MalformedInput, snarkjs.verifying_key_from_json, obj, f"missing key '{key}'")


@pytest.mark.parametrize("key", ["pi_a", "pi_b", "pi_c", "protocol", "curve"])
def test_proof_missing_a_key_is_refused_naming_it(files, key):
    obj = copy.deepcopy(files["proof"])
    del obj[key]
    _refused(MalformedInput, snarkjs.proof_from_json, obj, f"missing key '{key}'")


@pytest.mark.parametrize("text", ["0x1f", "-1", " 1", "1e3", "", "١٢"])
def test_non_decimal_strings_are_refused_naming_the_key(files, text):
    obj = copy.deepcopy(files["proof"])
    obj["pi_c"][1] = text
    _refused(NonCanonicalDecimal, snarkjs.proof_from_json, obj, "pi_c[1]", "is not a canonical decimal")
    _refused(NonCanonicalDecimal, snarkjs.public_inputs_from_json, [text], "public input 0", "is not a canonical decimal")


def test_coordinate_not_less_than_q_is_refused_naming_the_key(files):
    obj = copy.deepcopy(files["vk"])
    obj["vk_delta_2"][0][1] = str(int(obj["vk_delta_2"][0][1]) + Q)
    _refused(BadPoint, snarkjs.verifying_key_from_json, obj, "vk_delta_2[0][1]", "base field modulus q")
    obj = copy.deepcopy(files["vk"])
    obj["IC"][1][0] = str(Q)
    _refused(BadPoint, snarkjs.verifying_key_from_json, obj, "IC[1][0]")


def test_huge_numbers_are_refused_before_conversion(files):
    obj = copy.deepcopy(files["proof"])
    obj["pi_a"][0] = "9" * 5000   # past int()'s 4300-digit limit: refused on its length
    _refused(BadPoint, snarkjs.proof_from_json, obj, "pi_a[0]", "a decimal of 5000 digits",
             "not less than the base field modulus q")
    _refused(BadPublicInput, snarkjs.public_inputs_from_json, ["1" + "0" * 79], "public input 0",
             "a decimal of 80 digits", "not less than the scalar field modulus r")


def test_point_off_the_curve_is_refused_naming_the_key(files):
    obj = copy.deepcopy(files["proof"])
    obj["pi_a"][1] = str((int(obj["pi_a"][1]) + 1) % Q)
    _refused(BadPoint, snarkjs.proof_from_json, obj, "pi_a", "not on the curve")
    obj = copy.deepcopy(files["proof"])
    obj["pi_b"][1][0] = str((int(obj["pi_b"][1][0]) + 1) % Q)
    _refused(BadPoint, snarkjs.proof_from_json, obj, "pi_b", "not on the twist")


@pytest.mark.parametrize("z", [["2"], ["1", "1"]])
def test_projective_z_other_than_one_or_zero_is_refused(files, z):
    obj = copy.deepcopy(files["proof"])
    if len(z) == 1:
        obj["pi_a"][2] = z[0]
        _refused(MalformedInput, snarkjs.proof_from_json, obj, "pi_a", "z must be 1")
    else:
        obj["pi_b"][2] = z
        _refused(MalformedInput, snarkjs.proof_from_json, obj, "pi_b", "z must be [1, 0]")


def test_public_input_not_less_than_r_is_refused(files):
    values = list(files["public"])
    values[1] = str(int(values[1]) + R)
    _refused(BadPublicInput, snarkjs.public_inputs_from_json, values, "public input 1", "scalar field modulus r")


def test_wrong_protocol_or_curve_is_refused(files):
    obj = dict(files["proof"], protocol="plonk")
    _refused(MalformedInput, snarkjs.proof_from_json, obj, "protocol", "groth16")
    obj = dict(files["vk"], curve="bls12381")
    _refused(MalformedInput, snarkjs.verifying_key_from_json, obj, "curve", "bn128")


def test_npublic_that_disagrees_with_ic_is_refused(files):
    obj = dict(files["vk"], nPublic=files["vk"]["nPublic"] + 1)
    _refused(MalformedInput, snarkjs.verifying_key_from_json, obj, "IC", "nPublic")
    obj = dict(files["vk"], nPublic="3")
    _refused(MalformedInput, snarkjs.verifying_key_from_json, obj, "nPublic")


@pytest.mark.parametrize("obj", [[], "proof", None, {"pi_a": 1}])
def test_wrong_json_shapes_are_refused(obj):
    with pytest.raises(MalformedInput):
        snarkjs.proof_from_json(obj)


def test_unreadable_files_are_refused_in_one_line_naming_the_file(tmp_path, files):
    broken = tmp_path / "proof.json"
    broken.write_text('{"pi_a": [')
    message = _refused(MalformedInput, snarkjs.read_proof, broken, str(broken), "not valid JSON")
    assert "line 1" in message
    _refused(MalformedInput, snarkjs.read_proof, tmp_path / "missing.json", "missing.json", "cannot read")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    _refused(MalformedInput, snarkjs.read_proof, tmp_path / "binary.json", "not UTF-8")
    bad = tmp_path / "public.json"
    bad.write_text(json.dumps([str(R)]))
    _refused(BadPublicInput, snarkjs.read_public_inputs, bad, str(bad), "public input 0")


def test_every_refusal_is_a_value_error_for_the_cli():
    assert issubclass(MalformedInput, VerifierInputError)
    assert issubclass(BadPoint, VerifierInputError) and issubclass(BadPublicInput, VerifierInputError)
    assert issubclass(VerifierInputError, ValueError)


def test_writers_refuse_what_readers_would_refuse(instance):
    with pytest.raises(BadPublicInput):
        snarkjs.public_inputs_to_json([R])
    off_curve = Proof((1, 3), None, None)
    with pytest.raises(BadPoint, match="pi_a"):
        snarkjs.proof_to_json(off_curve)


def test_read_key_proof_and_inputs_verify(files, instance):
    vk = snarkjs.verifying_key_from_json(files["vk"])
    assert verify(vk, snarkjs.public_inputs_from_json(files["public"]), snarkjs.proof_from_json(files["proof"]))


def test_json_nested_too_deeply_is_refused(tmp_path):
    deep = tmp_path / "proof.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    _refused(MalformedInput, snarkjs.read_proof, deep, "nested more than")
    tricky = tmp_path / "public.json"
    tricky.write_text('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "1"]')  # brackets inside strings do not count
    _refused(NonCanonicalDecimal, snarkjs.read_public_inputs, tricky, "public input 0", "'[' is not a digit")


# --- any JSON at all: an answer or a VerifierInputError, never another exception -----------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**300), 2**300) | st.floats(allow_nan=False) | st.text(max_size=90)
    | st.sampled_from(["0", "1", str(Q - 1), str(Q), str(R)]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)  # fmt: skip


def _leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*prefix, index))
    yield prefix


PARSERS = {
    "vk": snarkjs.verifying_key_from_json,
    "proof": snarkjs.proof_from_json,
    "public": snarkjs.public_inputs_from_json,
}


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(sorted(PARSERS)), value=json_values)
def test_parsers_answer_any_json_with_a_value_or_a_verifier_input_error(which, value):
    try:
        PARSERS[which](value)
    except VerifierInputError as error:
        assert "\n" not in str(error)


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(sorted(PARSERS)), data=st.data(), replacement=json_values)
def test_parsers_answer_any_one_leaf_changed_with_a_value_or_a_verifier_input_error(files, which, data, replacement):
    original = files[which]
    paths = [path for path in _leaf_paths(original) if path]
    path = data.draw(st.sampled_from(paths))
    mutated = copy.deepcopy(original)
    holder = mutated
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = replacement
    try:
        PARSERS[which](mutated)
    except VerifierInputError as error:
        assert "\n" not in str(error)


def test_a_number_too_long_to_convert_is_malformed_input_not_a_crash(tmp_path):
    from verifier import snarkjs as _snarkjs
    from verifier.types import MalformedInput as _MalformedInput

    path = tmp_path / "public.json"
    path.write_text("[" + "9" * 5000 + "]")
    with pytest.raises(_MalformedInput, match="too large"):
        _snarkjs.read_public_inputs(path)


# --- one text per number: only the canonical decimal string snarkjs writes ---------------------

# (value, the rule the refusal names). Each of these reads as 33 to a lax parser (int(), BigInt, JSON),
# or is not a number at all; accepting any would give one statement two texts.
NON_CANONICAL = [
    ("033", "(leading zero)"),
    ("00", "(leading zero)"),
    ("0" * 78 + "33", "(leading zero)"),       # 80 characters, but the value is 33: not "too long"
    ("", "(empty)"),
    (" 33", "(whitespace)"),
    ("33\n", "(whitespace)"),
    ("3 3", "(whitespace)"),
    ("-33", "(a sign)"),
    ("+33", "(a sign)"),
    ("0x21", "(hex, octal or binary prefix)"),
    ("0X21", "(hex, octal or binary prefix)"),
    ("0o41", "(hex, octal or binary prefix)"),
    ("0b100001", "(hex, octal or binary prefix)"),
    ("3.3e1", "(decimal point or exponent)"),
    ("33.0", "(decimal point or exponent)"),
    ("33e0", "(decimal point or exponent)"),
    ("٣٣", "(non-ASCII digit '٣')"),
    ("３３", "(non-ASCII digit '３')"),
    ("3_3", "('_' is not a digit)"),
    ("33n", "('n' is not a digit)"),
    (33, "got a JSON number (33); snarkjs writes numbers as strings"),
    (33.0, "got a JSON number (33.0)"),
    (True, "got a JSON boolean (true)"),
    (None, "got null"),
    (["33"], "got a JSON array"),
    ({"value": "33"}, "got a JSON object"),
]


def _at(obj, path):
    for step in path[:-1]:
        obj = obj[step]
    return obj, path[-1]


# Every place a number is read from text: (which file, path to the number, the name the refusal uses).
NUMBER_PLACES = [
    ("public", (1,), "public input 1"),
    ("proof", ("pi_a", 0), "pi_a[0]"),
    ("proof", ("pi_b", 1, 0), "pi_b[1][0]"),
    ("proof", ("pi_c", 2), "pi_c[2]"),
    ("vk", ("vk_alpha_1", 1), "vk_alpha_1[1]"),
    ("vk", ("vk_gamma_2", 0, 1), "vk_gamma_2[0][1]"),
    ("vk", ("vk_delta_2", 2, 0), "vk_delta_2[2][0]"),
    ("vk", ("IC", 1, 0), "IC[1][0]"),
    ("vk", ("vk_alphabeta_12", 1, 2, 1), "vk_alphabeta_12[1][2][1]"),
]


@pytest.mark.parametrize("value, rule", NON_CANONICAL, ids=[repr(v)[:24] for v, _ in NON_CANONICAL])
@pytest.mark.parametrize("which, path, name", NUMBER_PLACES, ids=[name for _, _, name in NUMBER_PLACES])
def test_every_number_not_written_canonically_is_refused_naming_the_place_and_the_rule(
        files, which, path, name, value, rule):
    mutated = copy.deepcopy(files[which])
    holder, last = _at(mutated, path)
    holder[last] = value
    message = _refused(NonCanonicalDecimal, PARSERS[which], mutated, rule)
    assert message.startswith(f"{name}: "), message
    if isinstance(value, str):
        assert f"{json.dumps(value)} is not a canonical decimal {rule}" in message


def test_the_canonical_text_of_each_refused_number_is_accepted_in_its_place(files):
    for which, path, _ in NUMBER_PLACES:
        holder, last = _at(copy.deepcopy(files[which]), path)
        canonical = holder[last]
        for variant in ("0" + canonical, " " + canonical, "+" + canonical):
            with pytest.raises(NonCanonicalDecimal):
                canonical_decimal(variant, "x", below=Q, below_name="q")
        assert canonical_decimal(canonical, "x", below=Q, below_name="q") == int(canonical)


def test_a_zero_padded_public_signal_in_a_file_is_refused_in_one_line_naming_file_position_and_rule(tmp_path, files):
    path = tmp_path / "public.json"
    padded = list(files["public"])
    padded[1] = "0" + padded[1]
    path.write_text(json.dumps(padded))
    message = _refused(NonCanonicalDecimal, snarkjs.read_public_inputs, path)
    assert message == f'{path}: public input 1: "{padded[1]}" is not a canonical decimal (leading zero)'
    padded[1] = "0" * 78 + "33"
    path.write_text(json.dumps(padded))
    message = _refused(NonCanonicalDecimal, snarkjs.read_public_inputs, path, "(leading zero)")
    assert "digits" not in message     # the old, untrue "80 digits is no field element"


def test_zero_is_written_as_one_digit_and_read_back():
    assert snarkjs.public_inputs_to_json([0, 33]) == ["0", "33"]
    assert snarkjs.public_inputs_from_json(["0", "33"]) == (0, 33)


def test_the_largest_field_elements_are_accepted_and_the_moduli_refused():
    assert snarkjs.public_inputs_from_json([str(R - 1)]) == (R - 1,)
    _refused(BadPublicInput, snarkjs.public_inputs_from_json, [str(R)], "not less than the scalar field modulus r")
    assert canonical_decimal(str(Q - 1), "x", below=Q, below_name="q") == Q - 1
    _refused(BadPoint, lambda point: snarkjs.g1_from_json(point, "pi_a"), [str(Q), "2", "1"], "pi_a[0]",
             "not less than the base field modulus q")


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789 +-.eExXob_٣\n", max_size=8))
def test_an_accepted_text_is_the_one_text_of_its_number(text):
    try:
        value = canonical_decimal(text, "x", below=R, below_name="r")
    except NonCanonicalDecimal as error:
        assert "\n" not in str(error) and "is not a canonical decimal (" in str(error)
        if text.isascii() and text.isdigit():
            assert str(int(text)) != text      # plain digits are refused only for a leading zero
    else:
        assert str(value) == text


@settings(max_examples=200, deadline=None)
@given(value=st.integers(0, R - 1))
def test_every_field_element_has_its_decimal_text_accepted(value):
    assert snarkjs.public_inputs_from_json(snarkjs.public_inputs_to_json([value])) == (value,)
    assert canonical_decimal(str(value), "x", below=R, below_name="r") == value
