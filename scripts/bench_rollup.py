"""Rollup benchmark (issue 7): constraints per transfer and where they go, then the batch circuit end to end
(build, executor, witness, setup, prove, verify, peak RSS) beside snarkjs and groth16py on the same files.

Part 1, constraints. For each tree (2^D accounts) and arity 2 and 4, a batch circuit with one transfer and one
registration slot is built; the rows of its transfer slot are sorted by the gadget path the R1CS keeps for
every row (`constraint_gadget` / `gadget_names`) into Merkle paths, signature, leaves, range checks, bits
(index, amount and fee decompositions) and slot control. The data binding's share of one transfer is measured
on the batch module's binding gadget alone (over pubdata bits shaped as the batch's, constant padding bits
included), between 1 and 1 + k transfers where k transfers are whole units (SHA-256: 8 transfers, three 64-byte
blocks; evaluation claim: 155 transfers, 8 commitment chunks of 15 elements of 31 bytes), so the share is not
a rounding of block boundaries. Shown beside issue 7's target (<= 20k a transfer at 2^20
accounts, binding included), DESIGN §4's budget and Hermez v1 (~36k a transaction before SHA-256).

Part 2, batches. For batches of 1, 4, 16, 32 transfers and the largest whose circuit fits a 2^20 domain
(nConstraints + nPublic < 2^20, computed from the measured slot and binding costs, then checked on the built
circuit; for SHA-256 beyond 17 transfers the binding is extrapolated from its share and only compared), over
trees of 2^16 and 2^20 accounts: build seconds (once per shape, then cached), executor seconds (execute_batch
on signed transfers), witness seconds (solving every wire), setup seconds (our single-party setup, warm, once
per shape), prove seconds (warm, in process, best of a few, with the stage breakdown), verify ms, and peak RSS
of `zkrollup groth16 prove` in a child process (scripts/bench_prove.py's measured runs, which this script
imports). At the largest batch of each tree (every batch with --peers all), snarkjs and groth16py prove the
very same .zkey and .wtns. Every proof is checked by our verifier, and by `snarkjs groth16 verify` where node
is present; one that fails is a loud error and exit code 1. Times are wall clock; tests never assert them.

    .venv/bin/python scripts/bench_rollup.py --quick              # batches of 1 and 4 only
    .venv/bin/python scripts/bench_rollup.py                      # the full run (tens of minutes the first time)
    .venv/bin/python scripts/bench_rollup.py --sizes 4,max --depths 20 --only ours,snarkjs --json

Cache: circuits (pickled), .r1cs, .zkey and verification keys under $ZKROLLUP_BENCH_CACHE, else
~/.cache/zkrollup-bench (or --cache DIR), in `rollup/<shape>-<hash of the layout and of circuits/>`: an edit
to a gadget never serves a stale circuit; --rebuild remakes an entry.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pickle
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

SCRIPTS = Path(__file__).resolve().parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
import bench_prove as bp  # noqa: E402  (measured subprocesses, our prover, snarkjs and groth16py runs)

REPO = bp.REPO
PROVERS = bp.PROVERS
DEPTHS = (16, 20)
ARITIES = (2, 4)
BINDINGS = ("evaluation", "sha256")
DEFAULT_SIZES = (1, 4, 16, 32, "max")
QUICK_SIZES = (1, 4)
MAX_LOG_DOMAIN = 20
SEED = b"zkrollup bench_rollup"

Log = Callable[[str], None]


def _quiet(line: str) -> None:
    pass


# --- Targets (issue 7) and the figures beside them ---------------------------------------------------

TARGET_PER_TRANSFER = 20_000     # constraints a transfer at 2^20 accounts, data binding included
HERMEZ_V1_PER_TX = 36_000        # Hermez v1's circom circuit at 2^20 accounts, before its SHA-256 share
DESIGN_BUDGET = {(2, "sha256"): 35_000, (2, "evaluation"): 25_000, (4, "evaluation"): 18_000}
TARGET_MIN_TRANSFERS = 48        # transfers in a batch of about 2^20 constraints
TARGET_PROVE_S = 6.0             # that batch proved in at most 6 s
TARGET_SNARKJS_RATIO = 10.0      # at least 10x faster than snarkjs on the same files
TARGET_PEAK_RSS_MB = 2048.0      # peak RSS of the prove at most 2 GB
TARGET_WITNESS_SHARE = 0.10      # executor + witness at most 10 % of the proving time
TARGET_SETUP_S = 60.0            # setup of that circuit at most 60 s


# --- Part 1: constraints per transfer ----------------------------------------------------------------

CATEGORIES = ("merkle", "signature", "leaves", "range_checks", "bits", "slot_control")
CATEGORY_TITLES = {
    "merkle": "Merkle paths", "signature": "signature", "leaves": "leaves", "range_checks": "range checks",
    "bits": "bits", "slot_control": "slot control", "other": "other",
}
CATEGORY_NOTES = {
    "merkle": "sender and receiver tree_update (one path for both roots) and the enabled-gated root selection",
    "signature": "the signed message Poseidon(6) and the EdDSA-Poseidon verifier",
    "leaves": "Poseidon(4) of the old and new leaf, sender and receiver",
    "range_checks": "u64 balances before and after, sender and receiver; the u32 nonce",
    "bits": "index, amount and fee decompositions (they drive the paths and the pubdata; amount and fee u64)",
    "slot_control": "the enabled bit, zero-when-disabled and non-zero-when-enabled checks",
    "other": "a gadget path this benchmark does not know (a new gadget: give it a category)",
}


def transfer_category(path: str, slot: int = 0) -> str | None:
    """The breakdown category of a constraint by its gadget path, for rows of transfer slot `slot`
    (e.g. `transfer[0]/sender/range_check/to_binary/assert_bool` -> "range_checks"); None for rows outside
    that slot, "other" for a path under it that no rule knows."""
    prefix = f"transfer[{slot}]"
    if path != prefix and not path.startswith(prefix + "/"):
        return None
    parts = path[len(prefix) + 1:].split("/") if path != prefix else []
    if not parts or parts == ["assert_bool"]:
        return "slot_control"
    if parts[0] == "signature":
        return "signature"
    if any(p.startswith(("tree_update", "merkle_update", "merkle_root")) for p in parts):
        return "merkle"
    if "range_check" in parts:
        return "range_checks"
    if parts[0] in ("sender", "receiver"):
        if len(parts) == 1:
            return "merkle"           # the root the update selects when enabled
        if parts[1].startswith("poseidon"):
            return "leaves"
    if parts[0] == "to_binary":
        return "bits"
    return "other"


@dataclass
class SlotCosts:
    """Constraints of one transfer slot (and its breakdown), one registration slot and the fee credit in a
    tree of 2^depth accounts, measured on a built circuit with one slot of each (evaluation binding)."""

    depth: int
    arity: int
    transfer: int
    breakdown: dict[str, int]
    registration: int
    fee_credit: int
    circuit_constraints: int   # the whole one-transfer, one-registration circuit
    circuit_binding: int       # of which its data binding
    n_public: int
    build_s: float


def measure_slots(depth: int, arity: int, log: Log = _quiet) -> SlotCosts:
    """Build the one-transfer, one-registration batch circuit of this tree and count its rows by gadget."""
    import numpy as np

    from circuits.rollup.batch import build_batch_circuit
    from circuits.rollup.layout import Layout

    layout = Layout(depth=depth, arity=arity, n_transfers=1, n_registrations=1, binding="evaluation")
    log(f"constraints: building {layout.shape_id} ...")
    start = time.perf_counter()
    circuit = build_batch_circuit(layout)
    build_s = time.perf_counter() - start
    r1cs = circuit.r1cs
    per_gadget = np.bincount(np.asarray(r1cs.constraint_gadget), minlength=len(r1cs.gadget_names))
    breakdown = dict.fromkeys(CATEGORIES, 0)
    for gadget, count in enumerate(per_gadget.tolist()):
        category = transfer_category(r1cs.gadget_names[gadget]) if count else None
        if category is not None:
            breakdown[category] = breakdown.get(category, 0) + count
    parts = circuit.parts
    return SlotCosts(depth=depth, arity=arity, transfer=parts["transfers"], breakdown=breakdown,
                     registration=parts["registrations"], fee_credit=parts["fee_credit"],
                     circuit_constraints=r1cs.n_constraints, circuit_binding=parts["data_binding"],
                     n_public=r1cs.n_public, build_s=build_s)


def _pubdata_byte_bits(cs, layout) -> list[list]:
    """Pubdata byte bits shaped as the batch circuit's (fee account, registrations, transfers: see
    batch.build_batch_circuit): known-boolean wires where the circuit's come from decompositions (index, amount,
    fee and key bits), the constant 0 where the layout pads a field wider than its bits or a packed key has its
    zero bit. Both matter to SHA-256, which checks unknown bits and folds constants (a tree of 2^16 accounts
    costs fewer SHA-256 constraints than one of 2^20); the evaluation claim packs bits linearly."""
    from circuits.rollup import layout as lay
    from circuits.rollup.layout import BALANCE_BITS

    def known_bits(name: str, n_bits: int):
        bits = cs.private_inputs(name, n_bits)
        for bit in bits:
            cs.assert_bool(bit)        # as the circuit's decompositions are: SHA-256 then checks them for free
        return bits

    def int_field(name: str, n_bits: int, width: int):
        return lay.int_field_byte_bits(known_bits(name, n_bits), width)

    data = int_field("fee_account", layout.depth, layout.index_bytes)
    for r in range(layout.n_registrations):
        data += int_field(f"reg{r}_index", layout.depth, layout.index_bytes)
        key = known_bits(f"reg{r}_key", 255)    # y's 254 bits and the sign of x, a 0 between them
        data += lay.packed_point_byte_bits([*key[:254], cs.constant(0), key[254]])
    for t in range(layout.n_transfers):
        data += (int_field(f"tx{t}_from", layout.depth, layout.index_bytes)
                 + int_field(f"tx{t}_to", layout.depth, layout.index_bytes)
                 + int_field(f"tx{t}_amount", BALANCE_BITS, layout.amount_bytes)
                 + int_field(f"tx{t}_fee", BALANCE_BITS, layout.fee_bytes))
    return data


_binding_cache: dict[tuple, int] = {}


def binding_constraints(layout) -> int:
    """Constraints of `layout`'s data binding: the batch circuit's own binding gadget, built alone over pubdata
    bits shaped as the batch's (its bits come from wires the slots already constrain, so the binding adds
    exactly this). Cached per shape (SHA-256 over long pubdata takes a while: ~25k constraints a block)."""
    from circuits.builder import ConstraintSystem
    from circuits.rollup import batch

    # The evaluation claim's cost depends only on the pubdata length; SHA-256's also on the constant bits.
    key = (("evaluation", layout.pubdata_length) if layout.binding == "evaluation"
           else ("sha256", layout.depth, layout.n_registrations, layout.n_transfers, layout.index_bytes,
                 layout.amount_bytes, layout.fee_bytes))
    if key not in _binding_cache:
        cs = ConstraintSystem()
        public = {name: cs.public_input(name) for name in layout.public_input_names}
        byte_bits = _pubdata_byte_bits(cs, layout)
        before = cs.n_constraints
        # The binding gadgets are batch.py's private helpers: the very code the batch circuit runs.
        if layout.binding == "evaluation":
            batch._bind_evaluation(cs, layout, byte_bits, public["commitment"], public["challenge"],
                                   public["evaluation"])
        else:
            batch._bind_sha256(cs, byte_bits, public["data_hash"])
        _binding_cache[key] = cs.n_constraints - before
    return _binding_cache[key]


SHA256_BLOCK = 64


def _share_step(layout) -> int:
    """The fewest transfers whose pubdata is whole units of the binding: SHA-256 blocks, or commitment chunks
    (15 elements of 31 bytes, one Poseidon(16) each): 8 and 155 transfers of 24 bytes."""
    from circuits.rollup.layout import COMMITMENT_CHUNK, ELEMENT_BYTES

    unit = SHA256_BLOCK if layout.binding == "sha256" else ELEMENT_BYTES * COMMITMENT_CHUNK
    return math.lcm(layout.transfer_bytes, unit) // layout.transfer_bytes


def binding_share(layout) -> float:
    """The data binding's constraints per transfer for `layout`'s shape: binding(1 + k transfers) - binding(1),
    over k = _share_step (whole units, so no rounding of block or chunk boundaries)."""
    base = replace(layout, n_transfers=1)
    step = _share_step(layout)
    return (binding_constraints(replace(base, n_transfers=1 + step)) - binding_constraints(base)) / step


def binding_per_transfer(binding: str, depth: int, arity: int) -> tuple[float, str]:
    """(constraints, how measured): the data binding's share of one transfer in a tree of 2^depth accounts."""
    from circuits.rollup.layout import Layout

    layout = Layout(depth=depth, arity=arity, n_transfers=1, n_registrations=0, binding=binding)
    step = _share_step(layout)
    what = "SHA-256 blocks" if binding == "sha256" else "commitment chunks (15 elements of 31 bytes)"
    return binding_share(layout), (f"binding({1 + step} transfers) - binding(1), over {step}: "
                                   f"{layout.transfer_bytes} bytes a transfer, whole {what}; each built")


def prediction_is_exact(layout) -> bool:
    """Whether predicted_constraints builds the layout's binding (exact) or extrapolates it (SHA-256 beyond
    1 + 2·_share_step transfers: one more block costs a little more or less with the phase of the constant bits)."""
    return layout.binding == "evaluation" or layout.n_transfers <= 1 + 2 * _share_step(layout)


def predicted_constraints(slots: SlotCosts, layout) -> int:
    """nConstraints of `layout`'s batch circuit from the measured slot costs and its binding: exact (the slots are
    identical and the binding is built) when prediction_is_exact, else with the SHA-256 binding extrapolated
    from its measured share per transfer."""
    if (layout.depth, layout.arity) != (slots.depth, slots.arity):
        raise ValueError(f"slot costs are for depth {slots.depth}, arity {slots.arity}; layout is {layout.shape_id}")
    fixed = slots.circuit_constraints - slots.circuit_binding - slots.transfer - slots.registration
    if prediction_is_exact(layout):
        binding = binding_constraints(layout)
    else:
        base = replace(layout, n_transfers=1)
        binding = round(binding_constraints(base) + (layout.n_transfers - 1) * binding_share(layout))
    return fixed + layout.n_transfers * slots.transfer + layout.n_registrations * slots.registration + binding


def fits(n_constraints: int, n_public: int, max_log_domain: int) -> bool:
    """snarkjs's rule, as our setup applies it: the domain 2^(bitlen(nConstraints + nPublic)) <= 2^max."""
    from prover.zkey import domain_size_for

    return domain_size_for(n_constraints, n_public) <= 1 << max_log_domain


def largest_batch(slots: SlotCosts, arity: int, binding: str, n_registrations: int,
                  max_log_domain: int = MAX_LOG_DOMAIN) -> int:
    """The most transfer slots whose batch circuit (with `n_registrations` registration slots) fits a domain of
    2^max_log_domain, by predicted_constraints; 0 if not even one does."""
    from circuits.rollup.layout import Layout

    def layout(n: int):
        return Layout(depth=slots.depth, arity=arity, n_transfers=n, n_registrations=n_registrations, binding=binding)

    def fit(n: int) -> bool:
        return fits(predicted_constraints(slots, layout(n)), len(layout(n).public_input_names), max_log_domain)

    one = predicted_constraints(slots, layout(1))
    n = max(1, int(((1 << max_log_domain) - one) // (slots.transfer + binding_share(layout(1)))) + 1)
    while n > 1 and not fit(n):
        n -= 1
    while fit(n + 1):
        n += 1
    return n if fit(n) else 0


def constraint_rows(slots_by_tree: dict, log: Log = _quiet) -> tuple[list[dict], dict]:
    """Per tree, arity and binding: the per-transfer breakdown and total; and how each binding was measured."""
    rows, how = [], {}
    for (depth, arity), slots in sorted(slots_by_tree.items()):
        for binding in BINDINGS:
            log(f"constraints: data binding share, {binding}, 2^{depth} accounts, arity {arity} ...")
            share, how[binding] = binding_per_transfer(binding, depth, arity)
            total = slots.transfer + share
            target = TARGET_PER_TRANSFER if depth == 20 else None
            rows.append({
                "accounts_log2": depth, "arity": arity, "binding": binding, "breakdown": dict(slots.breakdown),
                "transfer_slot": slots.transfer, "data_binding": round(share, 1), "per_transfer": round(total, 1),
                "registration_slot": slots.registration, "fee_credit": slots.fee_credit,
                "design_budget": DESIGN_BUDGET.get((arity, binding)) if depth == 20 else None,
                "target": target, "met": None if target is None else total <= target,
            })
    return rows, how


# --- Part 2: batches ---------------------------------------------------------------------------------

@dataclass
class Prepared:
    """A batch circuit, its cached files (circuit.r1cs, circuit.zkey, verification_key.json) and their meta."""

    folder: Path
    meta: dict
    circuit: object          # circuits.rollup.batch.BatchCircuit
    made_now: bool           # built and set up in this run (else loaded from the cache)
    load_s: float | None     # seconds to load the cached circuit


CACHED_FILES = ("circuit.pickle", "circuit.r1cs", "circuit.zkey", "verification_key.json")


def cache_entry(layout, cache_root: Path) -> Path:
    """The cache folder of a layout's circuit and key: `rollup/<shape>-<tag>`, the tag hashing the layout and
    every source under circuits/ (the pickled solve program is code: an edit to a gadget never serves a stale
    circuit or key)."""
    digest = hashlib.sha256(layout.fingerprint().encode())
    for source in sorted((REPO / "circuits").rglob("*.py")):
        digest.update(source.relative_to(REPO).as_posix().encode())
        digest.update(source.read_bytes())
    return Path(cache_root) / "rollup" / f"{layout.shape_id}-{digest.hexdigest()[:16]}"


_setup_warm = False


def _warm_setup() -> None:
    """Run the setup once on a one-constraint circuit, so a timed setup is warm (Numba's kernels loaded, or
    compiled when their cache is cold), as the issue's target reads."""
    global _setup_warm
    if _setup_warm:
        return
    from circuits.builder import ConstraintSystem
    from prover.setup import setup

    cs = ConstraintSystem()
    x = cs.private_input("x")
    cs.public_output("y", cs.mul(x, x))
    setup(cs.compile().r1cs, quiet=True)
    _setup_warm = True


def prepare_batch(layout, cache_root: Path, rebuild: bool = False, log: Log = _quiet) -> Prepared:
    """The batch circuit of `layout` with its .r1cs, .zkey (our setup) and verification key: from the cache,
    or built, set up and cached (build and setup seconds are recorded in meta.json, written last)."""
    from circuits.iden3 import write_r1cs
    from circuits.rollup.batch import build_batch_circuit
    from prover.groth16 import verifying_key
    from prover.setup import setup
    from prover.zkey import write_zkey
    from verifier import snarkjs

    folder = cache_entry(layout, cache_root)
    meta_path = folder / "meta.json"
    if not rebuild and meta_path.is_file() and all((folder / name).is_file() for name in CACHED_FILES):
        start = time.perf_counter()
        with open(folder / "circuit.pickle", "rb") as f:
            circuit = pickle.load(f)
        load_s = time.perf_counter() - start
        log(f"{layout.shape_id}: cached circuit and key in {folder} (loaded in {load_s:.1f}s)")
        return Prepared(folder, json.loads(meta_path.read_text()), circuit, made_now=False, load_s=load_s)

    folder.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)   # without meta.json the folder is incomplete
    log(f"{layout.shape_id}: building the batch circuit ...")
    start = time.perf_counter()
    circuit = build_batch_circuit(layout)
    build_s = time.perf_counter() - start
    r1cs = circuit.r1cs
    log(f"{layout.shape_id}: {r1cs.n_constraints:,} constraints built in {build_s:.1f}s; writing, then our setup ...")
    with open(folder / "circuit.pickle", "wb") as f:
        pickle.dump(circuit, f, protocol=pickle.HIGHEST_PROTOCOL)
    write_r1cs(folder / "circuit.r1cs", r1cs)
    _warm_setup()
    start = time.perf_counter()
    pk = setup(r1cs, quiet=True)
    setup_s = time.perf_counter() - start
    write_zkey(folder / "circuit.zkey", pk)
    snarkjs.write_verifying_key(verifying_key(pk), folder / "verification_key.json")
    log(f"{layout.shape_id}: setup {setup_s:.1f}s (domain 2^{pk.log_domain_size})")
    meta = {
        "layout": layout.to_json(), "shape": layout.shape_id, "constraints": r1cs.n_constraints,
        "wires": r1cs.n_wires, "public": r1cs.n_public, "domain": pk.domain_size,
        "log_domain": pk.log_domain_size, "parts": dict(circuit.parts), "build_s": build_s, "setup_s": setup_s,
        "made": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": bp._git_commit(),
    }
    del pk
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return Prepared(folder, meta, circuit, made_now=True, load_s=None)


@dataclass
class BatchWork:
    """Genesis state and signed transfers for one batch: distinct senders and receivers at spread indices."""

    state: object                # zkrollup.state.RollupState
    chain_id: int
    fee_account: int
    registrations: list          # zkrollup.executor.Registration
    transfers: list              # zkrollup.wallet.SignedTransfer
    genesis_s: float
    sign_s: float


def _private_key(index: int) -> bytes:
    return hashlib.sha256(SEED + b"/key/" + index.to_bytes(8, "big")).digest()


def make_batch_work(layout, n_transfers: int, seed: bytes = SEED) -> BatchWork:
    """A genesis state of funded accounts at pseudo-random indices (deterministic in `seed` and the layout),
    `n_transfers` signed transfers among them and registrations of new keys for the layout's slots. Accounts
    are distinct while the tree has room, else reused (a reused sender signs its next nonce)."""
    from circuits.rollup import layout as lay
    from zkrollup.executor import Registration
    from zkrollup.state import Account, RollupState
    from zkrollup.wallet import KeyPair, Transfer, sign_transfer

    rng = random.Random(seed + layout.shape_id.encode() + n_transfers.to_bytes(4, "big"))
    free = layout.n_accounts - 1                       # account 0 is reserved
    n_existing = max(2, min(2 * n_transfers + 1, free - layout.n_registrations))
    n_new = max(0, min(layout.n_registrations, free - n_existing))
    if n_existing + n_new > free:
        raise ValueError(f"a tree of 2^{layout.depth} accounts is too small for this benchmark")
    chosen = rng.sample(range(1, layout.n_accounts), n_existing + n_new)
    existing, new = chosen[:n_existing], chosen[n_existing:]
    fee_account, users = existing[0], existing[1:]

    start = time.perf_counter()
    keys = {i: KeyPair.from_private_key(_private_key(i)) for i in chosen}
    state = RollupState(layout, {i: Account(*keys[i].public_key, 10 ** 12, 0) for i in existing})
    genesis_s = time.perf_counter() - start
    chain_id = lay.deployment_chain_id(31337, hashlib.sha256(seed + b"/contract").digest()[:20])

    start = time.perf_counter()
    nonces, transfers = {}, []
    for t in range(n_transfers):
        sender = users[(2 * t) % len(users)]
        receiver = users[(2 * t + 1) % len(users)]
        transfer = Transfer(sender, receiver, rng.randrange(1, 10 ** 6), rng.randrange(0, 100), nonces.get(sender, 0))
        nonces[sender] = nonces.get(sender, 0) + 1
        transfers.append(sign_transfer(keys[sender], transfer, chain_id))
    sign_s = time.perf_counter() - start
    registrations = [Registration(i, *keys[i].public_key) for i in new]
    return BatchWork(state, chain_id, fee_account, registrations, transfers, genesis_s, sign_s)


@dataclass
class Report:
    """Everything the benchmark measured; `checks` holds one entry per verification (all must pass)."""

    mode: str
    settings: dict
    cache: str
    machine: dict
    tools: dict
    slots: list[dict] = field(default_factory=list)
    per_transfer: list[dict] = field(default_factory=list)
    binding_measured: dict = field(default_factory=dict)
    batches: list[dict] = field(default_factory=list)
    checks: list = field(default_factory=list)       # bench_prove.Check
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(bp.Check(what, bool(ok), "" if ok else detail))
        return bool(ok)

    def to_json(self) -> dict:
        return {"benchmark": "rollup", "mode": self.mode, "ok": self.ok, "settings": self.settings,
                "cache": self.cache, "machine": self.machine, "tools": self.tools, "slots": self.slots,
                "per_transfer": self.per_transfer, "binding_measured": self.binding_measured,
                "batches": self.batches, "checks": [asdict(c) for c in self.checks], "warnings": self.warnings}


def _link(target: Path, link: Path) -> None:
    try:
        link.symlink_to(target)
    except OSError:
        shutil.copyfile(target, link)


def bench_batch(report: Report, layout, n_transfers: int, is_max: bool, cache_root: Path, *, provers: tuple,
                with_peers: bool, use_node: bool, install_peers: bool, rebuild: bool, expected: int | None,
                keep: Path | None, log: Log, repeats: dict | None = None,
                expected_log_domain: int = MAX_LOG_DOMAIN) -> dict:
    """One batch: prepare (or load) its circuit and key, sign and execute transfers, solve the witness, prove
    and verify with ours, and with snarkjs and groth16py when `with_peers`; returns its row."""
    from circuits.iden3 import write_wtns
    from zkrollup.executor import execute_batch

    label = f"2^{layout.depth} accounts, {n_transfers} transfers"
    prepared = prepare_batch(layout, cache_root, rebuild=rebuild, log=log)
    meta, circuit = prepared.meta, prepared.circuit
    r1cs = circuit.r1cs
    row = {
        "accounts_log2": layout.depth, "arity": layout.arity, "binding": layout.binding,
        "transfers": n_transfers, "registrations": layout.n_registrations, "largest": is_max,
        "shape": layout.shape_id, "constraints": r1cs.n_constraints, "predicted_constraints": expected,
        "public": r1cs.n_public, "domain": meta["domain"], "parts": meta["parts"],
        "constraints_per_transfer": round(r1cs.n_constraints / n_transfers, 1),
        "build_s": meta["build_s"], "setup_s": meta["setup_s"], "cached": not prepared.made_now,
        "circuit_load_s": prepared.load_s, "files": str(prepared.folder),
    }
    row["prediction_exact"] = prediction_is_exact(layout)
    if expected is not None and row["prediction_exact"]:
        report.check(f"{label}: the built circuit has the predicted size", expected == r1cs.n_constraints,
                     f"predicted {expected:,}, built {r1cs.n_constraints:,}")
    elif expected is not None and expected != r1cs.n_constraints:
        report.warnings.append(f"{label}: {r1cs.n_constraints:,} constraints, {r1cs.n_constraints - expected:+,} from "
                               "the SHA-256 extrapolation")
    if is_max and meta["log_domain"] > expected_log_domain:
        report.warnings.append(f"{label}: the 'largest' batch needs a 2^{meta['log_domain']} domain, not "
                               f"2^{expected_log_domain} (the SHA-256 extrapolation was short)")

    log(f"{label}: genesis, signing, executor ...")
    work_inputs = make_batch_work(layout, n_transfers)
    start = time.perf_counter()
    result = execute_batch(work_inputs.state, work_inputs.chain_id, work_inputs.fee_account,
                           work_inputs.registrations, work_inputs.transfers)
    executor_s = time.perf_counter() - start
    report.check(f"{label}: the executor includes every transfer", len(result.included) == n_transfers,
                 f"included {len(result.included)}, dropped {[(p, r.reason) for p, r in result.dropped]}")
    log(f"{label}: solving the witness ...")
    from prover.convert import limbs_to_ints
    from prover.solver import solve_witness

    assignment = circuit.assignment(result.inputs)
    solve_witness(circuit.compiled, assignment)          # first call per circuit encodes its program
    start = time.perf_counter()
    witness_limbs = solve_witness(circuit.compiled, assignment)   # the node's compiled solver
    witness_s = time.perf_counter() - start
    witness = limbs_to_ints(witness_limbs)
    del witness_limbs
    expected_public = result.inputs.public_values()
    report.check(f"{label}: the witness's public inputs are those the L1 derives from the pubdata",
                 witness[1:r1cs.n_public + 1] == expected_public, "they differ")
    row.update(genesis_s=work_inputs.genesis_s, sign_s=work_inputs.sign_s, executor_s=executor_s,
               witness_s=witness_s, pubdata_bytes=len(result.pubdata))

    work = Path(tempfile.mkdtemp(prefix=f"zkrollup-bench-rollup-{layout.shape_id}-"))
    failures_before = sum(not c.ok for c in report.checks)
    checks_before = len(report.checks)
    try:
        start = time.perf_counter()
        write_wtns(work / "witness.wtns", witness)
        row["wtns_write_s"] = time.perf_counter() - start
        del witness
        for name in ("circuit.r1cs", "circuit.zkey", "verification_key.json"):
            _link(prepared.folder / name, work / name)
        art = bp.Artifacts(work, {"log_size": meta["log_domain"], "public": r1cs.n_public}, prepared.made_now)
        repeats = repeats or bp.repeats_for(meta["log_domain"])
        if "ours" in provers:
            row["ours"] = bp.bench_ours(report, art, work, repeats, use_node, log)
        if with_peers and "snarkjs" in provers:
            row["snarkjs"] = bp.bench_snarkjs(report, art, work, repeats, log)
        if with_peers and "groth16py" in provers:
            row["groth16py"] = bp.bench_groth16py(report, art, work, repeats, use_node, install_peers, log)
    finally:
        for c in report.checks[checks_before:]:
            c.what = f"{label}: {c.what}"
        if keep is not None:
            shutil.copytree(work, Path(keep) / layout.shape_id, dirs_exist_ok=True, symlinks=True)
        if sum(not c.ok for c in report.checks) > failures_before:
            row["kept"] = str(work)
            log(f"{label}: a check failed; proofs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    ours_s = row.get("ours", {}).get("prove_s")
    row["ratios"] = {
        "snarkjs_over_ours": bp._ratio(row.get("snarkjs", {}).get("prove_s"), ours_s),
        "groth16py_over_ours": bp._ratio(row.get("groth16py", {}).get("prove_s"), ours_s),
    }
    row["witness_share_of_prove"] = None if not ours_s else (executor_s + witness_s) / ours_s
    row["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return row


def batch_targets(row: dict) -> list[dict]:
    """Issue 7's targets for a batch of about 2^20 constraints, beside this row's figures."""
    targets = []

    def add(figure, value, target, met):
        targets.append({"figure": figure, "value": value, "target": target, "met": met})

    ours = row.get("ours", {})
    add("transfers in the batch", row["transfers"], f">= {TARGET_MIN_TRANSFERS}",
        row["transfers"] >= TARGET_MIN_TRANSFERS)
    prove_s = ours.get("prove_s")
    add("prove (s)", prove_s, f"<= {TARGET_PROVE_S:g} s", None if prove_s is None else prove_s <= TARGET_PROVE_S)
    ratio = row["ratios"]["snarkjs_over_ours"]
    add("snarkjs / ours", ratio, f">= {TARGET_SNARKJS_RATIO:g}x",
        None if ratio is None else ratio >= TARGET_SNARKJS_RATIO)
    rss = ours.get("cli", {}).get("peak_rss_mb")
    add("peak RSS of the prove (MB)", rss, f"<= {TARGET_PEAK_RSS_MB:.0f} MB",
        None if rss is None else rss <= TARGET_PEAK_RSS_MB)
    share = row["witness_share_of_prove"]
    add("executor + witness / prove", share, f"<= {TARGET_WITNESS_SHARE:.0%}",
        None if share is None else share <= TARGET_WITNESS_SHARE)
    add("setup (s)", row["setup_s"], f"<= {TARGET_SETUP_S:g} s", row["setup_s"] <= TARGET_SETUP_S)
    return targets


def resolve_sizes(sizes, slots: SlotCosts, arity: int, binding: str, n_registrations: int,
                  max_log_domain: int) -> tuple[list[int], int | None]:
    """The batch sizes to run at one tree, "max" replaced by the largest that fits; and that largest (None
    when "max" is not asked for)."""
    if "max" not in sizes:
        return sorted(set(sizes)), None
    largest = largest_batch(slots, arity, binding, n_registrations, max_log_domain)
    chosen = {largest if s == "max" else s for s in sizes}
    return sorted(n for n in chosen if n >= 1), largest


def run(depths=DEPTHS, sizes=DEFAULT_SIZES, *, arity: int = 4, binding: str = "evaluation",
        n_registrations: int = 0, provers=PROVERS, peers: str = "largest", breakdown: bool = True,
        max_log_domain: int = MAX_LOG_DOMAIN, cache_root: Path | None = None, rebuild: bool = False,
        install_peers: bool = True, mode: str = "custom", keep: Path | None = None, log: Log = _quiet,
        repeats: dict | None = None) -> Report:
    """The whole benchmark; returns the report (a failed check = a proof that did not verify, a witness whose
    public inputs are not the L1's, or a circuit whose size is not the predicted one). `repeats` overrides
    bench_prove.repeats_for (timed runs per prover: keys ours, ours_cli, snarkjs, groth16py)."""
    from circuits.rollup.layout import Layout

    provers = tuple(provers)
    cache_root = Path(cache_root) if cache_root is not None else bp.default_cache_root()
    settings = {"depths": list(depths), "sizes": [str(s) for s in sizes], "arity": arity, "binding": binding,
                "registrations": n_registrations, "provers": list(provers), "peers": peers,
                "max_log_domain": max_log_domain, "breakdown": breakdown}
    report = Report(mode, settings, str(cache_root), bp._machine(), bp._tools(provers))
    use_node = "snarkjs" in provers and bp.snarkjs_unavailable_reason() is None

    slots_by_tree: dict[tuple[int, int], SlotCosts] = {}
    for depth in depths:
        for a in (ARITIES if breakdown else (arity,)):
            slots_by_tree[(depth, a)] = measure_slots(depth, a, log)
    report.slots = [asdict(s) for s in slots_by_tree.values()]
    if breakdown:
        report.per_transfer, report.binding_measured = constraint_rows(slots_by_tree, log)
        for row in report.per_transfer:
            if row["breakdown"].get("other"):
                report.warnings.append(f"2^{row['accounts_log2']} accounts, arity {row['arity']}: "
                                       f"{row['breakdown']['other']} transfer-slot constraints in no category")

    for depth in depths:
        slots = slots_by_tree[(depth, arity)]
        chosen, largest = resolve_sizes(sizes, slots, arity, binding, n_registrations, max_log_domain)
        if "max" in sizes and largest == 0:
            report.warnings.append(f"2^{depth} accounts: not one transfer slot fits a 2^{max_log_domain} domain")
        for n in chosen:
            layout = Layout(depth=depth, arity=arity, n_transfers=n, n_registrations=n_registrations, binding=binding)
            expected = predicted_constraints(slots, layout)
            with_peers = peers == "all" or n == chosen[-1]
            row = bench_batch(report, layout, n, n == largest, cache_root, provers=provers, with_peers=with_peers,
                              use_node=use_node, install_peers=install_peers, rebuild=rebuild, expected=expected,
                              keep=keep, log=log, repeats=repeats, expected_log_domain=max_log_domain)
            if n == largest and max_log_domain == MAX_LOG_DOMAIN and depth == 20:
                row["targets"] = batch_targets(row)
            report.batches.append(row)
    if "ours" in provers and report.batches:
        import numba

        try:
            report.machine["numba_threading_layer"] = numba.threading_layer()
        except ValueError:
            pass
    return report


# --- Output ------------------------------------------------------------------------------------------

def _table(header: tuple, rows: list[tuple]) -> list[str]:
    rows = [tuple(header)] + [tuple(r) for r in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return lines


def _n(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _mb(value) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def render_table(report: Report) -> str:
    m = report.machine
    busy = m["load_average_at_start"][0] > 0.75 * (m["cpus"] or 1)
    out = [f"zkrollup rollup benchmark ({report.mode}): {m['cpus']} CPUs, Numba {m.get('numba', '?')}, "
           f"Python {m['python']}; load average at start {m['load_average_at_start'][0]}"
           + (" (other work shares these cores: times are pessimistic)" if busy else "")]
    if report.per_transfer:
        out += ["", "Constraints per transfer: one more transfer slot and its share of the data binding "
                    f"(target <= {TARGET_PER_TRANSFER:,} at 2^20 accounts; Hermez v1 ~{HERMEZ_V1_PER_TX:,} "
                    "before its SHA-256 share)"]
        header = ("accounts", "arity", "binding", *(CATEGORY_TITLES[c] for c in CATEGORIES), "data binding",
                  "per transfer", "DESIGN budget", "target")
        rows = []
        for r in report.per_transfer:
            met = "-" if r["met"] is None else ("yes" if r["met"] else "NO")
            rows.append((f"2^{r['accounts_log2']}", str(r["arity"]), r["binding"],
                         *(_n(r["breakdown"][c]) for c in CATEGORIES), _n(r["data_binding"]), _n(r["per_transfer"]),
                         _n(r["design_budget"]) if r["design_budget"] else "-", met))
        out += _table(header, rows)
        out.append("")
        out += [f"  {CATEGORY_TITLES[c]}: {CATEGORY_NOTES[c]}" for c in CATEGORIES]
        for binding, how in report.binding_measured.items():
            out.append(f"  data binding ({binding}): {how}")
        out += ["", "Per batch, beside the transfer slots (constraints):"]
        out += _table(("accounts", "arity", "transfer slot", "registration slot", "fee credit"),
                      [(f"2^{s['depth']}", str(s["arity"]), _n(s["transfer"]), _n(s["registration"]),
                        _n(s["fee_credit"])) for s in report.slots])
    if report.batches:
        s = report.settings
        out += ["", f"Batches (arity {s['arity']}, {s['binding']} binding, {s['registrations']} registration slots; "
                    f"largest = most transfers within a 2^{s['max_log_domain']} domain):"]
        header = ("accounts", "transfers", "constraints", "per transfer", "domain", "build", "executor", "witness",
                  "setup", "prove ours", "verify", "peak RSS ours", "snarkjs", "snarkjs/ours", "groth16py",
                  "groth16py/ours")
        rows = []
        for b in report.batches:
            ours, snark, g16 = b.get("ours", {}), b.get("snarkjs", {}), b.get("groth16py", {})
            cached = " (cached)" if b["cached"] else ""
            rows.append((f"2^{b['accounts_log2']}", f"{b['transfers']}{' (largest)' if b['largest'] else ''}",
                         _n(b["constraints"]), _n(b["constraints_per_transfer"]), f"2^{b['domain'].bit_length() - 1}",
                         bp._s(b["build_s"]) + cached, bp._s(b["executor_s"]), bp._s(b["witness_s"]),
                         bp._s(b["setup_s"]) + cached, bp._s(ours.get("prove_s")),
                         "n/a" if ours.get("verify_ms") is None else f"{ours['verify_ms']:.1f} ms",
                         _mb(ours.get("cli", {}).get("peak_rss_mb")),
                         bp._s(snark.get("prove_s")) if snark else "-", bp._x(b["ratios"]["snarkjs_over_ours"]),
                         bp._s(g16.get("prove_s")) if g16 else "-", bp._x(b["ratios"]["groth16py_over_ours"])))
        out += _table(header, rows)
        out += ["", "ours, stage breakdown of the best warm in-process proof; the rest of each batch:"]
        for b in report.batches:
            ours = b.get("ours")
            head = f"  2^{b['accounts_log2']} x {b['transfers']}:"
            if ours:
                out.append(f"{head} {ours['stage_summary']}; first call {bp._s(ours['first_call_s'])}")
                cli = ours.get("cli") or {}
                if cli:
                    out.append(f"      `zkrollup groth16 prove`: wall {bp._s(cli['wall_s'])}, "
                               f"CPU {cli['cpu_s']:.1f} s, "
                               f"peak RSS {_mb(cli['peak_rss_mb'])}")
            share = b["witness_share_of_prove"]
            out.append(f"      signing {bp._s(b['sign_s'])}, genesis {bp._s(b['genesis_s'])}, .wtns write "
                       f"{bp._s(b.get('wtns_write_s'))}, circuit load {bp._s(b['circuit_load_s'])}; executor + witness "
                       f"= {'n/a' if share is None else f'{share:.0%}'} of the prove; parts {b['parts']}")
            for name in ("snarkjs", "groth16py"):
                peer = b.get(name)
                if peer and peer.get("prove_s") is not None:
                    out.append(f"      {name}: prove {bp._s(peer['prove_s'])}, peak RSS {_mb(peer.get('peak_rss_mb'))}")
                elif peer:
                    out.append(f"      {name}: n/a ({peer.get('why_not') or peer.get('failed')})")
        for b in report.batches:
            if b.get("targets"):
                out += ["", f"Targets (issue 7) at the largest batch, 2^{b['accounts_log2']} accounts:"]
                for t in b["targets"]:
                    v = t["value"]
                    shown = ("n/a" if v is None else f"{v:.0%}" if "/ prove" in t["figure"] else
                             f"{v:.1f}x" if "/ ours" in t["figure"] else
                             f"{v:,.2f}" if isinstance(v, float) else str(v))
                    met = "-" if t["met"] is None else "yes" if t["met"] else "NO"
                    out.append(f"  {t['figure']}: {shown} (target {t['target']}): {met}")
    out.append("")
    out.append("times: wall clock; prove = best warm in-process run; peak RSS = the whole `zkrollup groth16 prove` "
               "process (wait4 rusage); peers = CLI wall time on the same .zkey and .wtns. (cached) = measured when "
               "the cache entry was made.")
    out += [f"WARNING: {w}" for w in report.warnings]
    out += [f"FAILED: {c.what}. {c.detail}" for c in report.checks if not c.ok]
    out += [f"2^{b['accounts_log2']} x {b['transfers']}: proofs kept in {b['kept']}"
            for b in report.batches if b.get("kept")]
    out.append(f"checks: {sum(c.ok for c in report.checks)}/{len(report.checks)} passed (each proof by our "
               "verifier, and by snarkjs groth16 verify where node is present; circuit sizes as predicted; public "
               "inputs the L1's)")
    return "\n".join(out)


# --- Command line ------------------------------------------------------------------------------------

def _ints(text: str, what: str, low: int, high: int) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} are integers separated by commas, not {text!r}") from None
    if not values or any(not low <= v <= high for v in values):
        raise argparse.ArgumentTypeError(f"each of the {what} must be between {low} and {high}, got {text!r}")
    return values


def _sizes(text: str) -> tuple:
    sizes = []
    for item in (x.strip() for x in text.split(",")):
        if item == "max":
            sizes.append("max")
        elif item:
            sizes += _ints(item, "batch sizes", 1, 4096)
    if not sizes:
        raise argparse.ArgumentTypeError("give batch sizes in transfers, e.g. 1,4,16,32,max")
    return tuple(dict.fromkeys(sizes))


def _depths(text: str) -> tuple[int, ...]:
    depths = _ints(text, "depths (log2 of the accounts)", 2, 32)
    if any(d % 2 for d in depths):
        raise argparse.ArgumentTypeError("depths must be even: the breakdown covers 4-ary trees, two index bits "
                                         "a level")
    return depths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"batches of {', '.join(map(str, QUICK_SIZES))} only")
    parser.add_argument("--sizes", type=_sizes, default=None,
                        help="batch sizes in transfers, comma-separated, `max` = the largest within the domain "
                             "(default 1,4,16,32,max)")
    parser.add_argument("--depths", type=_depths, default=DEPTHS,
                        help="trees of 2^D accounts, comma-separated, even (default 16,20)")
    parser.add_argument("--arity", type=int, choices=ARITIES, default=4, help="tree arity of the batches (default 4)")
    parser.add_argument("--binding", choices=BINDINGS, default="evaluation",
                        help="data binding of the batches (default evaluation)")
    parser.add_argument("--registrations", type=int, default=0, metavar="R",
                        help="registration slots in each batch (default 0)")
    parser.add_argument("--only", type=bp._provers, default=PROVERS,
                        help="provers, comma-separated among ours,snarkjs,groth16py (default all)")
    parser.add_argument("--peers", choices=("largest", "all"), default="largest",
                        help="run snarkjs and groth16py at the largest batch of each tree (default) or at every batch")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the per-transfer table over both arities and bindings")
    parser.add_argument("--max-log-domain", type=int, default=MAX_LOG_DOMAIN, metavar="K",
                        help=f"`max` = the most transfers within a 2^K domain (default {MAX_LOG_DOMAIN})")
    parser.add_argument("--repeats", type=int, default=None, metavar="N",
                        help="timed runs of each prover, best reported (default: a few for small circuits, as "
                             "bench_prove.py)")
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                        help="print one JSON object instead of the table; with PATH, write it there and print "
                             "the table")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder for circuits and keys (default $ZKROLLUP_BENCH_CACHE or ~/.cache/zkrollup-bench)")
    parser.add_argument("--rebuild", action="store_true", help="remake the cached circuits and keys")
    parser.add_argument("--no-install", action="store_true", help="do not pip-install groth16py when missing")
    parser.add_argument("--keep", type=Path, default=None, help="copy the proofs made into this folder")
    args = parser.parse_args(argv)
    if args.quick and args.sizes:
        parser.error("--quick runs batches of 1 and 4; give either --quick or --sizes")
    if not 0 <= args.registrations <= 64:
        parser.error(f"--registrations must be between 0 and 64, got {args.registrations}")
    if not 10 <= args.max_log_domain <= 24:
        parser.error(f"--max-log-domain must be between 10 and 24, got {args.max_log_domain}")
    if args.repeats is not None and not 1 <= args.repeats <= 20:
        parser.error(f"--repeats must be between 1 and 20, got {args.repeats}")
    repeats = (None if args.repeats is None
               else dict.fromkeys(("ours", "ours_cli", "snarkjs", "groth16py"), args.repeats))
    sizes = QUICK_SIZES if args.quick else args.sizes or DEFAULT_SIZES
    mode = "quick" if args.quick else "sizes " + ",".join(map(str, sizes))

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = run(args.depths, sizes, arity=args.arity, binding=args.binding, n_registrations=args.registrations,
                 provers=args.only, peers=args.peers, breakdown=not args.no_breakdown,
                 max_log_domain=args.max_log_domain, cache_root=args.cache, rebuild=args.rebuild,
                 install_peers=not args.no_install, mode=mode, keep=args.keep, log=log, repeats=repeats)
    return bp.finish(report, args.json, render_table)


if __name__ == "__main__":
    sys.exit(main())
