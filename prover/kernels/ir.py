"""Field arithmetic for Numba as LLVM IR: Montgomery multiplication and modular add/sub in Fq, Fq2, Fr.

Elements are tuples of uint64 limbs, little-endian, in Montgomery form (R = 2^256): a 4-tuple is
an Fq or Fr element, an 8-tuple an Fq2 element (c0's limbs, then c1's). The intrinsics here emit
i128 and i256 arithmetic that LLVM lowers to mulx/adc chains and branch-free selects; the `fq_*`
ones accept both widths, so curve formulas written once serve G1 and G2. Loads and stores of
elements in C-contiguous uint64 arrays are here too. No Python-level semantics live here: see
`prover.reference` for what each operation means.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..constants import LIMBS, MONT_R, Q, R, to_limbs

I64 = ir.IntType(64)
I128 = ir.IntType(128)
I256 = ir.IntType(256)


class _Modulus:
    """The constants one Montgomery field needs, as LLVM constants."""

    def __init__(self, p: int):
        self.p = p
        self.limbs = to_limbs(p)
        self.neg_inv = (-pow(p, -1, 1 << 64)) % (1 << 64)  # -p^-1 mod 2^64
        self.one = MONT_R % p
        assert self.limbs[LIMBS - 1] < (1 << 62), "no-carry CIOS needs the top limb below 2^62"


FQ_MOD = _Modulus(Q)
FR_MOD = _Modulus(R)


# --- IR building blocks on lists of i64 limbs --------------------------------------------------

def _zext128(b, v):
    return b.zext(v, I128)


def _split(b, v):
    return b.trunc(v, I64), b.trunc(b.lshr(v, ir.Constant(I128, 64)), I64)


def _to256(b, limbs):
    v = b.zext(limbs[0], I256)
    for i in range(1, LIMBS):
        v = b.or_(v, b.shl(b.zext(limbs[i], I256), ir.Constant(I256, 64 * i)))
    return v


def _from256(b, v):
    return [b.trunc(b.lshr(v, ir.Constant(I256, 64 * i)), I64) if i else b.trunc(v, I64)
            for i in range(LIMBS)]


def _mont_mul(b, m: _Modulus, x, y):
    """CIOS Montgomery product x*y/2^256 mod p, "no-carry" variant (gnark, Botrel & Housni 2021).

    Valid because the top limb of p is below 2^62; the result is fully reduced when x, y < p.
    """
    t = [ir.Constant(I64, 0)] * LIMBS
    neg_inv = ir.Constant(I64, m.neg_inv)
    for i in range(LIMBS):
        yi = _zext128(b, y[i])
        lo, carry_a = _split(b, b.add(_zext128(b, t[0]), b.mul(_zext128(b, x[0]), yi)))
        q_digit = b.mul(lo, neg_inv)
        qd = _zext128(b, q_digit)
        _, carry_c = _split(b, b.add(_zext128(b, lo), b.mul(qd, ir.Constant(I128, m.limbs[0]))))
        new_t = [None] * LIMBS
        for j in range(1, LIMBS):
            s = b.add(b.add(_zext128(b, t[j]), b.mul(_zext128(b, x[j]), yi)), _zext128(b, carry_a))
            lo, carry_a = _split(b, s)
            s = b.add(b.add(_zext128(b, lo), b.mul(qd, ir.Constant(I128, m.limbs[j]))),
                      _zext128(b, carry_c))
            new_t[j - 1], carry_c = _split(b, s)
        new_t[LIMBS - 1] = b.add(carry_c, carry_a)
        t = new_t
    return _reduce_once(b, m, _to256(b, t))


def _reduce_once(b, m: _Modulus, v256):
    p = ir.Constant(I256, m.p)
    ge = b.icmp_unsigned(">=", v256, p)
    return _from256(b, b.select(ge, b.sub(v256, p), v256))


def _add(b, m: _Modulus, x, y):
    return _reduce_once(b, m, b.add(_to256(b, x), _to256(b, y)))


def _sub(b, m: _Modulus, x, y):
    xv, yv = _to256(b, x), _to256(b, y)
    diff = b.sub(xv, yv)
    borrow = b.icmp_unsigned("<", xv, yv)
    return _from256(b, b.select(borrow, b.add(diff, ir.Constant(I256, m.p)), diff))


def _neg(b, m: _Modulus, x):
    xv = _to256(b, x)
    zero = ir.Constant(I256, 0)
    is_zero = b.icmp_unsigned("==", xv, zero)
    return _from256(b, b.select(is_zero, zero, b.sub(ir.Constant(I256, m.p), xv)))


# Fq2 = Fq[u]/(u^2 + 1): lists of 8 limbs, c0 then c1.

def _fq2_mul(b, x, y):
    m = FQ_MOD
    x0, x1, y0, y1 = x[:4], x[4:], y[:4], y[4:]
    v0 = _mont_mul(b, m, x0, y0)
    v1 = _mont_mul(b, m, x1, y1)
    # Karatsuba: c1 = (x0 + x1)(y0 + y1) - v0 - v1
    s = _mont_mul(b, m, _add(b, m, x0, x1), _add(b, m, y0, y1))
    c0 = _sub(b, m, v0, v1)
    c1 = _sub(b, m, _sub(b, m, s, v0), v1)
    return c0 + c1


def _fq2_sqr(b, x):
    m = FQ_MOD
    x0, x1 = x[:4], x[4:]
    # (x0 + x1 u)^2 = (x0 + x1)(x0 - x1) + 2 x0 x1 u
    c0 = _mont_mul(b, m, _add(b, m, x0, x1), _sub(b, m, x0, x1))
    p = _mont_mul(b, m, x0, x1)
    return c0 + _add(b, m, p, p)


def _componentwise(op):
    def apply(b, m, *xs):
        width = len(xs[0])
        out = []
        for k in range(0, width, LIMBS):
            out += op(b, m, *[x[k:k + LIMBS] for x in xs])
        return out
    return apply


# --- Tuple plumbing ------------------------------------------------------------------------------

def _unpack(b, tup, width):
    return [b.extract_value(tup, i) for i in range(width)]


def _pack(b, context, ty, limbs):
    out = ir.Constant(context.get_value_type(ty), ir.Undefined)
    for i, v in enumerate(limbs):
        out = b.insert_value(out, v, i)
    return out


def _element_width(ty, allowed):
    if (isinstance(ty, types.UniTuple) and ty.dtype == types.uint64 and ty.count in allowed):
        return ty.count
    return None


def _binary(name, widths, emit):
    """An intrinsic (x, y) -> z over uint64 tuples of one of the allowed widths."""

    def typer(typingctx, x, y):
        width = _element_width(x, widths)
        if width is None or x != y:
            return None

        def codegen(context, builder, sig, args):
            limbs = emit(builder, _unpack(builder, args[0], width), _unpack(builder, args[1], width))
            return _pack(builder, context, sig.return_type, limbs)

        return x(x, y), codegen

    typer.__name__ = name
    return intrinsic(typer)


def _unary(name, widths, emit):
    def typer(typingctx, x):
        width = _element_width(x, widths)
        if width is None:
            return None

        def codegen(context, builder, sig, args):
            limbs = emit(builder, _unpack(builder, args[0], width))
            return _pack(builder, context, sig.return_type, limbs)

        return x(x), codegen

    typer.__name__ = name
    return intrinsic(typer)


def _fq_mul_any(b, x, y):
    return _mont_mul(b, FQ_MOD, x, y) if len(x) == LIMBS else _fq2_mul(b, x, y)


def _fq_sqr_any(b, x):
    return _mont_mul(b, FQ_MOD, x, x) if len(x) == LIMBS else _fq2_sqr(b, x)


_cw_add = _componentwise(_add)
_cw_sub = _componentwise(_sub)
_cw_neg = _componentwise(_neg)

# Fq (4-tuples) and Fq2 (8-tuples).
fq_mul = _binary("fq_mul", (4, 8), _fq_mul_any)
fq_sqr = _unary("fq_sqr", (4, 8), _fq_sqr_any)
fq_add = _binary("fq_add", (4, 8), lambda b, x, y: _cw_add(b, FQ_MOD, x, y))
fq_sub = _binary("fq_sub", (4, 8), lambda b, x, y: _cw_sub(b, FQ_MOD, x, y))
fq_neg = _unary("fq_neg", (4, 8), lambda b, x: _cw_neg(b, FQ_MOD, x))
fq_double = _unary("fq_double", (4, 8), lambda b, x: _cw_add(b, FQ_MOD, x, x))
# Fr (4-tuples).
fr_mul = _binary("fr_mul", (4,), lambda b, x, y: _mont_mul(b, FR_MOD, x, y))
fr_add = _binary("fr_add", (4,), lambda b, x, y: _add(b, FR_MOD, x, y))
fr_sub = _binary("fr_sub", (4,), lambda b, x, y: _sub(b, FR_MOD, x, y))
fr_neg = _unary("fr_neg", (4,), lambda b, x: _neg(b, FR_MOD, x))


@intrinsic
def fq2_mul_fq(typingctx, x, s):
    """An Fq2 element (8-tuple) times an Fq element (4-tuple)."""
    if _element_width(x, (8,)) is None or _element_width(s, (4,)) is None:
        return None

    def codegen(context, builder, sig, args):
        xs = _unpack(builder, args[0], 8)
        ss = _unpack(builder, args[1], 4)
        limbs = _mont_mul(builder, FQ_MOD, xs[:4], ss) + _mont_mul(builder, FQ_MOD, xs[4:], ss)
        return _pack(builder, context, sig.return_type, limbs)

    return x(x, s), codegen


@intrinsic
def is_zero(typingctx, x):
    """True when every limb is zero (the additive identity, in either representation)."""
    if _element_width(x, (4, 8)) is None:
        return None

    def codegen(context, builder, sig, args):
        acc = ir.Constant(I64, 0)
        for limb in _unpack(builder, args[0], x.count):
            acc = builder.or_(acc, limb)
        return builder.icmp_unsigned("==", acc, ir.Constant(I64, 0))

    return types.boolean(x), codegen


@intrinsic
def fe_equal(typingctx, x, y):
    if _element_width(x, (4, 8)) is None or x != y:
        return None

    def codegen(context, builder, sig, args):
        acc = ir.Constant(I64, 0)
        for a, c in zip(_unpack(builder, args[0], x.count), _unpack(builder, args[1], x.count)):
            acc = builder.or_(acc, builder.xor(a, c))
        return builder.icmp_unsigned("==", acc, ir.Constant(I64, 0))

    return types.boolean(x, y), codegen


def _constant_like(name, limbs_for_width):
    """An intrinsic f(like) -> constant element of like's width (like's value is unused)."""

    def typer(typingctx, like):
        width = _element_width(like, tuple(limbs_for_width))
        if width is None:
            return None

        def codegen(context, builder, sig, args):
            limbs = [ir.Constant(I64, v) for v in limbs_for_width[width]]
            return _pack(builder, context, sig.return_type, limbs)

        return like(like), codegen

    typer.__name__ = name
    return intrinsic(typer)


_FQ_ONE = to_limbs(FQ_MOD.one)
_FR_ONE = to_limbs(FR_MOD.one)
fe_zero_like = _constant_like("fe_zero_like", {4: (0,) * 4, 8: (0,) * 8})
fq_one_like = _constant_like("fq_one_like", {4: _FQ_ONE, 8: _FQ_ONE + (0,) * 4})
fr_one_like = _constant_like("fr_one_like", {4: _FR_ONE})


def constant_fn(name, limbs_by_width: dict):
    """An intrinsic f(like) returning a fixed element chosen by like's width ({4: limbs, 8: limbs})."""
    return _constant_like(name, {w: tuple(v) for w, v in limbs_by_width.items()})


# --- Element loads and stores in C-contiguous uint64 arrays ---------------------------------------

def _element_pointer(context, builder, arrty, arr, index, width):
    array = context.make_array(arrty)(context, builder, value=arr)
    offset = builder.mul(index, ir.Constant(index.type, width))
    return builder.gep(array.data, [offset])


@intrinsic
def load_fe(typingctx, arr, index, like):
    """Element number `index` of a flat view of `arr` in elements of like's width."""
    width = _element_width(like, (4, 8))
    if (width is None or not isinstance(arr, types.Array) or arr.dtype != types.uint64
            or arr.layout != "C" or not isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        index_value = context.cast(builder, args[1], sig.args[1], types.intp)
        base = _element_pointer(context, builder, sig.args[0], args[0], index_value, width)
        limbs = [builder.load(builder.gep(base, [ir.Constant(I64, i)])) for i in range(width)]
        return _pack(builder, context, sig.return_type, limbs)

    return like(arr, index, like), codegen


@intrinsic
def store_fe(typingctx, arr, index, value):
    """Write `value` as element number `index` of a flat view of `arr`."""
    width = _element_width(value, (4, 8))
    if (width is None or not isinstance(arr, types.Array) or arr.dtype != types.uint64
            or arr.layout != "C" or not arr.mutable or not isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        index_value = context.cast(builder, args[1], sig.args[1], types.intp)
        base = _element_pointer(context, builder, sig.args[0], args[0], index_value, width)
        for i, limb in enumerate(_unpack(builder, args[2], width)):
            builder.store(limb, builder.gep(base, [ir.Constant(I64, i)]))
        return context.get_dummy_value()

    return types.void(arr, index, value), codegen


def _byte_pointer(context, builder, arrty, arr, byte_offset, offset_type):
    array = context.make_array(arrty)(context, builder, value=arr)
    offset = context.cast(builder, byte_offset, offset_type, types.intp)
    return builder.gep(array.data, [offset])


def _is_byte_array(arr):
    return isinstance(arr, types.Array) and arr.dtype == types.uint8 and arr.layout == "C" and arr.ndim == 1


@intrinsic
def load_u32_at(typingctx, raw, byte_offset):
    """The little-endian uint32 at any byte offset of a 1-D uint8 array (an unaligned load), as an
    int64 (so that it compares with Python ints without a detour through float).

    For records in a file's own layout, such as a .zkey's 44-byte coefficient entries."""
    if not _is_byte_array(raw) or not isinstance(byte_offset, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ptr = _byte_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        value = builder.load(builder.bitcast(ptr, ir.IntType(32).as_pointer()), align=1)
        return builder.zext(value, I64)

    return types.int64(raw, byte_offset), codegen


@intrinsic
def load_fe_at(typingctx, raw, byte_offset, like):
    """The element of like's width whose little-endian limbs start at any byte offset of a 1-D
    uint8 array (unaligned loads)."""
    width = _element_width(like, (4, 8))
    if width is None or not _is_byte_array(raw) or not isinstance(byte_offset, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ptr = builder.bitcast(_byte_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1]),
                              I64.as_pointer())
        limbs = [builder.load(builder.gep(ptr, [ir.Constant(I64, i)]), align=1) for i in range(width)]
        return _pack(builder, context, sig.return_type, limbs)

    return like(raw, byte_offset, like), codegen


__all__ = [
    "fq_mul", "fq_sqr", "fq_add", "fq_sub", "fq_neg", "fq_double", "fq2_mul_fq",
    "fr_mul", "fr_add", "fr_sub", "fr_neg",
    "is_zero", "fe_equal", "fe_zero_like", "fq_one_like", "fr_one_like", "constant_fn",
    "load_fe", "store_fe", "load_u32_at", "load_fe_at", "FQ_MOD", "FR_MOD",
]
