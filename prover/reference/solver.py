"""Plain twin of prover.solver: the witness from circuits.builder's Python solver (CompiledCircuit.solve),
in the prover's limb layout. It is the specification the compiled solver is tested against."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from circuits.builder import CompiledCircuit, ints_to_limbs

__all__ = ["solve_witness"]


def solve_witness(compiled: CompiledCircuit, assignment: Mapping[str, int | Sequence[int]], *,
                  check: bool = True) -> np.ndarray:
    """ints_to_limbs(compiled.solve(assignment, check=check)): (n_wires, 4) uint64 standard-form limbs."""
    return ints_to_limbs(compiled.solve(assignment, check=check))
