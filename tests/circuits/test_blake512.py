"""BLAKE-512 (not BLAKE2b): the BLAKE paper's test values, and equality with npm blake-hash, which circomlibjs uses."""

from __future__ import annotations

import hashlib
import random

import pytest

from circuits.blake512 import BLAKE512_CONSTANTS, BLAKE512_IV, SIGMA, blake512



def test_official_test_values_of_the_blake_paper():
    # Appendix A of "SHA-3 proposal BLAKE": one zero byte (one block) and 144 zero bytes (two blocks).
    assert blake512(b"\x00").hex() == (
        "97961587f6d970faba6d2478045de6d1fabd09b61ae50932054d52bc29d31be4"
        "ff9102b9f69e2bbdb83be13d4b9c06091e5fa0b48bd081b634058be0ec49beb3"
    )
    assert blake512(bytes(144)).hex() == (
        "313717d608e9cf758dcb1eb0f0c3cf9fc150b2d500fb33f51c52afc99d358a2f"
        "1374b8a38bba7974e7f6ef79cab16f22ce1e649d6e01ad9589c213045d545dde"
    )


def test_empty_message_and_padding_boundaries_match_published_digests():
    assert blake512(b"").hex().startswith("a8cfbbd73726062df0c6864dda65defe58ef0cc52a5625090fa17601e1eecd1b")
    # 111 bytes: the padding fits in one byte (0x81); 112 bytes: it spills into a padding-only block.
    assert blake512(bytes(111)).hex().startswith("125695c5cc01de48d8b107c101778fc447a55ad3440a17dc153c6c652faecdbf")
    assert blake512(bytes(112)).hex().startswith("aa42836448c9db34e0")


def test_derived_constants_are_pi_digits_and_the_sha512_iv():
    assert BLAKE512_CONSTANTS[0] == 0x243F6A8885A308D3
    assert BLAKE512_CONSTANTS[1] == 0x13198A2E03707344
    assert BLAKE512_CONSTANTS[15] == 0x636920D871574E69
    assert BLAKE512_IV == (
        0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
        0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
    )
    assert all(sorted(s) == list(range(16)) for s in SIGMA)


def test_blake512_is_not_blake2b():
    assert blake512(b"abc") != hashlib.blake2b(b"abc").digest()


BLAKE_HASH_LENGTHS = [0, 1, 2, 31, 32, 33, 63, 64, 65, 110, 111, 112, 113, 127, 128, 129, 143, 144, 200, 239, 240,
                      255, 256, 257, 383, 384, 1000]


@pytest.mark.node
def test_digest_equals_npm_blake_hash_at_every_block_and_padding_boundary(run_circomlibjs):
    rng = random.Random(7)
    messages = [bytes(rng.randrange(256) for _ in range(n)) for n in BLAKE_HASH_LENGTHS]
    messages += [bytes([0xFF]) * n for n in (111, 112, 128)]
    expected = run_circomlibjs([{"op": "blake512", "data": m.hex()} for m in messages])
    for message, digest in zip(messages, expected, strict=True):
        assert blake512(message).hex() == digest, f"{len(message)} bytes"
