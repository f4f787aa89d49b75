"""The rollup's account tree: a Poseidon Merkle tree of arity 2 or 4, as a sparse native tree and as circuit
gadgets that open a leaf, or rewrite it along ONE path for both roots. Path bits and arity come from
`circuits.rollup.layout`; what a leaf holds (the account) is not this module's business.

Shape (DESIGN §4): depth D = index bits; L = D levels for arity 2, D/2 for arity 4. Level 0 holds the leaves,
level L the root. Node = Poseidon(children in position order); an empty leaf is 0 and an empty subtree of
height k has root z_k (z_0 = 0, z_{k+1} = Poseidon([z_k] * arity)). The level-k node on a leaf's path sits at
position `level_position(path_bits(index, D), k, arity)` among its parent's children, and `siblings[k]` lists
that parent's OTHER arity − 1 children in increasing position order. Arity 2 is `circuits.merkle`'s tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

from circuits.builder import ConstraintSystem, LinearCombination, LinearLike, _coerce
from circuits.merkle import merkle_root, merkle_update
from circuits.poseidon import FIELD_MODULUS, poseidon, poseidon_gadget
from circuits.rollup.layout import MAX_DEPTH, Layout, LayoutError, level_position, path_bits

__all__ = [
    "EMPTY_LEAF",
    "POSEIDON_NODES",
    "AccountTree",
    "NodeHasher",
    "TreeError",
    "tree_levels",
    "tree_root",
    "tree_root_native",
    "tree_update",
    "tree_update_native",
    "zero_hashes",
]

EMPTY_LEAF = 0


class TreeError(ValueError):
    """A tree shape (depth, arity), an index, a leaf, path bits or a sibling list does not fit the tree."""


def tree_levels(depth: int, arity: int) -> int:
    """Levels L between a leaf and the root of a tree with `depth` index bits (Layout.levels: D or D/2).
    TreeError if the layout refuses the shape (an arity outside layout.ARITIES, a depth outside
    1..MAX_DEPTH, an odd depth for arity 4)."""
    try:
        return Layout(depth=depth, arity=arity).levels
    except LayoutError as exc:
        raise TreeError(str(exc)) from None


def _digit_bits(arity: int) -> int:
    """Index bits per level: 1 for arity 2, 2 for arity 4."""
    return arity.bit_length() - 1


@lru_cache(maxsize=None)
def _zero_hashes(arity: int) -> tuple[int, ...]:
    zeros = [EMPTY_LEAF]
    for _ in range(MAX_DEPTH // _digit_bits(arity)):
        zeros.append(poseidon([zeros[-1]] * arity))
    return tuple(zeros)


def zero_hashes(depth: int, arity: int) -> tuple[int, ...]:
    """Roots of empty subtrees by height: z_0 = 0 (the empty leaf), z_{k+1} = Poseidon([z_k] * arity);
    L + 1 values, the last being the root of the empty tree. TreeError for a shape the layout refuses."""
    levels = tree_levels(depth, arity)
    return _zero_hashes(arity)[:levels + 1]


def _check_field(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < FIELD_MODULUS:
        raise TreeError(f"{what} must be a field element in [0, r), got {value!r}")
    return value


def _check_siblings(siblings: Sequence, levels: int, arity: int) -> None:
    """Shape only: `levels` lists of arity − 1 entries each."""
    if isinstance(siblings, (str, bytes)) or not hasattr(siblings, "__len__") or len(siblings) != levels:
        got = len(siblings) if hasattr(siblings, "__len__") else type(siblings).__name__
        raise TreeError(f"a path of an arity-{arity} tree with {levels} levels needs {levels} sibling lists, got {got}")
    for k, level in enumerate(siblings):
        if isinstance(level, (str, bytes)) or not hasattr(level, "__len__") or len(level) != arity - 1:
            got = len(level) if hasattr(level, "__len__") else type(level).__name__
            raise TreeError(f"siblings[{k}] must list the {arity - 1} other children of an arity-{arity} node, "
                            f"got {got}")


# ---------------------------------------------------------------------------------------------------
# Native


def tree_root_native(leaf: int, bits: Sequence[int], siblings: Sequence[Sequence[int]], arity: int) -> int:
    """The root that `leaf` opens to along `bits` (the D path bits, least significant first, as
    layout.path_bits gives them) and `siblings` (L lists of arity − 1 field elements): the twin of tree_root.
    TreeError names a bad shape, a bit that is not 0/1, or a value that is not a field element."""
    levels = tree_levels(len(bits), arity)
    if any(b not in (0, 1) or isinstance(b, bool) for b in bits):
        raise TreeError(f"path bits must be the ints 0 or 1, got {list(bits)!r}")
    _check_siblings(siblings, levels, arity)
    node = _check_field(leaf, "leaf")
    for k, others in enumerate(siblings):
        others = [_check_field(s, f"siblings[{k}][{j}]") for j, s in enumerate(others)]
        position = level_position(bits, k, arity)
        node = poseidon(others[:position] + [node] + others[position:])
    return node


def tree_update_native(old_leaf: int, new_leaf: int, bits: Sequence[int], siblings: Sequence[Sequence[int]],
                       arity: int) -> tuple[int, int]:
    """(old_root, new_root) of one leaf rewritten along one path: the twin of tree_update."""
    return tree_root_native(old_leaf, bits, siblings, arity), tree_root_native(new_leaf, bits, siblings, arity)


@dataclass(frozen=True)
class NodeHasher:
    """How an AccountTree computes its nodes; every form must equal circuits.poseidon.poseidon (the circuit
    opens the tree with Poseidon; another function would give roots no proof can open).

    node(children) -> parent: one node from its `arity` children in position order.
    many(rows) -> [parent, ...]: optional, many independent nodes at once (from_leaves, a level at a time).
    path(node, positions, siblings) -> [n_1, ..., n_L]: optional, the parents of `node` up one path, n_{k+1}
    being the hash of siblings[k] with n_k inserted at positions[k] (set, one call per leaf write).
    The optional forms default to calls of `node`; they exist so a compiled hash pays its call overhead once.
    """

    node: Callable[[Sequence[int]], int]
    many: Callable[[Sequence[Sequence[int]]], list[int]] | None = None
    path: Callable[[int, Sequence[int], Sequence[Sequence[int]]], list[int]] | None = None

    def hash_many(self, rows: Sequence[Sequence[int]]) -> list[int]:
        """[node(row) for row in rows], by `many` when given."""
        return self.many(rows) if self.many is not None else [self.node(row) for row in rows]

    def hash_path(self, node: int, positions: Sequence[int], siblings: Sequence[Sequence[int]]) -> list[int]:
        """The L parents of `node` up its path, bottom first, by `path` when given (see the class)."""
        if self.path is not None:
            return self.path(node, positions, siblings)
        parents = []
        for position, others in zip(positions, siblings):
            node = self.node([*others[:position], node, *others[position:]])
            parents.append(node)
        return parents


POSEIDON_NODES = NodeHasher(poseidon)   # plain Python Poseidon: the default, and the twin of any faster one


class AccountTree:
    """A sparse Poseidon tree of 2^depth leaves and arity 2 or 4 that stores only non-empty nodes.

    Leaves are field elements (ints in [0, r)); 0 is the empty leaf. Writing one leaf rehashes its L path
    nodes; `from_leaves` builds a whole tree bottom-up, hashing each non-empty node once. TreeError for a
    shape the layout refuses, an index outside the tree, a leaf that is not a field element, or a
    sibling list of the wrong shape. `hasher` computes the nodes (default: plain Python Poseidon); the
    empty-subtree roots z_k are always the plain ones, computed once per arity.
    """

    def __init__(self, depth: int, arity: int, hasher: NodeHasher = POSEIDON_NODES):
        self.depth = depth
        self.arity = arity
        self.hasher = hasher
        self.levels = tree_levels(depth, arity)
        self._zeros = zero_hashes(depth, arity)
        self._shift = _digit_bits(arity)
        # _nodes[k][position]: the non-empty level-k nodes (k = 0: the leaves, k = L: the root).
        self._nodes: list[dict[int, int]] = [{} for _ in range(self.levels + 1)]

    @classmethod
    def from_leaves(cls, depth: int, arity: int, leaves: Mapping[int, int],
                    hasher: NodeHasher = POSEIDON_NODES) -> "AccountTree":
        """The tree holding `leaves` ({index: leaf}; zero leaves are empty), hashed level by level from the
        bottom: each non-empty node once (a level per hasher.hash_many call), where one `set` per leaf would
        rehash every shared path node."""
        tree = cls(depth, arity, hasher)
        below = tree._nodes[0]
        for index, leaf in leaves.items():
            tree._check_index(index)
            if _check_field(leaf, f"leaf {index}"):
                below[index] = leaf
        for k in range(tree.levels):
            zero, parent_zero = tree._zeros[k], tree._zeros[k + 1]
            parents = tree._nodes[k + 1]
            positions = sorted({position >> tree._shift for position in below})
            rows = [[below.get((parent << tree._shift) + j, zero) for j in range(arity)] for parent in positions]
            for parent, node in zip(positions, hasher.hash_many(rows)):
                if node != parent_zero:
                    parents[parent] = node
            below = parents
        return tree

    def copy(self) -> "AccountTree":
        """An independent tree with the same leaves and hasher (no rehashing)."""
        other = AccountTree(self.depth, self.arity, self.hasher)
        other._nodes = [dict(level) for level in self._nodes]
        return other

    def _check_index(self, index) -> None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1 << self.depth:
            raise TreeError(f"leaf index {index!r} is outside a tree of depth {self.depth}")

    def _children(self, level: int, parent: int) -> list[int]:
        nodes, zero, first = self._nodes[level], self._zeros[level], parent << self._shift
        return [nodes.get(first + j, zero) for j in range(self.arity)]

    @property
    def root(self) -> int:
        return self._nodes[self.levels].get(0, self._zeros[self.levels])

    def get(self, index: int) -> int:
        """The leaf at `index` (0 if empty)."""
        self._check_index(index)
        return self._nodes[0].get(index, EMPTY_LEAF)

    def set(self, index: int, leaf: int) -> None:
        """Write a leaf (0 empties it) and rehash its path: L Poseidon(arity) hashes, one hasher.hash_path
        call (the path's siblings do not change, so they are read before any node is written)."""
        self._check_index(index)
        leaf = _check_field(leaf, "leaf")
        bits = path_bits(index, self.depth)
        positions = [level_position(bits, k, self.arity) for k in range(self.levels)]
        nodes = [leaf, *self.hasher.hash_path(leaf, positions, self.proof(index))]
        position = index
        for k, node in enumerate(nodes):
            if node == self._zeros[k]:
                self._nodes[k].pop(position, None)
            else:
                self._nodes[k][position] = node
            position >>= self._shift

    def proof(self, index: int) -> list[list[int]]:
        """The siblings of leaf `index`: L lists (bottom level first) of the arity − 1 other children of each
        path node's parent, in increasing position order. Pair them with layout.path_bits(index, depth)."""
        self._check_index(index)
        bits = path_bits(index, self.depth)
        siblings = []
        for k in range(self.levels):
            children = self._children(k, index >> (self._shift * (k + 1)))
            del children[level_position(bits, k, self.arity)]
            siblings.append(children)
        return siblings

    def verify(self, index: int, leaf: int, siblings: Sequence[Sequence[int]]) -> bool:
        """True when `leaf` at `index` opens to this tree's root with `siblings`; TreeError if the index,
        the leaf or the siblings' shape is malformed (a well-formed wrong proof is simply False)."""
        self._check_index(index)
        return tree_root_native(leaf, path_bits(index, self.depth), siblings, self.arity) == self.root

    def items(self) -> Iterator[tuple[int, int]]:
        """(index, leaf) of every non-empty leaf, by increasing index."""
        leaves = self._nodes[0]
        return ((index, leaves[index]) for index in sorted(leaves))

    def __len__(self) -> int:
        """The number of non-empty leaves."""
        return len(self._nodes[0])


# ---------------------------------------------------------------------------------------------------
# Gadgets. Arity 2 is circuits.merkle's gadget (241 constraints a level). Arity 4, per level, with the
# path node n at position p = b0 + 2·b1 and siblings s0 < s1 < s2 in position order:
#   t = b0·b1; the position indicators e0 = 1 − b0 − b1 + t, e1 = b0 − t, e2 = b1 − t, e3 = t (linear);
#   c0 = s0 + e0·(n − s0)                     n at 0, else s0
#   c1 = [s1 + (1 − b1)·(s0 − s1)] + e1·(n − s0)   s0 at 0, n at 1, s1 at 2 and 3
#   c3 = s2 + e3·(n − s2)                     n at 3, else s2
#   c2 = n + s0 + s1 + s2 − c0 − c1 − c3      the children are the same multiset in every position
# then Poseidon(4) (297): 302 constraints a level. t and the bracket depend only on the bits and siblings,
# so tree_update builds them once for both roots (600 + 2 a level), plus one check per path bit not already
# known boolean.


class _LevelPlacement(NamedTuple):
    """What a 4-ary level needs to place any node among its siblings: built once from the path bits and the
    siblings, shared by every node opened along that path (tree_update's old and new leaves)."""

    at0: LinearCombination         # e0: the node is child 0
    at1: LinearCombination         # e1
    at3: LinearCombination         # e3
    child1_if_not_at1: LinearCombination   # s0 if the node is at 0, s1 if at 2 or 3
    siblings: tuple[LinearCombination, LinearCombination, LinearCombination]


def _place4(cs: ConstraintSystem, b0: LinearCombination, b1: LinearCombination,
            siblings: Sequence[LinearCombination]) -> _LevelPlacement:
    s0, s1, s2 = siblings
    with cs.gadget("position"):
        t = cs.mul(b0, b1)
        child1 = s1 + cs.mul(1 - b1, s0 - s1)
    return _LevelPlacement(1 - b0 - b1 + t, b0 - t, t, child1, (s0, s1, s2))


def _children4(cs: ConstraintSystem, node: LinearCombination, placement: _LevelPlacement
               ) -> list[LinearCombination]:
    """The parent's four children in position order, `node` at its place: three constraints."""
    s0, s1, s2 = placement.siblings
    with cs.gadget("children"):
        c0 = s0 + cs.mul(placement.at0, node - s0)
        c1 = placement.child1_if_not_at1 + cs.mul(placement.at1, node - s0)
        c3 = s2 + cs.mul(placement.at3, node - s2)
        c2 = node + s0 + s1 + s2 - c0 - c1 - c3
    return [c0, c1, c2, c3]


def _level4(cs: ConstraintSystem, node: LinearCombination, placement: _LevelPlacement) -> LinearCombination:
    return poseidon_gadget(cs, _children4(cs, node, placement))


def _gadget_path(path_bits: Sequence[LinearLike], siblings: Sequence[Sequence[LinearLike]], arity: int
                 ) -> tuple[list[LinearCombination], list[list[LinearCombination]]]:
    """Shapes checked (TreeError), values as linear combinations."""
    levels = tree_levels(len(path_bits), arity)
    _check_siblings(siblings, levels, arity)
    return [_coerce(b) for b in path_bits], [[_coerce(s) for s in level] for level in siblings]


def _placements(cs: ConstraintSystem, bits: list[LinearCombination],
                siblings: list[list[LinearCombination]]) -> list[_LevelPlacement]:
    for bit in bits:
        cs.assert_bool(bit)
    return [_place4(cs, bits[2 * k], bits[2 * k + 1], level) for k, level in enumerate(siblings)]


def _open4(cs: ConstraintSystem, leaf: LinearLike, placements: list[_LevelPlacement]) -> LinearCombination:
    node = _coerce(leaf)
    for placement in placements:
        node = _level4(cs, node, placement)
    return node


def tree_root(cs: ConstraintSystem, leaf: LinearLike, path_bits: Sequence[LinearLike],
              siblings: Sequence[Sequence[LinearLike]], arity: int) -> LinearCombination:
    """The root (a linear combination) that `leaf` opens to along `path_bits` (D bits, least significant
    first, asserted boolean here: free if already known) and `siblings` (L lists of arity − 1). Arity 2 is
    circuits.merkle.merkle_root's R1CS; arity 4 costs 302 constraints a level. Constrain the result equal to
    a known root to verify a path. TreeError for a shape the layout refuses or wrong sibling shapes."""
    bits, siblings = _gadget_path(path_bits, siblings, arity)
    if arity == 2:
        return merkle_root(cs, leaf, bits, [s for s, in siblings])
    with cs.gadget(f"tree_root(arity=4, depth={len(bits)})"):
        return _open4(cs, leaf, _placements(cs, bits, siblings))


def tree_update(cs: ConstraintSystem, old_leaf: LinearLike, new_leaf: LinearLike,
                path_bits: Sequence[LinearLike], siblings: Sequence[Sequence[LinearLike]], arity: int
                ) -> tuple[LinearCombination, LinearCombination]:
    """(old_root, new_root): old_leaf and new_leaf opened along the SAME path bits and siblings, so the
    update changes that one leaf and nothing else (the point gnark's example rollup missed, issue 308).
    Arity 2 is circuits.merkle.merkle_update's R1CS; arity 4 shares each level's position wires between the
    two openings (602 constraints a level). TreeError as tree_root."""
    bits, siblings = _gadget_path(path_bits, siblings, arity)
    if arity == 2:
        return merkle_update(cs, old_leaf, new_leaf, bits, [s for s, in siblings])
    with cs.gadget(f"tree_update(arity=4, depth={len(bits)})"):
        placements = _placements(cs, bits, siblings)
        return _open4(cs, old_leaf, placements), _open4(cs, new_leaf, placements)
