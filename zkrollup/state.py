"""The rollup's state: accounts by index and the account tree over their leaves (the state root).

Owns `Account` and `RollupState` (plain data plus the tree); not how the state changes (`zkrollup.executor`)
nor where it is kept (`zkrollup.store`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from circuits.rollup.layout import BALANCE_BITS, NONCE_BITS, RESERVED_INDEX, Layout, account_leaf
from circuits.rollup.tree import AccountTree, NodeHasher
from prover.poseidon import poseidon_fast, poseidon_many_fast, poseidon_path_fast

__all__ = ["COMPILED_NODES", "Account", "RollupState"]

# The account tree's nodes by the compiled Poseidon (prover.poseidon): equal to the plain default, about ten
# times as fast; a leaf write is one kernel call for its whole path.
COMPILED_NODES = NodeHasher(poseidon_fast, many=poseidon_many_fast, path=poseidon_path_fast)


@dataclass(frozen=True)
class Account:
    """An account: its Baby Jubjub public key (ax, ay), u64 balance and u32 nonce (transfers sent)."""

    ax: int
    ay: int
    balance: int
    nonce: int

    def __post_init__(self):
        if not 0 <= self.balance < 1 << BALANCE_BITS:
            raise ValueError(f"balance {self.balance} is not a u64")
        if not 0 <= self.nonce < 1 << NONCE_BITS:
            raise ValueError(f"nonce {self.nonce} is not a u{NONCE_BITS}")

    @property
    def public_key(self) -> tuple[int, int]:
        return (self.ax, self.ay)

    @property
    def leaf(self) -> int:
        """Poseidon(ax, ay, balance, nonce): the account's leaf (circuits.rollup.layout.account_leaf)."""
        return account_leaf(self.ax, self.ay, self.balance, self.nonce)


class RollupState:
    """Accounts by index and the sparse account tree whose root is the state root. Index 0 stays empty.
    A tree built here hashes with COMPILED_NODES; a `tree` passed in keeps its own hasher."""

    def __init__(self, layout: Layout, accounts: Mapping[int, Account] | None = None,
                 tree: AccountTree | None = None):
        self.layout = layout
        self.accounts: dict[int, Account] = dict(accounts or {})
        if RESERVED_INDEX in self.accounts:
            raise ValueError("account 0 is reserved and stays empty")
        if tree is None:
            tree = AccountTree.from_leaves(layout.depth, layout.arity,
                                           {i: a.leaf for i, a in self.accounts.items()}, COMPILED_NODES)
        self.tree = tree

    @property
    def root(self) -> int:
        return self.tree.root

    def copy(self) -> "RollupState":
        """An independent copy (the executor works on one, so a refused batch changes nothing)."""
        return RollupState(self.layout, self.accounts, self.tree.copy())

    def set(self, index: int, account: Account) -> None:
        self.accounts[index] = account
        self.tree.set(index, account.leaf)

    def get(self, index: int) -> Account | None:
        return self.accounts.get(index)
