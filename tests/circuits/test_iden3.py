"""iden3 `.r1cs` / `.wtns`: round trips, clear errors on bad files, and interop with circom and snarkjs."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from circuits import gadgets as g
from circuits.builder import R, ConstraintSystem, UnsatisfiedConstraint, is_satisfied
from circuits.iden3 import (Iden3FormatError, MalformedSection, MissingSection, TruncatedFile, UnsupportedField,
                            UnsupportedVersion, WrongMagic, r1cs_to_bytes, read_r1cs, read_wtns, write_r1cs,
                            write_wtns, wtns_to_bytes)

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"
BLS12_381_R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def _sample_circuit():
    cs = ConstraintSystem()
    amount = cs.private_input("amount")
    balance = cs.private_input("balance")
    fee = cs.public_input("fee")
    with cs.gadget("transfer"):
        g.assert_less_or_equal(cs, amount + fee, balance, 64)
        left = balance - amount - fee
    cs.public_output("left", left)
    cs.public_output("is_empty", g.is_zero(cs, left))
    return cs.compile()


@pytest.fixture(scope="module")
def sample():
    compiled = _sample_circuit()
    witness = compiled.solve({"amount": 30, "balance": 100, "fee": 2})
    return compiled, witness


# --- round trips -----------------------------------------------------------------------------------


def test_r1cs_written_then_read_is_equal(sample, tmp_path):
    compiled, witness = sample
    path = tmp_path / "sample.r1cs"
    write_r1cs(path, compiled.r1cs)
    loaded = read_r1cs(path)
    assert loaded == compiled.r1cs
    assert loaded.n_constraints == compiled.r1cs.n_constraints > 0
    assert is_satisfied(loaded, witness)


def test_r1cs_reads_from_bytes_and_file_objects(sample):
    compiled, _ = sample
    data = r1cs_to_bytes(compiled.r1cs)
    assert read_r1cs(data) == read_r1cs(io.BytesIO(data)) == compiled.r1cs
    assert data[:4] == b"r1cs" and struct.unpack_from("<II", data, 4) == (1, 3)


def test_wtns_written_then_read_is_equal(sample, tmp_path):
    _, witness = sample
    path = tmp_path / "sample.wtns"
    write_wtns(path, witness)
    assert read_wtns(path) == witness
    assert read_wtns(wtns_to_bytes([1, 0, R - 1])) == [1, 0, R - 1]


def test_empty_circuit_round_trips():
    cs = ConstraintSystem()
    cs.public_input("x")
    r1cs = cs.compile().r1cs
    assert read_r1cs(r1cs_to_bytes(r1cs)) == r1cs


def test_writing_a_witness_value_outside_the_field_is_refused():
    with pytest.raises(ValueError):
        wtns_to_bytes([1, R])


# --- bad files -------------------------------------------------------------------------------------


def _container(magic: bytes, version: int, sections: list[tuple[int, bytes]]) -> bytes:
    out = magic + struct.pack("<II", version, len(sections))
    for kind, body in sections:
        out += struct.pack("<IQ", kind, len(body)) + body
    return out


def _r1cs_header(prime=R, n8=32, n_wires=3, n_out=0, n_pub=1, n_prv=1, n_labels=3, n_constraints=1) -> bytes:
    return struct.pack("<I", n8) + prime.to_bytes(n8, "little") + struct.pack(
        "<IIIIQI", n_wires, n_out, n_pub, n_prv, n_labels, n_constraints)


def _one_constraint(wire=1, coeff=1) -> bytes:
    # x · x = y over wires (1, x, y): A = [x], B = [x], C = [y]
    term = lambda w, c: struct.pack("<I", w) + c.to_bytes(32, "little")
    return (struct.pack("<I", 1) + term(wire, coeff) + struct.pack("<I", 1) + term(1, 1)
            + struct.pack("<I", 1) + term(2, 1))


LABELS = struct.pack("<QQQ", 0, 1, 2)


def _constraint_naming_a_wire_twice() -> bytes:
    # A = [x with coefficient 1, x with coefficient 2]: snarkjs reads 2x (last wins), a CSR product 3x.
    term = lambda w, c: struct.pack("<I", w) + c.to_bytes(32, "little")
    return (struct.pack("<I", 2) + term(1, 1) + term(1, 2) + struct.pack("<I", 1) + term(1, 1)
            + struct.pack("<I", 1) + term(2, 1))


def test_handmade_r1cs_is_read_and_checked():
    data = _container(b"r1cs", 1, [(1, _r1cs_header()), (2, _one_constraint()), (3, LABELS)])
    r1cs = read_r1cs(data)
    assert (r1cs.n_wires, r1cs.n_constraints, r1cs.n_public_inputs) == (3, 1, 1)
    assert is_satisfied(r1cs, [1, 3, 9])
    with pytest.raises(UnsatisfiedConstraint):
        is_satisfied(r1cs, [1, 3, 10])


@pytest.mark.parametrize("data, error, message", [
    (b"zkey" + bytes(20), WrongMagic, "magic"),
    (b"r1c", TruncatedFile, "12-byte header"),
    (b"abc", WrongMagic, "magic"),
    (b"r1cs\x01\x00", TruncatedFile, "header"),
    (_container(b"r1cs", 2, []), UnsupportedVersion, "version 2"),
    (_container(b"r1cs", 1, [(2, _one_constraint()), (3, LABELS)]), MissingSection, "section 1"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (3, LABELS)]), MissingSection, "section 2"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (1, _r1cs_header()), (2, _one_constraint())]),
     MalformedSection, "twice"),
    (_container(b"r1cs", 1, [(1, _r1cs_header(prime=BLS12_381_R)), (2, _one_constraint())]),
     UnsupportedField, "BLS12-381"),
    (_container(b"r1cs", 1, [(1, _r1cs_header(n8=48, prime=2**380 + 1)), (2, _one_constraint())]),
     UnsupportedField, "48 bytes"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (2, _one_constraint(wire=7))]), MalformedSection, "wire 7"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (2, _one_constraint(coeff=R))]), MalformedSection, ">= r"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (2, _constraint_naming_a_wire_twice())]),
     MalformedSection, "constraint 0 names wire 1 twice in its A terms"),
    (_container(b"r1cs", 1, [(1, _r1cs_header(n_constraints=2)), (2, _one_constraint())]),
     TruncatedFile, "constraint"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (2, _one_constraint() + b"\x00")]), MalformedSection, "beyond"),
    (_container(b"r1cs", 1, [(1, _r1cs_header()), (2, _one_constraint()), (3, LABELS[:-8])]),
     MalformedSection, "label"),
    (_container(b"r1cs", 1, [(1, _r1cs_header(n_wires=2, n_out=1, n_pub=1, n_prv=0, n_constraints=0)), (2, b"")]),
     MalformedSection, "inconsistent: 2 wires but 1 \\+ 1 outputs \\+ 1 public inputs"),
    (_container(b"r1cs", 1, [(1, _r1cs_header(n_wires=0, n_pub=0, n_prv=0, n_constraints=0)), (2, b"")]),
     MalformedSection, "inconsistent: 0 wires"),
])
def test_bad_r1cs_raises_a_specific_error_naming_the_problem(data, error, message):
    with pytest.raises(error, match=message) as info:
        read_r1cs(data)
    assert isinstance(info.value, Iden3FormatError) and isinstance(info.value, ValueError)


def test_private_inputs_the_header_counts_beyond_the_wires_are_accepted_as_snarkjs_does():
    # circom --O2 drops an unused or only linearly used private input from the wires but still counts it
    # ("2 private inputs (1 belong to witness)"); snarkjs never uses nPrvInputs, only the public counts.
    header = _r1cs_header(n_wires=3, n_out=1, n_pub=0, n_prv=2, n_labels=4)
    data = _container(b"r1cs", 1, [(1, header), (2, _one_constraint()), (3, LABELS)])
    r1cs = read_r1cs(data)
    assert (r1cs.n_wires, r1cs.n_public_outputs, r1cs.n_public_inputs, r1cs.n_private_inputs) == (3, 1, 0, 2)
    assert r1cs_to_bytes(r1cs) == data          # the declared count is kept: the file round-trips exactly
    assert is_satisfied(r1cs, [1, 3, 9])


def test_terms_in_any_order_are_read_when_no_wire_repeats(sample):
    # Our writer keeps the builder's term order (not sorted); circom's rows are sorted. Both read back.
    r1cs = sample[0].r1cs
    rows = [r1cs.a.indices[r1cs.a.indptr[i]:r1cs.a.indptr[i + 1]] for i in range(r1cs.n_constraints)]
    assert any(list(row) != sorted(row) for row in rows), "the sample should have an unsorted row"
    assert read_r1cs(r1cs_to_bytes(r1cs)) == r1cs


def test_a_circuit_with_no_constraints_and_only_public_wires_is_read():
    header = _r1cs_header(n_wires=3, n_out=1, n_pub=1, n_prv=5, n_labels=9, n_constraints=0)
    data = _container(b"r1cs", 1, [(1, header), (2, b""), (3, LABELS)])
    r1cs = read_r1cs(data)
    assert (r1cs.n_constraints, r1cs.n_public, r1cs.n_private_inputs) == (0, 2, 5)
    assert r1cs_to_bytes(r1cs) == data


@pytest.mark.parametrize("cut", [13, 20, 40, 100, 150, -1])
def test_truncated_r1cs_is_reported_as_truncated(sample, cut):
    data = r1cs_to_bytes(sample[0].r1cs)
    with pytest.raises(TruncatedFile):
        read_r1cs(data[:cut])


def _wtns_header(prime=R, n8=32, count=2) -> bytes:
    return struct.pack("<I", n8) + prime.to_bytes(n8, "little") + struct.pack("<I", count)


@pytest.mark.parametrize("data, error, message", [
    (b"r1cs" + bytes(20), WrongMagic, "magic"),
    (_container(b"wtns", 1, []), UnsupportedVersion, "version 1"),
    (_container(b"wtns", 2, [(2, bytes(64))]), MissingSection, "section 1"),
    (_container(b"wtns", 2, [(1, _wtns_header())]), MissingSection, "section 2"),
    (_container(b"wtns", 2, [(1, _wtns_header(prime=BLS12_381_R)), (2, bytes(64))]), UnsupportedField, "BLS12-381"),
    (_container(b"wtns", 2, [(1, _wtns_header()), (2, bytes(96))]), MalformedSection, "expected 32 x 2"),
    (_container(b"wtns", 2, [(1, _wtns_header()), (2, bytes(32) + R.to_bytes(32, "little"))]),
     MalformedSection, ">= r"),
    (_container(b"wtns", 2, [(1, _wtns_header()), (2, bytes(64))])[:-5], TruncatedFile, "remain"),
])
def test_bad_wtns_raises_a_specific_error_naming_the_problem(data, error, message):
    with pytest.raises(error, match=message):
        read_wtns(data)


# --- interop with circom and snarkjs (needs node and node_modules) ---------------------------------

CIRCOM_SOURCE = """
pragma circom 2.0.0;
// Written for zkrollup's interop tests, in the manner of circomlib's Num2Bits, LessThan and IsZero.
template Bits(n) {
    signal input in;
    signal output out[n];
    var acc = 0;
    var weight = 1;
    for (var i = 0; i < n; i++) {
        out[i] <-- (in >> i) & 1;
        out[i] * (out[i] - 1) === 0;
        acc += out[i] * weight;
        weight = weight + weight;
    }
    acc === in;
}
template Less(n) {
    signal input in[2];
    signal output out;
    component bits = Bits(n + 1);
    bits.in <== in[0] + (1 << n) - in[1];
    out <== 1 - bits.out[n];
}
template Zero() {
    signal input in;
    signal output out;
    signal inv;
    inv <-- in != 0 ? 1 / in : 0;
    out <== 1 - in * inv;
    in * out === 0;
}
template Main() {
    signal input a;
    signal input b;
    signal output lt;
    signal output eq;
    component less = Less(64);
    less.in[0] <== a;
    less.in[1] <== b;
    lt <== less.out;
    component zero = Zero();
    zero.in <== a - b;
    eq <== zero.out;
}
component main {public [a]} = Main();
"""


def _node_tools():
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    for tool in ("circom2", "snarkjs"):
        if not (NODE_BIN / tool).exists():
            pytest.skip(f"node_modules/.bin/{tool} is missing (run npm ci)")


def _run(*args, cwd=None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return re.sub(r"\x1b\[[0-9;]*m", "", output)


@pytest.fixture(scope="module")
def circom_build(tmp_path_factory):
    _node_tools()
    folder = tmp_path_factory.mktemp("circom")
    (folder / "main.circom").write_text(CIRCOM_SOURCE)
    _run(NODE_BIN / "circom2", "main.circom", "--r1cs", "--wasm", "--O2", "-o", ".", cwd=folder)
    return folder


def _circom_witness(folder: Path, a: int, b: int) -> list[int]:
    (folder / "input.json").write_text(json.dumps({"a": str(a), "b": str(b)}))
    _run(NODE_BIN / "snarkjs", "wtns", "calculate", "main_js/main.wasm", "input.json", "w.wtns", cwd=folder)
    return read_wtns(folder / "w.wtns")


@pytest.mark.node
def test_circom_compiled_r1cs_and_its_witness_satisfy_is_satisfied(circom_build):
    r1cs = read_r1cs(circom_build / "main.r1cs")
    assert (r1cs.n_public_outputs, r1cs.n_public_inputs, r1cs.n_private_inputs) == (2, 1, 1)
    for a, b in [(3, 5), (5, 3), (7, 7), (0, 2**64 - 1)]:
        witness = _circom_witness(circom_build, a, b)
        assert is_satisfied(r1cs, witness)
        # Wires 1, 2 are the outputs: they equal our gadgets' native twins.
        assert witness[1:4] == [g.less_than_native(a, b, 64), g.is_equal_native(a, b), a]
        tampered = list(witness)
        tampered[1] = 1 - tampered[1]
        with pytest.raises(UnsatisfiedConstraint):
            is_satisfied(r1cs, tampered)


@pytest.mark.node
def test_our_gadgets_cost_no_more_than_the_circom_compiled_equivalent(circom_build):
    circom_count = read_r1cs(circom_build / "main.r1cs").n_constraints
    cs = ConstraintSystem()
    a, b = cs.private_input("a"), cs.private_input("b")
    g.range_check(cs, a, 64)           # circom's version leaves its inputs unchecked: do not count ours
    g.range_check(cs, b, 64)
    before = cs.n_constraints
    g.less_than(cs, a, b, 64)
    g.is_equal(cs, a, b)
    assert cs.n_constraints - before <= circom_count


def _snarkjs_info(path: Path) -> dict[str, int]:
    output = _run(NODE_BIN / "snarkjs", "r1cs", "info", path)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"# of ([A-Za-z ]+): (\d+)", output)}


@pytest.mark.node
def test_snarkjs_reads_our_r1cs_with_the_right_counts(sample, tmp_path):
    _node_tools()
    r1cs = sample[0].r1cs
    write_r1cs(tmp_path / "ours.r1cs", r1cs)
    info = _snarkjs_info(tmp_path / "ours.r1cs")
    assert info == {"Wires": r1cs.n_wires, "Constraints": r1cs.n_constraints,
                    "Private Inputs": r1cs.n_private_inputs, "Public Inputs": r1cs.n_public_inputs,
                    "Labels": r1cs.n_labels, "Outputs": r1cs.n_public_outputs}


@pytest.mark.node
def test_snarkjs_accepts_our_witness_for_our_r1cs_and_rejects_a_tampered_one(sample, tmp_path):
    _node_tools()
    compiled, witness = sample
    write_r1cs(tmp_path / "ours.r1cs", compiled.r1cs)
    write_wtns(tmp_path / "good.wtns", witness)
    assert "WITNESS IS CORRECT" in _run(NODE_BIN / "snarkjs", "wtns", "check", "ours.r1cs", "good.wtns", cwd=tmp_path)
    tampered = list(witness)
    tampered[1] = (tampered[1] + 1) % R
    write_wtns(tmp_path / "bad.wtns", tampered)
    result = subprocess.run([str(NODE_BIN / "snarkjs"), "wtns", "check", "ours.r1cs", "bad.wtns"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert "WITNESS IS CORRECT" not in result.stdout + result.stderr


@pytest.mark.node
def test_circom_r1cs_survives_our_write_and_read(circom_build, tmp_path):
    original = read_r1cs(circom_build / "main.r1cs")
    write_r1cs(tmp_path / "again.r1cs", original)
    assert read_r1cs(tmp_path / "again.r1cs") == original
    assert _snarkjs_info(tmp_path / "again.r1cs") == _snarkjs_info(circom_build / "main.r1cs")


def test_r1cs_written_in_several_chunks_is_identical(sample, monkeypatch):
    import circuits.iden3 as iden3
    whole = r1cs_to_bytes(sample[0].r1cs)
    monkeypatch.setattr(iden3, "_ROWS_PER_CHUNK", 3)
    chunked = r1cs_to_bytes(sample[0].r1cs)
    assert chunked == whole
    buffer = io.BytesIO()
    write_r1cs(buffer, sample[0].r1cs)
    assert buffer.getvalue() == whole and read_r1cs(chunked) == sample[0].r1cs
