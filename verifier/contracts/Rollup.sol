// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// The Groth16 verifier's ABI (snarkjs's, and ours rendered by verifier/solidity.py), for the two public
/// input counts the rollup's bindings have: (oldRoot, newRoot, chainId, C, z, y) and
/// (oldRoot, newRoot, chainId, dataHash).
interface IGroth16Verifier6 {
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c,
                         uint256[6] calldata input) external view returns (bool);
}

interface IGroth16Verifier4 {
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c,
                         uint256[4] calldata input) external view returns (bool);
}

/// @title zkrollup's L1 contract: the state root, advanced only by a valid Groth16 proof of a batch whose
/// data is this call's calldata.
/// @notice The rules are those of docs/DESIGN.md §4-§5 and circuits/rollup/layout.py, which is the
/// one definition of the pubdata, its packing into 31-byte field elements, the challenge
/// z = keccak256(keccak256(pubdata) ‖ C) mod r, the evaluation y = Σ e_j z^j mod r, data_hash = sha256(pubdata)
/// with its top 3 bits cleared, the deployment's chain id = keccak256(block.chainid ‖ this) >> 3, and the
/// public inputs' order. zkrollup.l1.PythonL1 is this contract's Python twin; tests run both side by side.
contract Rollup {
    /// BN254's scalar field modulus r: every public input of the proof is below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Baby Jubjub (EIP-2494): a·x² + y² = 1 + d·x²·y² over F_r.
    uint256 internal constant BJJ_A = 168700;
    uint256 internal constant BJJ_D = 168696;
    uint256 internal constant ELEMENT_BYTES = 31;
    uint256 internal constant PUBKEY_BYTES = 32;
    uint256 internal constant MASK_253 = (1 << 253) - 1;
    /// Balances are u64 (circuits/rollup/layout.py BALANCE_BITS).
    uint256 internal constant MAX_BALANCE = 1 << 64;

    /// The batch circuit's shape (circuits/rollup/layout.py `Layout`); binding 0 = evaluation, 1 = sha256.
    struct Layout {
        uint8 depth;
        uint8 arity;
        uint16 nTransfers;
        uint16 nRegistrations;
        uint8 binding;
        uint8 indexBytes;
        uint8 amountBytes;
        uint8 feeBytes;
    }

    /// An account the deployment creates (nonce 0): its index, Baby Jubjub public key and balance. Full words,
    /// so that an index or balance out of range is refused by name (InvalidGenesis), not by the ABI decoder.
    struct GenesisAccount {
        uint256 index;
        uint256 ax;
        uint256 ay;
        uint256 balance;
    }

    error NotOperator(address sender);
    error PubdataLength(uint256 got, uint256 expected);
    error RootOutOfRange();
    error CommitmentOutOfRange();
    error RootUnchanged();
    error InvalidProof();
    error InvalidGenesis(uint256 position);
    error InvalidLayout();
    error NoVerifierCode(address verifier);

    /// Published once, by the constructor: what anyone needs to rebuild the state from L1 alone.
    event Genesis(uint256 genesisRoot, Layout layout, GenesisAccount[] accounts, address[] operators);
    /// Emitted by each accepted batch.
    event BatchSubmitted(uint256 indexed batchNumber, uint256 oldRoot, uint256 newRoot);

    address public immutable verifier;
    uint256 public immutable chainId;
    uint256 public immutable genesisRoot;
    uint256 public immutable deployBlock;
    uint256 public immutable pubdataLength;
    uint256 internal immutable nElements;
    bool internal immutable sha256Binding;
    uint8 internal immutable depth_;
    uint8 internal immutable arity_;
    uint16 internal immutable nTransfers_;
    uint16 internal immutable nRegistrations_;
    uint8 internal immutable indexBytes_;
    uint8 internal immutable amountBytes_;
    uint8 internal immutable feeBytes_;

    uint256 public stateRoot;
    uint256 public batchCount;
    mapping(address => bool) public isOperator;

    /// @param verifier_ the Groth16 verifier rendered from the batch circuit's verifying key
    /// @param layout_ the circuit's shape (checked as Layout.__post_init__ checks it)
    /// @param genesisRoot_ the account tree's root over `accounts` (< r; recomputed by every syncing client)
    /// @param accounts genesis accounts, indices strictly increasing in (0, 2^depth), balances below 2^64, keys
    ///        on Baby Jubjub and not of small order (else InvalidGenesis(position); position = accounts.length for the root)
    /// @param operators the addresses allowed to submit batches
    constructor(address verifier_, Layout memory layout_, uint256 genesisRoot_, GenesisAccount[] memory accounts,
                address[] memory operators) {
        if (verifier_.code.length == 0) revert NoVerifierCode(verifier_);
        _checkLayout(layout_);
        uint256 previous = 0;
        uint256 nAccounts = uint256(1) << layout_.depth;
        for (uint256 i = 0; i < accounts.length; i++) {
            GenesisAccount memory a = accounts[i];
            if (a.index <= previous || a.index >= nAccounts || a.balance >= MAX_BALANCE) revert InvalidGenesis(i);
            if (a.ax >= R || a.ay >= R || !_onCurve(a.ax, a.ay) || _smallOrder(a.ax, a.ay)) revert InvalidGenesis(i);
            previous = a.index;
        }
        if (genesisRoot_ >= R) revert InvalidGenesis(accounts.length);
        verifier = verifier_;
        chainId = uint256(keccak256(abi.encodePacked(block.chainid, address(this)))) >> 3;
        genesisRoot = genesisRoot_;
        stateRoot = genesisRoot_;
        deployBlock = block.number;
        uint256 ib = layout_.indexBytes;
        uint256 length = ib + uint256(layout_.nRegistrations) * (ib + PUBKEY_BYTES)
            + uint256(layout_.nTransfers) * (2 * ib + layout_.amountBytes + layout_.feeBytes);
        pubdataLength = length;
        nElements = (length + ELEMENT_BYTES - 1) / ELEMENT_BYTES;
        sha256Binding = layout_.binding == 1;
        depth_ = layout_.depth;
        arity_ = layout_.arity;
        nTransfers_ = layout_.nTransfers;
        nRegistrations_ = layout_.nRegistrations;
        indexBytes_ = layout_.indexBytes;
        amountBytes_ = layout_.amountBytes;
        feeBytes_ = layout_.feeBytes;
        for (uint256 i = 0; i < operators.length; i++) {
            isOperator[operators[i]] = true;
        }
        emit Genesis(genesisRoot_, layout_, accounts, operators);
    }

    /// The circuit's shape, as deployed.
    function layout() external view returns (Layout memory) {
        return Layout(depth_, arity_, nTransfers_, nRegistrations_, sha256Binding ? 1 : 0, indexBytes_,
                      amountBytes_, feeBytes_);
    }

    /// Advance the state root by one batch.
    /// @param pubdata the batch's data, exactly pubdataLength bytes (layout.encode_pubdata)
    /// @param newRoot the state root after the batch (< r, and not the current root)
    /// @param commitment C, the Poseidon chain over the pubdata's elements the proof binds (< r); must be 0
    ///        for the sha256 binding
    /// @param proof (A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y): B in EIP-197 order
    /// Reverts with a named error and changes nothing unless the proof verifies for the public inputs derived
    /// here: (stateRoot, newRoot, chainId, C, z, y) or (stateRoot, newRoot, chainId, dataHash).
    function submitBatch(bytes calldata pubdata, uint256 newRoot, uint256 commitment, uint256[8] calldata proof)
        external
    {
        if (!isOperator[msg.sender]) revert NotOperator(msg.sender);
        if (pubdata.length != pubdataLength) revert PubdataLength(pubdata.length, pubdataLength);
        if (newRoot >= R) revert RootOutOfRange();
        uint256 oldRoot = stateRoot;
        if (newRoot == oldRoot) revert RootUnchanged();
        bool ok;
        if (sha256Binding) {
            if (commitment != 0) revert CommitmentOutOfRange();
            uint256 dataHash = uint256(sha256(pubdata)) & MASK_253;
            ok = _verify4(proof, [oldRoot, newRoot, chainId, dataHash]);
        } else {
            if (commitment >= R) revert CommitmentOutOfRange();
            uint256 z = uint256(keccak256(abi.encodePacked(keccak256(pubdata), commitment))) % R;
            ok = _verify6(proof, [oldRoot, newRoot, chainId, commitment, z, _evaluate(pubdata, z)]);
        }
        if (!ok) revert InvalidProof();
        stateRoot = newRoot;
        uint256 number = batchCount + 1;
        batchCount = number;
        emit BatchSubmitted(number, oldRoot, newRoot);
    }

    /// y = Σ_j e_j·z^j mod r by Horner from the highest power, e_j the j-th 31-byte big-endian chunk of the
    /// pubdata, the last one zero-padded on the right (layout.pack_elements, layout.evaluation).
    function _evaluate(bytes calldata pubdata, uint256 z) internal view returns (uint256 y) {
        uint256 n = nElements;
        uint256 length = pubdata.length;
        assembly ("memory-safe") {
            let start := pubdata.offset
            for { let j := n } gt(j, 0) {} {
                j := sub(j, 1)
                let at := mul(j, 31)
                // the 31 bytes at `at`, as the top bytes of a word, shifted down by one byte
                let e := shr(8, calldataload(add(start, at)))
                let rest := sub(length, at)
                if lt(rest, 31) {
                    // bytes past the pubdata are not data: clear them (calldata padding need not be zero)
                    e := and(e, not(sub(shl(mul(8, sub(31, rest)), 1), 1)))
                }
                y := addmod(mulmod(y, z, R), e, R)
            }
        }
    }

    function _verify6(uint256[8] calldata p, uint256[6] memory input) internal view returns (bool) {
        try IGroth16Verifier6(verifier).verifyProof(
            [p[0], p[1]], [[p[2], p[3]], [p[4], p[5]]], [p[6], p[7]], input
        ) returns (bool valid) {
            return valid;
        } catch {
            return false;   // a malformed proof: the verifier reverted
        }
    }

    function _verify4(uint256[8] calldata p, uint256[4] memory input) internal view returns (bool) {
        try IGroth16Verifier4(verifier).verifyProof(
            [p[0], p[1]], [[p[2], p[3]], [p[4], p[5]]], [p[6], p[7]], input
        ) returns (bool valid) {
            return valid;
        } catch {
            return false;
        }
    }

    function _checkLayout(Layout memory l) internal pure {
        if (l.arity != 2 && l.arity != 4) revert InvalidLayout();
        if (l.depth < 1 || l.depth > 32 || (l.arity == 4 && l.depth % 2 == 1)) revert InvalidLayout();
        if (uint256(l.nTransfers) + l.nRegistrations == 0 || l.binding > 1) revert InvalidLayout();
        if (l.depth > 8 * uint256(l.indexBytes) || l.indexBytes > 4) revert InvalidLayout();
        if (l.amountBytes < 8 || l.feeBytes < 8 || l.amountBytes > 32 || l.feeBytes > 32) revert InvalidLayout();
    }

    /// a·x² + y² == 1 + d·x²·y² (mod r)
    function _onCurve(uint256 x, uint256 y) internal pure returns (bool) {
        uint256 x2 = mulmod(x, x, R);
        uint256 y2 = mulmod(y, y, R);
        return addmod(mulmod(BJJ_A, x2, R), y2, R) == addmod(1, mulmod(BJJ_D, mulmod(x2, y2, R), R), R);
    }

    /// 8·P is the identity: P is one of the 8 points of order 1, 2, 4 or 8 (a key that lets one signature
    /// verify for every message). Three doublings in projective coordinates (Bernstein-Birkner-Joye-Lange-
    /// Peters, "Twisted Edwards curves", 2008, §6: dbl-2008-bbjlp), then X = 0 and Y = Z.
    function _smallOrder(uint256 x, uint256 y) internal pure returns (bool) {
        uint256 z = 1;
        for (uint256 i = 0; i < 3; i++) {
            uint256 b = mulmod(addmod(x, y, R), addmod(x, y, R), R);
            uint256 c = mulmod(x, x, R);
            uint256 d = mulmod(y, y, R);
            uint256 e = mulmod(BJJ_A, c, R);
            uint256 f = addmod(e, d, R);
            uint256 h = mulmod(z, z, R);
            uint256 j = addmod(f, R - addmod(h, h, R), R);
            x = mulmod(addmod(b, R - addmod(c, d, R), R), j, R);
            y = mulmod(f, addmod(e, R - d, R), R);
            z = mulmod(f, j, R);
        }
        return x == 0 && y == z;
    }
}
