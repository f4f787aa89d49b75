"""Groth16 verification, proof and key types, snarkjs JSON, Solidity verifier. Imports nothing of ours."""
