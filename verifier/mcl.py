"""The fast pairing backend: herumi's mcl through the `mclbn256` wheel, called with ctypes.

Only the C functions are used, not the wheel's Python classes (they assume mcl's default curve).
Importing this module switches the process-wide mcl library to Ethereum's BN254.
"""

from __future__ import annotations

import ctypes
from typing import Sequence

from verifier.curve import CURVE_ORDER, FIELD_MODULUS, Gt
from verifier.types import G1, G2, BadPoint

try:
    from mclbn256 import mclbn256 as _wheel
except Exception as error:  # noqa: BLE001 - the wheel runs code at import: any failure means "not here"
    raise ImportError(f"mclbn256 is not usable here: {error}") from error

_lib = _wheel.lib

# mcl's default curve (id 0) is an older BN254 with different q and r: proofs would be checked on the
# wrong curve. MCL_BN_SNARK1 (id 4) is the curve of EIP-196/197, snarkjs's "bn128".
_MCL_BN_SNARK1 = 4
# mclBn_init checks the header sizes the caller was compiled with: 4 limbs for Fp and for Fr.
_MCLBN_COMPILED_TIME_VAR = 4 * 10 + 4

_G1Struct = ctypes.c_uint64 * 12  # Jacobian x, y, z; Montgomery limbs inside mcl
_G2Struct = ctypes.c_uint64 * 24
_GTStruct = ctypes.c_uint64 * 48
_FrStruct = ctypes.c_uint64 * 4
_IO_DECIMAL = 10

_lib.mclBn_init.argtypes = [ctypes.c_int, ctypes.c_int]
_lib.mclBn_init.restype = ctypes.c_int
for _fn in ("mclBnG1_setStr", "mclBnG2_setStr", "mclBnFr_setStr"):
    getattr(_lib, _fn).argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    getattr(_lib, _fn).restype = ctypes.c_int
for _fn in ("mclBnG1_getStr", "mclBnGT_getStr"):
    getattr(_lib, _fn).argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int]
    getattr(_lib, _fn).restype = ctypes.c_size_t
_lib.mclBn_getCurveOrder.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_lib.mclBn_getCurveOrder.restype = ctypes.c_size_t
_lib.mclBn_getFieldOrder.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_lib.mclBn_getFieldOrder.restype = ctypes.c_size_t
for _fn in ("mclBnG2_isValidOrder", "mclBnG1_isZero", "mclBnGT_isOne"):
    getattr(_lib, _fn).argtypes = [ctypes.c_void_p]
    getattr(_lib, _fn).restype = ctypes.c_int
_lib.mclBnG1_mulVec.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
_lib.mclBnG1_mulVec.restype = None
_lib.mclBnG1_normalize.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_lib.mclBnG1_normalize.restype = None
_lib.mclBn_millerLoopVec.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
_lib.mclBn_millerLoopVec.restype = None
_lib.mclBn_finalExp.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_lib.mclBn_finalExp.restype = None
_lib.mclBn_pairing.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_lib.mclBn_pairing.restype = None


def _read_order(getter) -> int:
    buffer = ctypes.create_string_buffer(128)
    size = getter(buffer, len(buffer))
    return int(buffer.raw[:size].decode())


if _lib.mclBn_init(_MCL_BN_SNARK1, _MCLBN_COMPILED_TIME_VAR) != 0:
    raise ImportError("mclbn256: mclBn_init(MCL_BN_SNARK1) failed")
if (_read_order(_lib.mclBn_getFieldOrder), _read_order(_lib.mclBn_getCurveOrder)) != (FIELD_MODULUS, CURVE_ORDER):
    raise ImportError("mclbn256: the initialised curve is not BN254 (q, r differ from py_ecc's)")


def _g1_struct(point: G1, into=None):
    target = into if into is not None else _G1Struct()
    text = b"0" if point is None else b"1 %d %d" % point
    if _lib.mclBnG1_setStr(target, text, len(text), _IO_DECIMAL) != 0:
        raise BadPoint("G1 point refused by mcl (not on the curve)")
    return target


def _g2_struct(point: G2, into=None):
    target = into if into is not None else _G2Struct()
    if point is None:
        text = b"0"
    else:
        (x0, x1), (y0, y1) = point
        # mcl's decimal form of an Fp2 element is "real imaginary", the same order as ours.
        text = b"1 %d %d %d %d" % (x0, x1, y0, y1)
    if _lib.mclBnG2_setStr(target, text, len(text), _IO_DECIMAL) != 0:
        raise BadPoint("G2 point refused by mcl (not on the twist)")
    return target


class MclBackend:
    """Native mcl: about 0.5 ms a pairing here; a Groth16 check is one Miller loop over 4 pairs and one final exponentiation."""

    name = "mcl"

    def in_g2_subgroup(self, point: G2) -> bool:
        if point is None:
            return True
        return bool(_lib.mclBnG2_isValidOrder(_g2_struct(point)))

    def g1_linear_combination(self, points: Sequence[G1], scalars: Sequence[int]) -> G1:
        if len(points) != len(scalars):
            raise ValueError("g1_linear_combination: as many scalars as points")
        count = len(points)
        if count == 0:
            return None
        bases = (_G1Struct * count)()
        exponents = (_FrStruct * count)()
        for i, (point, scalar) in enumerate(zip(points, scalars)):
            _g1_struct(point, bases[i])
            text = b"%d" % scalar
            if _lib.mclBnFr_setStr(exponents[i], text, len(text), _IO_DECIMAL) != 0:
                raise ValueError(f"scalar {i} is not in [0, r)")
        result = _G1Struct()
        _lib.mclBnG1_mulVec(result, bases, exponents, count)
        return _g1_from_struct(result)

    def pairing_product_is_one(self, pairs: Sequence[tuple[G1, G2]]) -> bool:
        # Pairs with infinity contribute 1: dropping them keeps mcl's vector loop on real points only.
        live = [(p, q) for p, q in pairs if p is not None and q is not None]
        if not live:
            return True
        g1s = (_G1Struct * len(live))()
        g2s = (_G2Struct * len(live))()
        for i, (p, q) in enumerate(live):
            _g1_struct(p, g1s[i])
            _g2_struct(q, g2s[i])
        miller = _GTStruct()
        _lib.mclBn_millerLoopVec(miller, g1s, g2s, len(live))
        result = _GTStruct()
        _lib.mclBn_finalExp(result, miller)
        return bool(_lib.mclBnGT_isOne(result))

    def pairing(self, p: G1, q: G2) -> Gt:
        value = _GTStruct()
        _lib.mclBn_pairing(value, _g1_struct(p), _g2_struct(q))
        buffer = ctypes.create_string_buffer(2048)
        size = _lib.mclBnGT_getStr(buffer, len(buffer), value, _IO_DECIMAL)
        numbers = [int(n) for n in buffer.raw[:size].split()]
        if len(numbers) != 12:
            raise RuntimeError("mcl wrote GT in an unexpected form")
        # mcl writes the 12 Fq coefficients in the nesting order snarkjs uses (checked in tests).
        pairs = [(numbers[2 * j], numbers[2 * j + 1]) for j in range(6)]
        return (tuple(pairs[0:3]), tuple(pairs[3:6]))  # type: ignore[return-value]


def _g1_from_struct(struct) -> G1:
    if _lib.mclBnG1_isZero(struct):
        return None
    affine = _G1Struct()
    _lib.mclBnG1_normalize(affine, struct)
    buffer = ctypes.create_string_buffer(256)
    size = _lib.mclBnG1_getStr(buffer, len(buffer), affine, _IO_DECIMAL)
    flag, x, y = buffer.raw[:size].split()
    if flag != b"1":
        raise RuntimeError("mcl wrote a G1 point in an unexpected form")
    return (int(x), int(y))
