"""Compiled witness solving: a circuit's recorded solve program (circuits.builder) run by a Numba kernel
(prover.kernels.solve) over (n, 4) limb arrays, returning the witness in the layout the prover takes. Owns the
encoding of the program and which hints run natively; the meaning of every step stays circuits.builder's.
The plain twin, with the same signature, is prover.reference.solver (CompiledCircuit.solve).

Natively: every multiplication and linear step, and the hints that make up nearly all hint outputs of a
rollup batch (field inverses, bit decompositions, the Poseidon S-box trace, Baby Jubjub's quotients and
Montgomery-curve steps), recognised by identity. Any other hint, and the rare inputs a native hint leaves
aside (a curve step with a zero denominator), run the hint's own Python function at its place in the
program, with the same HintFailed errors; then the kernel resumes.
"""

from __future__ import annotations

import sys
import weakref
from array import array
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Mapping, Sequence

import numpy as np

from circuits import babyjub, builder, gadgets, poseidon, sha256
from circuits.builder import CompiledCircuit, ConstraintFailure, UnsatisfiedConstraint, ints_to_limbs
from circuits.poseidon_constants import MAX_WIDTH, MIN_WIDTH, poseidon_optimized_params

from .constants import R
from .kernels import solve as k

__all__ = ["python_hints", "solve_witness"]

_MONT = (1 << 256) % R
_MONT_INV = pow(1 << 256, -1, R)


def _to_montgomery(values: Sequence[int]) -> np.ndarray:
    if not len(values):
        return np.zeros((0, 4), dtype=np.uint64)
    return ints_to_limbs([v * _MONT % R for v in values])


def _from_montgomery(limbs: np.ndarray) -> int:
    return int.from_bytes(np.ascontiguousarray(limbs, dtype="<u8").tobytes(), "little") * _MONT_INV % R


# Kernel constants, Montgomery form: one, zero, the Montgomery curve's A and 2A (see babyjub._mont_*_hint).
_CONSTANTS = _to_montgomery([1, 0, babyjub.MONTGOMERY_A, 2 * babyjub.MONTGOMERY_A % R])


@lru_cache(maxsize=None)
def _poseidon_block(t: int) -> np.ndarray:
    """Width t's constants as the trace kernel reads them: R_F, R_P, len(c) (plain, in limb 0), then c, m, p
    (row-major) and s of circomlib's optimized parameters in Montgomery form."""
    opt = poseidon_optimized_params(t)
    header = np.zeros((3, 4), dtype=np.uint64)
    header[:, 0] = (opt.full_rounds, opt.partial_rounds, len(opt.c))
    body = [*opt.c, *(x for row in opt.m for x in row), *(x for row in opt.p for x in row), *opt.s]
    return np.concatenate([header, _to_montgomery(body)])


@dataclass(frozen=True, eq=False)
class _Program:
    """A compiled circuit's solve program as kernel instructions."""

    code: np.ndarray            # int64 instruction stream (layout in prover.kernels.solve)
    coeffs: np.ndarray          # (n, 4) Montgomery: the LIN coefficients
    poseidon_tables: np.ndarray  # (n, 4): _poseidon_block of each width used, one after the other
    python_steps: dict          # position of a hint instruction -> (program step, position after it)
    order: np.ndarray           # int64: wire i of the witness is slot order[i]
    n_slots: int


def _native_hint(step: tuple, poseidon_table) -> tuple[int, ...] | None:
    """The kernel instruction for this hint step, or None when Python must run it. Only exact matches are
    taken: the very function object (or partial of it, positional argument only), the arity its gadget
    gives it and consecutive output slots; `poseidon_table(t)` places width t's constants."""
    _, fn, sources, outs, _ = step
    first = outs[0]
    if outs != tuple(range(first, first + len(outs))):
        return None
    n_in, n_out = len(sources), len(outs)
    # The rollup circuit's hint is looked up only if its module is loaded (a circuit using it has loaded it).
    gated = getattr(sys.modules.get("circuits.rollup.batch"), "_inverse_or_zero_gated", None)
    if (fn is builder._field_inverse or fn is gadgets._inverse_or_zero) and n_in == 1 and n_out == 1:
        return (k.OP_INVERSE, first, *sources)
    if gated is not None and fn is gated and n_in == 2 and n_out == 1:
        return (k.OP_INVERSE_GATED, first, *sources)
    if fn is babyjub._quotient and n_in == 2 and n_out == 1:
        return (k.OP_QUOTIENT, first, *sources)
    if fn is babyjub._mont_add_hint and n_in == 4 and n_out == 4:
        return (k.OP_MONT_ADD, first, *sources)
    if fn is babyjub._mont_double_hint and n_in == 2 and n_out == 4:
        return (k.OP_MONT_DOUBLE, first, *sources)
    if isinstance(fn, partial) and not fn.keywords and len(fn.args) == 1:
        arg = fn.args[0]
        if fn.func is gadgets._upper_bits and n_in == 1 and n_out == arg - 1 and arg <= 256:
            return (k.OP_BITS, first, sources[0], 1, n_out)
        if fn.func is sha256._low_bits_hint and n_in == 1 and n_out == arg and arg <= 256:
            return (k.OP_BITS, first, sources[0], 0, n_out)
        if fn.func is poseidon._sbox_trace and MIN_WIDTH <= n_in <= MAX_WIDTH:
            skipped = set(arg)
            opt = poseidon_optimized_params(n_in)
            n_sboxes = n_in * opt.full_rounds + opt.partial_rounds
            if skipped <= set(range(n_in)) and n_out == 3 * (n_sboxes - len(skipped)):
                mask = sum(1 << i for i in skipped)
                return (k.OP_POSEIDON_TRACE, first, mask, n_in, poseidon_table(n_in), *sources)
    return None


def _encode(compiled: CompiledCircuit) -> _Program:
    code = array("q")
    coefficient_index: dict[int, int] = {}
    python_steps: dict[int, tuple] = {}
    blocks: list[np.ndarray] = []
    table_offset: dict[int, int] = {}

    def poseidon_table(t: int) -> int:
        if t not in table_offset:
            table_offset[t] = sum(len(b) for b in blocks)
            blocks.append(_poseidon_block(t))
        return table_offset[t]

    for step in compiled.program:
        kind = step[0]
        if kind == builder.STEP_MUL:
            code.extend((k.OP_MUL, step[1], step[2], step[3]))
        elif kind == builder.STEP_LIN:
            _, out, wires, coeffs = step
            code.extend((k.OP_LIN, out, len(wires)))
            for wire, c in zip(wires, coeffs):
                index = coefficient_index.get(c)
                if index is None:
                    index = coefficient_index[c] = len(coefficient_index)
                code.append(index)
                code.append(wire)
        else:
            position = len(code)
            code.extend(_native_hint(step, poseidon_table) or (k.OP_PYTHON,))
            python_steps[position] = (step, len(code))
    return _Program(
        code=np.array(code, dtype=np.int64),
        coeffs=_to_montgomery(list(coefficient_index)) if coefficient_index else np.zeros((1, 4), np.uint64),
        poseidon_tables=np.concatenate(blocks) if blocks else np.zeros((1, 4), np.uint64),
        python_steps=python_steps,
        order=np.asarray(compiled.order, dtype=np.int64),
        n_slots=max(compiled.n_slots, len(compiled.order)),
    )


@dataclass(frozen=True, eq=False)
class _CheckTables:
    """What the kernel's check of the assertion rows reads: the rows, and per matrix its CSR arrays with
    Montgomery coefficient tables."""

    rows: np.ndarray
    matrices: tuple


_programs: "weakref.WeakKeyDictionary[CompiledCircuit, _Program]" = weakref.WeakKeyDictionary()
_checks: "weakref.WeakKeyDictionary[CompiledCircuit, _CheckTables]" = weakref.WeakKeyDictionary()


def _program(compiled: CompiledCircuit) -> _Program:
    program = _programs.get(compiled)
    if program is None:
        program = _programs[compiled] = _encode(compiled)
    return program


def _check_tables(compiled: CompiledCircuit) -> _CheckTables:
    tables = _checks.get(compiled)
    if tables is None:
        r1cs = compiled.r1cs
        rows = compiled.assertion_rows
        rows = np.arange(r1cs.n_constraints, dtype=np.int64) if rows is None else rows.astype(np.int64)
        matrices = []
        for m in (r1cs.a, r1cs.b, r1cs.c):
            table, ids = m.coeff_table
            matrices.extend((m.indptr, m.indices, ids, _to_montgomery(table) if table else np.zeros((1, 4), np.uint64)))
        tables = _checks[compiled] = _CheckTables(rows, tuple(matrices))
    return tables


def python_hints(compiled: CompiledCircuit) -> dict[str, int]:
    """The hint steps of `compiled` that the kernel leaves to Python, counted by function name (the rest of
    its hint steps run natively). A renamed or rewrapped hint shows up here: it would still give the same
    witness, only slower."""
    program = _program(compiled)
    counts: dict[str, int] = {}
    for position, (step, _) in program.python_steps.items():
        if program.code[position] == k.OP_PYTHON:
            fn = step[1]
            name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", repr(fn))
            counts[name] = counts.get(name, 0) + 1
    return counts


def solve_witness(compiled: CompiledCircuit, assignment: Mapping[str, int | Sequence[int]], *,
                  check: bool = True) -> np.ndarray:
    """The witness of `compiled` for these input values as (n_wires, 4) uint64 standard-form limbs, the
    layout prover.groth16.prove takes: equal to ints_to_limbs(compiled.solve(assignment, check=check)).

    Raises as `CompiledCircuit.solve` does: InvalidAssignment for a missing, unknown or out-of-range input,
    HintFailed for a hint that raises, UnsatisfiedConstraint naming the first failing assertion row when
    `check` is set. The first call for a circuit encodes its program (kept while the circuit lives).
    """
    program = _program(compiled)
    pairs = compiled.input_wire_values(assignment)
    values = np.zeros((program.n_slots, 4), dtype=np.uint64)
    values[0] = _CONSTANTS[0]
    if pairs:
        wires, ints = zip(*pairs)
        values[list(wires)] = _to_montgomery(ints)
    code, position = program.code, 0
    while True:
        position = k.run_program(code, position, values, program.coeffs, _CONSTANTS, program.poseidon_tables)
        if position < 0:
            break
        step, position = program.python_steps[position]
        outputs = builder.run_hint(step, [_from_montgomery(values[s]) for s in step[2]])
        values[list(step[3])] = _to_montgomery(outputs)
    witness = values[program.order]
    if check:
        failure = _first_failure(compiled, witness)
        if failure is not None:
            raise UnsatisfiedConstraint(failure)
    k.from_montgomery(witness)
    return witness


def _first_failure(compiled: CompiledCircuit, z_montgomery: np.ndarray) -> ConstraintFailure | None:
    tables = _check_tables(compiled)
    if not len(tables.rows):
        return None
    position = k.first_failing_row(tables.rows, *tables.matrices, z_montgomery, _CONSTANTS)
    if position < 0:
        return None
    i = int(tables.rows[position])
    r1cs = compiled.r1cs
    a, b, c = (sum(coeff * _from_montgomery(z_montgomery[wire]) for wire, coeff in m.row(i)) % R
               for m in (r1cs.a, r1cs.b, r1cs.c))
    return ConstraintFailure(i, r1cs.gadget_of(i), a, b, c)
