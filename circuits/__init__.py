"""Arithmetic circuits: R1CS builder, witness solving, gadgets and their native twins. Imports nothing of ours."""
