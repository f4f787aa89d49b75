"""The zkrollup CLI: snarkjs's argument order, exit codes 0 / 1 / 2, one-line errors, nothing half-written."""

import json

import pytest

from circuits.builder import ConstraintSystem
from circuits.iden3 import write_r1cs, write_wtns
from zkrollup.cli import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK, main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    cs = ConstraintSystem()
    a = cs.public_input("a")
    b = cs.private_input("b")
    cs.public_output("ab", cs.mul(cs.mul(a, b), b + 3))
    compiled = cs.compile()
    folder = tmp_path_factory.mktemp("cli")
    write_r1cs(folder / "c.r1cs", compiled.r1cs)
    write_wtns(folder / "w.wtns", compiled.solve({"a": 6, "b": 7}))
    assert main(["-q", "groth16", "setup", str(folder / "c.r1cs"), str(folder / "c.zkey")]) == EXIT_OK
    assert main(["-q", "zkey", "export", "verificationkey", str(folder / "c.zkey"), str(folder / "vk.json")]) == EXIT_OK
    assert main(["-q", "groth16", "prove", str(folder / "c.zkey"), str(folder / "w.wtns"),
                 str(folder / "proof.json"), str(folder / "public.json")]) == EXIT_OK
    return folder


def _verify(folder, vk="vk.json", public="public.json", proof="proof.json"):
    return main(["groth16", "verify", str(folder / vk), str(folder / public), str(folder / proof)])


def test_valid_proof_exits_zero(files, capsys):
    assert _verify(files) == EXIT_OK
    assert "OK" in capsys.readouterr().out


def test_public_outputs_come_first_in_public_json(files):
    assert json.loads((files / "public.json").read_text()) == [str(6 * 7 * 10), "6"]


def test_wrong_public_input_exits_one(files, capsys):
    (files / "bad_public.json").write_text(json.dumps([str(6 * 7 * 10), "5"]))
    assert _verify(files, public="bad_public.json") == EXIT_INVALID
    assert "INVALID" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ("{", "JSON"),
    ('{"protocol": "groth16", "curve": "bn128", "nPublic": 2}', "missing key"),
])
def test_malformed_verification_key_exits_two_with_one_line(files, capsys, content, message):
    (files / "bad_vk.json").write_text(content)
    assert _verify(files, vk="bad_vk.json") == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


def test_public_input_not_below_r_exits_two(files, capsys):
    r = 21888242871839275222246405745257275088548364400416034343698204186575808495617
    (files / "big_public.json").write_text(json.dumps([str(6 * 7 * 10 + r), "6"]))
    assert _verify(files, public="big_public.json") == EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("error:")


def test_point_off_the_curve_exits_two(files, capsys):
    proof = json.loads((files / "proof.json").read_text())
    proof["pi_a"][1] = str(int(proof["pi_a"][1]) + 1)
    (files / "bad_proof.json").write_text(json.dumps(proof))
    assert _verify(files, proof="bad_proof.json") == EXIT_BAD_INPUT
    assert "curve" in capsys.readouterr().err


def test_truncated_zkey_exits_two_and_writes_no_proof(files, tmp_path, capsys):
    (tmp_path / "t.zkey").write_bytes((files / "c.zkey").read_bytes()[:-100])
    code = main(["-q", "groth16", "prove", str(tmp_path / "t.zkey"), str(files / "w.wtns"),
                 str(tmp_path / "p.json"), str(tmp_path / "pub.json")])
    assert code == EXIT_BAD_INPUT
    assert "truncated" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


def test_witness_of_another_circuit_exits_two(files, tmp_path, capsys):
    write_wtns(tmp_path / "other.wtns", [1, 2, 3])
    code = main(["-q", "groth16", "prove", str(files / "c.zkey"), str(tmp_path / "other.wtns"),
                 str(tmp_path / "p.json"), str(tmp_path / "pub.json")])
    assert code == EXIT_BAD_INPUT
    assert "wires" in capsys.readouterr().err


def test_missing_file_exits_two(files, capsys):
    assert _verify(files, vk="nothing.json") == EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("error:")


def test_malformed_r1cs_exits_two(tmp_path, capsys):
    (tmp_path / "bad.r1cs").write_bytes(b"r1cz" + bytes(40))
    assert main(["-q", "groth16", "setup", str(tmp_path / "bad.r1cs"), str(tmp_path / "k.zkey")]) == EXIT_BAD_INPUT
    assert "magic" in capsys.readouterr().err.lower()
    assert not (tmp_path / "k.zkey").exists()


def test_number_too_long_to_parse_exits_two_not_invalid(files, capsys):
    (files / "huge_public.json").write_text("[" + "7" * 5000 + ", \"6\"]")
    assert _verify(files, public="huge_public.json") == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
