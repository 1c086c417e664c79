"""Certificate packages verified offline: valid, tampered, revoked, unknown, withdrawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from salus.apps.learning import LEARNING, LearningContract
from salus.apps.learning.certificate import (
    CertificateVerifier,
    decode_package,
    encode_package,
    package_keys,
    verify_certificate,
)
from salus.apps.learning.credentials import (
    CredentialStatus,
    batch_root,
    build_open_badge,
    encode_vc_jwt,
    status_entries,
)
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.identity import IdentityContract
from salus.core.notary import NotaryContract
from salus.core.tx import Transaction, sign_transaction
from salus.node import Node, SqliteStore
from tests.support import genesis_data, key

ACCREDITOR = key(3)  # red-cross holds "accreditor"
SCHOOL, SCHOOL_SIGNING = key(40), key(41)
ROGUE = key(60)
LIST_URL = "https://school.example/status/1"
SUSPENSION_URL = "https://school.example/status/2"


class Net:
    """A real node over SQLite, driven block by block."""

    def __init__(self, path: Path) -> None:
        data = genesis_data(3)
        data["consortium"]["organisations"][2]["roles"] = ["accreditor"]
        self.genesis = Genesis.from_data(data)
        self.node = Node(
            self.genesis,
            SqliteStore(path / "ledger.sqlite"),
            key(9),
            contracts=[IdentityContract(), NotaryContract(), LearningContract()],
        )
        self.nonces: dict[bytes, int] = {}
        self.time_ms = self.genesis.genesis_time_ms

    def run(self, signer: Signer, action: str, **args: Any) -> Any:
        nonce = self.nonces.get(signer.public_key, 0) + 1
        self.nonces[signer.public_key] = nonce
        stx = sign_transaction(
            Transaction(self.genesis.chain_id, signer.public_key, nonce, LEARNING, action, args),
            signer,
        )
        assert self.node.submit(stx.envelope).status == "pending"
        self.time_ms += 1000
        assert self.node.produce_block(self.time_ms) is not None
        return self.node.tx_status(stx.id)

    def ok(self, signer: Signer, action: str, **args: Any) -> None:
        status = self.run(signer, action, **args)
        assert status["status"] == "committed", status

    def read(self, key: str) -> Any:
        return self.node.ledger.read(LEARNING, key)


def issue(
    net: Net,
    signer: Signer,
    count: int,
    *,
    anchor_as: Signer | None = SCHOOL,
    status: Any = None,
) -> tuple[list[str], bytes, list[tuple[bytes, ...]], int]:
    """Sign ``count`` certificates with ``signer``; anchor them as ``anchor_as`` if given.

    Each carries a revocation and a suspension entry, unless ``status(index)`` says otherwise.
    """
    record = net.read(f"issuer/{SCHOOL.did}")
    start = 0 if record is None else int(record["next_status_index"])
    if status is None:

        def status(index: int) -> Any:
            return status_entries(LIST_URL, SUSPENSION_URL, index)

    tokens = [
        encode_vc_jwt(
            build_open_badge(
                credential_id=f"urn:uuid:00000000-0000-4000-8000-{start + i:012d}",
                issuer_did=signer.did,
                issuer_name="Open School",
                issued_at_s=1_700_000_000,
                achievement_id="https://school.example/courses/first-aid-101",
                achievement_name="First aid",
                achievement_description="Assess a casualty; perform CPR.",
                criteria_narrative="Pass the practical assessment.",
                learner_did=key(100 + i).did,
                learner_name=f"Learner {i}",
                credits_earned=5,
                status=status(start + i),
            ),
            signer,
        )
        for i in range(count)
    ]
    root, paths = batch_root(tokens)
    if anchor_as is not None:
        net.run(anchor_as, "anchor_batch", root=root.hex(), count=count, key=signer.did)
    return tokens, root, paths, start


def package(
    net: Net, tokens: list[str], root: bytes, paths: list[tuple[bytes, ...]], i: int, start: int
) -> bytes:
    keys = package_keys(root=root, issuer=SCHOOL.did, key=_iss(tokens[i]), status_index=start + i)
    return encode_package(
        token=tokens[i],
        issuer=SCHOOL.did,
        index=i,
        count=len(tokens),
        path=paths[i],
        proofs={name: net.node.state_proof(LEARNING, k) for name, k in keys.items()},
    )


def _iss(token: str) -> str:
    from salus.apps.learning.credentials import decode_vc_jwt

    return str(decode_vc_jwt(token)[1]["iss"])


@pytest.fixture
def net(tmp_path: Path) -> Net:
    n = Net(tmp_path)
    n.ok(ACCREDITOR, "accredit_issuer", issuer=SCHOOL.did, name="Open School")
    n.ok(SCHOOL, "bind_key", key=SCHOOL_SIGNING.did)
    return n


def test_batch_of_five_all_valid_offline(net: Net) -> None:
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 5)
    assert net.read(f"batch/{root.hex()}")["count"] == 5
    packages = [package(net, tokens, root, paths, i, start) for i in range(5)]
    net.node.close()  # offline: the node is gone, only packages and genesis remain
    verifier = CertificateVerifier(net.genesis)
    for i, data in enumerate(packages):
        verdict = verify_certificate(data, net.genesis)
        assert verdict.valid, verdict
        assert verdict.verdict == "valid" and verdict.step == "done"
        assert [s for s, _ in verdict.steps] == [
            "decode",
            "signature",
            "anchored",
            "ledger",
            "issuer",
            "key",
            "status",
        ]
        assert verdict.facts["status_index"] == start + i
        assert verifier.verify(data) == verdict
    assert verdict.to_json()["verdict"] == "valid"
    assert decode_package(packages[0])["token"] == tokens[0]


def test_one_changed_character_is_tampered(net: Net) -> None:
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 5)
    good = decode_package(package(net, tokens, root, paths, 2, start))
    token = good["token"]
    header, payload, signature = token.split(".")
    for changed in (
        f"{header}.{payload[:40]}{'A' if payload[40] != 'A' else 'B'}{payload[41:]}.{signature}",
        f"{header}.{payload}.{signature[:10]}{'A' if signature[10] != 'A' else 'B'}"
        f"{signature[11:]}",
    ):
        bad = encode_package(**{**_args(good), "token": changed})
        verdict = verify_certificate(bad, net.genesis)
        assert (verdict.verdict, verdict.step) == ("tampered", "signature"), verdict
    # A genuine token with another leaf's path: the path no longer gives the root.
    other = package(net, tokens, root, paths, 3, start)
    swapped = encode_package(**{**_args(decode_package(other)), "path": good["path"]})
    verdict = verify_certificate(swapped, net.genesis)
    assert verdict.verdict == "tampered" and verdict.step == "ledger", verdict
    # A flipped byte in the package's bytes.
    raw = bytearray(package(net, tokens, root, paths, 2, start))
    raw[-5] ^= 1
    verdict = verify_certificate(bytes(raw), net.genesis)
    assert verdict.verdict == "tampered", verdict
    assert verify_certificate(b"\x00", net.genesis).step == "decode"


def _args(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "salus_certificate"}


def test_revoked_and_suspended_name_block_and_reason(net: Net) -> None:
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 5)
    before = package(net, tokens, root, paths, 1, start)
    net.ok(SCHOOL, "revoke", root=root.hex(), index_in_batch=1, reason="exam misconduct")
    revoked_at = net.node.height
    after = package(net, tokens, root, paths, 1, start)
    verdict = verify_certificate(after, net.genesis)
    assert verdict.verdict == "revoked" and verdict.step == "status"
    assert verdict.reason == f"revoked at block {revoked_at}: exam misconduct"
    assert verify_certificate(before, net.genesis).valid  # an old package shows the old state

    net.ok(SCHOOL, "suspend", root=root.hex(), index_in_batch=4, reason="appeal pending")
    suspended_at = net.node.height
    verdict = verify_certificate(package(net, tokens, root, paths, 4, start), net.genesis)
    assert verdict.verdict == "suspended"
    assert verdict.reason == f"suspended at block {suspended_at}: appeal pending"
    net.ok(SCHOOL, "unsuspend", root=root.hex(), index_in_batch=4, reason="appeal upheld")
    assert verify_certificate(package(net, tokens, root, paths, 4, start), net.genesis).valid
    # A package whose status proof is of another credential is refused.
    good = decode_package(package(net, tokens, root, paths, 0, start))
    wrong = decode_package(after)["proofs"]["status"]
    mixed = encode_package(**{**_args(good), "proofs": {**good["proofs"], "status": wrong}})
    verdict = verify_certificate(mixed, net.genesis)
    assert (verdict.verdict, verdict.step) == ("tampered", "ledger"), verdict


def test_key_not_bound_to_an_accredited_issuer_is_rejected(net: Net) -> None:
    # A rogue key signs certificates naming the accredited school; it cannot anchor them.
    tokens, root, paths, start = issue(net, ROGUE, 3, anchor_as=None)
    verdict = verify_certificate(package(net, tokens, root, paths, 0, start), net.genesis)
    assert (verdict.verdict, verdict.step) == ("unknown issuer", "key"), verdict
    assert ROGUE.did in verdict.reason
    # Self-issued by an account that is not an issuer at all.
    refused = net.run(ROGUE, "anchor_batch", root=root.hex(), count=3, key=ROGUE.did)
    assert refused["status"] == "rejected" and "not an accredited issuer" in refused["reason"]
    keys = package_keys(root=root, issuer=ROGUE.did, key=ROGUE.did, status_index=0)
    self_issued = encode_package(
        token=tokens[0],
        issuer=ROGUE.did,
        index=0,
        count=3,
        path=paths[0],
        proofs={name: net.node.state_proof(LEARNING, k) for name, k in keys.items()},
    )
    verdict = verify_certificate(self_issued, net.genesis)
    assert (verdict.verdict, verdict.step) == ("unknown issuer", "issuer"), verdict
    # A genuine batch presented with a package naming the wrong issuer account.
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 2)
    good = decode_package(package(net, tokens, root, paths, 0, start))
    verdict = verify_certificate(
        encode_package(**{**_args(good), "issuer": ROGUE.did}), net.genesis
    )
    assert verdict.verdict == "tampered" and verdict.step == "ledger", verdict


def test_withdrawn_issuer_earlier_batch_valid_later_refused(net: Net) -> None:
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 5)
    net.ok(ACCREDITOR, "withdraw_issuer", issuer=SCHOOL.did, reason="lost accreditation")
    earlier = package(net, tokens, root, paths, 0, start)
    verdict = verify_certificate(earlier, net.genesis)
    assert verdict.valid, verdict

    later_tokens, later_root, later_paths, later_start = issue(
        net, SCHOOL_SIGNING, 5, anchor_as=None
    )
    refused = net.run(
        SCHOOL, "anchor_batch", root=later_root.hex(), count=5, key=SCHOOL_SIGNING.did
    )
    assert refused["status"] == "rejected" and "withdrawn" in refused["reason"]
    assert net.read(f"batch/{later_root.hex()}") is None
    verdict = verify_certificate(
        package(net, later_tokens, later_root, later_paths, 0, later_start), net.genesis
    )
    assert verdict.verdict == "issuer not accredited at issue time", verdict
    assert verdict.step == "issuer" and "withdrawn" in verdict.reason


def test_other_genesis_is_refused(net: Net, tmp_path: Path) -> None:
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 1)
    data = genesis_data(3, chain_id="another-chain")
    good = package(net, tokens, root, paths, 0, start)
    # Proven first against the right genesis: the shared memory of proven bundles is
    # per genesis, so it must not vouch for them against another one.
    assert verify_certificate(good, net.genesis).valid
    verdict = verify_certificate(good, Genesis.from_data(data))
    assert (verdict.verdict, verdict.step) == ("tampered", "ledger"), verdict
    assert "chain" in verdict.reason


def test_single_entry_certificates_still_verify(net: Net) -> None:
    # Certificates issued before the suspension entry existed carry one entry.
    tokens, root, paths, start = issue(
        net, SCHOOL_SIGNING, 2, status=lambda i: CredentialStatus(LIST_URL, i)
    )
    for i in range(2):
        verdict = verify_certificate(package(net, tokens, root, paths, i, start), net.genesis)
        assert verdict.valid, verdict
    # ...and without any entry the ledger's status still decides.
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 1, status=lambda i: None)
    assert verify_certificate(package(net, tokens, root, paths, 0, start), net.genesis).valid


def _wrong_suspension(index: int) -> Any:
    return (
        CredentialStatus(LIST_URL, index),
        CredentialStatus(SUSPENSION_URL, index + 7, "suspension"),
    )


@pytest.mark.parametrize(
    ("entries", "purpose"),
    [
        (lambda i: status_entries(LIST_URL, SUSPENSION_URL, i + 1), "revocation"),
        (_wrong_suspension, "suspension"),
    ],
)
def test_status_entry_of_another_index_is_refused(net: Net, entries: Any, purpose: str) -> None:
    # Signed by the bound key, anchored, but pointing at another credential's bits.
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 2, status=entries)
    verdict = verify_certificate(package(net, tokens, root, paths, 1, start), net.genesis)
    assert (verdict.verdict, verdict.step) == ("tampered", "status"), verdict
    assert f"({purpose}) is not the anchored index {start + 1}" in verdict.reason


def test_shared_memory_changes_cost_not_verdicts(net: Net) -> None:
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 3)
    packages = [package(net, tokens, root, paths, i, start) for i in range(3)]
    net.ok(SCHOOL, "revoke", root=root.hex(), index_in_batch=2, reason="fraud")
    revoked = package(net, tokens, root, paths, 2, start)
    fresh = []
    for data in [*packages, revoked]:
        CertificateVerifier.forget_proven_bundles()
        fresh.append(verify_certificate(data, net.genesis))
    remembered = [CertificateVerifier(net.genesis).verify(d) for d in [*packages, revoked]]
    assert remembered == fresh
    assert [v.verdict for v in fresh] == ["valid", "valid", "valid", "revoked"]
