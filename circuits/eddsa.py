"""Native EdDSA-Poseidon over Baby Jubjub, equal to circomlibjs buildEddsa(): prv2pub, signPoseidon, verifyPoseidon.
The verifier adds the checks circomlibjs leaves out (A not of low order, message a field element), matching what
circomlib's EdDSAPoseidonVerifier circuit enforces. Plain Python ints; beside them (end of file) the verifier
gadget `verify_poseidon_gadget`, with circomlib's `enabled` switch.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.babyjub import (
    BASE8,
    FIELD_MODULUS,
    SUBGROUP_ORDER,
    InvalidPoint,
    Point,
    is_low_order,
    is_on_curve,
    pack_point,
    point_add,
    scalar_mul,
    unpack_point,
)
from circuits.babyjub import (
    assert_not_low_order,
    assert_on_curve,
    fixed_base_mul_gadget,
    point_add_gadget,
    point_select_gadget,
    scalar_mul_prime_order_gadget,
)
from circuits.blake512 import blake512
from circuits.builder import ConstraintSystem, LinearLike, _coerce
from circuits.gadgets import assert_bits_at_most, to_binary, to_binary_strict
from circuits.poseidon import poseidon, poseidon_gadget

__all__ = [
    "Signature",
    "pack_signature",
    "prv2pub",
    "secret_scalar",
    "sign_poseidon",
    "signature_challenge",
    "unpack_signature",
    "verify_poseidon",
    "verify_poseidon_enabled",
    "verify_poseidon_gadget",
]


@dataclass(frozen=True)
class Signature:
    """An EdDSA-Poseidon signature: the nonce point R8 = r * Base8 and the scalar S, S < l.
    circomlib's circuit takes them as R8x, R8y, S."""

    r8: Point
    s: int


def secret_scalar(private_key: bytes) -> tuple[int, bytes]:
    """circomlibjs pruneBuffer(blake512(prv)): the first 32 bytes, little-endian, with the 3 low bits
    cleared (a multiple of the cofactor), bit 255 cleared and bit 254 set; and the last 32 bytes,
    which seed the nonce."""
    digest = blake512(bytes(private_key))
    scalar = int.from_bytes(digest[:32], "little")
    scalar = (scalar & ~7 & ~(1 << 255)) | (1 << 254)
    return scalar, digest[32:]


def prv2pub(private_key: bytes) -> Point:
    """The public key A = (s >> 3) * Base8 of a private key (any bytes; circomlibjs uses 32)."""
    scalar, _ = secret_scalar(private_key)
    return scalar_mul(BASE8, scalar >> 3)


def _check_message(msg: int) -> None:
    # circomlibjs would reduce mod r; a message is a field element, and an integer >= r would be a
    # second name for the same signed value.
    if not isinstance(msg, int) or not 0 <= msg < FIELD_MODULUS:
        raise ValueError(f"message must be a field element in [0, r): {msg!r}")


def signature_challenge(r8: tuple[int, int], public_key: tuple[int, int], msg: int) -> int:
    """h = Poseidon(R8x, R8y, Ax, Ay, msg), the hash both signer and verifier compute (the full
    254-bit field element; circomlib's circuit decomposes it with Num2Bits_strict)."""
    return poseidon([r8[0], r8[1], public_key[0], public_key[1], msg])


def sign_poseidon(private_key: bytes, msg: int) -> Signature:
    """circomlibjs eddsa.signPoseidon(prv, msg): deterministic nonce r = blake512(seed || msg_le32) mod l,
    R8 = r * Base8, S = (r + h * s) mod l with the pruned scalar s (so S * Base8 = R8 + 8 * h * A)."""
    _check_message(msg)
    scalar, seed = secret_scalar(private_key)
    public_key = scalar_mul(BASE8, scalar >> 3)
    nonce = int.from_bytes(blake512(seed + msg.to_bytes(32, "little")), "little") % SUBGROUP_ORDER
    r8 = scalar_mul(BASE8, nonce)
    h = signature_challenge(r8, public_key, msg)
    return Signature(r8=r8, s=(nonce + h * scalar) % SUBGROUP_ORDER)


def verify_poseidon(msg: int, signature: Signature, public_key: tuple[int, int]) -> bool:
    """True when signature signs msg under public_key: S * Base8 == R8 + (8 * h) * A.

    Beyond the equation, every check a sound verifier needs (each also in circomlib's circuit or
    in docs/DESIGN.md section 4): msg in [0, r); S < l (otherwise S and S + l would both verify);
    R8 and A on the curve; A not of low order (with 8A = identity the equation no longer depends on
    the message, so one signature would verify every message). circomlibjs checks all but the last
    and the first. R8 need not be in the subgroup, as in circomlib: the equation then forces it.
    """
    if not isinstance(msg, int) or not 0 <= msg < FIELD_MODULUS:
        return False
    if not isinstance(signature.s, int) or not 0 <= signature.s < SUBGROUP_ORDER:
        return False
    if not is_on_curve(signature.r8) or not is_on_curve(public_key):
        return False
    if is_low_order(public_key):
        return False
    h = signature_challenge(signature.r8, public_key, msg)
    left = scalar_mul(BASE8, signature.s)
    right = point_add(signature.r8, scalar_mul(public_key, 8 * h))
    return left == right


def pack_signature(signature: Signature) -> bytes:
    """circomlibjs eddsa.packSignature: packed R8 (32 bytes) then S (32 bytes, little-endian)."""
    if not 0 <= signature.s < 1 << 256:
        raise ValueError("S does not fit in 32 bytes")
    return pack_point(signature.r8) + signature.s.to_bytes(32, "little")


def unpack_signature(data: bytes) -> Signature:
    """circomlibjs eddsa.unpackSignature, with unpack_point's canonical-encoding checks on R8.
    S is returned as read; verify_poseidon rejects S >= l."""
    if len(data) != 64:
        raise InvalidPoint(f"a packed signature is 64 bytes, got {len(data)}")
    return Signature(r8=unpack_point(data[:32]), s=int.from_bytes(data[32:], "little"))


# ---------------------------------------------------------------------------------------------------
# Circuit gadget

#: S < l fits in this many bits (l < 2^251).
S_BITS = SUBGROUP_ORDER.bit_length()


def verify_poseidon_enabled(enabled: int, msg: int, signature: Signature, public_key: tuple[int, int]) -> bool:
    """The twin of verify_poseidon_gadget: True when disabled, else verify_poseidon."""
    if enabled not in (0, 1):
        raise ValueError("enabled must be 0 or 1")
    return not enabled or verify_poseidon(msg, signature, public_key)


def verify_poseidon_gadget(cs: ConstraintSystem, enabled: LinearLike, msg: LinearLike, public_key, r8,
                           s: LinearLike) -> None:
    """Constrain, when enabled = 1, that (R8, S) signs msg under public_key exactly as verify_poseidon
    decides: S < l (251-bit decomposition and a bound), A and R8 on the curve, 8A ≠ identity, and
    S·B8 = R8 + h·(8A) with h = Poseidon(R8x, R8y, Ax, Ay, msg) taken as its canonical 254 bits.

    enabled is asserted boolean. When it is 0 the gadget is a no-op for ANY input values: A and R8 are
    replaced by B8 and S by 0 (one selection per coordinate), so every intermediate step stays on the
    curve and satisfiable, and only the final equation is gated by `enabled` (circomlib's
    ForceEqualIfEnabled). When enabled = 1 the selections are the identity, so nothing is weakened.

    h·(8A) uses scalar_mul_prime_order_gadget (8A has order l once x(8A) ≠ 0 is asserted): sound for
    every input; an honest witness fails only if h hits one of its exceptional scalars (such as h ≡ 0
    or −1 mod l), which a Poseidon output does with negligible probability. 3,974 constraints
    (circomlib's EdDSAPoseidonVerifier: 4,217).
    """
    enabled, msg, s = _coerce(enabled), _coerce(msg), _coerce(s)
    with cs.gadget("eddsa_poseidon_verify"):
        cs.assert_bool(enabled)
        a = point_select_gadget(cs, enabled, public_key, BASE8)
        r8 = point_select_gadget(cs, enabled, r8, BASE8)
        s = cs.mul(enabled, s)
        assert_on_curve(cs, a)
        assert_on_curve(cs, r8)
        # S < l: otherwise S and S + l would both verify (malleability).
        s_bits = to_binary(cs, s, S_BITS)
        assert_bits_at_most(cs, s_bits, SUBGROUP_ORDER - 1)
        h = poseidon_gadget(cs, [r8[0], r8[1], a[0], a[1], msg])
        h_bits = to_binary_strict(cs, h)
        a8 = assert_not_low_order(cs, a)
        right = point_add_gadget(cs, r8, scalar_mul_prime_order_gadget(cs, a8, h_bits))   # 8A has order l
        left = fixed_base_mul_gadget(cs, BASE8, s_bits)
        cs.assert_product(enabled, left[0] - right[0], 0)
        cs.assert_product(enabled, left[1] - right[1], 0)
