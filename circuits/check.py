"""Under-constraint checker: perturb every non-input wire of a gadget's valid witness and report the
perturbations that still satisfy all constraints (a free wire), above all those that change an output.

It finds missing constraints by search, not proof: each perturbation changes one wire, either alone
("single") or followed by an honest recomputation of everything after it ("replayed"). Also the
one-gadget harness gadget tests share: `run_gadget` (outputs, every row checked) and `is_rejected`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from .builder import (R, CompiledCircuit, ConstraintSystem, HintFailed, LinearCombination, UnsatisfiedConstraint,
                      _coerce, first_failure, step_outputs)

GadgetBuilder = Callable[[ConstraintSystem, dict], object]


class UnderConstrained(AssertionError):
    """A gadget has a wire that can change while every constraint still holds."""


@dataclass(frozen=True)
class Perturbation:
    """One tampering of one wire that every constraint accepted."""

    wire: int                  # builder-internal wire id
    gadget: str                # gadget path that created the wire
    kind: str                  # "+1", "-1", "random", "flip"
    mode: str                  # "single" (only this wire) or "replayed" (later wires recomputed)
    value: int                 # the tampered value
    changed_outputs: tuple[str, ...]

    @property
    def changes_output(self) -> bool:
        return bool(self.changed_outputs)

    def describe(self) -> str:
        effect = f"changes output(s) {', '.join(self.changed_outputs)}" if self.changed_outputs else \
            "leaves the outputs unchanged"
        return (f"wire {self.wire} (made by {self.gadget}) set by {self.kind} ({self.mode}) still satisfies "
                f"every constraint and {effect}")


@dataclass(frozen=True)
class CheckReport:
    """What the checker tried and which perturbations survived."""

    n_wires_checked: int
    n_perturbations: int
    findings: tuple[Perturbation, ...]

    @property
    def output_changing(self) -> tuple[Perturbation, ...]:
        return tuple(f for f in self.findings if f.changes_output)

    @property
    def free_wires(self) -> set[int]:
        return {f.wire for f in self.findings}

    def assert_sound(self, *, allow_free: Sequence[str] = ()) -> None:
        """Raise UnderConstrained if a perturbation changes an output, or leaves everything satisfied on a
        wire whose gadget path does not end with one of `allow_free` (documented free wires)."""
        bad = [f for f in self.findings
               if f.changes_output or not any(f.gadget.endswith(name) for name in allow_free)]
        if bad:
            raise UnderConstrained("; ".join(f.describe() for f in bad[:5])
                                   + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""))


def _flatten_outputs(outputs) -> list[tuple[str, LinearCombination]]:
    if outputs is None:
        return []
    if isinstance(outputs, Mapping):
        flat = []
        for name, value in outputs.items():
            flat.extend((f"{name}{sub}", v) for sub, v in _flatten_outputs(value))
        return flat
    if isinstance(outputs, (list, tuple)):
        flat = []
        for i, value in enumerate(outputs):
            flat.extend((f"[{i}]{sub}", v) for sub, v in _flatten_outputs(value))
        return flat
    return [("", _coerce(outputs))]


def build_gadget(build: GadgetBuilder, inputs: Mapping[str, int | Sequence[int]]):
    """Build `build(cs, wires)` on fresh private inputs shaped like `inputs`; return the compiled circuit
    and its outputs as (name, LinearCombination) pairs."""
    cs = ConstraintSystem()
    wires = {}
    for name, value in inputs.items():
        if isinstance(value, (list, tuple)):
            wires[name] = cs.private_inputs(name, len(value))
        else:
            wires[name] = cs.private_input(name)
    outputs = _flatten_outputs(build(cs, wires))
    outputs = [(name or "out", lc) for name, lc in outputs]
    return cs.compile(), outputs


def run_gadget(build: GadgetBuilder, inputs: Mapping[str, int | Sequence[int]]):
    """Output values of `build` on these inputs, after checking EVERY constraint (UnsatisfiedConstraint
    otherwise): one output -> an int, several -> a list in the order returned."""
    compiled, outputs = build_gadget(build, inputs)
    internal = compiled.solve_internal(inputs)
    failure = first_failure(compiled.r1cs, compiled.to_layout(internal))
    if failure is not None:
        raise UnsatisfiedConstraint(failure)
    values = [lc.evaluate(internal) for _, lc in outputs]
    return values[0] if len(values) == 1 and outputs[0][0] == "out" else values


def is_rejected(build: GadgetBuilder, inputs: Mapping[str, int | Sequence[int]]) -> bool:
    """True if no witness the solver finds for these inputs satisfies the gadget."""
    try:
        run_gadget(build, inputs)
    except UnsatisfiedConstraint:
        return True
    return False


def _perturbed_values(value: int, rng: random.Random) -> list[tuple[str, int]]:
    candidates = [("+1", (value + 1) % R), ("-1", (value - 1) % R), ("random", rng.randrange(R))]
    if value in (0, 1):
        candidates.append(("flip", 1 - value))
    seen, out = set(), []
    for kind, v in candidates:
        if v != value and v not in seen:
            seen.add(v)
            out.append((kind, v))
    return out


def _constraint_rows_by_wire(compiled: CompiledCircuit) -> dict[int, np.ndarray]:
    r1cs = compiled.r1cs
    rows_of: dict[int, set[int]] = {}
    for matrix in (r1cs.a, r1cs.b, r1cs.c):
        rows = np.repeat(np.arange(matrix.n_rows), np.diff(matrix.indptr))
        for wire, row in zip(matrix.indices.tolist(), rows.tolist()):
            rows_of.setdefault(wire, set()).add(row)
    return {w: np.array(sorted(rs), dtype=np.int64) for w, rs in rows_of.items()}


def _rows_hold(compiled: CompiledCircuit, rows: np.ndarray, z: list[int]) -> bool:
    r1cs = compiled.r1cs
    for row in rows.tolist():
        a = sum(c * z[w] for w, c in r1cs.a.row(row))
        b = sum(c * z[w] for w, c in r1cs.b.row(row))
        c = sum(k * z[w] for w, k in r1cs.c.row(row))
        if (a * b - c) % R:
            return False
    return True


def check_gadget(build: GadgetBuilder, inputs: Mapping[str, int | Sequence[int]], *,
                 seed: int = 0, replay: bool = True) -> CheckReport:
    """Perturb each non-input wire of the gadget's witness for `inputs` (+1, −1, a random value, and the
    flipped bit for 0/1 wires) and report every perturbation that still satisfies all constraints.

    `build(cs, wires)` gets the input wires by name and returns the outputs (an LC, a list, or a dict).
    The untouched witness must satisfy the gadget (else ValueError).
    """
    compiled, outputs = build_gadget(build, inputs)
    internal = compiled.solve_internal(inputs)
    z = compiled.to_layout(internal)
    failure = first_failure(compiled.r1cs, z)
    if failure is not None:
        raise ValueError(f"the honest witness does not satisfy the gadget: {failure.describe()}")
    honest_outputs = [lc.evaluate(internal) for _, lc in outputs]
    position = {internal_wire: i for i, internal_wire in enumerate(compiled.order)}
    rows_of = _constraint_rows_by_wire(compiled)
    # Scratch slots of the solver are not wires: only real wires can be tampered with.
    defined = [w for outs in step_outputs(compiled) for w in outs if w in position]
    promoted_outputs = {w for _, w in compiled.outputs}
    defined.extend(sorted(promoted_outputs - set(defined)))
    rng = random.Random(seed)
    findings, n_perturbations = [], 0

    def changed(values: list[int]) -> tuple[str, ...]:
        return tuple(name for (name, lc), before in zip(outputs, honest_outputs) if lc.evaluate(values) != before)

    for wire in defined:
        gadget = compiled.wire_gadget[wire] if compiled.wire_gadget else "?"
        for kind, value in _perturbed_values(internal[wire], rng):
            n_perturbations += 1
            # Single: only this wire changes; only the rows that mention it can break.
            pos = position[wire]
            saved = z[pos]
            z[pos] = value
            holds = _rows_hold(compiled, rows_of.get(pos, np.zeros(0, dtype=np.int64)), z)
            z[pos] = saved
            if holds:
                tampered = list(internal)
                tampered[wire] = value
                findings.append(Perturbation(wire, gadget, kind, "single", value, changed(tampered)))
                continue
            if not replay:
                continue
            # Replayed: a prover who sets this wire, then computes every later wire honestly.
            n_perturbations += 1
            try:
                tampered = compiled.solve_internal(inputs, overrides={wire: value})
            except HintFailed:
                continue
            if first_failure(compiled.r1cs, compiled.to_layout(tampered)) is None:
                findings.append(Perturbation(wire, gadget, kind, "replayed", value, changed(tampered)))
    return CheckReport(len(defined), n_perturbations, tuple(findings))
