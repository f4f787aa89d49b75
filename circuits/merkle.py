"""Binary Poseidon(2) Merkle trees: the path layout (bit order), a sparse native tree, and the circuit gadgets
that open a leaf and rewrite it with the SAME siblings and path bits. Not the account format (zkrollup owns it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from circuits.builder import ConstraintSystem, ConstraintSystemError, LinearCombination, LinearLike, _coerce
from circuits.poseidon import FIELD_MODULUS, poseidon, poseidon_gadget

__all__ = [
    "EMPTY_LEAF",
    "MAX_DEPTH",
    "PATH_BIT_ORDER",
    "MerkleTree",
    "index_from_path_bits",
    "merkle_root",
    "merkle_root_native",
    "merkle_update",
    "merkle_update_native",
    "path_bits",
    "verify_proof",
    "zero_hashes",
]

# Layout (the one definition executor, circuit and contract read): level 0 is the leaves, level D the root.
# Leaf index i has the path bits `path_bits(i, D)`, least significant first: bit k = (i >> k) & 1 says
# whether the node on the path at level k is the RIGHT child of its parent. `siblings[k]` is the other child
# at level k, so node(k + 1) = Poseidon(node, sibling) if bit k = 0, else Poseidon(sibling, node).
# An empty leaf is 0; an empty subtree of height k has root `zero_hashes(D)[k]`.

MAX_DEPTH = 32
EMPTY_LEAF = 0
#: Path bits run from the leaf up: path_bits[k] is bit k of the index and belongs to level k.
PATH_BIT_ORDER = "lsb-first: path_bits[k] = (index >> k) & 1, 1 = the level-k node is a right child"


def _check_depth(depth: int) -> None:
    if not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"tree depth must be 1..{MAX_DEPTH}, got {depth!r}")


def path_bits(index: int, depth: int) -> list[int]:
    """The D path bits of a leaf index, bottom level first (see PATH_BIT_ORDER)."""
    _check_depth(depth)
    if not isinstance(index, int) or not 0 <= index < 1 << depth:
        raise ValueError(f"leaf index {index!r} is outside a tree of depth {depth}")
    return [(index >> k) & 1 for k in range(depth)]


def index_from_path_bits(bits: Sequence[int]) -> int:
    """Inverse of path_bits."""
    if any(b not in (0, 1) for b in bits):
        raise ValueError("path bits must be 0 or 1")
    return sum(b << k for k, b in enumerate(bits))


@lru_cache(maxsize=None)
def _zero_hashes() -> tuple[int, ...]:
    zeros = [EMPTY_LEAF]
    for _ in range(MAX_DEPTH):
        zeros.append(poseidon([zeros[-1], zeros[-1]]))
    return tuple(zeros)


def zero_hashes(depth: int) -> tuple[int, ...]:
    """zero_hashes[0] = 0 (the empty leaf), zero_hashes[k + 1] = Poseidon(z_k, z_k); depth + 1 values."""
    _check_depth(depth)
    return _zero_hashes()[:depth + 1]


def _check_path(leaf: int, bits: Sequence[int], siblings: Sequence[int]) -> None:
    if len(bits) != len(siblings):
        raise ValueError(f"{len(bits)} path bits but {len(siblings)} siblings")
    _check_depth(len(bits))
    if any(b not in (0, 1) for b in bits):
        raise ValueError("path bits must be 0 or 1")
    for v in (leaf, *siblings):
        if not isinstance(v, int) or not 0 <= v < FIELD_MODULUS:
            raise ValueError(f"not a field element: {v!r}")


def merkle_root_native(leaf: int, bits: Sequence[int], siblings: Sequence[int]) -> int:
    """The root that leaf opens to along (bits, siblings): the twin of merkle_root."""
    _check_path(leaf, bits, siblings)
    node = leaf
    for bit, sibling in zip(bits, siblings):
        node = poseidon([sibling, node] if bit else [node, sibling])
    return node


def merkle_update_native(old_leaf: int, new_leaf: int, bits: Sequence[int],
                         siblings: Sequence[int]) -> tuple[int, int]:
    """(old_root, new_root) for one leaf rewritten along one path: the twin of merkle_update."""
    return merkle_root_native(old_leaf, bits, siblings), merkle_root_native(new_leaf, bits, siblings)


class MerkleTree:
    """A sparse binary Poseidon(2) tree of fixed depth (1..32): only non-empty nodes are stored."""

    def __init__(self, depth: int):
        _check_depth(depth)
        self.depth = depth
        self._zeros = zero_hashes(depth)
        # nodes[(level, position)] for non-empty subtrees only (level 0 = leaves).
        self._nodes: dict[tuple[int, int], int] = {}

    def _node(self, level: int, position: int) -> int:
        return self._nodes.get((level, position), self._zeros[level])

    def _check_index(self, index: int) -> None:
        if not isinstance(index, int) or not 0 <= index < 1 << self.depth:
            raise IndexError(f"leaf index {index!r} is outside a tree of depth {self.depth}")

    @property
    def root(self) -> int:
        return self._node(self.depth, 0)

    def get(self, index: int) -> int:
        self._check_index(index)
        return self._node(0, index)

    def set(self, index: int, leaf: int) -> None:
        """Write a leaf (0 empties it) and rehash its path."""
        self._check_index(index)
        if not isinstance(leaf, int) or not 0 <= leaf < FIELD_MODULUS:
            raise ValueError(f"a leaf must be a field element in [0, r): {leaf!r}")
        node, position = leaf, index
        for level in range(self.depth + 1):
            if node == self._zeros[level]:
                self._nodes.pop((level, position), None)
            else:
                self._nodes[(level, position)] = node
            if level == self.depth:
                break
            sibling = self._node(level, position ^ 1)
            node = poseidon([sibling, node] if position & 1 else [node, sibling])
            position >>= 1

    def proof(self, index: int) -> list[int]:
        """The siblings of leaf `index`, bottom level first (pair them with path_bits(index, depth))."""
        self._check_index(index)
        return [self._node(level, (index >> level) ^ 1) for level in range(self.depth)]

    def verify(self, index: int, leaf: int, siblings: Sequence[int]) -> bool:
        """True when leaf at index opens to this tree's root with these siblings."""
        self._check_index(index)
        try:
            return merkle_root_native(leaf, path_bits(index, self.depth), siblings) == self.root
        except ValueError:
            return False


def verify_proof(root: int, index: int, leaf: int, siblings: Sequence[int]) -> bool:
    """True when leaf at index opens to root with these siblings (depth = len(siblings))."""
    try:
        return merkle_root_native(leaf, path_bits(index, len(siblings)), siblings) == root
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------------
# Gadgets. Per level: one multiplication picks the children (d = bit·(sibling − node); left = node + d,
# right = sibling − d), then Poseidon(2): 241 constraints a level, plus one per path bit not already
# known boolean. The path bits are asserted boolean here (free if the caller already did).


def _path_level(cs: ConstraintSystem, node: LinearCombination, bit: LinearCombination,
                sibling: LinearCombination) -> LinearCombination:
    swap = cs.mul(bit, sibling - node)
    return poseidon_gadget(cs, [node + swap, sibling - swap])


def _check_shapes(bits: Sequence, siblings: Sequence) -> None:
    if len(bits) != len(siblings):
        raise ConstraintSystemError(f"{len(bits)} path bits but {len(siblings)} siblings")
    if not 1 <= len(bits) <= MAX_DEPTH:
        raise ConstraintSystemError(f"tree depth must be 1..{MAX_DEPTH}, got {len(bits)}")


def merkle_root(cs: ConstraintSystem, leaf: LinearLike, path_bits: Sequence[LinearLike],
                siblings: Sequence[LinearLike]) -> LinearCombination:
    """The root that `leaf` opens to along `path_bits` (asserted boolean, bottom level first, see
    PATH_BIT_ORDER) and `siblings`. Constrain it equal to a known root to verify a Merkle path."""
    _check_shapes(path_bits, siblings)
    bits = [_coerce(b) for b in path_bits]
    with cs.gadget(f"merkle_root(depth={len(bits)})"):
        for bit in bits:
            cs.assert_bool(bit)
        node = _coerce(leaf)
        for bit, sibling in zip(bits, siblings):
            node = _path_level(cs, node, bit, _coerce(sibling))
        return node


def merkle_update(cs: ConstraintSystem, old_leaf: LinearLike, new_leaf: LinearLike,
                  path_bits: Sequence[LinearLike], siblings: Sequence[LinearLike]
                  ) -> tuple[LinearCombination, LinearCombination]:
    """(old_root, new_root): old_leaf and new_leaf opened along the SAME path bits and siblings, so the
    update changes that one leaf and nothing else (the point gnark's example rollup missed, issue 308)."""
    _check_shapes(path_bits, siblings)
    bits = [_coerce(b) for b in path_bits]
    siblings = [_coerce(s) for s in siblings]
    with cs.gadget(f"merkle_update(depth={len(bits)})"):
        old_root = merkle_root(cs, old_leaf, bits, siblings)
        new_root = merkle_root(cs, new_leaf, bits, siblings)
    return old_root, new_root
