"""SHA-256 gadget: digests equal hashlib for messages of one and two blocks, the cost per block is below
circomlib's, and non-boolean bits, out-of-range bytes and perturbed internal wires are unsatisfiable."""

from __future__ import annotations

import hashlib
import random

import pytest

from circuits.builder import R, ConstraintSystem, first_failure
from circuits.check import check_gadget
from circuits.sha256 import (
    INITIAL_HASH,
    ROUND_CONSTANTS,
    bits_to_bytes,
    bytes_to_bits,
    digest_to_field,
    digest_to_field_native,
    pack_bits_be,
    pack_bits_be_native,
    sha256_bits,
    sha256_bits_native,
    sha256_bytes,
    sha256_native,
)

RNG = random.Random(256)
CIRCOMLIB_SHA256_PER_BLOCK = 29_000   # about 29k constraints per 512-bit block (circomlib Sha256, --O2)


def random_bytes(n):
    return bytes(RNG.randrange(256) for _ in range(n))


def build_bits(n_bytes):
    cs = ConstraintSystem()
    bits = cs.private_inputs("m", 8 * n_bytes)
    digest = sha256_bits(cs, bits)
    for i, bit in enumerate(digest):
        cs.public_output(f"d{i}", bit)
    cs.public_output("data_hash", digest_to_field(digest))
    return cs, digest


def digest_of(compiled, witness):
    values = list(compiled.output_values(witness).values())
    return bits_to_bytes(values[:256]), values[256]


@pytest.fixture(scope="module")
def circuit24():
    cs, digest = build_bits(24)
    return cs.compile(), digest


def test_constants_are_the_published_ones():
    assert INITIAL_HASH[0] == 0x6A09E667 and INITIAL_HASH[7] == 0x5BE0CD19
    assert ROUND_CONSTANTS[0] == 0x428A2F98 and ROUND_CONSTANTS[63] == 0xC67178F2


@pytest.mark.parametrize("n_bytes", [0, 1, 3, 55, 56, 64, 119])
def test_native_bit_sha256_equals_hashlib(n_bytes):
    message = random_bytes(n_bytes)
    assert bits_to_bytes(sha256_bits_native(bytes_to_bits(message))) == hashlib.sha256(message).digest()


def test_24_byte_digest_and_data_hash_equal_hashlib(circuit24):
    compiled, _ = circuit24
    for message in [bytes(24), b"\xff" * 24, random_bytes(24), random_bytes(24)]:
        digest, data_hash = digest_of(compiled, compiled.solve({"m": bytes_to_bits(message)}))
        assert digest == hashlib.sha256(message).digest() == sha256_native(message)
        assert data_hash == digest_to_field_native(digest) == int.from_bytes(digest, "big") & ((1 << 253) - 1)


@pytest.mark.parametrize("n_bytes", [0, 64])
def test_empty_and_two_block_messages_equal_hashlib(n_bytes):
    cs, _ = build_bits(n_bytes)
    compiled = cs.compile()
    message = random_bytes(n_bytes)
    digest, _ = digest_of(compiled, compiled.solve({"m": bytes_to_bits(message)}))
    assert digest == hashlib.sha256(message).digest()


def test_one_full_block_costs_less_than_circomlib():
    cs = ConstraintSystem()
    bits = cs.private_inputs("m", 8 * 55)   # 55 bytes: the longest message in one block
    for b in bits:
        cs.assert_bool(b)
    before = cs.n_constraints
    sha256_bits(cs, bits)
    assert cs.n_constraints - before < CIRCOMLIB_SHA256_PER_BLOCK


def test_byte_wires_hash_like_hashlib_and_a_non_byte_is_rejected():
    cs = ConstraintSystem()
    data = cs.private_inputs("data", 5)
    digest = sha256_bytes(cs, data)
    for i, bit in enumerate(digest):
        cs.public_output(f"d{i}", bit)
    compiled = cs.compile()
    message = random_bytes(5)
    witness = compiled.solve({"data": list(message)})
    assert bits_to_bytes(list(compiled.output_values(witness).values())) == hashlib.sha256(message).digest()
    bad = compiled.solve({"data": [256, *message[1:]]}, check=False)
    assert first_failure(compiled.r1cs, bad) is not None


def test_non_boolean_message_bit_is_rejected(circuit24):
    compiled, _ = circuit24
    bits = bytes_to_bits(random_bytes(24))
    bits[5] = 2
    witness = compiled.solve({"m": bits}, check=False)
    failure = first_failure(compiled.r1cs, witness)
    assert failure is not None and "assert_bool" in failure.gadget


def test_perturbed_internal_wires_violate_a_constraint(circuit24):
    compiled, _ = circuit24
    witness = compiled.solve({"m": bytes_to_bits(random_bytes(24))})
    first_internal = 1 + compiled.r1cs.n_public + compiled.r1cs.n_private_inputs
    for i in [*range(1, 20), *RNG.sample(range(first_internal, len(witness)), 40)]:
        tampered = list(witness)
        tampered[i] = (tampered[i] + 1) % R if tampered[i] > 1 else 1 - tampered[i]
        assert first_failure(compiled.r1cs, tampered) is not None, f"wire {i} is free"


def test_a_flipped_intermediate_bit_with_everything_after_recomputed_is_rejected(circuit24):
    compiled, digest = circuit24
    message = random_bytes(24)
    honest = compiled.solve_internal({"m": bytes_to_bits(message)})
    candidates = [w for w in range(len(honest)) if honest[w] in (0, 1) and compiled.wire_gadget[w].endswith("add_mod_2^32")]
    for wire in RNG.sample(candidates, 12):
        cheat = compiled.solve_internal({"m": bytes_to_bits(message)}, overrides={wire: 1 - honest[wire]})
        assert first_failure(compiled.r1cs, compiled.to_layout(cheat)) is not None, f"wire {wire} is free"


def test_under_constraint_checker_finds_no_free_wire_in_sha256():
    report = check_gadget(lambda cs, w: sha256_bits(cs, w["m"]), {"m": bytes_to_bits(random_bytes(3))}, replay=False)
    assert report.n_wires_checked > 20_000
    report.assert_sound()


def test_bit_packing_is_big_endian_and_refuses_more_than_253_bits():
    bits = [1, 0, 1, 1]
    assert pack_bits_be(bits).constant_value == pack_bits_be_native(bits) == 0b1011
    with pytest.raises(Exception):
        pack_bits_be([0] * 254)
