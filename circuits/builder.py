"""Constraint-system builder: wires, linear combinations, R1CS constraints, hints, and fast witness solving.

Owns `ConstraintSystem` (what gadgets are built on), the compiled `R1CS` data and `is_satisfied`; it does
not own gadgets (`circuits.gadgets`), file formats (`circuits.iden3`) or anything about proving (`prover/`).

Wire layout of a compiled R1CS (as circom/snarkjs expect): wire 0 is the constant 1, then the public
outputs, then the public inputs, then the private inputs, then every internal wire in allocation order.
Matrices are CSR: `indptr` (int64, m + 1), `indices` (int64 wire numbers, terms in build order),
`coeffs` as (nnz, 4) uint64 little-endian limbs in STANDARD form (not Montgomery: the prover converts).
Python-int views of the coefficients are kept beside them for solving and checking.

Witness solving replays a program recorded at build time (one step per multiplication, linear
derivation or hint), over a flat Python list of ints: no per-constraint objects are built per witness.
A multi-term combination read by several multiplications or hints is summed once per solve (a solver
scratch slot, never a wire). Measured for 10^6 constraints on one loaded core: a bit-heavy mix (5.8M
terms) solves in 0.2-0.4 s, and `is_satisfied` takes 0.7-1 s (about 0.25 µs per term). `solve` checks
only the rows a step does not make true by construction (not those of `mul`, `to_wire`, or an
`assert_product(..., holds_by_construction=True)` such as Poseidon's S-box rows). This solver is the plain
twin: prover.solver runs the same program compiled, 10-15 times faster on the rollup batch circuit.
"""

from __future__ import annotations

import operator
from array import array
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator, Mapping, Sequence, Union

import numpy as np

#: BN254's scalar field modulus (the field of circom/snarkjs "bn128" circuits).
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
FIELD_BYTES = 32

# Wire kinds, in the order the compiled layout puts them.
ONE, PUBLIC_OUTPUT, PUBLIC_INPUT, PRIVATE_INPUT, INTERNAL = 0, 1, 2, 3, 4
# Solver scratch slots: the value of a multi-term combination, evaluated once and reused by every
# multiplication or hint that reads it. Not wires: they never enter the R1CS or the witness.
SCRATCH = 5

# Solve-program step kinds: (_MUL_WW, out, a, b), (_LIN, out, wires, coeffs), (_HINT, fn, sources, outs, gadget).
_MUL_WW, _LIN, _HINT = 0, 2, 3
STEP_MUL, STEP_LIN, STEP_HINT = _MUL_WW, _LIN, _HINT   # the same, for solvers outside this module

TOP_LEVEL = "(top level)"
_MINUS_ONE = R - 1


class ConstraintSystemError(Exception):
    """The circuit being built is wrong in itself (e.g. an assertion between two unequal constants)."""


class InvalidWitness(ValueError):
    """A witness vector is malformed: wrong length, a non-integer, a value outside [0, r), wire 0 != 1."""


class InvalidAssignment(ValueError):
    """Input values given to `solve` are missing, unknown, of the wrong shape, or outside [0, r)."""


class HintFailed(Exception):
    """A hint function raised, or returned the wrong number of values, while solving a witness."""


@dataclass(frozen=True)
class ConstraintFailure:
    """The first constraint A·z * B·z = C·z that a witness violates, with the values of its three sides."""

    index: int
    gadget: str
    a: int
    b: int
    c: int

    def describe(self) -> str:
        return (f"constraint {self.index} (gadget {self.gadget}) is not satisfied: "
                f"A·z * B·z = {self.a} * {self.b} != C·z = {self.c} (mod r)")


class UnsatisfiedConstraint(Exception):
    """A witness violates a constraint; `index` and `gadget` name the first one that fails."""

    def __init__(self, failure: ConstraintFailure):
        super().__init__(failure.describe())
        self.failure = failure
        self.index = failure.index
        self.gadget = failure.gadget


# ---------------------------------------------------------------------------------------------------
# Linear combinations


def _coerce(value: "LinearCombination | int") -> "LinearCombination":
    if isinstance(value, LinearCombination):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return LinearCombination._constant(int(value) % R)
    raise TypeError(f"expected a LinearCombination or an int, got {type(value).__name__}")


def as_lc(value: "LinearCombination | int") -> "LinearCombination":
    """`value` as a LinearCombination (an int becomes a constant, reduced mod r)."""
    return _coerce(value)


class LinearCombination:
    """Σ coeff·wire over F_r, wire 0 being the constant 1. Immutable; free to add, subtract and scale.

    Multiplying two linear combinations needs a constraint, so `lc * lc` is refused: use `cs.mul`.
    `terms` maps (builder-internal) wire ids to nonzero coefficients in [1, r).
    """

    __slots__ = ("terms", "_frozen", "_slot")

    def __init__(self, terms: dict[int, int]):
        self.terms = terms
        self._frozen = None
        self._slot = None     # (builder token, solver slot) once a builder has evaluated it

    @classmethod
    def _constant(cls, value: int) -> "LinearCombination":
        value %= R
        return cls({0: value} if value else {})

    @classmethod
    def _wire(cls, wire: int) -> "LinearCombination":
        return cls({wire: 1})

    # --- inspection ---
    def is_constant(self) -> bool:
        return not self.terms or (len(self.terms) == 1 and 0 in self.terms)

    @property
    def constant_value(self) -> int:
        """The value of a constant combination (ValueError if it has wires)."""
        if not self.is_constant():
            raise ValueError("linear combination is not a constant")
        return self.terms.get(0, 0)

    @property
    def single_wire(self) -> int | None:
        """The wire id if this is exactly 1·wire (not the constant wire), else None."""
        if len(self.terms) == 1:
            (wire, coeff), = self.terms.items()
            if wire != 0 and coeff == 1:
                return wire
        return None

    def key(self) -> tuple:
        """A hashable canonical form (for bookkeeping such as known ranges)."""
        if self._frozen is None:
            items = sorted(self.terms.items())
            self._frozen = (tuple(w for w, _ in items), tuple(c for _, c in items))
        return self._frozen

    def evaluate(self, values: Sequence[int]) -> int:
        """Value under a builder-internal wire assignment (`values[0]` must be 1)."""
        return sum(c * values[w] for w, c in self.terms.items()) % R

    # --- arithmetic (no constraints) ---
    def __add__(self, other):
        try:
            other = _coerce(other)
        except TypeError:
            return NotImplemented
        if len(other.terms) > len(self.terms):
            big, small = other.terms, self.terms
        else:
            big, small = self.terms, other.terms
        terms = dict(big)
        for wire, coeff in small.items():
            total = (terms.get(wire, 0) + coeff) % R
            if total:
                terms[wire] = total
            else:
                terms.pop(wire, None)
        return LinearCombination(terms)

    __radd__ = __add__

    def __neg__(self):
        return LinearCombination({w: R - c for w, c in self.terms.items()})

    def __sub__(self, other):
        try:
            other = _coerce(other)
        except TypeError:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other):
        try:
            other = _coerce(other)
        except TypeError:
            return NotImplemented
        return other + (-self)

    def __mul__(self, scalar):
        if isinstance(scalar, LinearCombination):
            if scalar.is_constant():
                return self * scalar.constant_value
            if self.is_constant():
                return scalar * self.constant_value
            raise TypeError("multiplying two linear combinations needs a constraint: use cs.mul(a, b)")
        if not isinstance(scalar, (int, np.integer)) or isinstance(scalar, bool):
            return NotImplemented
        scalar = int(scalar) % R
        if scalar == 0:
            return LinearCombination({})
        if scalar == 1:
            return self
        return LinearCombination({w: c * scalar % R for w, c in self.terms.items()})

    __rmul__ = __mul__

    def __eq__(self, other):
        try:
            other = _coerce(other)
        except TypeError:
            return NotImplemented
        return self.terms == other.terms

    __hash__ = None  # mutable-looking dict inside; compare, never hash

    def __bool__(self):
        raise TypeError("a LinearCombination has no truth value: compare values natively, "
                        "or constrain with cs.assert_equal / gadgets.is_equal")

    def __repr__(self):
        parts = []
        for wire, coeff in sorted(self.terms.items()):
            c = coeff if coeff <= R // 2 else coeff - R
            parts.append(f"{c}" if wire == 0 else f"{c}*w{wire}")
        return "LC(" + (" + ".join(parts) if parts else "0") + ")"


LinearLike = Union[LinearCombination, int]


def linear_sum(values: Iterable[LinearLike], coeffs: Iterable[int] | None = None) -> LinearCombination:
    """Σ coeffs[i]·values[i] (Σ values[i] without coeffs) in one pass: linear in the number of terms,
    where repeated `+` copies the growing combination each time."""
    terms: dict[int, int] = {}
    get = terms.get
    if coeffs is None:
        for value in values:
            for wire, c in _coerce(value).terms.items():
                terms[wire] = get(wire, 0) + c
    else:
        for value, k in zip(values, coeffs):
            k = int(k) % R
            if k:
                for wire, c in _coerce(value).terms.items():
                    terms[wire] = get(wire, 0) + c * k
    return LinearCombination({w: c % R for w, c in terms.items() if c % R})


# ---------------------------------------------------------------------------------------------------
# Compiled data


@dataclass(frozen=True, eq=False)
class SparseMatrix:
    """One of A, B, C in CSR form over the compiled wire layout (see the module docstring)."""

    indptr: np.ndarray   # int64, n_rows + 1
    indices: np.ndarray  # int64, nnz: wire numbers
    coeffs: np.ndarray   # uint64, (nnz, 4): standard-form little-endian limbs

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @cached_property
    def coeff_table(self) -> tuple[list[int], np.ndarray]:
        """(distinct coefficients as Python ints, int32 index into them per term): circuits reuse few
        coefficients, so this is how the Python-int views stay small. Seeded by compile; derived otherwise."""
        if self.nnz == 0:
            return [], np.zeros(0, dtype=np.int32)
        distinct, ids = np.unique(np.ascontiguousarray(self.coeffs), axis=0, return_inverse=True)
        return limbs_to_ints(distinct), ids.reshape(-1).astype(np.int32)

    @cached_property
    def coeff_ints(self) -> list[int]:
        """Coefficients as Python ints, one per term (cached)."""
        table, ids = self.coeff_table
        return list(map(table.__getitem__, ids.tolist()))

    def row(self, i: int) -> list[tuple[int, int]]:
        """Terms (wire, coefficient) of row i."""
        s, e = int(self.indptr[i]), int(self.indptr[i + 1])
        table, ids = self.coeff_table
        return [(w, table[k]) for w, k in zip(self.indices[s:e].tolist(), ids[s:e].tolist())]

    @cached_property
    def _coeff_objects(self) -> np.ndarray:
        table, ids = self.coeff_table
        return _object_array(table)[ids] if len(ids) else np.zeros(0, dtype=object)

    def dot_rows(self, z: Sequence[int] | np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """(M·z)_i for every row (or for the given row indices), reduced mod r, as a 1-D object array of
        ints. Rows go in chunks so the temporary products stay small."""
        z_objects = z if isinstance(z, np.ndarray) and z.dtype == object else _object_array(z)
        ptr, indices, coeffs = self.indptr, self.indices, self._coeff_objects
        selected = np.arange(self.n_rows, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(selected), dtype=object)
        chunk = 1 << 16
        for c0 in range(0, len(selected), chunk):
            chunk_rows = selected[c0:c0 + chunk]
            starts, ends = ptr[chunk_rows], ptr[chunk_rows + 1]
            counts = ends - starts
            total = int(counts.sum())
            if total == 0:
                continue
            # Term positions of the selected rows, row after row.
            first = np.concatenate([[0], np.cumsum(counts)[:-1]])
            terms = np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)
            products = coeffs[terms] * z_objects[indices[terms]]
            nonempty = counts > 0
            sums = np.add.reduceat(products, first[nonempty])
            block = out[c0:c0 + chunk]
            block[nonempty] = sums % R
        return out

    def __eq__(self, other):
        if not isinstance(other, SparseMatrix):
            return NotImplemented
        return (np.array_equal(self.indptr, other.indptr) and np.array_equal(self.indices, other.indices)
                and np.array_equal(self.coeffs, other.coeffs))

    __hash__ = None


@dataclass(frozen=True, eq=False)
class R1CS:
    """A rank-1 constraint system A·z ∘ B·z = C·z over F_r, in the circom wire layout.

    `constraint_gadget[i]` indexes `gadget_names`: the gadget path that made constraint i (annotations only:
    equality and the iden3 file ignore them). `wire_labels[i]` is the label id of wire i (iden3 section 3).
    `n_private_inputs` is the declared count: circom's optimiser removes private inputs that are unused or
    only linearly used from the wires but still counts them (as snarkjs does, only public counts must fit).
    """

    n_wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    a: SparseMatrix
    b: SparseMatrix
    c: SparseMatrix
    wire_labels: np.ndarray          # uint64, n_wires
    n_labels: int
    constraint_gadget: np.ndarray    # int32, n_constraints
    gadget_names: tuple[str, ...] = (TOP_LEVEL,)

    def __post_init__(self):
        m = self.a.n_rows
        if self.b.n_rows != m or self.c.n_rows != m:
            raise ValueError("A, B and C must have the same number of rows")
        if len(self.constraint_gadget) != m:
            raise ValueError("constraint_gadget must have one entry per constraint")
        if 1 + self.n_public_outputs + self.n_public_inputs > self.n_wires:
            raise ValueError("more public outputs and inputs than wires after the constant one")
        for name, matrix in (("A", self.a), ("B", self.b), ("C", self.c)):
            if matrix.indptr[0] != 0 or matrix.indptr[-1] != matrix.nnz or matrix.coeffs.shape != (matrix.nnz, 4):
                raise ValueError(f"matrix {name} is not consistent CSR with (nnz, 4) coefficient limbs")
            if matrix.nnz and not 0 <= int(matrix.indices.min()) <= int(matrix.indices.max()) < self.n_wires:
                raise ValueError(f"matrix {name} refers to a wire outside 0..{self.n_wires - 1}")

    @property
    def n_constraints(self) -> int:
        return self.a.n_rows

    @property
    def n_public(self) -> int:
        """Public outputs + public inputs: the Groth16 statement (wires 1..n_public)."""
        return self.n_public_outputs + self.n_public_inputs

    def gadget_of(self, index: int) -> str:
        return self.gadget_names[int(self.constraint_gadget[index])]

    def __eq__(self, other):
        if not isinstance(other, R1CS):
            return NotImplemented
        return ((self.n_wires, self.n_public_outputs, self.n_public_inputs, self.n_private_inputs,
                 self.n_labels)
                == (other.n_wires, other.n_public_outputs, other.n_public_inputs, other.n_private_inputs,
                    other.n_labels)
                and self.a == other.a and self.b == other.b and self.c == other.c
                and np.array_equal(self.wire_labels, other.wire_labels))

    __hash__ = None


# ---------------------------------------------------------------------------------------------------
# Field-element conversions


def ints_to_limbs(values: Iterable[int]) -> np.ndarray:
    """Python ints in [0, r) -> (n, 4) uint64 little-endian limbs (standard form)."""
    data = b"".join(v.to_bytes(FIELD_BYTES, "little") for v in values)
    return np.frombuffer(data, dtype="<u8").reshape(-1, 4).astype(np.uint64, copy=True)


def limbs_to_ints(limbs: np.ndarray) -> list[int]:
    """(n, 4) uint64 little-endian limbs -> Python ints."""
    raw = np.ascontiguousarray(limbs, dtype="<u8").tobytes()
    from_bytes = int.from_bytes
    return [from_bytes(raw[i:i + FIELD_BYTES], "little") for i in range(0, len(raw), FIELD_BYTES)]


# ---------------------------------------------------------------------------------------------------
# Satisfaction


def validate_witness(r1cs: R1CS, witness: Sequence[int]) -> list[int]:
    """Return the witness as a list of ints, or raise InvalidWitness naming what is wrong."""
    if len(witness) != r1cs.n_wires:
        raise InvalidWitness(f"witness has {len(witness)} values but the R1CS has {r1cs.n_wires} wires")
    values = witness if isinstance(witness, list) else list(witness)
    if not all(type(v) is int for v in values):
        converted = []
        for i, v in enumerate(values):
            try:
                converted.append(operator.index(v))
            except TypeError:
                raise InvalidWitness(f"witness value {i} is a {type(v).__name__}, not an integer") from None
        values = converted
    if values and (min(values) < 0 or max(values) >= R):
        i = next(i for i, v in enumerate(values) if not 0 <= v < R)
        raise InvalidWitness(f"witness value {i} = {values[i]} is outside [0, r)")
    if values and values[0] != 1:
        raise InvalidWitness(f"witness value 0 (the constant wire) must be 1, got {values[0]}")
    return values


def _object_array(values: Sequence[int]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def first_failure(r1cs: R1CS, witness: Sequence[int], rows: np.ndarray | None = None) -> ConstraintFailure | None:
    """The first violated constraint (index order), or None if the witness satisfies every one
    (every one of `rows`, an increasing array of constraint indices, when given)."""
    z = _object_array(validate_witness(r1cs, witness))
    a_values = r1cs.a.dot_rows(z, rows)
    b_values = r1cs.b.dot_rows(z, rows)
    c_values = r1cs.c.dot_rows(z, rows)
    failing = np.flatnonzero((a_values * b_values - c_values) % R)
    if len(failing) == 0:
        return None
    k = int(failing[0])
    i = k if rows is None else int(rows[k])
    return ConstraintFailure(i, r1cs.gadget_of(i), int(a_values[k]), int(b_values[k]), int(c_values[k]))


def is_satisfied(r1cs: R1CS, witness: Sequence[int]) -> bool:
    """True if the witness satisfies every constraint; otherwise raise UnsatisfiedConstraint naming the
    first failing constraint and its gadget. A malformed witness raises InvalidWitness (a ValueError)."""
    failure = first_failure(r1cs, witness)
    if failure is not None:
        raise UnsatisfiedConstraint(failure)
    return True


# ---------------------------------------------------------------------------------------------------
# Builder


class _CoefficientIds(dict):
    """Coefficient value -> id, numbering each distinct value the first time it is looked up."""

    __slots__ = ()

    def __missing__(self, value: int) -> int:
        self[value] = index = len(self)
        return index


@dataclass(frozen=True)
class InputDecl:
    """A named input (scalar or array) and its builder-internal wire ids."""

    name: str
    kind: int          # PUBLIC_INPUT or PRIVATE_INPUT
    wires: tuple[int, ...]
    is_array: bool


class ConstraintSystem:
    """Build an R1CS the way one writes a circom template or a gnark circuit.

    Values are `LinearCombination`s (or ints, read as constants). Linear operations are free; each `mul`,
    assertion or hint-check adds constraints, labelled with the current `gadget(...)` path.
    """

    def __init__(self):
        self._kinds = bytearray([ONE])        # per internal wire
        self._wire_gadget = array("i", [0])  # per internal wire: gadget that created it
        self._inputs: dict[str, InputDecl] = {}
        self._outputs: list[tuple[str, int]] = []
        # Constraints, flat: for M in A, B, C: row pointers, wire ids, coefficients.
        self._ptr = [array("q", [0]), array("q", [0]), array("q", [0])]
        self._wires = [array("q"), array("q"), array("q")]
        self._coeffs = [array("i"), array("i"), array("i")]   # per term: its coefficient's id
        self._coefficient_ids = _CoefficientIds()
        self._last_row = None   # (terms, wires, ids) of the last long combination put into a row
        self._constraint_gadget = array("i")
        self._defining = bytearray()   # per constraint: 1 if its step's output satisfies it by construction
        self._child_ids: dict[tuple[int, str], int] = {}
        self._gadget_ids: dict[str, int] = {TOP_LEVEL: 0}
        self._gadget_names: list[str] = [TOP_LEVEL]
        self._current_gadget = 0
        self._program: list[tuple] = []
        self._token = object()    # tells this builder's solver slots from another's on shared LCs
        # Known ranges: per wire (0 = unknown, else n_bits + 1) and, for other combinations, by key.
        self._wire_bits = bytearray(1)
        self._known_bits: dict[tuple, int] = {}
        # One int object per distinct coefficient of the solve program: circuits reuse few (powers of two,
        # MDS entries, r − 1). The constraints store coefficient ids (_coefficient_ids) instead.
        self._interned: dict[int, int] = {}

    # --- wires and inputs -----------------------------------------------------------------------
    @property
    def one(self) -> LinearCombination:
        return LinearCombination._wire(0)

    @staticmethod
    def constant(value: int) -> LinearCombination:
        return LinearCombination._constant(value)

    @property
    def n_wires(self) -> int:
        return len(self._kinds)

    @property
    def n_constraints(self) -> int:
        return len(self._constraint_gadget)

    def _freeze(self, value: LinearCombination) -> tuple[tuple[int, ...], tuple[int, ...]]:
        wires, coeffs = value.key()
        intern = self._interned.setdefault
        return wires, tuple([intern(v, v) for v in coeffs])

    def _new_wire(self, kind: int = INTERNAL) -> int:
        self._kinds.append(kind)
        self._wire_gadget.append(self._current_gadget)
        self._wire_bits.append(0)
        return len(self._kinds) - 1

    def _declare(self, name: str, kind: int, n: int | None) -> InputDecl:
        if not isinstance(name, str) or not name:
            raise ConstraintSystemError("an input needs a non-empty name")
        if name in self._inputs or any(name == out for out, _ in self._outputs):
            raise ConstraintSystemError(f"name {name!r} is already declared")
        count = 1 if n is None else n
        if count < 0:
            raise ConstraintSystemError(f"input array {name!r} cannot have negative length")
        decl = InputDecl(name, kind, tuple(self._new_wire(kind) for _ in range(count)), n is not None)
        self._inputs[name] = decl
        return decl

    def public_input(self, name: str) -> LinearCombination:
        return LinearCombination._wire(self._declare(name, PUBLIC_INPUT, None).wires[0])

    def private_input(self, name: str) -> LinearCombination:
        return LinearCombination._wire(self._declare(name, PRIVATE_INPUT, None).wires[0])

    def public_inputs(self, name: str, n: int) -> list[LinearCombination]:
        return [LinearCombination._wire(w) for w in self._declare(name, PUBLIC_INPUT, n).wires]

    def private_inputs(self, name: str, n: int) -> list[LinearCombination]:
        return [LinearCombination._wire(w) for w in self._declare(name, PRIVATE_INPUT, n).wires]

    def public_output(self, name: str, value: LinearLike) -> LinearCombination:
        """Expose `value` as a public output. An internal wire is promoted in place (no constraint);
        anything else gets a fresh output wire and one linear constraint."""
        if name in self._inputs or any(name == out for out, _ in self._outputs):
            raise ConstraintSystemError(f"name {name!r} is already declared")
        value = _coerce(value)
        wire = value.single_wire
        if wire is not None and self._kinds[wire] == INTERNAL:
            self._kinds[wire] = PUBLIC_OUTPUT
        else:
            wire = self._new_wire(PUBLIC_OUTPUT)
            self._program.append((_LIN, wire, *self._freeze(value)))
            self._add_constraint(value.terms, {0: 1}, {wire: 1}, None, 1)
        self._outputs.append((name, wire))
        return LinearCombination._wire(wire)

    # --- gadget labels --------------------------------------------------------------------------
    def _child_gadget(self, name: str) -> int:
        """Id of the gadget path `current/name` (created on first use)."""
        key = (self._current_gadget, name)
        gid = self._child_ids.get(key)
        if gid is None:
            parent = self._gadget_names[self._current_gadget] if self._current_gadget else ""
            path = f"{parent}/{name}" if parent else name
            gid = self._gadget_ids.get(path)
            if gid is None:
                gid = len(self._gadget_names)
                self._gadget_ids[path] = gid
                self._gadget_names.append(path)
            self._child_ids[key] = gid
        return gid

    @contextmanager
    def gadget(self, name: str) -> Iterator[None]:
        """Label the constraints made inside with `outer/name` (names nest)."""
        previous = self._current_gadget
        self._current_gadget = self._child_gadget(name)
        try:
            yield
        finally:
            self._current_gadget = previous

    @property
    def current_gadget(self) -> str:
        return self._gadget_names[self._current_gadget]

    # --- raw constraints --------------------------------------------------------------------------
    def _add_constraint(self, a: Mapping[int, int], b: Mapping[int, int], c: Mapping[int, int],
                        gadget: int | None = None, defining: int = 0) -> None:
        coefficient_id = self._coefficient_ids.__getitem__
        (wa, wb, wc), (ca, cb, cc), (pa, pb, pc) = self._wires, self._coeffs, self._ptr
        if len(a) > 2:   # a long operand, as x in x·x and x⁴·x (Poseidon): converted once for both rows
            wires, ids = self._row_arrays(a)
            wa.extend(wires)
            ca.extend(ids)
        else:
            wa.extend(a)
            ca.extend(map(coefficient_id, a.values()))
        pa.append(len(wa))
        if len(b) > 2:
            wires, ids = self._row_arrays(b)
            wb.extend(wires)
            cb.extend(ids)
        else:
            wb.extend(b)
            cb.extend(map(coefficient_id, b.values()))
        pb.append(len(wb))
        wc.extend(c)
        cc.extend(map(coefficient_id, c.values()))
        pc.append(len(wc))
        self._constraint_gadget.append(self._current_gadget if gadget is None else gadget)
        self._defining.append(defining)

    def _row_arrays(self, terms: Mapping[int, int]) -> tuple[array, array]:
        """(wire ids, coefficient ids) of a combination's terms, kept for the last long combination seen:
        gadgets often put one combination in several places of consecutive rows (x·x = x², x⁴·x = x⁵)."""
        last = self._last_row
        if last is not None and last[0] is terms:
            return last[1], last[2]
        wires = array("q", terms)
        ids = array("i", map(self._coefficient_ids.__getitem__, terms.values()))
        self._last_row = (terms, wires, ids)
        return wires, ids

    def assert_product(self, a: LinearLike, b: LinearLike, c: LinearLike, *, holds_by_construction: bool = False) -> None:
        """Constrain a·b = c (one R1CS row). Every wire in it must already be defined (input, mul, hint).

        `holds_by_construction` says that the hint defining c computed it as exactly this product of the
        same values, for every input (as the Poseidon S-box trace does): `solve`'s check then skips the row,
        as it skips the rows of `mul`. The row is in the R1CS all the same, and `is_satisfied`, the
        under-constraint checker and the prover check it. Never set it for a row that can fail."""
        a, b, c = _coerce(a), _coerce(b), _coerce(c)
        if a.is_constant() and b.is_constant() and c.is_constant():
            if a.constant_value * b.constant_value % R != c.constant_value:
                raise ConstraintSystemError(f"assert_product of constants fails in gadget {self.current_gadget}")
            return
        self._add_constraint(a.terms, b.terms, c.terms, None, 1 if holds_by_construction else 0)

    # --- arithmetic -------------------------------------------------------------------------------
    @staticmethod
    def add(*values: LinearLike) -> LinearCombination:
        return linear_sum(values)

    @staticmethod
    def sub(a: LinearLike, b: LinearLike) -> LinearCombination:
        return _coerce(a) - _coerce(b)

    def mul(self, a: LinearLike, b: LinearLike) -> LinearCombination:
        """a·b: free if either is a constant, else one constraint a·b = out on a new wire."""
        a, b = _coerce(a), _coerce(b)
        if a.is_constant():
            return b * a.constant_value
        if b.is_constant():
            return a * b.constant_value
        wa, wb = self._operand(a), self._operand(b)
        out = self._new_wire()
        self._program.append((_MUL_WW, out, wa, wb))
        self._add_constraint(a.terms, b.terms, {out: 1}, None, 1)
        return LinearCombination._wire(out)

    def _operand_or_constant(self, value: LinearCombination) -> int:
        """Like _operand, but constants too (wire 0 holds 1; other constants get a slot)."""
        if value.is_constant():
            if value.constant_value == 1:
                return 0
            slot_id = self._new_wire(SCRATCH)
            self._program.append((_LIN, slot_id, *self._freeze(value)))
            return slot_id
        return self._operand(value)

    def _operand(self, value: LinearCombination) -> int:
        """The wire or solver slot holding value's value, adding a slot (evaluated once per solve) for a
        multi-term combination: an S-box input x read by x·x and x⁴·x is summed once, not three times."""
        wire = value.single_wire
        if wire is not None:
            return wire
        slot = value._slot
        if slot is not None and slot[0] is self._token:
            return slot[1]
        slot_id = self._new_wire(SCRATCH)
        self._program.append((_LIN, slot_id, *self._freeze(value)))
        value._slot = (self._token, slot_id)
        return slot_id

    def to_wire(self, value: LinearLike) -> LinearCombination:
        """A fresh wire equal to `value` (one linear constraint); use to cut long combinations."""
        value = _coerce(value)
        out = self._new_wire()
        self._program.append((_LIN, out, *self._freeze(value)))
        self._add_constraint(value.terms, {0: 1}, {out: 1}, None, 1)
        if value._slot is None:
            value._slot = (self._token, out)
        return LinearCombination._wire(out)

    def hint(self, fn: Callable[..., int | Sequence[int]], inputs: Sequence[LinearLike],
             n_outputs: int = 1) -> list[LinearCombination]:
        """New wires computed at solve time as fn(*input values) (ints; results are reduced mod r).

        A hint adds NO constraint: its outputs are free until the caller constrains them. `fn` must be
        a pure function of its arguments (and picklable if the circuit is to be pickled).
        """
        if n_outputs < 1:
            raise ConstraintSystemError("a hint must produce at least one wire")
        sources = tuple(self._operand_or_constant(_coerce(x)) for x in inputs)
        outs = tuple(self._new_wire() for _ in range(n_outputs))
        self._program.append((_HINT, fn, sources, outs, self.current_gadget))
        return [LinearCombination._wire(w) for w in outs]

    def inverse(self, x: LinearLike) -> LinearCombination:
        """1/x, with x·inv = 1 (so x = 0 is unsatisfiable). One constraint."""
        x = _coerce(x)
        if x.is_constant():
            if x.constant_value == 0:
                raise ConstraintSystemError("inverse of the constant 0")
            return LinearCombination._constant(pow(x.constant_value, -1, R))
        with self.gadget("inverse"):
            inv, = self.hint(_field_inverse, [x])
            self.assert_product(x, inv, 1)
        return inv

    def div(self, a: LinearLike, b: LinearLike) -> LinearCombination:
        """a/b with b ≠ 0 enforced (two constraints; one if a or b is constant)."""
        a, b = _coerce(a), _coerce(b)
        if b.is_constant():
            if b.constant_value == 0:
                raise ConstraintSystemError("division by the constant 0")
            return a * pow(b.constant_value, -1, R)
        with self.gadget("div"):
            return self.mul(a, self.inverse(b))

    # --- assertions -------------------------------------------------------------------------------
    def assert_equal(self, a: LinearLike, b: LinearLike) -> None:
        """a = b: one linear constraint (none if identical; an error if two different constants)."""
        diff = _coerce(a) - _coerce(b)
        if diff.is_constant():
            if diff.constant_value:
                raise ConstraintSystemError(f"assert_equal of unequal constants in gadget {self.current_gadget}")
            return
        self._add_constraint(diff.terms, {0: 1}, {})

    def assert_zero(self, a: LinearLike) -> None:
        self.assert_equal(a, 0)

    def assert_bool(self, a: LinearLike) -> None:
        """a ∈ {0, 1}: a·(a − 1) = 0. Skipped if constraints already force it."""
        a = _coerce(a)
        wire = a.single_wire
        if wire is not None:   # the common case, kept fast: bits of decompositions
            if 0 < self._wire_bits[wire] <= 2:
                return
            self._add_constraint({wire: 1}, {wire: 1, 0: _MINUS_ONE}, {}, self._child_gadget("assert_bool"))
            self._wire_bits[wire] = 2
            return
        if a.is_constant():
            if a.constant_value not in (0, 1):
                raise ConstraintSystemError(f"assert_bool of the constant {a.constant_value}")
            return
        known = self.known_bits(a)
        if known is not None and known <= 1:
            return
        self._add_constraint(a.terms, (a - 1).terms, {}, self._child_gadget("assert_bool"))
        self.mark_range_checked(a, 1)

    def assert_nonzero(self, a: LinearLike) -> None:
        """a ≠ 0 (one constraint: a has an inverse)."""
        self.inverse(a)

    def select(self, cond: LinearLike, if_true: LinearLike, if_false: LinearLike) -> LinearCombination:
        """cond ? if_true : if_false = if_false + cond·(if_true − if_false); asserts cond is boolean."""
        cond, if_true, if_false = _coerce(cond), _coerce(if_true), _coerce(if_false)
        if cond.is_constant():
            if cond.constant_value not in (0, 1):
                raise ConstraintSystemError("select on a non-boolean constant")
            return if_true if cond.constant_value else if_false
        with self.gadget("select"):
            self.assert_bool(cond)
            return if_false + self.mul(cond, if_true - if_false)

    # --- range bookkeeping ------------------------------------------------------------------------
    def known_bits(self, value: LinearLike) -> int | None:
        """The smallest n such that constraints already added force value < 2**n, if recorded."""
        value = _coerce(value)
        if value.is_constant():
            return value.constant_value.bit_length()
        wire = value.single_wire
        if wire is not None:
            code = self._wire_bits[wire]
            return code - 1 if code else None
        return self._known_bits.get(value.key())

    def mark_range_checked(self, value: LinearLike, n_bits: int) -> None:
        """Record that constraints ALREADY ADDED force value < 2**n_bits, so later gadgets may skip their
        own range check. Calling this without such constraints makes circuits unsound."""
        if not 0 <= n_bits <= 254:
            raise ConstraintSystemError(f"cannot record a range of {n_bits} bits")
        value = _coerce(value)
        if value.is_constant():
            return
        old = self.known_bits(value)
        if old is not None and old <= n_bits:
            return
        wire = value.single_wire
        if wire is not None:
            self._wire_bits[wire] = n_bits + 1
        else:
            self._known_bits[value.key()] = n_bits

    # --- compile ----------------------------------------------------------------------------------
    def compile(self) -> "CompiledCircuit":
        """Fix the wire layout and produce the R1CS and the solve program (reusable for any witness)."""
        kinds = np.frombuffer(bytes(self._kinds), dtype=np.uint8)
        # Final order: one, outputs (declaration order), public inputs, private inputs, internal.
        outputs = [w for _, w in self._outputs]
        public_inputs = [w for d in self._inputs.values() if d.kind == PUBLIC_INPUT for w in d.wires]
        private_inputs = [w for d in self._inputs.values() if d.kind == PRIVATE_INPUT for w in d.wires]
        internal = np.nonzero(kinds == INTERNAL)[0]
        order = np.concatenate([np.array([0] + outputs + public_inputs + private_inputs, dtype=np.int64),
                                internal.astype(np.int64)])
        assert len(order) == int(np.count_nonzero(kinds != SCRATCH))
        position = np.full(len(kinds), -1, dtype=np.int64)
        position[order] = np.arange(len(order), dtype=np.int64)

        # Every stored coefficient has an id: the table lists them in id order.
        table = list(self._coefficient_ids)
        table_limbs = ints_to_limbs(table) if table else np.zeros((0, 4), dtype=np.uint64)
        matrices = []
        for m in range(3):
            ptr = np.frombuffer(self._ptr[m], dtype=np.int64).copy()
            wires = position[np.frombuffer(self._wires[m], dtype=np.int64)] if len(self._wires[m]) else \
                np.zeros(0, dtype=np.int64)
            ids = np.frombuffer(self._coeffs[m], dtype=np.int32).copy() if len(self._coeffs[m]) else \
                np.zeros(0, dtype=np.int32)
            # Terms keep the order they were built in (iden3 readers do not require sorted rows).
            matrix = SparseMatrix(ptr, wires, table_limbs[ids])
            matrix.__dict__["coeff_table"] = (table, ids)   # seed the cache: no reconversion later
            matrices.append(matrix)

        r1cs = R1CS(
            n_wires=len(order),
            n_public_outputs=len(outputs),
            n_public_inputs=len(public_inputs),
            n_private_inputs=len(private_inputs),
            a=matrices[0], b=matrices[1], c=matrices[2],
            wire_labels=order.astype(np.uint64),
            n_labels=len(order),
            constraint_gadget=np.frombuffer(self._constraint_gadget, dtype=np.int32).copy(),
            gadget_names=tuple(self._gadget_names),
        )
        return CompiledCircuit(
            r1cs=r1cs,
            program=tuple(self._program),
            order=tuple(order.tolist()),
            inputs=tuple(self._inputs.values()),
            outputs=tuple(self._outputs),
            n_slots=len(kinds),
            assertion_rows=np.flatnonzero(np.frombuffer(bytes(self._defining), dtype=np.uint8) == 0),
            wire_gadget=tuple(self._gadget_names[g] for g in self._wire_gadget),
        )


def _field_inverse(x: int) -> int:
    return pow(x, -1, R) if x else 0


# ---------------------------------------------------------------------------------------------------
# Solving


@dataclass(frozen=True, eq=False)
class CompiledCircuit:
    """An R1CS plus the recorded solve program; `solve` fills a witness for new input values."""

    r1cs: R1CS
    program: tuple
    order: tuple[int, ...]                    # final wire i is internal wire order[i]
    inputs: tuple[InputDecl, ...]
    outputs: tuple[tuple[str, int], ...]      # (name, internal wire)
    n_slots: int = 0                          # internal wires + solver scratch slots
    assertion_rows: np.ndarray | None = None  # constraints not satisfied by construction (None: all)
    wire_gadget: tuple[str, ...] = ()         # per internal wire: the gadget path that created it

    @property
    def public_names(self) -> list[str]:
        """Names of wires 1..n_public, in order (outputs, then public inputs; arrays expanded)."""
        names = [name for name, _ in self.outputs]
        for d in self.inputs:
            if d.kind == PUBLIC_INPUT:
                names.extend(f"{d.name}[{i}]" for i in range(len(d.wires))) if d.is_array else names.append(d.name)
        return names

    def solve_internal(self, assignment: Mapping[str, int | Sequence[int]],
                       overrides: Mapping[int, int] | None = None) -> list[int]:
        """Builder-internal wire values (wire ids as in LinearCombination.terms). `overrides` forces the
        given internal wires to values right after their defining step (used by the under-constraint
        checker to simulate a cheating prover who then computes everything else honestly)."""
        w = [0] * max(self.n_slots, len(self.order))
        w[0] = 1
        for wire, v in self.input_wire_values(assignment):
            w[wire] = v
        if overrides:
            for wire, v in overrides.items():
                if self._is_input_wire(wire):
                    w[wire] = v % R
            _replay(self.program, w, {k: v % R for k, v in overrides.items()})
        else:
            _replay(self.program, w, None)
        return w

    def input_wire_values(self, assignment: Mapping[str, int | Sequence[int]]) -> list[tuple[int, int]]:
        """(internal wire, value) of every input wire, from `assignment` (see `solve`); InvalidAssignment
        names a missing or unknown input, or a value that is not an integer in [0, r)."""
        pairs = []
        given = set()
        for d in self.inputs:
            if d.name not in assignment:
                raise InvalidAssignment(f"missing value for input {d.name!r}")
            pairs.extend(zip(d.wires, _input_values(d, assignment[d.name])))
            given.add(d.name)
        unknown = set(assignment) - given
        if unknown:
            raise InvalidAssignment(f"unknown input name(s): {', '.join(sorted(map(str, unknown)))}")
        return pairs

    def _is_input_wire(self, wire: int) -> bool:
        return any(wire in d.wires for d in self.inputs)

    def to_layout(self, internal_values: Sequence[int]) -> list[int]:
        """Builder-internal values -> the compiled wire layout (the witness vector)."""
        return list(map(internal_values.__getitem__, self.order))

    def solve(self, assignment: Mapping[str, int | Sequence[int]], *, check: bool = True) -> list[int]:
        """The witness vector z (compiled layout) for these input values.

        `assignment` maps each declared input name to an int (arrays: a sequence of ints), each in [0, r).
        With `check` (default), UnsatisfiedConstraint names the first failing constraint, e.g. a value
        too wide for a range check. Only assertion rows are evaluated: a row made by `mul`, `to_wire` or
        `public_output` holds by construction of the value its step just computed (is_satisfied checks
        every row, independently of the solver).
        """
        witness = self.to_layout(self.solve_internal(assignment))
        if check:
            failure = first_failure(self.r1cs, witness, self.assertion_rows)
            if failure is not None:
                raise UnsatisfiedConstraint(failure)
        return witness

    def output_values(self, witness: Sequence[int]) -> dict[str, int]:
        return {name: witness[1 + i] for i, (name, _) in enumerate(self.outputs)}


def _input_values(d: InputDecl, value) -> list[int]:
    if d.is_array:
        if isinstance(value, (int, np.integer)) or not hasattr(value, "__len__"):
            raise InvalidAssignment(f"input {d.name!r} is an array of {len(d.wires)}: give a sequence")
        if len(value) != len(d.wires):
            raise InvalidAssignment(f"input {d.name!r} needs {len(d.wires)} values, got {len(value)}")
        values = list(value)
    else:
        values = [value]
    out = []
    for i, v in enumerate(values):
        label = f"{d.name}[{i}]" if d.is_array else d.name
        try:
            v = operator.index(v)
        except TypeError:
            raise InvalidAssignment(f"input {label} must be an integer, got {type(v).__name__}") from None
        if not 0 <= v < R:
            raise InvalidAssignment(f"input {label} = {v} is outside [0, r)")
        out.append(v)
    return out


def _replay(program: tuple, w: list[int], overrides: dict[int, int] | None) -> None:
    """Run the solve program over the internal value list `w` in place."""
    mul = operator.mul
    get = w.__getitem__
    r = R
    for step in program:
        kind = step[0]
        if kind == _MUL_WW:
            w[step[1]] = w[step[2]] * w[step[3]] % r
        elif kind == _LIN:
            _, out, lw, lc = step
            w[out] = sum(map(mul, lc, map(get, lw))) % r
        else:
            for o, v in zip(step[3], run_hint(step, list(map(get, step[2])))):
                w[o] = v
        if overrides is not None:
            for o in _step_outputs(step):
                if o in overrides:
                    w[o] = overrides[o]


def run_hint(step: tuple, args: list[int]) -> list[int]:
    """The output values (each reduced mod r) of the hint step `step` = (_HINT, fn, sources, outs, gadget)
    on the values `args` of its sources. HintFailed names the hint and its gadget if fn raises or returns
    the wrong number of values. Shared by every solver, so they fail alike."""
    _, fn, _, outs, gadget = step
    try:
        result = fn(*args)
    except Exception as exc:  # a hint's own failure is reported with its gadget
        raise HintFailed(f"hint {getattr(fn, '__name__', fn)!r} in gadget {gadget} raised: {exc!r}") from exc
    if len(outs) == 1 and not isinstance(result, (list, tuple)):
        return [operator.index(result) % R]
    if len(result) != len(outs):
        raise HintFailed(f"hint {getattr(fn, '__name__', fn)!r} in gadget {gadget} returned "
                         f"{len(result)} values, expected {len(outs)}")
    return [operator.index(v) % R for v in result]


def _step_outputs(step: tuple) -> tuple[int, ...]:
    return step[3] if step[0] == _HINT else (step[1],)


def step_outputs(compiled: CompiledCircuit) -> list[tuple[int, ...]]:
    """Internal wires defined by each program step (for tools such as the under-constraint checker)."""
    return [_step_outputs(s) for s in compiled.program]
