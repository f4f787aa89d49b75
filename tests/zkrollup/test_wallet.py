"""The wallet: key pairs, transfers, signatures equal to circomlibjs's, and the strict signed-transfer document."""

import json
import secrets

import pytest

from circuits.babyjub import FIELD_MODULUS, SUBGROUP_ORDER, point_neg
from circuits.eddsa import Signature, prv2pub
from circuits.poseidon import poseidon
from circuits.rollup.layout import LayoutError, deployment_chain_id
from zkrollup.wallet import (
    InvalidTransfer,
    KeyPair,
    SignedTransfer,
    Transfer,
    generate_keypair,
    read_transfer,
    sign_transfer,
    write_transfer,
)




CHAIN_ID = deployment_chain_id(1, bytes(range(20)))
KEY = KeyPair.from_private_key(bytes(range(32)))


@pytest.fixture(scope="module")
def signed():
    return sign_transfer(KEY, Transfer(from_index=1, to_index=2, amount=100, fee=1, nonce=0), CHAIN_ID)


def _document(signed, **changes):
    doc = signed.to_json()
    for key, value in changes.items():
        doc[key] = value
    return doc


# ---------------------------------------------------------------------------------------------------
# Keys


def test_keypair_public_key_is_prv2pub_of_the_private_key():
    pair = generate_keypair()
    assert len(pair.private_key) == 32
    assert pair.public_key == prv2pub(pair.private_key)
    assert KeyPair.from_private_key(pair.private_key) == pair


def test_generated_keys_differ():
    assert generate_keypair().private_key != generate_keypair().private_key


def test_keypair_repr_hides_the_private_key():
    pair = generate_keypair()
    shown = repr(pair) + str(pair)
    assert pair.private_key.hex() not in shown
    assert str(pair.public_key.x) in shown


def test_private_key_of_wrong_length_is_refused_without_echoing_it():
    secret = secrets.token_bytes(31)
    with pytest.raises(ValueError, match="32 bytes") as error:
        KeyPair.from_private_key(secret)
    assert secret.hex() not in str(error.value)


def test_keypair_with_a_foreign_public_key_is_refused():
    with pytest.raises(ValueError, match="not the one of this private key"):
        KeyPair(KEY.private_key, generate_keypair().public_key)


# ---------------------------------------------------------------------------------------------------
# Transfers


def test_transfer_message_is_poseidon_of_chain_id_and_fields():
    transfer = Transfer(from_index=3, to_index=9, amount=5, fee=2, nonce=7)
    assert transfer.message(CHAIN_ID) == poseidon([CHAIN_ID, 3, 9, 5, 2, 7])


@pytest.mark.parametrize("field, value, rule", [
    ("from_index", 0, "from: account 0 is reserved"),
    ("to_index", 0, "to: account 0 is reserved"),
    ("from_index", 1 << 32, "from: 4294967296 is not below 2\\^32"),
    ("amount", 1 << 64, "amount: 18446744073709551616 is not below 2\\^64"),
    ("fee", 1 << 64, "fee: .* is not below 2\\^64"),
    ("nonce", 1 << 32, "nonce: .* is not below 2\\^32"),
    ("amount", -1, "amount: must not be negative"),
    ("fee", True, "fee: expected an integer, got bool"),
    ("nonce", 1.0, "nonce: expected an integer, got float"),
])
def test_transfer_out_of_range_is_refused_naming_the_field(field, value, rule):
    fields = dict(from_index=1, to_index=2, amount=1, fee=0, nonce=0)
    fields[field] = value
    with pytest.raises(InvalidTransfer, match=rule):
        Transfer(**fields)


def test_largest_values_are_accepted():
    transfer = Transfer(from_index=(1 << 32) - 1, to_index=1, amount=(1 << 64) - 1, fee=(1 << 64) - 1,
                        nonce=(1 << 32) - 1)
    assert SignedTransfer.from_json(sign_transfer(KEY, transfer, CHAIN_ID).to_json()).transfer == transfer


def test_chain_id_outside_the_field_is_refused(signed):
    with pytest.raises(LayoutError, match="chain_id"):
        signed.transfer.message(FIELD_MODULUS)


# ---------------------------------------------------------------------------------------------------
# Signatures


def test_signature_verifies_under_the_senders_key(signed):
    assert signed.verify(KEY.public_key, CHAIN_ID)


def test_signing_with_the_private_key_bytes_equals_signing_with_the_pair(signed):
    assert sign_transfer(KEY.private_key, signed.transfer, CHAIN_ID) == signed


def test_signature_for_another_chain_id_does_not_verify(signed):
    assert not signed.verify(KEY.public_key, CHAIN_ID + 1)
    other = sign_transfer(KEY, signed.transfer, CHAIN_ID + 1)
    assert other.signature != signed.signature
    assert not other.verify(KEY.public_key, CHAIN_ID)


def test_signature_with_s_plus_l_does_not_verify(signed):
    malleated = SignedTransfer(signed.transfer, Signature(signed.signature.r8, signed.signature.s + SUBGROUP_ORDER))
    assert not malleated.verify(KEY.public_key, CHAIN_ID)


def test_signature_under_another_key_or_for_another_transfer_does_not_verify(signed):
    assert not signed.verify(generate_keypair().public_key, CHAIN_ID)
    changed = SignedTransfer(Transfer(1, 2, 101, 1, 0), signed.signature)
    assert not changed.verify(KEY.public_key, CHAIN_ID)


def test_low_order_public_key_does_not_verify(signed):
    # (0, -1) has order 2: with 8A = identity one signature would verify every message.
    forged = SignedTransfer(signed.transfer, Signature(point_neg((0, 1)), 0))
    assert not forged.verify((0, FIELD_MODULUS - 1), CHAIN_ID)


@pytest.mark.node
def test_circomlibjs_signature_equals_ours_byte_for_byte_and_verifies(run_circomlibjs):
    private_key = secrets.token_bytes(32)
    transfer = Transfer(from_index=17, to_index=4, amount=123456789, fee=1000, nonce=42)
    ours = sign_transfer(private_key, transfer, CHAIN_ID)
    ours_document = ours.to_json()
    public_key = KeyPair.from_private_key(private_key).public_key
    # One node process answers all four (circomlibjs takes seconds to build its tables).
    message, their_public_key, their_signature, their_verdict = run_circomlibjs([
        {"op": "poseidon", "inputs": [str(v) for v in (CHAIN_ID, 17, 4, 123456789, 1000, 42)]},
        {"op": "prv2pub", "prv": private_key.hex()},
        {"op": "signPoseidon", "prv": private_key.hex(), "msg": str(transfer.message(CHAIN_ID))},
        {"op": "verifyPoseidon", "msg": str(transfer.message(CHAIN_ID)), "R8": ours_document["signature"]["R8"],
         "S": ours_document["signature"]["S"], "A": [str(c) for c in public_key]},
    ])
    assert int(message) == transfer.message(CHAIN_ID)
    assert [int(c) for c in their_public_key] == list(public_key)
    theirs_document = {"from": "17", "to": "4", "amount": "123456789", "fee": "1000", "nonce": "42",
                       "signature": their_signature}
    assert json.dumps(theirs_document) == json.dumps(ours_document)
    theirs = SignedTransfer.from_json(theirs_document)
    assert theirs == ours
    assert theirs.verify(public_key, CHAIN_ID)
    assert their_verdict is True


# ---------------------------------------------------------------------------------------------------
# The document


def test_document_round_trips(signed):
    doc = signed.to_json()
    assert list(doc) == ["from", "to", "amount", "fee", "nonce", "signature"]
    assert SignedTransfer.from_json(doc) == signed
    assert SignedTransfer.from_json(json.loads(json.dumps(doc))).to_json() == doc


def test_file_round_trips(signed, tmp_path):
    path = tmp_path / "t.json"
    write_transfer(path, signed)
    assert read_transfer(path) == signed
    assert json.loads(path.read_text()) == signed.to_json()


R8_OFF_CURVE = ["1", "2"]


@pytest.mark.parametrize("change, rule", [
    (lambda d: d.pop("fee"), "fee: missing field"),
    (lambda d: d.update(memo="hi"), "memo: unknown field"),
    (lambda d: d["signature"].pop("S"), "signature.S: missing field"),
    (lambda d: d["signature"].update(A="1"), "signature.A: unknown field"),
    (lambda d: d.update(amount="0100"), "amount: '0100' is not a canonical decimal"),
    (lambda d: d.update(amount="0x64"), "amount: '0x64' is not a canonical decimal"),
    (lambda d: d.update(amount="1e2"), "amount: '1e2' is not a canonical decimal"),
    (lambda d: d.update(amount="+100"), "amount: '\\+100' is not a canonical decimal"),
    (lambda d: d.update(amount=" 100"), "amount: ' 100' is not a canonical decimal"),
    (lambda d: d.update(amount=""), "amount: '' is not a canonical decimal"),
    (lambda d: d.update(amount="１００"), "amount: .* is not a canonical decimal"),  # full-width digits
    (lambda d: d.update(amount=100), "amount: expected a decimal string, got int"),
    (lambda d: d.update(amount=None), "amount: expected a decimal string, got null"),
    (lambda d: d.update(fee=True), "fee: expected a decimal string, got a boolean"),
    (lambda d: d.update(amount="-5"), "amount: must not be negative"),
    (lambda d: d.update(amount=str(1 << 64)), "amount: 18446744073709551616 is not below 2\\^64"),
    (lambda d: d.update(fee=str(1 << 64)), "fee: .* is not below 2\\^64"),
    (lambda d: d.update(nonce=str(1 << 32)), "nonce: .* is not below 2\\^32"),
    (lambda d: d.update(to=str(1 << 32)), "to: .* is not below 2\\^32"),
    (lambda d: d.update({"from": "0"}), "from: account 0 is reserved"),
    (lambda d: d.update(to="0"), "to: account 0 is reserved"),
    (lambda d: d.update(nonce="9" * 5000), "nonce: a decimal of 5000 digits"),
    (lambda d: d.update(signature=[]), "signature: a signature is a JSON object, got an array"),
    (lambda d: d["signature"].update(R8=["1"]), "signature.R8: expected an array of two decimal strings"),
    (lambda d: d["signature"].update(R8="1,2"), "signature.R8: expected an array"),
    (lambda d: d["signature"].update(R8=R8_OFF_CURVE), "signature.R8: not a point of Baby Jubjub"),
    (lambda d: d["signature"].update(R8=[str(FIELD_MODULUS), "1"]), "signature.R8\\[0\\]: not below the field modulus"),
    (lambda d: d["signature"]["R8"].__setitem__(1, "01"), "signature.R8\\[1\\]: '01' is not a canonical decimal"),
    (lambda d: d["signature"].update(S=str(SUBGROUP_ORDER)), "signature.S: not below the subgroup order"),
    (lambda d: d["signature"].update(S="-1"), "signature.S: must not be negative"),
])
def test_malformed_document_is_refused_naming_field_and_rule(signed, change, rule):
    doc = json.loads(json.dumps(signed.to_json()))
    change(doc)
    with pytest.raises(InvalidTransfer, match=f"^{rule}") as error:
        SignedTransfer.from_json(doc)
    assert "\n" not in str(error.value)


def test_document_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidTransfer, match="^a signed transfer is a JSON object, got an array$"):
        SignedTransfer.from_json([])


def test_signature_with_s_plus_l_is_refused_when_read(signed):
    doc = signed.to_json()
    doc["signature"]["S"] = str(signed.signature.s + SUBGROUP_ORDER)
    with pytest.raises(InvalidTransfer, match="signature.S: not below the subgroup order"):
        SignedTransfer.from_json(doc)


@pytest.mark.parametrize("content, rule", [
    (b"{", "not JSON \\(Expecting property name"),
    (b"", "not JSON"),
    (b"\xff\xfe{}", "not UTF-8 text"),
    (b"[" * 100000 + b"]" * 100000, "larger than 65536 bytes"),
    (b"[" * 1000 + b"]" * 1000, "JSON nested deeper than 8 levels"),
    (b"[1, 2]", "a signed transfer is a JSON object, got an array"),
    (b'{"from": "1"}', "to: missing field"),
    (b"1" * 5000, "not JSON \\(a number is far too long\\)"),
])
def test_malformed_file_is_refused_with_its_path(tmp_path, content, rule):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(InvalidTransfer, match=f"^{path}: {rule}") as error:
        read_transfer(path)
    assert "\n" not in str(error.value)


def test_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(InvalidTransfer, match=f"^{tmp_path / 'none.json'}: cannot read: No such file"):
        read_transfer(tmp_path / "none.json")


def test_file_error_names_the_field(signed, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(_document(signed, amount="007")))
    with pytest.raises(InvalidTransfer, match=f"^{path}: amount: '007' is not a canonical decimal"):
        read_transfer(path)
