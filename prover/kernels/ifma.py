"""Eight-lane Fq arithmetic with AVX-512 IFMA (vpmadd52luq / vpmadd52huq), as LLVM IR for Numba.

An element here is five 52-bit limbs in Montgomery form with R' = 2^260 ("R52"), fully reduced.
A *block* is eight such elements side by side, limb-major: 40 uint64 (limb i of lane l at 8 i + l),
so one limb of all lanes is one 512-bit vector. Intrinsics take a scratch array and block numbers
in it; gathers and scatters move elements between blocks and arrays of R52 elements stored one
after another (5 uint64 each). Only for CPUs with avx512ifma (`AVAILABLE`); the MSM falls back to
the scalar kernels elsewhere. The scalar kernels' Montgomery form (R = 2^256) converts by one
multiplication: x R' = M'(x R, 2^264), x R = M'(x R', 2^256), where M'(a, b) = a b / 2^260.
"""

from __future__ import annotations

from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..constants import Q

LANES = 8
LIMBS52 = 5
BLOCK = LANES * LIMBS52
MASK52 = (1 << 52) - 1
P52 = [(Q >> (52 * i)) & MASK52 for i in range(LIMBS52)]
PINV52 = (-pow(Q, -1, 1 << 52)) % (1 << 52)
ONE_R52 = (1 << 260) % Q        # 1 in Montgomery-2^260 form
TO_R52 = (1 << 264) % Q         # plain constant: M'(x 2^256, 2^264) = x 2^260
TO_R64 = (1 << 256) % Q         # plain constant: M'(x 2^260, 2^256) = x 2^256


def _host_has_ifma() -> bool:
    """True when this CPU has AVX-512 IFMA and Numba compiles for this CPU.

    ZKROLLUP_NO_IFMA=1 turns the eight-lane kernels off (the scalar ones do the same work); so does
    a NUMBA_CPU_NAME other than "host", since Numba then compiles for another CPU.
    """
    import os

    from numba.core import config

    if os.environ.get("ZKROLLUP_NO_IFMA", "") not in ("", "0"):
        return False
    if config.CPU_NAME not in (None, "", "host") or config.CPU_FEATURES not in (None, ""):
        return False
    try:
        features = llvm_binding.get_host_cpu_features()
    except Exception:  # pragma: no cover - llvmlite cannot tell
        return False
    return bool(features.get("avx512ifma")) and bool(features.get("avx512f"))


AVAILABLE = _host_has_ifma()

I64 = ir.IntType(64)
I32 = ir.IntType(32)
V = ir.VectorType(I64, LANES)


def _vc(value: int):
    return ir.Constant(V, [ir.Constant(I64, value)] * LANES)


def _limbs52(value: int) -> list[int]:
    return [(value >> (52 * i)) & MASK52 for i in range(LIMBS52)]


def _ifma(builder, high: bool):
    name = "llvm.x86.avx512.vpmadd52h.uq.512" if high else "llvm.x86.avx512.vpmadd52l.uq.512"
    fn = builder.module.globals.get(name)
    if fn is None:
        fn = ir.Function(builder.module, ir.FunctionType(V, [V, V, V]), name=name)
    return fn


# --- Vector field arithmetic (lists of 5 limb vectors) ---------------------------------------------

def _mont_mul(b, x, y):
    """M'(x, y) = x y / 2^260 mod q, word-serial Montgomery over 52-bit limbs (Gueron & Krasnov,
    "Accelerating big integer arithmetic using Intel IFMA extensions", 2016). Inputs below q,
    output fully reduced. Accumulators stay below 2^58: no 64-bit overflow."""
    lo, hi = _ifma(b, False), _ifma(b, True)
    zero = _vc(0)
    p = [_vc(v) for v in P52]
    t = [zero] * (LIMBS52 + 1)
    for i in range(LIMBS52):
        for j in range(LIMBS52):
            t[j] = b.call(lo, [t[j], x[j], y[i]])
            t[j + 1] = b.call(hi, [t[j + 1], x[j], y[i]])
        m = b.call(lo, [zero, t[0], _vc(PINV52)])
        for j in range(LIMBS52):
            t[j] = b.call(lo, [t[j], m, p[j]])
            t[j + 1] = b.call(hi, [t[j + 1], m, p[j]])
        carry = b.lshr(t[0], _vc(52))  # t[0] is now 0 mod 2^52
        t = [b.add(t[1], carry)] + t[2:] + [zero]
    return _reduce_below_2q(b, _normalise(b, t[:LIMBS52]))


def _normalise(b, t):
    """Carry-propagate so every limb is below 2^52 (the value is unchanged)."""
    t = list(t)
    for j in range(LIMBS52 - 1):
        carry = b.lshr(t[j], _vc(52))
        t[j] = b.and_(t[j], _vc(MASK52))
        t[j + 1] = b.add(t[j + 1], carry)
    return t


def _sub_limbs(b, x, y):
    """(x - y) limb by limb with borrows; returns (limbs mod 2^260, borrow mask as -1/0 vector)."""
    out = []
    borrow = _vc(0)
    for j in range(LIMBS52):
        v = b.add(b.sub(x[j], y[j]), borrow)
        borrow = b.ashr(v, _vc(63))
        out.append(b.and_(v, _vc(MASK52)))
    return out, borrow


def _reduce_below_2q(b, t):
    """t < 2q with normalised limbs -> t mod q."""
    d, borrow = _sub_limbs(b, t, [_vc(v) for v in P52])
    keep = b.icmp_signed("<", borrow, _vc(0))
    return [b.select(keep, t[j], d[j]) for j in range(LIMBS52)]


def _add(b, x, y):
    return _reduce_below_2q(b, _normalise(b, [b.add(x[j], y[j]) for j in range(LIMBS52)]))


def _sub(b, x, y):
    d, borrow = _sub_limbs(b, x, y)
    negative = b.icmp_signed("<", borrow, _vc(0))
    plus_q = _normalise(b, [b.add(d[j], _vc(P52[j])) for j in range(LIMBS52)])
    plus_q[LIMBS52 - 1] = b.and_(plus_q[LIMBS52 - 1], _vc(MASK52))  # drop the 2^260 wrap
    return [b.select(negative, plus_q[j], d[j]) for j in range(LIMBS52)]


# --- Block plumbing ----------------------------------------------------------------------------------

def _data(context, builder, arrty, arr):
    return context.make_array(arrty)(context, builder, value=arr).data


def _block_ptrs(builder, data, block):
    base = builder.mul(block, ir.Constant(block.type, BLOCK))
    return [builder.bitcast(builder.gep(data, [builder.add(base, ir.Constant(block.type, 8 * i))]),
                            V.as_pointer()) for i in range(LIMBS52)]


def _load_block(builder, data, block):
    return [builder.load(p, align=8) for p in _block_ptrs(builder, data, block)]


def _store_block(builder, data, block, limbs):
    for p, v in zip(_block_ptrs(builder, data, block), limbs):
        builder.store(v, p, align=8)


def _intp(context, builder, value, ty):
    return context.cast(builder, value, ty, types.intp)


def _is_u64_array(ty):
    return isinstance(ty, types.Array) and ty.dtype == types.uint64 and ty.layout == "C" and ty.ndim == 1


def _block_intrinsic(name, emit, n_inputs, span=1):
    """An intrinsic op(scratch, out, in_1, ..., in_n) on operands that are `span` consecutive blocks
    of a 1-D uint64 scratch array (1: Fq, `emit` maps limb lists to a limb list; 2: Fq2 as (c0, c1),
    `emit` takes c0, c1 of each operand in turn and returns (c0, c1))."""

    def build(typingctx, scratch, out, *ins):
        if not _is_u64_array(scratch) or len(ins) != n_inputs:
            return None

        def codegen(context, builder, sig, args):
            data = _data(context, builder, sig.args[0], args[0])
            blocks = [_intp(context, builder, args[k], sig.args[k]) for k in range(1, 2 + n_inputs)]
            parts = [[builder.add(blk, ir.Constant(blk.type, j)) for j in range(span)] for blk in blocks]
            operands = [_load_block(builder, data, part) for block_parts in parts[1:] for part in block_parts]
            result = emit(builder, *operands)
            for part, limbs in zip(parts[0], [result] if span == 1 else result):
                _store_block(builder, data, part, limbs)
            return context.get_dummy_value()

        return types.void(scratch, out, *ins), codegen

    # Numba reads an intrinsic's arity from its signature: give it the exact one.
    if n_inputs == 1:
        def typer(typingctx, scratch, out, a):
            return build(typingctx, scratch, out, a)
    else:
        def typer(typingctx, scratch, out, a, c):
            return build(typingctx, scratch, out, a, c)
    typer.__name__ = name
    return intrinsic(typer)


v_mul = _block_intrinsic("v_mul", _mont_mul, 2)
v_add = _block_intrinsic("v_add", _add, 2)
v_sub = _block_intrinsic("v_sub", _sub, 2)
v_copy = _block_intrinsic("v_copy", lambda b, x: list(x), 1)


def _fq2_mul(b, x0, x1, y0, y1):
    """(x0 + x1 u)(y0 + y1 u) with u^2 = -1, Karatsuba: three products."""
    v0 = _mont_mul(b, x0, y0)
    v1 = _mont_mul(b, x1, y1)
    s = _mont_mul(b, _add(b, x0, x1), _add(b, y0, y1))
    return _sub(b, v0, v1), _sub(b, _sub(b, s, v0), v1)


_ZERO_LIMBS = [_vc(0)] * LIMBS52
v2_mul = _block_intrinsic("v2_mul", _fq2_mul, 2, span=2)
v2_sub = _block_intrinsic("v2_sub", lambda b, x0, x1, y0, y1: (_sub(b, x0, y0), _sub(b, x1, y1)), 2, span=2)
# norm: c0 = x0^2 + x1^2 (c1 left 0); conjugate-scale: (x0 n, -x1 n) with n the c0 of the second operand
v2_norm = _block_intrinsic(
    "v2_norm", lambda b, x0, x1: (_add(b, _mont_mul(b, x0, x0), _mont_mul(b, x1, x1)), _ZERO_LIMBS), 1, span=2)
v2_conj_scale = _block_intrinsic(
    "v2_conj_scale",
    lambda b, x0, x1, n0, _n1: (_mont_mul(b, x0, n0), _sub(b, _ZERO_LIMBS, _mont_mul(b, x1, n0))), 2, span=2)


def _const_block_op(name, value):
    def typer(typingctx, scratch, out):
        if not _is_u64_array(scratch):
            return None

        def codegen(context, builder, sig, args):
            data = _data(context, builder, sig.args[0], args[0])
            block = _intp(context, builder, args[1], sig.args[1])
            _store_block(builder, data, block, [_vc(v) for v in _limbs52(value)])
            return context.get_dummy_value()

        return types.void(scratch, out), codegen

    typer.__name__ = name
    return intrinsic(typer)


v_set_one = _const_block_op("v_set_one", ONE_R52)
v_set_to_r52 = _const_block_op("v_set_to_r52", TO_R52)
v_set_to_r64 = _const_block_op("v_set_to_r64", TO_R64)


def _lane_entries(context, builder, sig, args, idx_pos):
    """Per lane: the int64 entry idx[start + lane], lanes past `count` repeating lane 0's entry
    (they then compute lane 0's values again, and their scatters write the same bytes)."""
    idx_data = _data(context, builder, sig.args[idx_pos], args[idx_pos])
    start = _intp(context, builder, args[idx_pos + 1], sig.args[idx_pos + 1])
    count = _intp(context, builder, args[idx_pos + 2], sig.args[idx_pos + 2])
    entries = []
    for lane in range(LANES):
        pos = builder.add(start, ir.Constant(start.type, lane))
        pos = builder.select(builder.icmp_signed("<", pos, count), pos, start)
        entries.append(builder.load(builder.gep(idx_data, [pos])))
    return entries


def _element_base(builder, entry, coord, width, component):
    """uint64 offset of component `component` of coordinate `coord` of point (~)entry in an array
    of R52 points whose coordinates are `width` uint64 long (5 in G1, 10 in G2)."""
    negative = builder.icmp_signed("<", entry, ir.Constant(I64, 0))
    index = builder.select(negative, builder.xor(entry, ir.Constant(I64, -1)), entry)
    point = builder.mul(builder.add(builder.mul(index, ir.Constant(I64, 2)), coord), width)
    return builder.add(point, builder.mul(component, ir.Constant(I64, LIMBS52))), negative


@intrinsic
def v_gather(typingctx, scratch, out, src, idx, start, count, coord, negate_signed, width, component):
    """Block `out` = component `component` of coordinate `coord` (0 = x, 1 = y) of the R52 points
    src[entry] for the lanes' entries; an entry ~i means point i, negated when negate_signed."""
    if not (_is_u64_array(scratch) and _is_u64_array(src) and isinstance(idx, types.Array)
            and idx.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        data = _data(context, builder, sig.args[0], args[0])
        block = _intp(context, builder, args[1], sig.args[1])
        src_data = _data(context, builder, sig.args[2], args[2])
        coord_v = context.cast(builder, args[6], sig.args[6], types.int64)
        negate = context.cast(builder, args[7], sig.args[7], types.boolean)
        width_v = context.cast(builder, args[8], sig.args[8], types.int64)
        component_v = context.cast(builder, args[9], sig.args[9], types.int64)
        limbs = [ir.Constant(V, ir.Undefined)] * LIMBS52
        mask = ir.Constant(ir.VectorType(ir.IntType(1), LANES), ir.Undefined)
        for lane, entry in enumerate(_lane_entries(context, builder, sig, args, 3)):
            base, negative = _element_base(builder, entry, coord_v, width_v, component_v)
            mask = builder.insert_element(mask, builder.and_(negative, negate), ir.Constant(I32, lane))
            for i in range(LIMBS52):
                value = builder.load(builder.gep(src_data, [builder.add(base, ir.Constant(I64, i))]))
                limbs[i] = builder.insert_element(limbs[i], value, ir.Constant(I32, lane))
        negated = _sub(builder, [_vc(0)] * LIMBS52, limbs)
        limbs = [builder.select(mask, negated[i], limbs[i]) for i in range(LIMBS52)]
        _store_block(builder, data, block, limbs)
        return context.get_dummy_value()

    return types.void(scratch, out, src, idx, start, count, coord, negate_signed, width, component), codegen


@intrinsic
def v_scatter(typingctx, scratch, block_in, dst, idx, start, count, coord, width, component):
    """Write the lanes of block `block_in` as component `component` of coordinate `coord` of the
    R52 points dst[entry]."""
    if not (_is_u64_array(scratch) and _is_u64_array(dst) and isinstance(idx, types.Array)
            and idx.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        data = _data(context, builder, sig.args[0], args[0])
        block = _intp(context, builder, args[1], sig.args[1])
        dst_data = _data(context, builder, sig.args[2], args[2])
        coord_v = context.cast(builder, args[6], sig.args[6], types.int64)
        width_v = context.cast(builder, args[7], sig.args[7], types.int64)
        component_v = context.cast(builder, args[8], sig.args[8], types.int64)
        limbs = _load_block(builder, data, block)
        for lane, entry in enumerate(_lane_entries(context, builder, sig, args, 3)):
            base, _ = _element_base(builder, entry, coord_v, width_v, component_v)
            for i in range(LIMBS52):
                value = builder.extract_element(limbs[i], ir.Constant(I32, lane))
                builder.store(value, builder.gep(dst_data, [builder.add(base, ir.Constant(I64, i))]))
        return context.get_dummy_value()

    return types.void(scratch, block_in, dst, idx, start, count, coord, width, component), codegen


def _lane_elements(builder, first, count):
    """Element numbers first .. first + 7, the ones past count replaced by first."""
    out = []
    for lane in range(LANES):
        e = builder.add(first, ir.Constant(first.type, lane))
        out.append(builder.select(builder.icmp_signed("<", e, count), e, first))
    return out


def _read_run(builder, src, first, count, words):
    """Vectors of word w (w < words) of eight consecutive `words`-long elements of src."""
    vectors = [ir.Constant(V, ir.Undefined)] * words
    for lane, e in enumerate(_lane_elements(builder, first, count)):
        base = builder.mul(e, ir.Constant(e.type, words))
        for w in range(words):
            value = builder.load(builder.gep(src, [builder.add(base, ir.Constant(e.type, w))]))
            vectors[w] = builder.insert_element(vectors[w], value, ir.Constant(I32, lane))
    return vectors


def _write_run(builder, dst, first, count, vectors):
    words = len(vectors)
    for lane, e in enumerate(_lane_elements(builder, first, count)):
        base = builder.mul(e, ir.Constant(e.type, words))
        for w in range(words):
            value = builder.extract_element(vectors[w], ir.Constant(I32, lane))
            builder.store(value, builder.gep(dst, [builder.add(base, ir.Constant(e.type, w))]))


def _r64_to_r52(b, words):
    """Four 64-bit words -> five 52-bit limbs (same value)."""
    m = _vc(MASK52)
    return [
        b.and_(words[0], m),
        b.and_(b.or_(b.lshr(words[0], _vc(52)), b.shl(words[1], _vc(12))), m),
        b.and_(b.or_(b.lshr(words[1], _vc(40)), b.shl(words[2], _vc(24))), m),
        b.and_(b.or_(b.lshr(words[2], _vc(28)), b.shl(words[3], _vc(36))), m),
        b.lshr(words[3], _vc(16)),
    ]


def _r52_to_r64(b, limbs):
    """Five 52-bit limbs of a value below 2^256 -> four 64-bit words."""
    return [
        b.or_(limbs[0], b.shl(limbs[1], _vc(52))),
        b.or_(b.lshr(limbs[1], _vc(12)), b.shl(limbs[2], _vc(40))),
        b.or_(b.lshr(limbs[2], _vc(24)), b.shl(limbs[3], _vc(28))),
        b.or_(b.lshr(limbs[3], _vc(36)), b.shl(limbs[4], _vc(16))),
    ]


def _run_op(name, doc, words, load, convert):
    """An intrinsic f(scratch, block, array, first, count) moving eight consecutive `words`-long
    elements of a 1-D uint64 array into the block (load) or out of it, through `convert`."""

    def typer(typingctx, scratch, block, array, first, count):
        if not (_is_u64_array(scratch) and _is_u64_array(array)):
            return None

        def codegen(context, builder, sig, args):
            data = _data(context, builder, sig.args[0], args[0])
            blk = _intp(context, builder, args[1], sig.args[1])
            elements = _data(context, builder, sig.args[2], args[2])
            first_v = _intp(context, builder, args[3], sig.args[3])
            count_v = _intp(context, builder, args[4], sig.args[4])
            if load:
                _store_block(builder, data, blk, convert(builder, _read_run(builder, elements, first_v, count_v, words)))
            else:
                _write_run(builder, elements, first_v, count_v, convert(builder, _load_block(builder, data, blk)))
            return context.get_dummy_value()

        return types.void(scratch, block, array, first, count), codegen

    typer.__name__ = name
    typer.__doc__ = doc
    return intrinsic(typer)


_same = lambda b, v: v  # noqa: E731
v_load_r64 = _run_op("v_load_r64", "Block = the 52-bit limbs of 4x64-limb elements array[first ..] (lanes past "
                     "count repeat `first`); no change of Montgomery form (multiply by TO_R52).", 4, True, _r64_to_r52)
v_store_r64 = _run_op("v_store_r64", "Write the block's lanes (limbs < 2^52, values < 2^256) as 4x64-limb "
                      "elements array[first ..].", 4, False, _r52_to_r64)
v_load_r52 = _run_op("v_load_r52", "Block = R52 elements array[first ..] (5 uint64 each).", LIMBS52, True, _same)
v_store_r52 = _run_op("v_store_r52", "Write the block's lanes as R52 elements array[first ..].", LIMBS52, False, _same)
