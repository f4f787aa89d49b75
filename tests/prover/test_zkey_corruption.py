"""A corrupt .zkey says so: one flipped byte in any section is reported as a ZkeyError naming the file
and the section (points off the curve, coefficients out of range), or, where only the proof's self-check
can notice (a coefficient's value changed), as a ProvingError that says the key or the witness is wrong
and which check failed. Never as a bad proof, and never as an error about the proof's own points."""

from __future__ import annotations

import re

import numpy as np
import pytest

from circuits.builder import ConstraintSystem
from prover import zkey
from prover.groth16 import ProvingError, prove
from prover.setup import setup
from prover.zkey import COEF_RECORD, G1_BYTES, G2_BYTES, ZkeyError, load_zkey, read_sections, write_zkey


def _circuit():
    """out = a chain of products; every wire after the inputs is used in A and B of some row."""
    cs = ConstraintSystem()
    x = cs.public_input("x")
    acc = cs.private_input("y")
    for i in range(12):
        acc = cs.mul(acc, acc + x + i)
    cs.public_output("out", acc)
    return cs.compile()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    circuit = _circuit()
    key = setup(circuit.r1cs, quiet=True)
    path = tmp_path_factory.mktemp("zkey") / "c.zkey"
    write_zkey(path, key)
    return path, key, circuit.solve({"x": 3, "y": 5})


def _flipped(tmp_path, made, section_id, offset_in_section, mask=0x01):
    """A copy of the key with one byte flipped at `offset_in_section` of section `section_id`."""
    path, _, _ = made
    data = bytearray(path.read_bytes())
    start, size = read_sections(path)[section_id]
    assert 0 <= offset_in_section < size
    data[start + offset_in_section] ^= mask
    bad = tmp_path / "c.zkey"
    bad.write_bytes(bytes(data))
    return bad


def _used_point(points: np.ndarray, scalars) -> int:
    """The first point that is not infinity and whose scalar is not zero (a flip there changes the proof)."""
    for i, point in enumerate(points):
        if point.any() and int(scalars[i]) != 0:
            return i
    raise AssertionError("no point is used")


@pytest.mark.parametrize("section, field, size, name", [
    (5, "a_g1", G1_BYTES, "A points"),
    (6, "b_g1", G1_BYTES, "B1 points"),
    (7, "b_g2", G2_BYTES, "B2 points"),
    (8, "c_g1", G1_BYTES, "C points"),
    (9, "h_g1", G1_BYTES, "H points"),
])
def test_a_flipped_byte_in_a_point_section_names_the_file_the_section_and_the_point(
        tmp_path, made, section, field, size, name):
    _, key, witness = made
    points = np.asarray(getattr(key, field))
    scalars = witness[key.n_public + 1:] if field == "c_g1" else witness if field != "h_g1" else [1] * len(points)
    index = _used_point(points, scalars)
    bad = _flipped(tmp_path, made, section, index * size + 3)  # a low byte of x: off the curve
    with pytest.raises(ZkeyError) as caught:
        prove(load_zkey(bad), witness)
    assert str(caught.value) == f"{bad}: section {section} ({name}): point {index} is not on the curve"


def test_a_flipped_byte_in_the_header_points_is_refused_at_load(tmp_path, made):
    path, _, _ = made
    start, size = read_sections(path)[2]
    points_at = size - (3 * G1_BYTES + 3 * G2_BYTES)  # alpha1 comes first after the sizes and primes
    bad = _flipped(tmp_path, made, 2, points_at + 5)
    with pytest.raises(ZkeyError, match=re.escape(f"{bad}: section 2 (header): alpha1 is not on the curve")):
        load_zkey(bad)


def test_a_flipped_byte_in_the_ic_points_is_refused_at_load(tmp_path, made):
    bad = _flipped(tmp_path, made, 3, G1_BYTES + 2)  # IC[1]
    with pytest.raises(ZkeyError, match=re.escape(f"{bad}: section 3 (IC points): point 1 is not on the curve")):
        load_zkey(bad)


@pytest.mark.parametrize("field_offset, mask, why", [
    (8 + 3, 0x80, r"wire \d+ is outside the key's \d+ wires"),       # the signal's top byte
    (4 + 3, 0x40, r"row \d+ is outside the domain of \d+"),          # the constraint's top byte
    (0, 0x02, r"matrix [23] is neither A \(0\) nor B \(1\)"),
    (12 + 31, 0xF0, "its value is not below r"),                      # the value's top byte
])
def test_a_coefficient_out_of_range_names_the_entry(tmp_path, made, field_offset, mask, why):
    _, _, witness = made
    entry = 7
    bad = _flipped(tmp_path, made, 4, 4 + entry * COEF_RECORD.itemsize + field_offset, mask)
    with pytest.raises(ZkeyError, match=re.escape(f"{bad}: section 4 (coefficients): entry {entry}: ") + why):
        prove(load_zkey(bad), witness)


def test_a_changed_coefficient_value_says_the_key_or_the_witness_is_wrong_and_which_check_failed(tmp_path, made):
    _, key, witness = made
    entry = int(np.flatnonzero(np.asarray(key.coef_signal) == key.n_public + 1)[0])  # the private input's entry
    bad = _flipped(tmp_path, made, 4, 4 + entry * COEF_RECORD.itemsize + 12)  # the value's low byte
    with pytest.raises(ProvingError) as caught:
        prove(load_zkey(bad), witness)
    message = str(caught.value)
    assert "pairing check" in message and str(bad) in message and "coefficients (section 4)" in message
    assert "proof.a" not in message


def test_an_intact_key_still_proves_and_an_unsatisfying_witness_is_still_blamed(made):
    path, key, witness = made
    proof, public = prove(load_zkey(path), witness)
    bad = list(witness)
    bad[-1] = (bad[-1] + 1) % zkey.R
    with pytest.raises(ProvingError, match="does not satisfy the circuit"):
        prove(load_zkey(path), bad)
