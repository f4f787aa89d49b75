"""SHA-256 (FIPS 180-4) as a circuit gadget over message bits, equal to hashlib.sha256, with its native twin and
the packing of digest bits into field elements. Padding is fixed at build time (the length is part of the
circuit's shape); the pubdata layout that feeds it lives with the rollup, not here.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Sequence

from circuits.builder import R, ConstraintSystem, ConstraintSystemError, LinearCombination, LinearLike, _coerce, linear_sum
from circuits.gadgets import to_binary

__all__ = [
    "DIGEST_BITS",
    "digest_to_field",
    "digest_to_field_native",
    "pack_bits_be",
    "pack_bits_be_native",
    "padded_length",
    "sha256_bits",
    "sha256_bits_native",
    "sha256_bytes",
    "sha256_native",
    "bytes_to_bits",
    "bits_to_bytes",
]

# Bit order everywhere: MSB-first, as the bytes are written (bit 8k of a message is the top bit of byte k; the
# 256 digest bits are the digest's bytes, top bit first), as circomlib's Sha256(nBits) takes and returns them.
# Cost per 512-bit block ≈ 25.6k constraints (circomlib ≈ 29k): bitwise functions on bits (XOR 1, XOR3 2,
# Ch 1, Maj 2 per bit, free on constants), rotations free, additions mod 2^32 as one field sum decomposed
# into 32 bits plus carries.

DIGEST_BITS = 256

# FIPS 180-4 §4.2.2 and §5.3.3: the first 32 bits of the fractional parts of the cube roots of the first 64
# primes, and of the square roots of the first 8; derived here, checked against hashlib by the tests.


def _primes(n: int) -> list[int]:
    primes, k = [], 2
    while len(primes) < n:
        if all(k % p for p in primes if p * p <= k):
            primes.append(k)
        k += 1
    return primes


def _iroot(x: int, k: int) -> int:
    lo, hi = 0, 1 << (x.bit_length() // k + 1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid ** k <= x:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _fraction_bits(p: int, k: int) -> int:
    return _iroot(p << (32 * k), k) & 0xFFFFFFFF


ROUND_CONSTANTS = tuple(_fraction_bits(p, 3) for p in _primes(64))
INITIAL_HASH = tuple(_fraction_bits(p, 2) for p in _primes(8))
_MASK = 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------------
# Natives


def sha256_native(message: bytes) -> bytes:
    return hashlib.sha256(bytes(message)).digest()


def bytes_to_bits(data: bytes) -> list[int]:
    """MSB-first bits of the bytes."""
    return [(byte >> (7 - j)) & 1 for byte in data for j in range(8)]


def bits_to_bytes(bits: Sequence[int]) -> bytes:
    if len(bits) % 8 or any(b not in (0, 1) for b in bits):
        raise ValueError("need whole bytes of 0/1 bits")
    return bytes(sum(bits[i + j] << (7 - j) for j in range(8)) for i in range(0, len(bits), 8))


def padded_length(n_bits: int) -> int:
    """Length in bits of the padded message: n_bits + 1 + zeros + 64, a multiple of 512."""
    return (n_bits + 64) // 512 * 512 + 512


def _padding(n_bits: int) -> list[int]:
    zeros = padded_length(n_bits) - n_bits - 1 - 64
    return [1] + [0] * zeros + [(n_bits >> (63 - i)) & 1 for i in range(64)]


def _compress_native(state: list[int], block: list[int]) -> list[int]:
    def rotr(x, n):
        return ((x >> n) | (x << (32 - n))) & _MASK

    w = list(block)
    for t in range(16, 64):
        s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
        s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
        w.append((w[t - 16] + s0 + w[t - 7] + s1) & _MASK)
    a, b, c, d, e, f, g, h = state
    for t in range(64):
        t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + ROUND_CONSTANTS[t] + w[t]) & _MASK
        t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & _MASK
        a, b, c, d, e, f, g, h = (t1 + t2) & _MASK, a, b, c, (d + t1) & _MASK, e, f, g
    return [(x + y) & _MASK for x, y in zip(state, (a, b, c, d, e, f, g, h))]


def sha256_bits_native(bits: Sequence[int]) -> list[int]:
    """SHA-256 of a bit string (any length), MSB-first in and out: the twin of sha256_bits.
    Implemented from FIPS 180-4 (hashlib cannot hash a bit count that is not a multiple of 8)."""
    if any(b not in (0, 1) for b in bits):
        raise ValueError("message bits must be 0 or 1")
    padded = list(bits) + _padding(len(bits))
    state = list(INITIAL_HASH)
    for start in range(0, len(padded), 512):
        block = [int("".join(map(str, padded[start + 32 * j:start + 32 * j + 32])), 2) for j in range(16)]
        state = _compress_native(state, block)
    return [(word >> (31 - i)) & 1 for word in state for i in range(32)]


def pack_bits_be_native(bits: Sequence[int]) -> int:
    if len(bits) > 253 or any(b not in (0, 1) for b in bits):
        raise ValueError("pack at most 253 bits of 0/1")
    return sum(b << (len(bits) - 1 - i) for i, b in enumerate(bits))


def digest_to_field_native(digest: bytes, n_bits: int = 253) -> int:
    """The digest as a big-endian integer, reduced to its low n_bits bits (DESIGN §4: data_hash, n = 253)."""
    return int.from_bytes(digest, "big") & ((1 << n_bits) - 1)


# ---------------------------------------------------------------------------------------------------
# Gadgets. A word is a list of 32 bit-valued linear combinations, least significant first (word[i] has
# weight 2^i). Every bit the gadgets produce is boolean by construction (products and sums of booleans
# shaped to stay in {0, 1}) or by an explicit constraint (decompositions).

Word = list[LinearCombination]


def _xor(cs: ConstraintSystem, a: LinearCombination, b: LinearCombination) -> LinearCombination:
    return a + b - cs.mul(a, b) * 2


def _xor3(cs, a, b, c):
    return _xor(cs, _xor(cs, a, b), c)


def _rotr(word: Word, n: int) -> Word:
    return [word[(i + n) % 32] for i in range(32)]


def _shr(word: Word, n: int) -> Word:
    return [word[i + n] if i + n < 32 else LinearCombination._constant(0) for i in range(32)]


def _big_sigma(cs, word: Word, r1: int, r2: int, r3: int) -> Word:
    x, y, z = _rotr(word, r1), _rotr(word, r2), _rotr(word, r3)
    return [_xor3(cs, x[i], y[i], z[i]) for i in range(32)]


def _small_sigma(cs, word: Word, r1: int, r2: int, s: int) -> Word:
    x, y, z = _rotr(word, r1), _rotr(word, r2), _shr(word, s)
    return [_xor3(cs, x[i], y[i], z[i]) for i in range(32)]


def _ch(cs, e: Word, f: Word, g: Word) -> Word:
    # (e ∧ f) ⊕ (¬e ∧ g) = g + e·(f − g): one constraint a bit.
    return [g[i] + cs.mul(e[i], f[i] - g[i]) for i in range(32)]


def _maj(cs, a: Word, b: Word, c: Word) -> Word:
    # maj = a·b + c·(a ⊕ b): two constraints a bit (both products vanish on constants).
    out = []
    for i in range(32):
        ab = cs.mul(a[i], b[i])
        out.append(ab + cs.mul(c[i], a[i] + b[i] - ab * 2))
    return out


def _word_value(word: Word) -> LinearCombination:
    return linear_sum(word, [1 << i for i in range(32)])


def _word_bound(word: Word) -> int:
    """Largest value the word can take (exact for a constant word)."""
    value = _word_value(word)
    return value.constant_value if value.is_constant() else _MASK


def _low_bits_hint(n: int, x: int) -> list[int]:
    return [(x >> i) & 1 for i in range(n)]


def _add_mod_2_32(cs: ConstraintSystem, *words: Word) -> Word:
    """(Σ words) mod 2^32: one field sum (below 2^35 here, no wraparound) decomposed into 32 bit wires and
    the carry bits. The top carry is the linear remainder of the sum, so every returned bit is a wire."""
    total = linear_sum(_word_value(w) for w in words)
    bound = sum(_word_bound(w) for w in words)
    if total.is_constant():
        return [LinearCombination._constant((total.constant_value >> i) & 1) for i in range(32)]
    n = max(bound.bit_length(), 32)
    with cs.gadget("add_mod_2^32"):
        if n == 32:
            return to_binary(cs, total, 32)   # bit 0 is then linear: fine, no carry exists
        low = cs.hint(partial(_low_bits_hint, n - 1), [total], n - 1)
        for bit in low:
            cs.assert_bool(bit)
        top = (total - linear_sum(low, [1 << i for i in range(n - 1)])) * pow(1 << (n - 1), -1, R)
        cs.assert_bool(top)
    return low[:32]


def _constant_word(value: int) -> Word:
    return [LinearCombination._constant((value >> i) & 1) for i in range(32)]


def _compress(cs: ConstraintSystem, state: list[Word], block: list[Word]) -> list[Word]:
    w = list(block)
    for t in range(16, 64):
        s0 = _small_sigma(cs, w[t - 15], 7, 18, 3)
        s1 = _small_sigma(cs, w[t - 2], 17, 19, 10)
        w.append(_add_mod_2_32(cs, w[t - 16], s0, w[t - 7], s1))
    a, b, c, d, e, f, g, h = state
    for t in range(64):
        sigma1 = _big_sigma(cs, e, 6, 11, 25)
        choice = _ch(cs, e, f, g)
        sigma0 = _big_sigma(cs, a, 2, 13, 22)
        majority = _maj(cs, a, b, c)
        k = _constant_word(ROUND_CONSTANTS[t])
        t1_parts = (h, sigma1, choice, k, w[t])
        new_e = _add_mod_2_32(cs, d, *t1_parts)
        new_a = _add_mod_2_32(cs, *t1_parts, sigma0, majority)
        a, b, c, d, e, f, g, h = new_a, a, b, c, new_e, e, f, g
    return [_add_mod_2_32(cs, x, y) for x, y in zip(state, (a, b, c, d, e, f, g, h))]


def sha256_bits(cs: ConstraintSystem, bits: Sequence[LinearLike]) -> list[LinearCombination]:
    """The 256 digest bits (MSB-first) of the message bits (MSB-first; asserted boolean, free if known).
    The length is fixed by len(bits); padding is constant. Twin of sha256_bits_native."""
    bits = [_coerce(b) for b in bits]
    padded = bits + [LinearCombination._constant(b) for b in _padding(len(bits))]
    with cs.gadget(f"sha256({len(bits)} bits)"):
        for bit in bits:
            cs.assert_bool(bit)
        state = [_constant_word(v) for v in INITIAL_HASH]
        for start in range(0, len(padded), 512):
            block = [padded[start + 32 * j:start + 32 * j + 32][::-1] for j in range(16)]
            state = _compress(cs, state, block)
    return [word[31 - i] for word in state for i in range(32)]


def sha256_bytes(cs: ConstraintSystem, data: Sequence[LinearLike]) -> list[LinearCombination]:
    """SHA-256 of byte-valued wires (each range-checked to 8 bits here: 8 constraints a byte unless already
    known): the 256 digest bits, MSB-first. Twin of sha256_native (digest bits = bytes_to_bits(digest))."""
    bits = []
    with cs.gadget("sha256_bytes"):
        for byte in data:
            bits.extend(to_binary(cs, byte, 8)[::-1])
    return sha256_bits(cs, bits)


def pack_bits_be(bits: Sequence[LinearLike]) -> LinearCombination:
    """Σ bits[i]·2^(n−1−i): MSB-first bits (already boolean) as one field element; at most 253 bits, so the
    packing is injective. Free (a linear combination)."""
    if len(bits) > 253:
        raise ConstraintSystemError("pack at most 253 bits into one field element")
    n = len(bits)
    return linear_sum(bits, [1 << (n - 1 - i) for i in range(n)])


def digest_to_field(digest_bits: Sequence[LinearLike], n_bits: int = 253) -> LinearCombination:
    """The low n_bits bits of the 256-bit digest (MSB-first bits) as a field element: the digest with its top
    256 − n_bits bits cleared (DESIGN §4's data_hash for n = 253). Free."""
    if len(digest_bits) != DIGEST_BITS:
        raise ConstraintSystemError(f"a digest has {DIGEST_BITS} bits, got {len(digest_bits)}")
    return pack_bits_be(digest_bits[DIGEST_BITS - n_bits:])
