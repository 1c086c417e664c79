"""What people type and keep, read exactly: amounts, attestation files, hashes, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salus.apps.mutual_aid.attestation import verify_attestation
from salus.apps.mutual_aid.client import (
    AidError,
    attest,
    attestation_from_json,
    attestation_to_json,
    dump_attestation,
    format_amount,
    parse_amount,
)
from salus.cli._aid_inputs import digest_of, read_secret, stored_secret, write_secret
from salus.cli._common import CommandError, InputError
from tests.support import key


@pytest.mark.parametrize(
    ("text", "units", "expected"),
    [
        ("100000", 2, 10_000_000),
        ("100000.00", 2, 10_000_000),
        ("1,234.5", 2, 123_450),
        ("0.01", 2, 1),
        (" 7 ", 0, 7),
        ("1.234", 3, 1_234),
        ("999999999999999", 2, 999_999_999_999_999_00),
    ],
)
def test_amounts_are_read_exactly(text: str, units: int, expected: int) -> None:
    assert parse_amount(text, units) == expected


@pytest.mark.parametrize(
    ("text", "units", "words"),
    [
        ("10.001", 2, "more than 2 decimal places"),
        ("1.5", 0, "more than 0 decimal places"),
        ("0", 2, "more than zero"),
        ("0.00", 2, "more than zero"),
        ("-5", 2, "is not an amount"),
        ("1e3", 2, "is not an amount"),
        ("ten", 2, "is not an amount"),
        ("", 2, "is not an amount"),
    ],
)
def test_bad_amounts_say_why(text: str, units: int, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_amount(text, units, what="--amount")


def test_amounts_are_shown_in_the_plans_currency() -> None:
    assert format_amount(123_456, {"currency": "CNY", "minor_units": 2}) == "1234.56 CNY"
    assert format_amount(1_000, {"currency": "JPY", "minor_units": 0}) == "1000 JPY"


def test_an_attestation_file_round_trips_and_still_verifies() -> None:
    attestor, member = key(30), key(101)
    signed = attest(
        attestor, plan="xhb", member=member.did, band="18y-39y", evidence="ab" * 32, issued_ms=5
    )
    again = attestation_from_json(json.loads(dump_attestation(signed)))
    assert again == signed
    assert verify_attestation(attestor.did, again) == signed.hash
    assert attestation_to_json(signed)["type"] == "salus-mutual-aid-attestation"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "not a mutual-aid attestation"),
        ({"type": "x"}, "not a mutual-aid attestation"),
        ({"type": "salus-mutual-aid-attestation"}, "'plan' is missing"),
    ],
)
def test_a_bad_attestation_file_says_what_is_wrong(data: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        attestation_from_json(data)


def test_issued_ms_must_be_an_integer() -> None:
    data = attestation_to_json(
        attest(key(30), plan="p", member=key(1).did, band="b", evidence="ab" * 32, issued_ms=1)
    )
    data["issued_ms"] = True
    with pytest.raises(ValueError, match="'issued_ms' is missing or not a int"):
        attestation_from_json(data)


def test_hashes_are_given_or_taken_of_a_file(tmp_path: Path) -> None:
    assert digest_of("ab" * 32, "--reference") == "ab" * 32
    record = tmp_path / "receipt.txt"
    record.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert digest_of(str(record), "--reference") == expected
    with pytest.raises(InputError, match="neither a SHA-256"):
        digest_of(str(tmp_path / "missing"), "--reference")
    with pytest.raises(InputError, match="neither a SHA-256"):
        digest_of("AB" * 32, "--reference")  # upper case is not what the ledger stores


def test_seed_secrets_are_written_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "claim.secret"
    write_secret(path, "cd" * 32)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_secret(path) == "cd" * 32
    with pytest.raises(InputError, match="never overwritten"):
        write_secret(path, "ef" * 32)
    path.write_text("not a secret\n")
    with pytest.raises(InputError, match="does not hold a seed secret"):
        read_secret(path)


def test_a_secret_is_on_disk_before_its_commitment_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "claim.secret"
    with stored_secret(path) as secret:
        # Written (0600 from creation) before the caller sends anything.
        assert read_secret(path) == secret
        assert path.stat().st_mode & 0o777 == 0o600
    assert read_secret(path) == secret


def test_a_refused_commitment_leaves_no_secret_file(tmp_path: Path) -> None:
    path = tmp_path / "claim.secret"
    with pytest.raises(AidError, match="submit_claim refused"), stored_secret(path):
        raise AidError("submit_claim refused: not a member")
    assert not path.exists()
    # Any other failure (a timeout: the action may still commit) keeps the secret.
    with pytest.raises(TimeoutError), stored_secret(path):
        raise TimeoutError("no answer")
    assert path.exists()


def test_unwritable_secret_files_are_clean_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot create the secret file .*No such file"):
        write_secret(tmp_path / "missing-dir" / "claim.secret", "cd" * 32)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(InputError, match=r"cannot create the secret file .*Not a directory"):
        write_secret(a_file / "claim.secret", "cd" * 32)
    assert issubclass(InputError, CommandError)
