"""L1 gas benchmark (issue 9): what settling a batch costs on Ethereum, measured on a local anvil node with real
proofs, beside snarkjs's Solidity verifier for the same key and beside EIP-4844 blob pricing of the same data.

For each binding (evaluation claim, SHA-256) and batch size (1, 4, 16, 32 and the largest batch a 2^20 circuit
holds at 2^20 accounts, computed by scripts/bench_rollup.py's `largest_batch`), a rollup is made with
`RollupNode.init` on the script's own anvil (started in a temporary folder, stopped at the end), filled with
signed transfers among distinct senders and receivers, and two batches are built, proved and submitted; the second is the one measured (the first also writes `batchCount` from zero: 20,000 gas for that
SSTORE instead of 2,900, once per deployment). Its `submitBatch` transaction is split by an opcode-level trace
(debug_traceCall of the same call on the state before its block: anvil keeps opcode steps of mined transactions
only with --steps-tracing, whose state dumps grow by gigabytes; the replay must use exactly the receipt's gas):

    base          21,000 (every transaction)
    calldata      the transaction's input by EIP-2028 (4 gas a zero byte, 16 a non-zero byte); EIP-7623's floor
                  (10 gas a token, tokens = zero bytes + 4 x non-zero bytes) is computed beside it, and binds
                  only when execution < 6 x tokens
    verification  the call to the Groth16 verifier, from STATICCALL to return (its cold-account 2,600 included)
    binding       the evaluation claim's keccak256s and Horner loop, or the SHA-256 precompile call, from the
                  pubdata's CALLDATACOPY to the last step of the binding
    storage       SLOAD and SSTORE of the Rollup contract (operator check, state root, batch count)
    event         the LOG of BatchSubmitted
    other         the rest of the execution: dispatch, ABI decoding, the checks, the verifier call's arguments

The pubdata alone is also priced as calldata (EIP-2028 and EIP-7623's floor) and as EIP-4844 blobs (131,072 blob
gas a blob, 4,096 field elements of 31 usable bytes), at a stated execution base fee and a few blob base fees.

`verifyProof` alone is measured as a transaction to the rollup's verifier (ours, rendered by verifier/solidity.py)
and to snarkjs's (`snarkjs zkey export solidityverifier` on the same .zkey, compiled with verifier/solc.py and
deployed beside it), at the largest batch of each binding; both must accept the proof and refuse it with one
public input changed.

Gas does not depend on the tree's depth (pubdata widths are fixed: 4-byte indices, 8-byte amounts and fees), so
the default run uses trees of 2^8 accounts (short setups, distinct accounts for every transfer); `--depth 20` runs
the full shape. Indices are the node's genesis indices (2, 3, ...): one non-zero byte each, where a tree filled to
2^20 accounts has up to three (at most 4 x 12 = 48 gas more a transfer).

    .venv/bin/python scripts/bench_gas.py --quick              # batches of 1 and 4 only
    .venv/bin/python scripts/bench_gas.py                      # 1, 4, 16, 32 and the largest, both bindings
    .venv/bin/python scripts/bench_gas.py --depth 20 --sizes max --json gas.json

Proving keys are cached per shape in $ZKROLLUP_CACHE (default ~/.cache/zkrollup), as `zkrollup init` caches them.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

SCRIPTS = Path(__file__).resolve().parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
import bench_prove as bp  # noqa: E402  (Check, machine info, finish)
import bench_rollup as br  # noqa: E402  (the largest batch a 2^20 circuit holds)

REPO = bp.REPO
BINDINGS = ("evaluation", "sha256")
DEFAULT_SIZES = (1, 4, 16, 32, "max")
QUICK_SIZES = (1, 4)
DEFAULT_DEPTH = 8
ARITY = 4
LARGEST_AT_DEPTH = 20          # "the largest batch" is the most transfers a 2^20 circuit holds at 2^20 accounts
BATCHES_PER_SHAPE = 2          # the second is measured (steady state)

# --- Ethereum's prices -------------------------------------------------------------------------------
TX_BASE = 21_000               # every transaction (yellow paper G_transaction)
CALLDATA_ZERO = 4              # EIP-2028: a zero byte of calldata
CALLDATA_NONZERO = 16          # EIP-2028: a non-zero byte
TOKENS_PER_NONZERO = 4         # EIP-7623: tokens = zero bytes + 4 x non-zero bytes
FLOOR_PER_TOKEN = 10           # EIP-7623: gas used >= 21,000 + 10 x tokens
BLOB_GAS_PER_BLOB = 131_072    # EIP-4844: GAS_PER_BLOB = 2^17
BLOB_USABLE_BYTES = 4096 * 31  # 4,096 field elements, each < the BLS12-381 modulus: 31 whole bytes of data each
PAIRING_BASE, PAIRING_PER_PAIR, ECMUL, ECADD = 45_000, 34_000, 6_000, 150   # EIP-1108
GWEI = 10 ** 9
DEFAULT_BASE_FEE_GWEI = 1.0
BLOB_BASE_FEES_WEI = (1, GWEI, 10 * GWEI)

# --- Targets (issue 9) ---------------------------------------------------------------------------------
TARGET_PER_TRANSFER = 6_000    # L1 gas a transfer, all included, at the largest batch
TARGET_MIN_TRANSFERS = 48      # that batch holds at least this many transfers
SNARKJS_3_INPUTS = 229_000     # the issue's figure: snarkjs's verifyProof with its transaction, 3 public inputs

Log = Callable[[str], None]


def _quiet(line: str) -> None:
    pass


# --- Pricing --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CalldataCost:
    """Bytes priced as calldata: EIP-2028's gas (`standard`) and EIP-7623's floor (`floor`), both without the
    21,000 a transaction pays anyway."""

    n_bytes: int
    zero: int
    nonzero: int
    tokens: int
    standard: int
    floor: int


def calldata_cost(data: bytes) -> CalldataCost:
    """EIP-2028 gas and EIP-7623 floor of `data` sent as calldata."""
    zero = data.count(0)
    nonzero = len(data) - zero
    tokens = zero + TOKENS_PER_NONZERO * nonzero
    return CalldataCost(len(data), zero, nonzero, tokens, CALLDATA_ZERO * zero + CALLDATA_NONZERO * nonzero,
                        FLOOR_PER_TOKEN * tokens)


def blobs_for(n_bytes: int) -> int:
    """EIP-4844 blobs needed for `n_bytes` of data, 31 bytes to a field element (at least one)."""
    return max(1, -(-n_bytes // BLOB_USABLE_BYTES))


def eip1108_precompiles(n_public: int) -> int:
    """Gas of the precompile calls a Groth16 verification cannot avoid (EIP-1108): one 4-pair pairing, and an
    ecMul and an ecAdd per public input."""
    return PAIRING_BASE + 4 * PAIRING_PER_PAIR + n_public * (ECMUL + ECADD)


# --- Traces ---------------------------------------------------------------------------------------------

class TraceError(RuntimeError):
    """A transaction's opcode trace lacks what the split of its gas needs (one line: what)."""


def replay_steps(w3, tx_hash: str) -> tuple[list[dict], int]:
    """The opcode steps (geth's struct logs, without stack, memory and storage) of a mined transaction, replayed
    with debug_traceCall on the state of the block before it (automining: one transaction a block); and the gas
    the replay used, which must be the receipt's. TraceError if the node returns no steps."""
    tx = w3.eth.get_transaction(tx_hash)
    call = {"from": tx["from"], "to": tx["to"], "data": w3.to_hex(tx["input"]), "gas": hex(tx["gas"])}
    answer = w3.provider.make_request("debug_traceCall", [call, hex(tx["blockNumber"] - 1), {
        "disableStack": True, "disableMemory": True, "disableStorage": True}])
    if "error" in answer:
        raise TraceError(f"debug_traceCall of {tx_hash}: {answer['error'].get('message', answer['error'])}")
    steps = answer["result"].get("structLogs") or []
    if not steps:
        raise TraceError(f"debug_traceCall of {tx_hash}: the node returned no opcode steps")
    return steps, int(answer["result"]["gas"])


def execution_gas(steps: list[dict]) -> int:
    """Gas the EVM spent executing (intrinsic gas excluded): the gas left before the first step, minus the gas
    left after the last."""
    return steps[0]["gas"] - (steps[-1]["gas"] - steps[-1]["gasCost"])


def split_submit_gas(steps: list[dict], binding: str) -> dict:
    """The execution of a submitBatch transaction by part (see the module docstring): verification, binding,
    storage, event and other, in gas, summing to `execution_gas(steps)`.

    Spans are measured as differences of the gas left at steps of the Rollup contract's frame (depth 1), so a
    call's cost includes everything its callee spent. TraceError if a landmark is missing."""
    top = [i for i, s in enumerate(steps) if s["depth"] == 1]
    after = {a: b for a, b in zip(top, top[1:])}             # the next depth-1 step after each depth-1 step

    def span(first: int, last: int) -> int:                   # steps first..last inclusive
        return steps[first]["gas"] - steps[after[last]]["gas"]

    calls = [i for i in top if steps[i]["op"] in ("STATICCALL", "CALL") and i in after]
    into_contract = [i for i in calls if after[i] != i + 1]  # a precompile runs no steps of its own
    if len(into_contract) != 1:
        raise TraceError(f"expected one call into the verifier, found {len(into_contract)}")
    verifier_call = into_contract[0]
    if binding == "sha256":
        ends = [i for i in calls if after[i] == i + 1 and i < verifier_call]          # the SHA-256 precompile
    else:
        ends = [i for i in top if steps[i]["op"] in ("MULMOD", "ADDMOD") and i < verifier_call]   # Horner
    if not ends:
        raise TraceError(f"no {binding} binding found before the verifier call")
    starts = [i for i in top if steps[i]["op"] == "CALLDATACOPY" and i < ends[0]]
    if not starts:
        raise TraceError("no CALLDATACOPY of the pubdata before the binding")
    parts = {
        "verification": span(verifier_call, verifier_call),
        "binding": span(starts[-1], ends[-1]),
        "storage": sum(steps[i]["gasCost"] for i in top if steps[i]["op"] in ("SLOAD", "SSTORE")),
        "event": sum(steps[i]["gasCost"] for i in top if steps[i]["op"].startswith("LOG")),
    }
    parts["other"] = execution_gas(steps) - sum(parts.values())
    return parts


# --- The chain --------------------------------------------------------------------------------------------

def _send(w3, sender: str, to: str | None, data: bytes, gas: int = 5_000_000) -> dict:
    """A transaction from one of anvil's unlocked development accounts with a fixed gas limit; its receipt
    (RuntimeError if reverted). Never an estimated limit: snarkjs's verifier answers false, without reverting,
    when its pairing runs out of gas, so eth_estimateGas finds a limit at which it fails cheaply."""
    tx = {"from": sender, "data": "0x" + data.hex(), "gas": gas}
    if to is not None:
        tx["to"] = to
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx), timeout=120)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {receipt['transactionHash'].hex()} reverted")
    return receipt


def snarkjs_verifier_source(zkey: Path, workdir: Path) -> str:
    """The Solidity text `snarkjs zkey export solidityverifier` writes for `zkey` (RuntimeError if it fails)."""
    out = workdir / "snarkjs_verifier.sol"
    done = subprocess.run([str(bp.SNARKJS), "zkey", "export", "solidityverifier", str(zkey), str(out)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not out.is_file():
        why = (done.stderr or done.stdout).strip()[-300:]
        raise RuntimeError(f"snarkjs zkey export solidityverifier failed: {why}")
    return out.read_text()


def measure_verify_proof(w3, sender: str, address: str, abi: list, proof, public: list[int]) -> dict:
    """verifyProof as a transaction: total gas, its calldata (EIP-2028) and the execution; and what eth_call
    answers for the proof and for the proof with its last public input changed."""
    from verifier.solidity import verifier_arguments
    from circuits.rollup.layout import R

    contract = w3.eth.contract(address=address, abi=abi)
    arguments = verifier_arguments(proof, public)
    wrong = list(public[:-1]) + [(public[-1] + 1) % R]
    accepts = bool(contract.functions.verifyProof(*arguments).call())
    accepts_wrong = bool(contract.functions.verifyProof(*verifier_arguments(proof, wrong)).call())
    data = bytes.fromhex(contract.functions.verifyProof(*arguments)._encode_transaction_data()[2:])
    receipt = _send(w3, sender, address, data)
    tx_hash = w3.to_hex(receipt["transactionHash"])
    steps, replay_gas = replay_steps(w3, tx_hash)
    answer = w3.provider.make_request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    output = answer.get("result", {}).get("output") or "0x"      # what verifyProof returned in the transaction
    calldata = calldata_cost(data)
    total = int(receipt["gasUsed"])
    return {"tx_gas": total, "calldata_gas": calldata.standard, "execution_gas": execution_gas(steps),
            "floor_binds": total == TX_BASE + calldata.floor, "replay_gas": replay_gas, "accepts_proof": accepts,
            "accepts_in_transaction": output != "0x" and int(output, 16) == 1,
            "accepts_wrong_input": accepts_wrong, "address": address}


# --- One shape ------------------------------------------------------------------------------------------

@dataclass
class Report:
    """Everything the benchmark measured; `checks` holds one entry per verification (all must pass)."""

    mode: str
    settings: dict
    machine: dict
    tools: dict
    verifiers: list[dict] = field(default_factory=list)
    batches: list[dict] = field(default_factory=list)
    targets: list[dict] = field(default_factory=list)
    checks: list = field(default_factory=list)        # bench_prove.Check
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(bp.Check(what, bool(ok), "" if ok else detail))
        return bool(ok)

    def to_json(self) -> dict:
        return {"benchmark": "gas", "mode": self.mode, "ok": self.ok, "settings": self.settings,
                "machine": self.machine, "tools": self.tools, "verifiers": self.verifiers, "batches": self.batches,
                "targets": self.targets, "checks": [asdict(c) for c in self.checks], "warnings": self.warnings}


def fill_batch(node, n_transfers: int, senders: list[int], rng: random.Random) -> None:
    """Queue `n_transfers` signed transfers: transfer t goes from senders[2t] to senders[2t + 1] (indices taken
    round the list when it is shorter), amounts up to 10^6 and fees up to 100, as users send them."""
    for t in range(n_transfers):
        sender = senders[(2 * t) % len(senders)]
        receiver = senders[(2 * t + 1) % len(senders)]
        node.transfer(sender, receiver, rng.randrange(1, 10 ** 6), rng.randrange(1, 100))


def bench_shape(report: Report, url: str, workdir: Path, layout, *, largest: bool, measure_verifier: bool,
                base_fee_wei: int, log: Log) -> dict:
    """One rollup deployment of `layout` on the node at `url`: two batches submitted, the second measured."""
    from eth_utils import to_checksum_address

    from circuits.rollup.layout import public_inputs
    from verifier import snarkjs
    from verifier.solc import compile_sources
    from verifier.solidity import compile_verifier
    from zkrollup.anvil import DEV_KEY
    from zkrollup.node import FEE_ACCOUNT, RollupNode

    n = layout.n_transfers
    label = f"{layout.binding}, {n} transfers"
    n_accounts = min(2 * n, layout.n_accounts - 2)
    log(f"{label}: rollup {layout.shape_id} on anvil (proving key made once per shape) ...")
    node = RollupNode.init(workdir / layout.shape_id, layout, accounts=n_accounts, balance=10 ** 12, l1=url,
                           operator_key=bytes.fromhex(DEV_KEY[2:]), notify=log)
    try:
        w3 = node.l1.w3
        rng = random.Random(f"bench_gas/{layout.shape_id}")
        senders = list(range(FEE_ACCOUNT + 1, FEE_ACCOUNT + 1 + n_accounts))
        receipts = []
        for b in range(BATCHES_PER_SHAPE):
            fill_batch(node, n, senders, rng)
            batch, dropped = node.build_batch()
            report.check(f"{label}: batch {batch.number} holds every transfer", len(batch.transfer_ids) == n and
                         not dropped, f"{len(batch.transfer_ids)} included, dropped {dropped}")
            log(f"{label}: proving batch {batch.number} ...")
            node.prove_batch()
            receipts.append(node.submit_batch())
        receipt = receipts[-1]
        batch = node.store.batch(receipt.event.batch_number)
        tx = w3.eth.get_transaction(receipt.tx_hash)
        tx_input = bytes(tx["input"])
        steps, replay_gas = replay_steps(w3, receipt.tx_hash)
        report.check(f"{label}: the traced replay of submitBatch uses the transaction's gas",
                     replay_gas == receipt.gas_used, f"replay {replay_gas:,}, receipt {receipt.gas_used:,}")
        execution = execution_gas(steps)
        parts = split_submit_gas(steps, layout.binding)
        calldata = calldata_cost(tx_input)
        pubdata = calldata_cost(batch.pubdata)
        total = receipt.gas_used
        floor_total = TX_BASE + calldata.floor
        standard_total = TX_BASE + calldata.standard + execution
        report.check(f"{label}: gas used = max(21,000 + EIP-2028 calldata + execution, EIP-7623 floor)",
                     total == max(standard_total, floor_total),
                     f"receipt {total:,}, standard {standard_total:,}, floor {floor_total:,}")
        blobs = blobs_for(len(batch.pubdata))
        row = {
            "binding": layout.binding, "transfers": n, "shape": layout.shape_id, "largest": largest,
            "accounts": n_accounts, "gas_used": total, "per_transfer": total / n,
            "first_batch_gas_used": receipts[0].gas_used,
            "parts": {"base": TX_BASE, "calldata": calldata.standard, **parts},
            "execution": execution,
            "calldata": {**asdict(calldata), "floor_total": floor_total, "floor_binds": floor_total >= standard_total,
                         "execution_over_6_tokens": execution / (6 * calldata.tokens)},
            "pubdata": {**asdict(pubdata), "per_transfer_standard": pubdata.standard / n,
                        "cost_wei_as_calldata": pubdata.standard * base_fee_wei,
                        "blobs": blobs, "blob_gas": blobs * BLOB_GAS_PER_BLOB,
                        "cost_wei_as_blobs": {str(fee): blobs * BLOB_GAS_PER_BLOB * fee for fee in BLOB_BASE_FEES_WEI},
                        "blob_fill": len(batch.pubdata) / (blobs * BLOB_USABLE_BYTES)},
            "tx_hash": receipt.tx_hash,
        }
        report.check(f"{label}: the parts add up to the transaction's gas",
                     sum(row["parts"].values()) == total or row["calldata"]["floor_binds"],
                     f"parts {sum(row['parts'].values()):,}, receipt {total:,}")

        if measure_verifier:
            log(f"{label}: verifyProof alone, ours and snarkjs's ...")
            proof = snarkjs.proof_from_json(json.loads(batch.proof))
            public = public_inputs(layout, batch.old_root, batch.new_root, node.l1.chain_id, batch.pubdata,
                                   batch.commitment)
            ours_compiled = compile_verifier(node.l1.verifying_key)
            ours_address = to_checksum_address(node.l1.verifier_address)
            report.check(f"{label}: the rollup's verifier is ours, rendered from the deployment's key",
                         bytes(w3.eth.get_code(ours_address)) == ours_compiled.runtime, "its code differs")
            sender = w3.eth.accounts[1]
            source = snarkjs_verifier_source(Path(node.config["proving_key"]), workdir)
            theirs_compiled = compile_sources({"SnarkjsVerifier.sol": source})["Groth16Verifier"]
            theirs_address = _send(w3, sender, None, theirs_compiled.bytecode)["contractAddress"]
            entry = {"binding": layout.binding, "shape": layout.shape_id, "public_inputs": len(public),
                     "eip1108_precompiles": eip1108_precompiles(len(public))}
            for name, address, compiled in (("ours", ours_address, ours_compiled),
                                            ("snarkjs", theirs_address, theirs_compiled)):
                measured = measure_verify_proof(w3, sender, address, compiled.abi, proof, public)
                measured["runtime_bytes"] = len(compiled.runtime)
                entry[name] = measured
                report.check(f"{label}: {name}'s verifier accepts the batch's proof (eth_call and the measured "
                             "transaction)", measured["accepts_proof"] and measured["accepts_in_transaction"],
                             f"eth_call {measured['accepts_proof']}, transaction {measured['accepts_in_transaction']}")
                report.check(f"{label}: {name}'s traced replay of verifyProof uses the transaction's gas",
                             measured["replay_gas"] == measured["tx_gas"],
                             f"replay {measured['replay_gas']:,}, receipt {measured['tx_gas']:,}")
                report.check(f"{label}: {name}'s verifyProof gas = 21,000 + calldata + execution",
                             measured["tx_gas"] == TX_BASE + measured["calldata_gas"] + measured["execution_gas"],
                             f"{measured['tx_gas']:,} != 21,000 + {measured['calldata_gas']:,} + "
                             f"{measured['execution_gas']:,}")
                report.check(f"{label}: {name}'s verifier refuses it with a public input changed",
                             not measured["accepts_wrong_input"], "verifyProof returned true")
            entry["ours_over_snarkjs"] = entry["ours"]["tx_gas"] / entry["snarkjs"]["tx_gas"]
            entry["ours_over_snarkjs_execution"] = entry["ours"]["execution_gas"] / entry["snarkjs"]["execution_gas"]
            report.verifiers.append(entry)
        return row
    finally:
        node.close()


# --- The run --------------------------------------------------------------------------------------------

def largest_batches(n_registrations: int, log: Log = _quiet) -> dict[str, int]:
    """Per binding, the most transfers whose batch circuit fits a 2^20 domain at 2^20 accounts (4-ary), by
    bench_rollup's measured slot costs and its predicted sizes."""
    slots = br.measure_slots(LARGEST_AT_DEPTH, ARITY, log)
    out = {}
    for binding in BINDINGS:
        log(f"largest batch within 2^{br.MAX_LOG_DOMAIN}, {binding} binding ...")
        out[binding] = br.largest_batch(slots, ARITY, binding, n_registrations)
    return out


def _tools() -> dict:
    from verifier.solc import solc_version
    from zkrollup.anvil import anvil_binary

    tools = {"solc": solc_version()}
    done = subprocess.run([str(anvil_binary()), "--version"], capture_output=True, text=True, timeout=60)
    tools["anvil"] = done.stdout.splitlines()[0] if done.returncode == 0 and done.stdout else None
    if bp.snarkjs_unavailable_reason() is None:
        tools["snarkjs"] = json.loads(bp.SNARKJS_PACKAGE.read_text()).get("version")
    return tools


def run(sizes=DEFAULT_SIZES, *, depth: int = DEFAULT_DEPTH, bindings=BINDINGS, n_registrations: int = 0,
        base_fee_gwei: float = DEFAULT_BASE_FEE_GWEI, mode: str = "custom", log: Log = _quiet) -> Report:
    """The whole benchmark on a fresh anvil node (started here, stopped at the end); returns the report."""
    from circuits.rollup.layout import Layout
    from zkrollup.anvil import AnvilNode

    why = bp.snarkjs_unavailable_reason()
    if why is not None:
        raise RuntimeError(f"snarkjs is needed for its verifier: {why}")
    base_fee_wei = round(base_fee_gwei * GWEI)
    largest = largest_batches(n_registrations, log) if "max" in sizes else {}
    settings = {"sizes": [str(s) for s in sizes], "depth": depth, "arity": ARITY, "bindings": list(bindings),
                "registrations": n_registrations, "batches_per_shape": BATCHES_PER_SHAPE, "measured_batch": 2,
                "base_fee_wei": base_fee_wei, "blob_base_fees_wei": list(BLOB_BASE_FEES_WEI),
                "largest_at_2^20_accounts": largest}
    report = Report(mode, settings, bp._machine(), _tools())
    workdir = Path(tempfile.mkdtemp(prefix="zkrollup-bench-gas-"))
    anvil = AnvilNode(workdir / "l1")
    try:
        url = anvil.start().url
        log(f"anvil on {url} (chain in {anvil.folder})")
        for binding in bindings:
            chosen = sorted({largest[binding] if s == "max" else s for s in sizes})
            for n in chosen:
                layout = Layout(depth=depth, arity=ARITY, n_transfers=n, n_registrations=n_registrations,
                                binding=binding)
                report.batches.append(bench_shape(report, url, workdir, layout, largest=n == largest.get(binding),
                                                  measure_verifier=n == chosen[-1], base_fee_wei=base_fee_wei,
                                                  log=log))
    finally:
        anvil.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report.targets = targets(report)
    return report


def targets(report: Report) -> list[dict]:
    """Issue 9's targets beside the measured figures (met = None when the run did not measure them)."""
    out = []
    for v in report.verifiers:
        out.append({"figure": f"verifyProof with its transaction, {v['binding']} ({v['public_inputs']} public "
                              "inputs): ours / snarkjs", "value": v["ours_over_snarkjs"], "target": "<= 1",
                    "met": v["ours_over_snarkjs"] <= 1})
    for binding in report.settings["bindings"]:
        rows = [b for b in report.batches if b["binding"] == binding and b["largest"]]
        if not rows:
            out.append({"figure": f"L1 gas per transfer at the largest batch, {binding}", "value": None,
                        "target": f"<= {TARGET_PER_TRANSFER:,}", "met": None})
            continue
        row = rows[0]
        out.append({"figure": f"L1 gas per transfer at the largest batch ({row['transfers']} transfers), {binding}",
                    "value": row["per_transfer"], "target": f"<= {TARGET_PER_TRANSFER:,}",
                    "met": row["per_transfer"] <= TARGET_PER_TRANSFER})
        out.append({"figure": f"transfers in the largest batch, {binding}", "value": row["transfers"],
                    "target": f">= {TARGET_MIN_TRANSFERS}", "met": row["transfers"] >= TARGET_MIN_TRANSFERS})
    return out


# --- Output ---------------------------------------------------------------------------------------------

def _n(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _wei(value: int | float) -> str:
    """A cost in wei, shown in gwei from 0.001 gwei up, else in wei."""
    if value >= 10 ** 6:
        gwei = value / GWEI
        return f"{gwei:,.0f} gwei" if gwei >= 100 else f"{gwei:,.3g} gwei"
    return f"{value:,.0f} wei"


def render_table(report: Report) -> str:
    s = report.settings
    fees = ", ".join(_wei(f) + "/blob gas" for f in s["blob_base_fees_wei"])
    out = [f"zkrollup L1 gas benchmark ({report.mode}) on anvil ({report.tools.get('anvil') or '?'}), solc "
           f"{report.tools.get('solc', '?')}, snarkjs {report.tools.get('snarkjs', '?')}",
           f"trees of 2^{s['depth']} accounts, arity {s['arity']}, {s['registrations']} registration slots; gas does "
           "not depend on the depth (fixed pubdata widths); each shape's 2nd batch is measured (steady state)"]
    if s["largest_at_2^20_accounts"]:
        out.append("largest batch within a 2^20 circuit at 2^20 accounts: "
                   + ", ".join(f"{b} {n}" for b, n in s["largest_at_2^20_accounts"].items()))
    if report.verifiers:
        out += ["", "verifyProof alone, as a transaction (the same .zkey, the same calldata):"]
        rows = []
        for v in report.verifiers:
            ours, theirs = v["ours"], v["snarkjs"]
            rows.append((v["binding"], str(v["public_inputs"]), _n(ours["tx_gas"]), _n(ours["execution_gas"]),
                         _n(theirs["tx_gas"]), _n(theirs["execution_gas"]), f"{v['ours_over_snarkjs']:.3f}",
                         _n(v["eip1108_precompiles"]), _n(ours["calldata_gas"])))
        out += br._table(("binding", "inputs", "ours tx", "ours exec", "snarkjs tx", "snarkjs exec", "ours/snarkjs",
                          "EIP-1108 precompiles", "calldata"), rows)
        out.append(f"  (the issue's reference: snarkjs ~{SNARKJS_3_INPUTS:,} with its transaction for 3 inputs; "
                   "precompile floor 181,000 + 6,150 an input)")
    if report.batches:
        out += ["", "submitBatch, the whole transaction, and its parts (gas):"]
        rows = []
        for b in report.batches:
            p, c = b["parts"], b["calldata"]
            rows.append((b["binding"], f"{b['transfers']}{' (largest)' if b['largest'] else ''}", _n(b["gas_used"]),
                         _n(b["per_transfer"]), _n(p["base"]), _n(p["calldata"]),
                         f"{_n(TX_BASE + c['floor'])} {'BINDS' if c['floor_binds'] else 'no'}",
                         _n(p["verification"]), _n(p["binding"]), _n(p["storage"]), _n(p["event"]), _n(p["other"])))
        out += br._table(("binding", "transfers", "submitBatch", "per transfer", "base", "calldata", "7623 floor",
                          "verification", "binding", "storage", "event", "other"), rows)
        worst = min(b["calldata"]["execution_over_6_tokens"] for b in report.batches)
        first = sorted({b["first_batch_gas_used"] - b["gas_used"] for b in report.batches})
        extra = _n(first[0]) if len(first) == 1 else f"{_n(first[0])} to {_n(first[-1])}"
        out.append(f"  calldata: EIP-2028 over the whole input; 7623 floor = 21,000 + 10 x tokens, binding only when "
                   f"execution < 6 x tokens (here execution >= {worst:.1f} x that). A deployment's first batch costs "
                   f"{extra} more (batchCount written from zero).")

        base = s["base_fee_wei"]
        out += ["", f"The pubdata alone: as calldata at an execution base fee of {_wei(base)}/gas, and as EIP-4844 "
                    f"blobs at blob base fees of {fees}:"]
        rows = []
        for b in report.batches:
            d = b["pubdata"]
            blob_costs = [_wei(d["cost_wei_as_blobs"][str(f)]) for f in s["blob_base_fees_wei"]]
            rows.append((b["binding"], str(b["transfers"]), _n(d["n_bytes"]), _n(d["standard"]),
                         f"{d['per_transfer_standard']:,.0f}", _n(d["floor"]), _wei(d["cost_wei_as_calldata"]),
                         f"{d['blobs']} ({d['blob_fill']:.2%})", _n(d["blob_gas"]), *blob_costs))
        out += br._table(("binding", "transfers", "bytes", "calldata gas", "a transfer", "7623 floor gas",
                          f"calldata at {_wei(base)}", "blobs (filled)", "blob gas",
                          *(f"blobs at {_wei(f)}" for f in s["blob_base_fees_wei"])), rows)

        sizes = sorted({b["transfers"] for b in report.batches})
        per = {(b["binding"], b["transfers"]): b["per_transfer"] for b in report.batches}
        out += ["", "L1 gas per transfer against batch size (the whole submitBatch transaction / transfers):"]
        out += br._table(("transfers", *s["bindings"]),
                         [(str(n), *(_n(per.get((binding, n))) if (binding, n) in per else "-"
                                     for binding in s["bindings"])) for n in sizes])
    if report.targets:
        out += ["", "Targets (issue 9):"]
        for t in report.targets:
            v = t["value"]
            shown = "n/a" if v is None else f"{v:.3f}" if "/ snarkjs" in t["figure"] else _n(v)
            met = "-" if t["met"] is None else "yes" if t["met"] else "NO"
            out.append(f"  {t['figure']}: {shown} (target {t['target']}): {met}")
    out.append("")
    out.append("Indices are the node's genesis indices (one non-zero byte each); a tree filled to 2^20 accounts has up "
               "to three: at most 48 gas more a transfer.")
    out += [f"WARNING: {w}" for w in report.warnings]
    out += [f"FAILED: {c.what}. {c.detail}" for c in report.checks if not c.ok]
    out.append(f"checks: {sum(c.ok for c in report.checks)}/{len(report.checks)} passed (every transfer batched, "
               "gas parts adding up, both verifiers accepting the proof and refusing a changed input)")
    return "\n".join(out)


# --- Command line ---------------------------------------------------------------------------------------

def _depth(text: str) -> int:
    try:
        depth = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the depth is an integer, not {text!r}") from None
    if not 2 <= depth <= 32 or depth % 2:
        raise argparse.ArgumentTypeError(f"the depth must be even and between 2 and 32 (a 4-ary tree), got {depth}")
    return depth


def _bindings(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    if not chosen or any(b not in BINDINGS for b in chosen):
        raise argparse.ArgumentTypeError(f"bindings are among {','.join(BINDINGS)}, got {text!r}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"batches of {', '.join(map(str, QUICK_SIZES))} only")
    parser.add_argument("--sizes", type=br._sizes, default=None,
                        help="batch sizes in transfers, comma-separated; `max` = the largest a 2^20 circuit holds at "
                             "2^20 accounts (default 1,4,16,32,max)")
    parser.add_argument("--depth", type=_depth, default=DEFAULT_DEPTH,
                        help=f"trees of 2^D accounts, even (default {DEFAULT_DEPTH}; 20 for the full shape)")
    parser.add_argument("--bindings", type=_bindings, default=BINDINGS,
                        help="data bindings, comma-separated (default evaluation,sha256)")
    parser.add_argument("--registrations", type=int, default=0, metavar="R",
                        help="registration slots in each batch, left empty (default 0)")
    parser.add_argument("--base-fee-gwei", type=float, default=DEFAULT_BASE_FEE_GWEI, metavar="GWEI",
                        help=f"execution base fee that prices calldata (default {DEFAULT_BASE_FEE_GWEI:g})")
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                        help="print one JSON object instead of the table; with PATH, write it there and print "
                             "the table")
    parser.add_argument("--progress", action="store_true",
                        help="progress on stderr even when it is not a terminal")
    args = parser.parse_args(argv)
    if args.quick and args.sizes:
        parser.error("--quick runs batches of 1 and 4; give either --quick or --sizes")
    if not 0 <= args.registrations <= 16:
        parser.error(f"--registrations must be between 0 and 16, got {args.registrations}")
    if not 0 < args.base_fee_gwei <= 10_000:
        parser.error(f"--base-fee-gwei must be above 0 and at most 10,000, got {args.base_fee_gwei:g}")
    sizes = QUICK_SIZES if args.quick else args.sizes or DEFAULT_SIZES
    mode = "quick" if args.quick else "sizes " + ",".join(map(str, sizes))
    show = args.progress or sys.stderr.isatty()

    def log(line: str) -> None:
        if show:
            print(line, file=sys.stderr, flush=True)

    from zkrollup.l1 import L1Error
    from zkrollup.node import NodeError

    try:
        report = run(sizes, depth=args.depth, bindings=args.bindings, n_registrations=args.registrations,
                     base_fee_gwei=args.base_fee_gwei, mode=mode, log=log)
    except (RuntimeError, NodeError, L1Error) as exc:   # anvil, solc, snarkjs or the trace missing; a refused call
        print(f"bench_gas: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    return bp.finish(report, args.json, render_table)


if __name__ == "__main__":
    sys.exit(main())
