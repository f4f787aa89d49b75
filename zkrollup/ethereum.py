"""The rollup's L1 on a real EVM: `EthereumL1`, the `zkrollup.l1.L1` interface over web3.py, talking to
verifier/contracts/Rollup.sol and the Groth16 verifier rendered from the circuit's verifying key.

Three ways to reach a chain, all through one `web3.Web3`: eth-tester's in-process py-evm
(`Web3(EthereumTesterProvider())`, for unit tests), a local anvil node (zkrollup.anvil) and any JSON-RPC URL.
Transactions are signed locally with the operator's key (eth-account) and sent raw, so any node works.

A refused call raises `L1Error` with the contract's custom error name, decoded from the revert data by the
contract's ABI (the call is simulated with `eth_call` before it is sent, so a revert costs no gas and
changes nothing). Reads (`events`, `genesis_accounts`, `submitted_pubdata`) use only what the chain holds:
the `Genesis` and `BatchSubmitted` events, and each submitting transaction's calldata (the rollup's data
availability). Owns the web3 calls and the contracts' deployment; not the contracts' text (verifier/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account as EthAccount
from eth_utils import keccak, to_checksum_address

from circuits.rollup import layout as lay
from circuits.rollup.layout import Layout
from verifier.solc import CompiledContract
from verifier.types import Proof, VerifyingKey
from zkrollup.l1 import BatchSubmitted, GenesisAccount, L1Error, SubmitReceipt

__all__ = ["EthereumL1", "RollupArtifact", "rollup_artifact", "connect_web3", "proof_words"]

BUILD = Path(__file__).resolve().parents[1] / "verifier" / "build"
#: Gas limit for calls on chains whose `estimate_gas` is slow (py-evm runs the pairing in pure Python).
FIXED_GAS = 3_000_000
BINDING_CODE = {"evaluation": 0, "sha256": 1}
#: Rollup.sol's constructor(address verifier, Layout layout, uint256 genesisRoot, GenesisAccount[] accounts,
#: address[] operators), as ABI types.
CONSTRUCTOR_TYPES = ["address", "(uint8,uint8,uint16,uint16,uint8,uint8,uint8,uint8)", "uint256",
                     "(uint256,uint256,uint256,uint256)[]", "address[]"]
#: submitBatch(bytes pubdata, uint256 newRoot, uint256 commitment, uint256[8] proof), as ABI types.
SUBMIT_TYPES = ["bytes", "uint256", "uint256", "uint256[8]"]
SUBMIT_SELECTOR = keccak(text="submitBatch(bytes,uint256,uint256,uint256[8])")[:4]


@dataclass(frozen=True)
class RollupArtifact:
    """verifier/build/Rollup.json: the ABI and bytecode scripts/build_contracts.py made from Rollup.sol."""

    abi: list
    bytecode: bytes
    runtime: bytes


def rollup_artifact() -> RollupArtifact:
    """The committed build output of Rollup.sol (L1Error if it is missing: run scripts/build_contracts.py)."""
    path = BUILD / "Rollup.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise L1Error("NoArtifact", f"{path}: unreadable ({exc}); run scripts/build_contracts.py") from None
    return RollupArtifact(data["abi"], bytes.fromhex(data["bytecode"][2:]), bytes.fromhex(data["deployedBytecode"][2:]))


def connect_web3(url: str, *, timeout: float = 30.0):
    """A Web3 on a JSON-RPC URL, checked to answer (L1Error("Unreachable") naming the URL otherwise)."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id
    except Exception as exc:   # requests' and web3's connection errors have no common base
        raise L1Error("Unreachable", f"{url}: no Ethereum node answers ({type(exc).__name__})") from None
    return w3


def proof_words(proof: Proof) -> list[int]:
    """The proof as submitBatch's uint256[8]: A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y (EIP-197
    puts a G2 coordinate's imaginary part first, as snarkjs's soliditycalldata does)."""
    (ax, ay), ((bx0, bx1), (by0, by1)), (cx, cy) = proof.a, proof.b, proof.c
    return [ax, ay, bx1, bx0, by1, by0, cx, cy]


def _errors_by_selector(abi: list) -> dict[bytes, tuple[str, list[str]]]:
    out = {}
    for entry in abi:
        if entry.get("type") == "error":
            types = [i["type"] for i in entry.get("inputs", [])]
            out[keccak(text=f"{entry['name']}({','.join(types)})")[:4]] = (entry["name"], types)
    return out


def _revert_data(exc: Exception) -> bytes | None:
    """The revert data a node returned: web3's Contract*Error `.data`, or eth-tester's TransactionFailed whose
    message ends with the data's Python repr (b'...') or hex."""
    if type(exc).__name__ == "TransactionFailed":
        text = str(exc).removeprefix("execution reverted: ")
        if text[:2] in ("b'", 'b"'):
            import ast

            try:
                return bytes(ast.literal_eval(text))
            except (ValueError, SyntaxError):
                return None
        data = text
    else:
        data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return bytes(data) if isinstance(data, (bytes, bytearray)) else None


class EthereumL1:
    """The deployed Rollup contract on an EVM chain, as a `zkrollup.l1.L1`.

    `w3`: a web3.Web3; `address`: the Rollup contract; `verifying_key`: the key the deployment's verifier was
    rendered from (the node verifies locally with it); `signers`: the accounts (eth_account LocalAccount) this
    client may send from, by address; `fixed_gas`: a gas limit to use instead of `estimate_gas` (py-evm).
    Open with `deploy` or `attach`. L1Error("NoCode") when the address holds no contract on this chain,
    L1Error("NotRollup") when its contract does not answer as this project's Rollup (layout, chainId)."""

    def __init__(self, w3, address: str, verifying_key: VerifyingKey | None, signers: Sequence = (), *,
                 fixed_gas: int | None = None, artifact: RollupArtifact | None = None):
        self.w3 = w3
        self.artifact = artifact or rollup_artifact()
        self.address = to_checksum_address(address)
        self.contract = w3.eth.contract(address=self.address, abi=self.artifact.abi)
        self.verifying_key = verifying_key
        self.signers = {s.address: s for s in signers}
        self.fixed_gas = fixed_gas
        self._errors = _errors_by_selector(self.artifact.abi)
        self.l1_chain_id = w3.eth.chain_id
        code = w3.eth.get_code(self.address)
        if not code:
            raise L1Error("NoCode", f"{self.address}: no contract at this address on chain {self.l1_chain_id}")
        try:
            self.chain_id = self.contract.functions.chainId().call()
            self.deploy_block = self.contract.functions.deployBlock().call()
            raw_layout = self.contract.functions.layout().call()
        except Exception:
            raise L1Error("NotRollup", f"{self.address}: the contract there is not a zkrollup Rollup") from None
        if self.chain_id != lay.deployment_chain_id(self.l1_chain_id, bytes.fromhex(self.address[2:])):
            raise L1Error("NotRollup", f"{self.address}: its chainId() is not this deployment's")
        depth, arity, n_t, n_r, binding, ib, ab, fb = raw_layout
        self.layout = Layout(depth=depth, arity=arity, n_transfers=n_t, n_registrations=n_r,
                             binding=lay.BINDINGS[binding], index_bytes=ib, amount_bytes=ab, fee_bytes=fb)
        self._tx_of: dict = {}     # batch number -> its transaction's hash, filled by events()

    # --- deployment --------------------------------------------------------------------------------
    @classmethod
    def deploy(cls, w3, layout: Layout, verifying_key: VerifyingKey, verifier: CompiledContract, genesis_root: int,
               genesis_accounts: Sequence[GenesisAccount], operators: Sequence[str], deployer, *,
               signers: Sequence = (), fixed_gas: int | None = None) -> "EthereumL1":
        """Deploy the verifier (`verifier`, compiled from `verifying_key`) and the Rollup contract, sending both
        transactions from `deployer` (a LocalAccount). Genesis accounts go in index order. Raises L1Error with
        the constructor's error name (InvalidGenesis, InvalidLayout...) or the transport's fault."""
        for a in genesis_accounts:   # what the ABI cannot carry (the contract checks the rest by name)
            if not all(isinstance(v, int) and 0 <= v < 1 << 256 for v in (a.index, a.ax, a.ay, a.balance)):
                raise L1Error("InvalidGenesis", f"genesis account {a.index!r}: a field is not a uint256")
        client = _Sender(w3, fixed_gas)
        verifier_address = client.create(deployer, verifier.bytecode, "the Groth16 verifier")
        artifact = rollup_artifact()
        layout_tuple = (layout.depth, layout.arity, layout.n_transfers, layout.n_registrations,
                        BINDING_CODE[layout.binding], layout.index_bytes, layout.amount_bytes, layout.fee_bytes)
        accounts = [(a.index, a.ax, a.ay, a.balance) for a in sorted(genesis_accounts, key=lambda a: a.index)]
        arguments = abi_encode(CONSTRUCTOR_TYPES, [verifier_address, layout_tuple, genesis_root, accounts,
                                                   [to_checksum_address(o) for o in operators]])
        data = artifact.bytecode + arguments
        address = client.create(deployer, data, "the Rollup contract",
                                errors=_errors_by_selector(artifact.abi))
        return cls(w3, address, verifying_key, [deployer, *signers], fixed_gas=fixed_gas, artifact=artifact)

    @classmethod
    def attach(cls, w3, address: str, verifying_key: VerifyingKey, signers: Sequence = (), *,
               fixed_gas: int | None = None) -> "EthereumL1":
        """An existing deployment; L1Error if the address holds no Rollup of ours."""
        return cls(w3, address, verifying_key, signers, fixed_gas=fixed_gas)

    def close(self) -> None:
        """Nothing to release (HTTP is stateless); kept for the L1 interface."""

    # --- views ---------------------------------------------------------------------------------------
    @property
    def verifier_address(self) -> str:
        """The Groth16 verifier the Rollup contract calls (its immutable `verifier`), checksummed."""
        return self.contract.functions.verifier().call()

    def state_root(self) -> int:
        """The contract's `stateRoot` (a field element < r), read at the latest block."""
        return self.contract.functions.stateRoot().call()

    def genesis_root(self) -> int:
        """The root the constructor was given (`genesisRoot`)."""
        return self.contract.functions.genesisRoot().call()

    def batch_count(self) -> int:
        """Batches accepted so far (`batchCount`)."""
        return self.contract.functions.batchCount().call()

    def is_operator(self, address: str) -> bool:
        """Whether `address` may submit batches (the constructor's allow-list)."""
        return self.contract.functions.isOperator(to_checksum_address(address)).call()

    def _genesis_event(self):
        logs = self.contract.events.Genesis.get_logs(from_block=self.deploy_block, to_block=self.deploy_block)
        if len(logs) != 1:
            raise L1Error("NoGenesis", f"{self.address}: {len(logs)} Genesis events in its deployment block")
        return logs[0]

    def genesis_accounts(self) -> list[GenesisAccount]:
        """The accounts the constructor published (its Genesis event)."""
        return [GenesisAccount(int(a["index"]), int(a["ax"]), int(a["ay"]), int(a["balance"]))
                for a in self._genesis_event()["args"]["accounts"]]

    def operators(self) -> list[str]:
        """The operator addresses the constructor allowed (its Genesis event)."""
        return list(self._genesis_event()["args"]["operators"])

    def _logs(self):
        return self.contract.events.BatchSubmitted.get_logs(from_block=self.deploy_block, to_block="latest")

    def events(self) -> list[BatchSubmitted]:
        """Every BatchSubmitted event, in batch order."""
        logs = list(self._logs())
        self._tx_of = {int(l["args"]["batchNumber"]): l["transactionHash"] for l in logs}   # for submitted_call
        out = [BatchSubmitted(int(l["args"]["batchNumber"]), int(l["args"]["oldRoot"]), int(l["args"]["newRoot"]))
               for l in logs]
        return sorted(out, key=lambda e: e.batch_number)

    def _log_of(self, batch_number: int):
        logs = self.contract.events.BatchSubmitted.get_logs(
            argument_filters={"batchNumber": batch_number}, from_block=self.deploy_block, to_block="latest")
        if not logs:
            raise L1Error("NoSuchBatch", f"batch {batch_number} was not submitted to {self.address}")
        return logs[0]

    def submitted_pubdata(self, batch_number: int) -> bytes:
        """The pubdata of batch `batch_number`, read from its transaction's calldata (the submitBatch call)."""
        return self.submitted_call(batch_number)["pubdata"]

    def submitted_call(self, batch_number: int) -> dict:
        """submitBatch's decoded arguments for one batch: pubdata, newRoot, commitment, proof (uint256[8])."""
        tx_hash = self._tx_of.get(batch_number) or self._log_of(batch_number)["transactionHash"]
        tx = self.w3.eth.get_transaction(tx_hash)
        if tx["to"] is None or to_checksum_address(tx["to"]) != self.address:
            raise L1Error("IndirectCall", f"batch {batch_number} was submitted through another contract: its "
                                          "calldata is not the transaction's input")
        data = bytes(tx["input"])
        if data[:4] != SUBMIT_SELECTOR:
            raise L1Error("IndirectCall", f"batch {batch_number}: its transaction is not a submitBatch call")
        try:   # as Solidity reads calldata: padding need not be zero, nor present after the last dynamic value
            pubdata, new_root, commitment, proof = abi_decode(SUBMIT_TYPES, data[4:], strict=False)
        except Exception as exc:
            raise L1Error("UnreadableCalldata", f"batch {batch_number}: its calldata does not decode: {exc}") from None
        return {"pubdata": bytes(pubdata), "newRoot": new_root, "commitment": commitment, "proof": list(proof),
                "tx_hash": "0x" + bytes(tx_hash).hex()}

    def receipt_for(self, new_root: int) -> SubmitReceipt:
        """The receipt of the submission that moved the root to `new_root` (L1Error if none did)."""
        for log in reversed(list(self._logs())):
            if int(log["args"]["newRoot"]) == new_root:
                receipt = self.w3.eth.get_transaction_receipt(log["transactionHash"])
                event = BatchSubmitted(int(log["args"]["batchNumber"]), int(log["args"]["oldRoot"]), new_root)
                return SubmitReceipt(event, "0x" + bytes(log["transactionHash"]).hex(), int(receipt["gasUsed"]))
        raise L1Error("NoSuchBatch", f"no submitted batch has root {new_root}")

    # --- the one state-changing call ---------------------------------------------------------------
    def submit_batch(self, pubdata: bytes, new_root: int, commitment: int | None, proof: Proof,
                     sender: str) -> SubmitReceipt:
        """Send submitBatch from `sender` (one of `signers`) and wait for its receipt. L1Error with the
        contract's error name if it reverts (simulated first; a revert after sending is reported the same
        way), or NoKey if this client cannot sign for `sender`."""
        signer = self.signers.get(to_checksum_address(sender))
        if signer is None:
            raise L1Error("NoKey", f"this client holds no key for {sender}")
        if self.layout.binding == "evaluation" and commitment is None:
            raise L1Error("CommitmentOutOfRange", "the evaluation binding needs the batch's commitment C")
        words = proof_words(proof)
        call = self.contract.functions.submitBatch(bytes(pubdata), new_root, 0 if commitment is None else commitment,
                                                   words)
        receipt = _Sender(self.w3, self.fixed_gas).send(signer, self.address, call._encode_transaction_data(),
                                                        self._errors)
        logs = self.contract.events.BatchSubmitted().process_receipt(receipt)
        if len(logs) != 1:
            raise L1Error("NoEvent", f"transaction {receipt['transactionHash'].hex()} emitted no BatchSubmitted")
        args = logs[0]["args"]
        event = BatchSubmitted(int(args["batchNumber"]), int(args["oldRoot"]), int(args["newRoot"]))
        return SubmitReceipt(event, "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["gasUsed"]))


def _revert_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a revert surfaces as: web3's for JSON-RPC nodes, eth-tester's for in-process py-evm."""
    from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

    kinds: tuple[type[BaseException], ...] = (ContractCustomError, ContractLogicError, ContractPanicError)
    try:
        from eth_tester.exceptions import TransactionFailed
    except ImportError:      # eth-tester is a test dependency
        return kinds
    return kinds + (TransactionFailed,)


class _Sender:
    """Builds, simulates, signs and sends one transaction (EIP-1559), and waits for its receipt."""

    def __init__(self, w3, fixed_gas: int | None):
        self.w3 = w3
        self.fixed_gas = fixed_gas

    def _decode(self, exc: Exception, errors: dict) -> L1Error:
        data = _revert_data(exc)
        if data and data[:4] in errors:
            name, types = errors[data[:4]]
            try:
                args = abi_decode(types, data[4:]) if types else ()
            except Exception:
                args = ()
            shown = f"({', '.join(str(a) for a in args)})" if args else ""
            return L1Error(name, f"the contract reverted with {name}{shown}")
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return L1Error("Reverted", f"the transaction would revert: {message}")

    def send(self, signer, to: str | None, data: bytes | str, errors: dict, what: str = "the call") -> dict:
        w3 = self.w3
        reverted = _revert_errors()
        data = data if isinstance(data, str) else "0x" + bytes(data).hex()
        tx = {"from": signer.address, "data": data, "chainId": w3.eth.chain_id}
        if to is not None:
            tx["to"] = to
        try:
            w3.eth.call(tx | {"gas": self.fixed_gas or 30_000_000})
            gas = self.fixed_gas or int(w3.eth.estimate_gas(tx) * 1.2) + 10_000
        except reverted as exc:
            raise self._decode(exc, errors) from None
        except ValueError as exc:     # a node's JSON-RPC error (e.g. insufficient funds)
            raise L1Error("Rejected", f"{what}: the node refused it: {exc}") from None
        base = w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0
        tip = 1_000_000_000
        tx |= {"gas": gas, "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
               "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}
        signed = signer.sign_transaction(tx)
        try:
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        except ValueError as exc:
            raise L1Error("Rejected", f"{what}: the node refused the transaction: {exc}") from None
        if receipt["status"] != 1:
            # mined but reverted (the chain moved between simulation and inclusion): replay for the reason
            try:
                w3.eth.call(tx | {"gas": gas}, receipt["blockNumber"] - 1)
            except reverted as exc:
                raise self._decode(exc, errors) from None
            raise L1Error("Reverted", f"{what}: transaction {tx_hash.hex()} reverted")
        return receipt

    def create(self, signer, bytecode: bytes, what: str, errors: dict | None = None) -> str:
        receipt = self.send(signer, None, bytecode, errors or {}, what)
        return receipt["contractAddress"]


def operator_account(private_key: bytes | str | None = None):
    """An eth_account LocalAccount from a 32-byte key (hex or bytes), or a new random one."""
    if private_key is None:
        return EthAccount.create()
    return EthAccount.from_key(private_key)
