"""The rollup node: the sequencer's jobs in one place, each a method the CLI and the tests call.

genesis (`RollupNode.init`), account registration, the mempool's admission of signed transfers, the batch
builder (executor over the mempool), the prover (witness generator + Groth16), the verifier and the L1
submitter, with reconciliation after a crash between the L1's acceptance and the store's bookkeeping. Owns
the policy and the order of these steps; not the circuit, the executor's rules, storage or the L1 itself.

Data directory: `rollup.sqlite` + `keystore.json` (zkrollup.store), `l1.sqlite` (the Python L1 stand-in)
and `node.json` (which L1, the operator's address, the format version). Proving keys and compiled circuits
live in the shared cache (zkrollup.keys), one per circuit shape.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from circuits.rollup.batch import BatchWitnessInputs
from circuits.rollup.layout import Layout
from zkrollup import keys
from zkrollup.executor import Registration, TransferRefused, check_transfer, execute_batch
from zkrollup.l1 import L1, GenesisAccount, L1Error, PythonL1, SubmitReceipt
from zkrollup.state import Account, RollupState
from zkrollup.store import Batch, DuplicateTransfer, Store
from zkrollup.wallet import KeyPair, SignedTransfer, Transfer, generate_keypair, sign_transfer

__all__ = ["NodeError", "RollupNode", "DEFAULT_LAYOUT", "NODE_FILE"]

NODE_FILE = "node.json"
#: The local anvil node's folder inside a data directory (its chain state, pid and log: zkrollup.anvil).
L1_NODE_DIR = "l1"
#: The operator's Ethereum key (mode 0600), for a rollup on an EVM.
OPERATOR_KEY_FILE = "operator-key.json"
#: The verifying key the deployment's verifier was rendered from (snarkjs's verification_key.json format).
VERIFYING_KEY_FILE = "verification_key.json"
NODE_FORMAT = 1
DEFAULT_LAYOUT = Layout()   # circuits/rollup/defaults.py
#: The fee account is the operator's, made at genesis at this index; funded genesis accounts follow it.
FEE_ACCOUNT = 1

Notify = Callable[[str], None]

#: Test hook: `ZKROLLUP_FAILPOINT=<name>` kills this process with SIGKILL at that point, as `kill -9` would at
#: the worst instant (the crash-safety tests use it; see `_failpoint`).
FAILPOINT_ENV = "ZKROLLUP_FAILPOINT"


def _failpoint(name: str) -> None:
    """Die like `kill -9` here when the environment asks for it (failpoints as in FoundationDB or TiKV): the
    crash tests reach the instants a timed kill would hit only by luck. Points: `prove:before-record`
    (proof computed, not stored), `submit:after-l1` (L1 accepted, store not yet told)."""
    if os.environ.get(FAILPOINT_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class NodeError(ValueError):
    """A request the node refuses (one line: what is wrong, and the batch, account or file concerned)."""


@dataclass
class AccountView:
    """Accounts only (no tree): enough for the executor's checks when admitting a transfer."""

    layout: Layout
    accounts: dict[int, Account] = field(default_factory=dict)

    def get(self, index: int) -> Account | None:
        return self.accounts.get(index)


class RollupNode:
    """One rollup deployment on one machine: its store, its L1 and its keys. Open with `open(data_dir)`,
    create with `init(...)`."""

    def __init__(self, data_dir: Path, store: Store, l1: L1, config: dict):
        self.data_dir = data_dir
        self.store = store
        self.l1 = l1
        self.config = config
        self.layout: Layout = store.layout
        self.chain_id: int = store.chain_id
        self.operator: str = config["operator"]
        self.reconciled: list[int] = []
        #: What opening the node found and did (warnings from `reconcile`), for the caller to show.
        self.notices: list[str] = []

    # --- genesis -------------------------------------------------------------------------------------
    @classmethod
    def init(cls, data_dir: str | os.PathLike, layout: Layout = DEFAULT_LAYOUT, *, accounts: int = 3,
             balance: int = 1_000_000, notify: Notify | None = None, setup_progress=None, l1: str = "python",
             operator_key: bytes | None = None) -> "RollupNode":
        """Create a rollup in `data_dir` (which must not exist or be empty): the operator's fee account
        (index 1) and `accounts` funded genesis accounts (indices 2..), their keys in the keystore; the
        proving key for the layout (made once per shape, cached); the L1 deployment with the verifying key,
        the genesis root and the genesis accounts. All or nothing: built in a temporary folder, then moved
        into place, node.json last.

        `l1`: "python" (the stand-in, zkrollup.l1.PythonL1), "anvil" (a local anvil node kept in
        `data_dir/l1/`, started here if it is not running: zkrollup.anvil) or a JSON-RPC URL; on an EVM the
        verifier rendered from the key and Rollup.sol are deployed (zkrollup.ethereum) from the operator's
        account: `operator_key` (32 bytes) or a new key, funded by anvil's development account on anvil.
        NodeError for bad arguments or an unreachable, unfunded or refusing L1 (checked before the setup)."""
        target = Path(data_dir)
        if target.exists() and (not target.is_dir() or any(p.name != L1_NODE_DIR for p in target.iterdir())):
            raise NodeError(f"{target}: already exists and is not empty (choose a new --data-dir)")
        if not 0 <= accounts <= min(1000, layout.n_accounts - 2):
            raise NodeError(f"--accounts must be 0..{min(1000, layout.n_accounts - 2)} for depth {layout.depth}")
        if not 0 <= balance < 1 << 64:
            raise NodeError("--balance must be a u64")
        # The place must be writable before the circuit and key are made (minutes for a big shape).
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NodeError(f"{target}: cannot make its parent folder: {exc.strerror or exc}") from None
        if not os.access(target.parent, os.W_OK):
            raise NodeError(f"{target}: its parent folder is not writable")
        chain = _L1Target.connect(l1, target, operator_key, notify)
        key_path, pk = keys.proving_key_for(layout, setup_progress=setup_progress, notify=notify)
        from prover.groth16 import verifying_key

        vk = verifying_key(pk)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            pairs = {FEE_ACCOUNT: generate_keypair()}
            for i in range(accounts):
                pairs[FEE_ACCOUNT + 1 + i] = generate_keypair()
            genesis = {i: Account(*kp.public_key, 0 if i == FEE_ACCOUNT else balance, 0) for i, kp in pairs.items()}
            genesis_root = RollupState(layout, genesis).root
            published = [GenesisAccount(i, a.ax, a.ay, a.balance) for i, a in sorted(genesis.items())]
            l1, l1_config, operator = chain.deploy(staging, layout, vk, genesis_root, published)
            store = Store.create(staging, layout, l1.chain_id, FEE_ACCOUNT, genesis)
            for i, kp in pairs.items():
                store.add_key(i, kp.private_key)
            if store.genesis_root != l1.genesis_root():
                raise NodeError("the store's genesis root differs from the L1's")
            store.close()
            l1.close()
            # The deployment's verifier is fixed to this key: record which one, so that a later proof is
            # made with exactly it (never with a new setup's, which the L1 would refuse).
            (staging / NODE_FILE).write_text(json.dumps({
                "format": NODE_FORMAT, "l1": l1_config, "operator": operator,
                "circuit_hash": pk.circuit_hash.hex(), "proving_key": str(key_path.resolve())}, indent=2) + "\n")
            _move_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            chain.abandon()
            raise
        return cls.open(target)

    @classmethod
    def sync(cls, data_dir: str | os.PathLike, endpoint: str, address: str, *, operator_key: bytes | None = None,
             proving_key: str | os.PathLike | None = None, notify: Notify | None = None) -> "RollupNode":
        """Rebuild a rollup's data directory from its L1 alone (`zkrollup sync`): the Rollup contract at
        `address` on `endpoint` ("anvil" for the node in data_dir/l1, or a JSON-RPC URL).

        Reads the layout, genesis accounts and operators (the constructor's Genesis event), every
        BatchSubmitted event and each batch's submitBatch calldata; recomputes the genesis root from the
        published accounts and every batch's root from its pubdata (zkrollup.sync.rebuild_state); re-verifies
        each batch's proof from the calldata with our verifier; checks the final root against the contract's
        and that the deployed verifier's code is the one rendered from the proving key's verifying key
        (`proving_key`: a .zkey file; default the cached key for the layout). Then writes a store whose
        settled state is the L1's, ready to build and prove on top of it. The keystore starts empty (users'
        keys are not on L1); `operator_key` signs later submissions (a new key, not an operator, if None).
        NodeError or SyncError (one line) on any mismatch; nothing is left behind then."""
        from prover.groth16 import verifying_key
        from verifier import snarkjs
        from zkrollup.ethereum import EthereumL1, operator_account
        from zkrollup.sync import SyncError, rebuild_state

        target = Path(data_dir)
        if target.exists() and (not target.is_dir() or any(p.name != L1_NODE_DIR for p in target.iterdir())):
            raise NodeError(f"{target}: already exists and is not empty (choose a new --data-dir)")
        if not endpoint.startswith(("http://", "https://")):
            raise NodeError(f"--l1 must be the L1 node's http(s) URL, got {endpoint!r} (a local anvil node's URL is "
                            "shown by `zkrollup l1 status --data-dir DIR`)")
        say = notify or (lambda text: None)
        w3 = _web3_for(target, endpoint)
        try:
            signer = operator_account(operator_key)
        except (ValueError, TypeError):
            raise NodeError("the operator key is not a valid 32-byte secp256k1 private key") from None
        try:
            l1 = EthereumL1.attach(w3, address, None, [signer])    # its verifying key is known below
        except L1Error as exc:
            raise NodeError(str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)) from None
        layout = l1.layout
        circuit = keys.circuit_for(layout, progress=notify)
        circuit_hash = keys.circuit_hash(circuit)
        if proving_key is not None:     # the user's file (ours or snarkjs's): no cache sidecar expected
            from prover.zkey import load_zkey

            key_path = Path(proving_key)
            if not key_path.is_file():
                raise NodeError(f"{key_path}: no such file (--proving-key)")
            pk = load_zkey(key_path)
        else:
            key_path = keys.key_path_for(layout, circuit_hash)
            try:
                pk = keys.load_key(key_path)
            except FileNotFoundError:
                raise NodeError(f"no proving key for {layout.shape_id} in the cache ({key_path}): pass "
                                "--proving-key with the deployment's .zkey (its verifier was rendered from it)") from None
        vk = verifying_key(pk)
        if pk.circuit_hash.hex() != circuit_hash:
            raise NodeError(f"{key_path}: this proving key is for another circuit than {layout.shape_id}'s")
        if bytes(w3.eth.get_code(l1.verifier_address)) != keys.verifier_contract(vk).runtime:
            raise NodeError(f"{key_path}: the deployed verifier {l1.verifier_address} was not rendered from "
                            "this key's verifying key")
        l1.verifying_key = vk
        say(f"reading rollup {l1.address} on chain {l1.l1_chain_id}: {l1.batch_count()} batches")
        try:
            report = rebuild_state(l1)
        except L1Error as exc:
            raise SyncError(str(exc)) from None
        if report.state.root != l1.state_root():
            raise SyncError(f"the replayed state's root {_short(report.state.root)} is not the contract's "
                            f"{_short(l1.state_root())}")
        genesis = {a.index: Account(a.ax, a.ay, a.balance, 0) for a in l1.genesis_accounts()}
        fee_account = FEE_ACCOUNT if FEE_ACCOUNT in genesis else min(genesis)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=_parent_of(target)))
        try:
            store = Store.create(staging, layout, l1.chain_id, fee_account, genesis)
            importer = cls(staging, store, l1, {"operator": signer.address})
            importer._import_from_l1(0, report)
            store.close()
            snarkjs.write_verifying_key(vk, staging / VERIFYING_KEY_FILE)
            _write_secret(staging / OPERATOR_KEY_FILE,
                          json.dumps({"address": signer.address, "private_key": signer.key.hex()}) + "\n")
            from zkrollup.anvil import AnvilNode

            own = AnvilNode(target / L1_NODE_DIR).status()     # the folder's own local node: keep it as such
            l1_config = {"kind": "ethereum", "endpoint": "anvil" if own.running and own.url == endpoint else endpoint,
                         "address": l1.address,
                         "verifier": l1.verifier_address, "l1_chain_id": l1.l1_chain_id,
                         "deploy_block": l1.deploy_block}
            (staging / NODE_FILE).write_text(json.dumps({
                "format": NODE_FORMAT, "l1": l1_config, "operator": signer.address, "circuit_hash": circuit_hash,
                "proving_key": str(key_path.resolve()), "synced_from_l1": True}, indent=2) + "\n")
            _move_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if not l1.is_operator(signer.address):
            say(f"note: {signer.address} is not an operator of this rollup: this node can follow and prove, "
                "but the contract will refuse its submissions")
        return cls.open(target)

    @classmethod
    def open(cls, data_dir: str | os.PathLike) -> "RollupNode":
        """Open an existing data directory; NodeError (one line) if it is missing, incomplete or of another
        format. Finishes a submission the L1 accepted but the store did not record (crash recovery)."""
        path = Path(data_dir)
        if path.exists() and not path.is_dir():
            raise NodeError(f"{path}: is a file, not a data directory")
        if not path.is_dir():
            raise NodeError(f"{path}: no such data directory (run `zkrollup init --data-dir {path}` first)")
        config_path = path / NODE_FILE
        try:
            config = json.loads(config_path.read_text())
        except FileNotFoundError:
            raise NodeError(f"{config_path}: missing: {path} is not a zkrollup data directory") from None
        except (OSError, ValueError) as exc:
            raise NodeError(f"{config_path}: unreadable: {exc}") from None
        if not isinstance(config, dict) or config.get("format") != NODE_FORMAT:
            raise NodeError(f"{config_path}: made by another version of zkrollup (format {config.get('format') if isinstance(config, dict) else '?'})")
        store = Store.open(path)
        try:
            l1 = _open_l1(path, config)
        except BaseException:
            store.close()
            raise
        node = cls(path, store, l1, config)
        if l1.chain_id != store.chain_id or l1.layout != store.layout:
            raise NodeError(f"{path}: the store and the L1 deployment disagree (chain id or layout)")
        node.reconciled = node.reconcile()
        return node

    def close(self) -> None:
        self.store.close()
        self.l1.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- state views ---------------------------------------------------------------------------------
    def _unsettled_batches(self) -> list[Batch]:
        return [b for b in self.store.batches() if b.status != "submitted"]

    def tip_accounts(self) -> dict[int, Account]:
        """Accounts after every batch built so far (settled state + unsubmitted batches, in order)."""
        accounts = self.store.accounts()
        for batch in self._unsettled_batches():
            accounts.update(batch.accounts_after)
        return accounts

    def tip_state(self) -> RollupState:
        state = RollupState(self.layout, self.tip_accounts())
        if state.root != self.store.tip_root():
            raise NodeError(f"{self.data_dir}: the stored accounts do not hash to the recorded root (store damaged)")
        return state

    def projected_accounts(self) -> AccountView:
        """Accounts after the tip and every pending transfer that is valid now, in arrival order, plus the
        pending registrations: what a new transfer is admitted against."""
        view = AccountView(self.layout, self.tip_accounts())
        for reg in self.store.pending_registrations():
            view.accounts.setdefault(reg.index, Account(reg.ax, reg.ay, 0, 0))
        for pending in self.store.pending_transfers():
            try:   # signatures were checked at admission: only the balance and nonce rules here
                check_transfer(view, self.chain_id, pending, verify_signature=False)
            except TransferRefused:
                continue
            _apply_balances(view, pending.transfer)
        return view

    # --- accounts ------------------------------------------------------------------------------------
    def register_account(self, key_pair: KeyPair | None = None) -> tuple[int, KeyPair]:
        """Queue the registration of a new account (fresh key unless given; the key joins the keystore).
        It exists once a batch carrying the registration is submitted."""
        key_pair = key_pair or generate_keypair()
        index = self.store.queue_registration(*key_pair.public_key)
        self.store.add_key(index, key_pair.private_key)
        return index, key_pair

    # --- mempool -------------------------------------------------------------------------------------
    def submit_transfer(self, signed: SignedTransfer) -> int:
        """Admit a signed transfer to the mempool if it is valid on the projected state (known sender and
        receiver, the sender's next nonce, a valid signature for this chain id, enough balance after the
        pending ones, no overflow). TransferRefused or DuplicateTransfer otherwise; nothing is stored then."""
        check_transfer(self.projected_accounts(), self.chain_id, signed)
        return self.store.add_transfer(signed)

    def transfer(self, from_index: int, to_index: int, amount: int, fee: int) -> tuple[int, SignedTransfer]:
        """Sign a transfer with the keystore's key for `from_index` at the sender's next nonce and admit it.
        Retries with the next nonce if another process took this one meanwhile."""
        private_key = self.store.private_key(from_index)
        for _ in range(20):
            view = self.projected_accounts()
            sender = view.get(from_index)
            nonce = sender.nonce if sender is not None else 0
            signed = sign_transfer(private_key, Transfer(from_index, to_index, amount, fee, nonce), self.chain_id)
            check_transfer(view, self.chain_id, signed)
            try:
                return self.store.add_transfer(signed), signed
            except DuplicateTransfer:
                continue
        raise NodeError(f"could not find a free nonce for account {from_index} (too many concurrent transfers)")

    # --- batches -------------------------------------------------------------------------------------
    def build_batch(self) -> tuple[Batch, list[tuple[int, str]]]:
        """Execute pending registrations and transfers into the next batch (status `built`); returns it and
        the (transfer id, reason) of transfers dropped as invalid. ExecutionError if nothing can be batched."""
        state = self.tip_state()
        registrations = [Registration(r.index, r.ax, r.ay) for r in self.store.pending_registrations()]
        pending = self.store.pending_transfers()
        result = execute_batch(state, self.chain_id, self.store.fee_account, registrations, pending)
        dropped = [(pending[pos].id, f"{refused.reason}: {refused}") for pos, refused in result.dropped]
        batch = self.store.insert_batch(
            old_root=state.root, new_root=result.new_root, pubdata=result.pubdata,
            commitment=result.inputs.commitment, witness_inputs=json.dumps(result.inputs.to_json()),
            transfer_ids=[pending[pos].id for pos in result.included],
            registration_indices=[registrations[pos].index for pos in result.registrations],
            dropped=dropped, accounts_after={i: result.state.get(i) for i in result.touched})
        return batch, dropped

    def batch(self, number: int | None = None) -> Batch:
        """Batch `number` (the latest when None); NodeError if there is none."""
        batch = self.store.latest_batch() if number is None else self.store.batch(number)
        if batch is None:
            raise NodeError("no batch yet (run `zkrollup batch build`)" if number is None else f"no batch {number}")
        return batch

    def batch_to_verify(self, number: int | None = None) -> Batch:
        """Batch `number`, or the latest batch that has a proof (NodeError if none has)."""
        if number is not None:
            return self.batch(number)
        proved = [b for b in self.store.batches() if b.proof is not None]
        if not proved:
            raise NodeError("no proved batch yet (run `zkrollup batch prove`)")
        return proved[-1]

    def _oldest(self, statuses: tuple[str, ...], nothing: str) -> Batch:
        """The oldest batch in one of `statuses` (what a command acts on when no number is given)."""
        for batch in self.store.batches():
            if batch.status in statuses:
                return batch
        raise NodeError(nothing)

    def prove_batch(self, number: int | None = None, *, progress=None, notify: Notify | None = None,
                    timings: dict | None = None) -> Batch:
        """Solve the batch's witness and prove it; the proof (snarkjs JSON) is stored only when complete, so
        an interrupted prove leaves the batch as it was."""
        from prover.groth16 import ProveTimings, prove
        from verifier import snarkjs

        batch = (self.batch(number) if number is not None else
                 self._oldest(("built",), "no built batch to prove (run `zkrollup batch build` first)"))
        if batch.status == "submitted":
            raise NodeError(f"batch {batch.number} is already submitted")
        timings = timings if timings is not None else {}
        clock = time.perf_counter()
        inputs = BatchWitnessInputs.from_json(json.loads(batch.witness_inputs))
        circuit, pk = self.circuit_and_key(notify)
        timings["load circuit and key"] = time.perf_counter() - clock
        clock = time.perf_counter()
        from prover.solver import solve_witness

        # The compiled solver (prover.solver; its plain twin is circuit.witness): same witness, limbs out.
        from circuits.builder import HintFailed, InvalidAssignment, UnsatisfiedConstraint

        try:
            witness = solve_witness(circuit.compiled, circuit.assignment(inputs))
        except (UnsatisfiedConstraint, HintFailed, InvalidAssignment, ValueError) as exc:
            raise NodeError(f"batch {batch.number}: its witness does not satisfy the batch circuit "
                            f"({str(exc).splitlines()[0]}); the stored batch is damaged") from exc
        timings["witness"] = time.perf_counter() - clock
        stages = ProveTimings()
        proof, public = prove(pk, witness, progress=progress, timings=stages)
        timings["prove"] = stages.total
        if public != inputs.public_values():
            raise NodeError(f"batch {batch.number}: the proof's public inputs differ from the L1's derivation")
        _failpoint("prove:before-record")
        return self.store.record_proof(batch.number, snarkjs.dumps(snarkjs.proof_to_json(proof)),
                                       snarkjs.dumps(snarkjs.public_inputs_to_json(public)))

    def circuit_and_key(self, notify: Notify | None = None):
        """The batch circuit as the code builds it and the deployment's proving key, after checking that the
        two belong together and that the key's verifying key is the one deployed on the L1."""
        from prover.groth16 import verifying_key

        circuit = keys.circuit_for(self.layout, progress=notify)
        if keys.circuit_hash(circuit) != self.config["circuit_hash"]:
            raise NodeError("the batch circuit this code builds differs from the one this rollup was deployed "
                            "with (zkrollup was changed or upgraded): its proofs would not verify on this L1")
        path = Path(self.config["proving_key"])
        try:
            pk = keys.load_key(path)
        except FileNotFoundError:
            raise NodeError(f"{path}: the proving key of this deployment is missing; a new setup would make "
                            "a key the L1 does not accept") from None
        if pk.circuit_hash.hex() != self.config["circuit_hash"] or verifying_key(pk) != self.l1.verifying_key:
            raise NodeError(f"{path}: this proving key is not the one whose verifying key the L1 holds")
        return circuit, pk

    def _proof_of(self, batch: Batch):
        from verifier import snarkjs

        if batch.proof is None:
            raise NodeError(f"batch {batch.number} is {batch.status}, not proved (run `zkrollup batch prove`)")
        return snarkjs.proof_from_json(json.loads(batch.proof))

    def verify_batch(self, number: int | None = None) -> bool:
        """Verify the stored proof as the L1 will: public inputs derived from the batch's pubdata with the
        L1's chain id and the verifying key deployed on the L1."""
        from circuits.rollup.layout import public_inputs
        from verifier.groth16 import verify

        batch = self.batch_to_verify(number)
        proof = self._proof_of(batch)
        public = public_inputs(self.layout, batch.old_root, batch.new_root, self.l1.chain_id, batch.pubdata,
                               batch.commitment)
        return verify(self.l1.verifying_key, public, proof)

    def submit_batch(self, number: int | None = None) -> SubmitReceipt:
        """Send the proved batch to the L1; when it is accepted, settle it in the store. A refusal by the L1
        raises L1Error and leaves the batch proved, ready to resubmit."""
        if number is None:
            if self.reconciled:                   # the L1 accepted it before a crash: the job is done
                return self.l1.receipt_for(self.store.batch(self.reconciled[-1]).new_root)
            batch = self._oldest(("built", "proved"), "no batch waiting to be submitted (run `zkrollup batch "
                                                      "build` and `zkrollup batch prove` first)")
        else:
            batch = self.batch(number)
        if batch.status == "submitted":
            if batch.number in self.reconciled:   # accepted before a crash; settled when this node opened
                return self.l1.receipt_for(batch.new_root)
            raise NodeError(f"batch {batch.number} is already submitted")
        proof = self._proof_of(batch)
        l1_root = self.l1.state_root()
        if batch.old_root != l1_root:
            raise NodeError(f"batch {batch.number} starts from root {_short(batch.old_root)} but the L1 is at "
                            f"{_short(l1_root)}: submit the batches before it first")
        receipt = self.l1.submit_batch(batch.pubdata, batch.new_root, batch.commitment, proof, self.operator)
        _failpoint("submit:after-l1")
        self.store.mark_submitted(batch.number)
        return receipt

    def reconcile(self, notify: Notify | None = None) -> list[int]:
        """Bring the store in step with the L1 when the node opens; returns the numbers of the store's batches
        the L1 had accepted unbeknown to it. Three cases, checked against the L1's BatchSubmitted events:

        - the L1 accepted a proved batch but the store did not record it (a crash in between): settle it;
        - the L1 holds fewer batches than the store has submitted, and those agree (a local chain restored
          from an older state: anvil killed before its state dump): put the later ones back to `proved`;
        - the L1 holds batches the store never made (another operator, or a node that was away): abandon the
          store's unsettled batches (their transfers go back to the mempool) and take the L1's batches in,
          replayed from their calldata and with their proofs checked, as `zkrollup sync` does.

        NodeError when the L1's batches and the store's disagree otherwise (rebuild with `zkrollup sync`)."""
        say = notify or self.notices.append
        events = self.l1.events()
        submitted = [b for b in self.store.batches() if b.status == "submitted"]
        for event, batch in zip(events, submitted):
            if (event.old_root, event.new_root) != (batch.old_root, batch.new_root):
                raise NodeError(f"batch {batch.number}: the L1 accepted another transition than the store holds "
                                "(rebuild this node with `zkrollup sync`)")
        if len(events) < len(submitted):
            back = self.store.unsettle_batches_after(len(events))
            say(f"warning: the L1 holds {len(events)} batches but the store had {len(submitted)} submitted: the "
                f"chain lost batches {', '.join(map(str, back))}; they are proved again, ready for `batch submit`")
            return []
        settled = []
        later = events[len(submitted):]
        for batch, event in zip(self._unsettled_batches(), later):
            if batch.status == "proved" and (batch.old_root, batch.new_root) == (event.old_root, event.new_root):
                self.store.mark_submitted(batch.number)
                settled.append(batch.number)
            else:
                break
        foreign = later[len(settled):]
        if foreign:
            for batch in reversed(self._unsettled_batches()):
                self.store.abandon_batch(batch.number)
            self._import_from_l1(len(events) - len(foreign))
            say(f"warning: the L1 accepted {len(foreign)} batch(es) this node did not make; taken in from the L1 "
                "(this node's unsubmitted batches were abandoned, their transfers are pending again)")
        return settled

    def _import_from_l1(self, start: int, report=None) -> None:
        """Take the L1's batches after the first `start` into the store: replayed from the L1 alone (or
        `report`, a zkrollup.sync.SyncReport already made), each proof checked with our verifier against the
        public inputs derived from its calldata."""
        from circuits.rollup.layout import public_inputs
        from verifier import snarkjs
        from verifier.groth16 import verify
        from zkrollup.sync import SyncError, rebuild_state

        report = report or rebuild_state(self.l1)
        for replayed in report.batches[start:]:
            call = self.l1.submitted_call(replayed.event.batch_number)
            proof = _proof_from_words(call["proof"])
            commitment = call["commitment"] if self.layout.binding == "evaluation" else None
            public = public_inputs(self.layout, replayed.event.old_root, replayed.event.new_root, self.l1.chain_id,
                                   replayed.pubdata, commitment)
            if not verify(self.l1.verifying_key, public, proof):
                raise SyncError(f"batch {replayed.event.batch_number}: its proof does not verify here")
            self.store.import_settled_batch(
                old_root=replayed.event.old_root, new_root=replayed.event.new_root, pubdata=replayed.pubdata,
                commitment=commitment, proof_json=snarkjs.dumps(snarkjs.proof_to_json(proof)),
                public_json=snarkjs.dumps(snarkjs.public_inputs_to_json(public)),
                accounts_after=replayed.accounts_after)

    def status(self) -> dict:
        """A summary: layout, chain id, roots (L1 and store), batches by status, mempool and queue sizes."""
        batches = self.store.batches()
        by_status = {s: sum(1 for b in batches if b.status == s) for s in ("built", "proved", "submitted")}
        return {
            "data_dir": str(self.data_dir),
            "layout": self.layout.to_json(),
            "shape": self.layout.shape_id,
            "chain_id": str(self.chain_id),
            "l1": _l1_summary(self.config.get("l1", "python")),
            **_l1_fields(self.config.get("l1", "python")),
            "l1_state_root": str(self.l1.state_root()),
            "l1_batches": self.l1.batch_count(),
            "settled_root": str(self.store.settled_root()),
            "tip_root": str(self.store.tip_root()),
            "accounts": len(self.store.accounts()),
            "batches": by_status,
            "pending_transfers": len(self.store.pending_transfers()),
            "pending_registrations": len(self.store.pending_registrations()),
            "fee_account": self.store.fee_account,
        }


def _apply_balances(view: AccountView, t: Transfer) -> None:
    sender = view.get(t.from_index)
    view.accounts[t.from_index] = Account(sender.ax, sender.ay, sender.balance - t.amount - t.fee, sender.nonce + 1)
    receiver = view.get(t.to_index)
    view.accounts[t.to_index] = Account(receiver.ax, receiver.ay, receiver.balance + t.amount, receiver.nonce)


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 14 else text[:12] + "..."


def _move_into_place(staging: Path, target: Path) -> None:
    """Move a finished staging folder to `target`: a rename when target is absent or empty; else (target holds
    only the local L1 node's folder) each entry, node.json last, so a data directory is whole or absent."""
    if not target.exists():
        os.replace(staging, target)
        return
    if not any(target.iterdir()):
        target.rmdir()
        os.replace(staging, target)
        return
    entries = sorted(staging.iterdir(), key=lambda p: p.name == NODE_FILE)
    for entry in entries:
        os.replace(entry, target / entry.name)
    staging.rmdir()


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _read_operator_key(path: Path) -> bytes:
    import stat

    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise NodeError(f"{path}: the operator key is open to other users; chmod 600 it")
        document = json.loads(path.read_text())
        return bytes.fromhex(document["private_key"].removeprefix("0x"))
    except FileNotFoundError:
        raise NodeError(f"{path}: missing: the operator's Ethereum key") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise NodeError(f"{path}: not an operator key file") from None


def _l1_fields(l1_config) -> dict:
    """status()'s machine-readable L1 fields: kind, and on an EVM the endpoint, chain and contract addresses."""
    if l1_config == "python":
        return {"l1_kind": "python"}
    return {"l1_kind": "ethereum", "l1_endpoint": l1_config.get("endpoint"), "l1_chain_id": l1_config.get("l1_chain_id"),
            "rollup_address": l1_config.get("address"), "verifier_address": l1_config.get("verifier")}


def _l1_summary(l1_config) -> str:
    if l1_config == "python":
        return "python"
    return f"ethereum {l1_config.get('endpoint')} chain {l1_config.get('l1_chain_id')} rollup {l1_config.get('address')}"


def _web3_for(data_dir: Path, endpoint: str):
    from zkrollup.anvil import AnvilError, AnvilNode
    from zkrollup.ethereum import connect_web3

    if endpoint == "anvil":
        try:
            url = AnvilNode(data_dir / L1_NODE_DIR).url
        except AnvilError as exc:
            raise NodeError(str(exc)) from None
    else:
        url = endpoint
    try:
        return connect_web3(url)
    except L1Error as exc:
        raise NodeError(str(exc).split(": ", 1)[1]) from None


def _open_l1(path: Path, config: dict) -> L1:
    """The data directory's L1: the stand-in, or the Rollup contract on the chain node.json names (checked:
    the node's chain id, the contract's chain id and verifier)."""
    l1_config = config.get("l1", "python")
    if l1_config == "python":
        return PythonL1.open(path)
    if not isinstance(l1_config, dict) or l1_config.get("kind") != "ethereum":
        raise NodeError(f"{path / NODE_FILE}: unknown L1 {l1_config!r}")
    from verifier import snarkjs
    from zkrollup.ethereum import EthereumL1, operator_account

    w3 = _web3_for(path, l1_config["endpoint"])
    where = "the local anvil node" if l1_config["endpoint"] == "anvil" else l1_config["endpoint"]
    if w3.eth.chain_id != l1_config["l1_chain_id"]:
        raise NodeError(f"{where} is chain {w3.eth.chain_id}, but this rollup is deployed on chain "
                        f"{l1_config['l1_chain_id']}")
    try:
        vk = snarkjs.read_verifying_key(path / VERIFYING_KEY_FILE)
    except (OSError, ValueError) as exc:
        raise NodeError(f"{path / VERIFYING_KEY_FILE}: {exc}") from None
    signer = operator_account(_read_operator_key(path / OPERATOR_KEY_FILE))
    try:
        l1 = EthereumL1.attach(w3, l1_config["address"], vk, [signer])
    except L1Error as exc:
        if exc.error == "NoCode":
            lost = (f" (was {path / L1_NODE_DIR / 'state.json'} replaced or lost?)"
                    if l1_config["endpoint"] == "anvil" else " (another chain, or a reset node?)")
            raise NodeError(f"{where} holds no contract at this rollup's address {l1_config['address']}{lost}") from None
        raise NodeError(f"{where}: {str(exc).split(': ', 1)[1]}") from None
    if l1.verifier_address.lower() != l1_config["verifier"].lower():
        raise NodeError(f"{l1.address}: its verifier is not the one this rollup deployed")
    return l1


class _L1Target:
    """Where `init` deploys: the stand-in, or an EVM chain reached before any long work is done."""

    def __init__(self, kind: str, endpoint: str | None = None, w3=None, operator=None, started_anvil=None):
        self.kind, self.endpoint, self.w3, self.operator, self.started_anvil = kind, endpoint, w3, operator, started_anvil

    @classmethod
    def connect(cls, l1: str, target: Path, operator_key: bytes | None, notify: Notify | None) -> "_L1Target":
        if l1 == "python":
            if operator_key is not None:
                raise NodeError("--operator-key is for an Ethereum L1 (--l1 anvil or --l1 URL)")
            return cls("python")
        from zkrollup.anvil import AnvilError, AnvilNode
        from zkrollup.ethereum import operator_account

        try:
            operator = operator_account(operator_key)
        except (ValueError, TypeError):
            raise NodeError("the operator key is not a valid 32-byte secp256k1 private key") from None
        started = None
        if l1 == "anvil":
            node = AnvilNode(target / L1_NODE_DIR)
            try:
                if not node.status().running:
                    started = node
                    node.start()
                    if notify:
                        notify(f"local L1: anvil started on {node.url} (chain kept in {node.folder})")
                w3 = _web3_for(target, "anvil")
            except AnvilError as exc:
                raise NodeError(str(exc)) from None
            if operator_key is None:   # fund the new operator from anvil's development account
                w3.provider.make_request("anvil_setBalance", [operator.address, hex(100 * 10**18)])
        elif l1.startswith(("http://", "https://")):
            w3 = _web3_for(target, l1)
        else:
            raise NodeError(f"--l1 must be python, anvil or an http(s) JSON-RPC URL, got {l1!r}")
        if w3.eth.get_balance(operator.address) == 0:
            if operator_key is None:
                raise NodeError(f"--l1 {l1}: the operator needs a funded account on chain {w3.eth.chain_id}: pass "
                                "--operator-key FILE with its private key")
            raise NodeError(f"the operator {operator.address} (--operator-key) has no ether on chain "
                            f"{w3.eth.chain_id}: fund it first")
        return cls("ethereum", l1, w3, operator, started)

    def deploy(self, staging: Path, layout: Layout, vk, genesis_root: int, published) -> tuple:
        """Deploy; returns (the L1, node.json's "l1" entry, the operator's address)."""
        if self.kind == "python":
            operator = "0x" + os.urandom(20).hex()
            return PythonL1.deploy(staging, layout, vk, genesis_root, published, [operator]), "python", operator
        from verifier import snarkjs
        from zkrollup.ethereum import EthereumL1

        try:
            l1 = EthereumL1.deploy(self.w3, layout, vk, keys.verifier_contract(vk), genesis_root, published,
                                   [self.operator.address], self.operator)
        except L1Error as exc:
            raise NodeError(f"deployment refused: {exc}") from None
        snarkjs.write_verifying_key(vk, staging / VERIFYING_KEY_FILE)
        _write_secret(staging / OPERATOR_KEY_FILE,
                      json.dumps({"address": self.operator.address, "private_key": self.operator.key.hex()}) + "\n")
        return l1, {"kind": "ethereum", "endpoint": self.endpoint, "address": l1.address,
                    "verifier": l1.verifier_address, "l1_chain_id": l1.l1_chain_id,
                    "deploy_block": l1.deploy_block}, self.operator.address

    def abandon(self) -> None:
        """Stop an anvil node this init started (its folder goes with the failed init)."""
        if self.started_anvil is not None:
            self.started_anvil.stop()
            shutil.rmtree(self.started_anvil.folder, ignore_errors=True)


def _parent_of(target: Path) -> Path:
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NodeError(f"{target}: cannot make its parent folder: {exc.strerror or exc}") from None
    return parent


def _proof_from_words(words):
    """submitBatch's uint256[8] back to a Proof (inverse of zkrollup.ethereum.proof_words)."""
    from verifier.types import Proof

    ax, ay, bx1, bx0, by1, by0, cx, cy = (int(w) for w in words)
    return Proof(a=(ax, ay), b=((bx0, bx1), (by0, by1)), c=(cx, cy))
