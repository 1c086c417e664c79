"""The learning contract: accreditation, issuer keys, courses, records, batches, status."""

from __future__ import annotations

from typing import Any

import pytest

from salus.apps.learning import (
    LEARNING,
    LearningContract,
    issuer_status_at,
    key_bound_at,
    status_bits,
)
from salus.apps.learning.contract import MIN_STATUS_LIST_BITS
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.identity import IdentityContract
from salus.core.ledger import Ledger
from salus.core.notary import NotaryContract
from tests.support import Chain, genesis_data, key

WHO, HOSPITAL, ACCREDITOR = key(1), key(2), key(3)  # red-cross holds "accreditor"
SCHOOL, SCHOOL_SIGNING = key(40), key(41)
ACADEMY, ACADEMY_SIGNING = key(42), key(43)
LEARNER, OTHER_LEARNER = key(50), key(51)
ROOT_A, ROOT_B, ROOT_C = "a" * 64, "b" * 64, "c" * 64
COURSE = {
    "course_id": "first-aid-101",
    "title": "First aid in a shut-down city",
    "credits": 50,
    "outcomes": ["assess a casualty", "perform CPR"],
    "assessment": "practical assessment and a 20-question quiz",
}


class LedgerRecords:
    """The contract's state as a verifier-side read helper sees it."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def get(self, key: str, /) -> Any:
        return self.ledger.read(LEARNING, key)


def chain() -> Chain:
    data = genesis_data(3)
    data["consortium"]["organisations"][2]["roles"] = ["accreditor"]
    return Chain(
        Genesis.from_data(data), [IdentityContract(), NotaryContract(), LearningContract()]
    )


def run(c: Chain, signer: Signer, action: str, **args: Any) -> Any:
    return c.run(signer, LEARNING, action, args)


def ok(c: Chain, signer: Signer, action: str, **args: Any) -> Any:
    result = run(c, signer, action, **args)
    assert result.ok, (action, result.reason)
    return result


def refused(c: Chain, signer: Signer, action: str, message: str, **args: Any) -> Any:
    """Run an action that must be refused with ``message``, and check it wrote nothing."""
    before = learning_state(c)
    result = run(c, signer, action, **args)
    assert not result.ok, action
    assert message in result.reason, (message, result.reason)
    assert learning_state(c) == before
    return result


def learning_state(c: Chain) -> dict[bytes, bytes]:
    return {k: v for k, v in c.ledger.items() if k.startswith(b"learning/")}


def read(c: Chain, key: str) -> Any:
    return c.ledger.read(LEARNING, key)


def accredited_school(c: Chain | None = None) -> Chain:
    c = c or chain()
    ok(c, ACCREDITOR, "accredit_issuer", issuer=SCHOOL.did, name="Open School")
    ok(c, SCHOOL, "bind_key", key=SCHOOL_SIGNING.did)
    return c


def test_happy_path_end_to_end() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "publish_course", **COURSE)
    ok(c, SCHOOL, "enrol", course_id="first-aid-101", learner=LEARNER.did)
    ok(c, SCHOOL, "enrol", course_id="first-aid-101", learner=OTHER_LEARNER.did)
    done = ok(
        c,
        SCHOOL,
        "record_completion",
        course_id="first-aid-101",
        learner=LEARNER.did,
        module_id="module-1",
    )
    assert [(e.type, e.subject) for e in done.events] == [("module_completed", LEARNER.did)]
    common = {"course_id": "first-aid-101", "assessment_id": "quiz", "max_score": 20}
    ok(c, SCHOOL, "record_result", learner=LEARNER.did, score=8, passed=False, **common)
    ok(c, SCHOOL, "record_result", learner=LEARNER.did, score=18, passed=True, **common)
    ok(c, SCHOOL, "record_result", learner=LEARNER.did, score=19, passed=True, **common)

    enrolment = read(c, f"enrolment/{SCHOOL.did}/first-aid-101/{LEARNER.did}")
    assert list(enrolment["modules"]) == ["module-1"]
    assert [a["score"] for a in enrolment["results"]["quiz"]] == [8, 18, 19]
    assert read(c, f"progress/{SCHOOL.did}/first-aid-101") == {
        "enrolled": 2,
        "module_completions": 1,
        "results": 3,
        "passed": 1,
    }

    first = ok(c, SCHOOL, "anchor_batch", root=ROOT_A, count=3, key=SCHOOL_SIGNING.did)
    anchored_at = c.ledger.height
    ok(c, SCHOOL, "anchor_batch", root=ROOT_B, count=2, key=SCHOOL_SIGNING.did)
    assert [(e.type, e.subject) for e in first.events] == [("batch_anchored", ROOT_A)]
    batch = read(c, f"batch/{ROOT_A}")
    assert batch == {
        "issuer": SCHOOL.did,
        "key": SCHOOL_SIGNING.did,
        "count": 3,
        "height": anchored_at,
        "time_ms": batch["time_ms"],
        "status_start": 0,
    }
    assert read(c, f"batch/{ROOT_B}")["status_start"] == 3
    assert read(c, f"issuer/{SCHOOL.did}")["next_status_index"] == 5

    records = LedgerRecords(c.ledger)
    assert issuer_status_at(records, SCHOOL.did, anchored_at) == "accredited"
    assert key_bound_at(records, SCHOOL_SIGNING.did, anchored_at) == SCHOOL.did
    assert issuer_status_at(records, ACADEMY.did, anchored_at) is None


def test_only_accreditors_accredit() -> None:
    c = chain()
    result = refused(
        c, WHO, "accredit_issuer", "'accreditor'", issuer=SCHOOL.did, name="Open School"
    )
    assert result.code == "permission_denied"
    refused(c, SCHOOL, "suspend_issuer", "'accreditor'", issuer=SCHOOL.did, reason="x")


def test_accreditor_granted_by_governance() -> None:
    c = Chain(
        Genesis.from_data(genesis_data(3)),
        [IdentityContract(), NotaryContract(), LearningContract()],
    )
    refused(c, WHO, "accredit_issuer", "'accreditor'", issuer=SCHOOL.did, name="Open School")
    proposal = {
        "kind": "grant_role",
        "params": {"subject": "health-ministry", "role": "accreditor"},
    }
    assert c.run(WHO, "identity", "propose", proposal).ok
    assert c.run(HOSPITAL, "identity", "approve", {"proposal": 1}).ok
    ok(c, WHO, "accredit_issuer", issuer=SCHOOL.did, name="Open School")


def test_issuer_actions_need_good_standing() -> None:
    c = accredited_school()
    refused(c, ACADEMY, "bind_key", "is not an accredited issuer", key=ACADEMY_SIGNING.did)
    refused(c, ACADEMY, "publish_course", "is not an accredited issuer", **COURSE)
    ok(c, ACCREDITOR, "suspend_issuer", issuer=SCHOOL.did, reason="inspection pending")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("publish_course", COURSE),
        ("bind_key", {"key": key(44).did}),
        ("anchor_batch", {"root": ROOT_A, "count": 1, "key": SCHOOL_SIGNING.did}),
    ]
    for action, args in cases:
        refused(c, SCHOOL, action, "is suspended (since height", **args)
    result = run(c, SCHOOL, "publish_course", **COURSE)
    assert "inspection pending" in result.reason and "not accredited" in result.reason


def test_suspension_then_reinstatement() -> None:
    c = accredited_school()
    accredited_at = 1
    ok(c, ACCREDITOR, "suspend_issuer", issuer=SCHOOL.did, reason="inspection pending")
    suspended_at = c.ledger.height
    refused(c, ACCREDITOR, "suspend_issuer", "cannot suspend", issuer=SCHOOL.did, reason="again")
    refused(c, SCHOOL, "anchor_batch", "is suspended", root=ROOT_A, count=1, key=SCHOOL_SIGNING.did)
    ok(c, ACCREDITOR, "reinstate_issuer", issuer=SCHOOL.did, reason="inspection passed")
    reinstated_at = c.ledger.height
    refused(c, ACCREDITOR, "reinstate_issuer", "cannot reinstate", issuer=SCHOOL.did, reason="x")
    ok(c, SCHOOL, "anchor_batch", root=ROOT_A, count=1, key=SCHOOL_SIGNING.did)

    history = read(c, f"issuer/{SCHOOL.did}")["history"]
    assert [(h["status"], h["height"]) for h in history] == [
        ("accredited", accredited_at),
        ("suspended", suspended_at),
        ("accredited", reinstated_at),
    ]
    records = LedgerRecords(c.ledger)
    assert issuer_status_at(records, SCHOOL.did, 0) is None
    assert issuer_status_at(records, SCHOOL.did, suspended_at - 1) == "accredited"
    assert issuer_status_at(records, SCHOOL.did, suspended_at) == "suspended"
    assert issuer_status_at(records, SCHOOL.did, reinstated_at) == "accredited"


def test_withdrawn_issuer_keeps_earlier_batches_but_cannot_anchor() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "anchor_batch", root=ROOT_A, count=2, key=SCHOOL_SIGNING.did)
    anchored_at = c.ledger.height
    ok(c, ACCREDITOR, "withdraw_issuer", issuer=SCHOOL.did, reason="fraudulent assessments")
    withdrawn_at = c.ledger.height
    refused(
        c,
        SCHOOL,
        "anchor_batch",
        "is withdrawn (since height",
        root=ROOT_B,
        count=1,
        key=SCHOOL_SIGNING.did,
    )
    for action in ("reinstate_issuer", "suspend_issuer", "withdraw_issuer"):
        refused(c, ACCREDITOR, action, "withdrawal is permanent", issuer=SCHOOL.did, reason="x")
    refused(
        c, ACCREDITOR, "accredit_issuer", "withdrawal is permanent", issuer=SCHOOL.did, name="S"
    )
    assert read(c, f"batch/{ROOT_A}")["issuer"] == SCHOOL.did
    records = LedgerRecords(c.ledger)
    assert issuer_status_at(records, SCHOOL.did, anchored_at) == "accredited"
    assert issuer_status_at(records, SCHOOL.did, withdrawn_at) == "withdrawn"
    # A withdrawn issuer cannot touch statuses itself; an accreditor still can.
    refused(c, SCHOOL, "revoke", "ask an accreditor", root=ROOT_A, index_in_batch=0, reason="x")
    ok(c, ACCREDITOR, "revoke", root=ROOT_A, index_in_batch=0, reason="assessment was forged")


def test_key_binding_rules() -> None:
    c = accredited_school()
    ok(c, ACCREDITOR, "accredit_issuer", issuer=ACADEMY.did, name="Academy")
    refused(c, ACADEMY, "bind_key", f"belongs to issuer {SCHOOL.did}", key=SCHOOL_SIGNING.did)
    refused(c, SCHOOL, "bind_key", "is already bound (since height", key=SCHOOL_SIGNING.did)
    refused(c, SCHOOL, "bind_key", "another issuer's account key", key=ACADEMY.did)
    refused(
        c,
        SCHOOL,
        "anchor_batch",
        "is not bound to any issuer",
        root=ROOT_A,
        count=1,
        key=ACADEMY_SIGNING.did,
    )
    ok(c, ACADEMY, "bind_key", key=ACADEMY_SIGNING.did)
    refused(
        c,
        SCHOOL,
        "anchor_batch",
        f"is bound to issuer {ACADEMY.did}, not {SCHOOL.did}",
        root=ROOT_A,
        count=1,
        key=ACADEMY_SIGNING.did,
    )
    bound_at = 2
    ok(c, SCHOOL, "retire_key", key=SCHOOL_SIGNING.did)
    retired_at = c.ledger.height
    refused(c, SCHOOL, "retire_key", "already retired", key=SCHOOL_SIGNING.did)
    refused(c, SCHOOL, "retire_key", "is not bound to issuer", key=ACADEMY_SIGNING.did)
    refused(
        c,
        SCHOOL,
        "anchor_batch",
        f"was retired at height {retired_at}",
        root=ROOT_A,
        count=1,
        key=SCHOOL_SIGNING.did,
    )
    ok(c, SCHOOL, "bind_key", key=SCHOOL_SIGNING.did)
    rebound_at = c.ledger.height
    records = LedgerRecords(c.ledger)
    assert key_bound_at(records, SCHOOL_SIGNING.did, bound_at - 1) is None
    assert key_bound_at(records, SCHOOL_SIGNING.did, bound_at) == SCHOOL.did
    assert key_bound_at(records, SCHOOL_SIGNING.did, retired_at) is None
    assert key_bound_at(records, SCHOOL_SIGNING.did, rebound_at) == SCHOOL.did
    assert key_bound_at(records, key(99).did, rebound_at) is None


def test_duplicate_root_is_refused() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "anchor_batch", root=ROOT_A, count=1, key=SCHOOL_SIGNING.did)
    refused(
        c,
        SCHOOL,
        "anchor_batch",
        f"root {ROOT_A} was already anchored at height",
        root=ROOT_A,
        count=5,
        key=SCHOOL_SIGNING.did,
    )


def test_bad_arguments_name_the_field() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "publish_course", **COURSE)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("enrol", {"course_id": "first-aid-101", "learner": "Jane Doe"}, "args.learner"),
        ("enrol", {"course_id": "first-aid-101", "learner": "did:web:x"}, "args.learner"),
        ("anchor_batch", {"root": "ABC", "count": 1, "key": SCHOOL_SIGNING.did}, "args.root"),
        ("anchor_batch", {"root": "A" * 64, "count": 1, "key": SCHOOL_SIGNING.did}, "lower-case"),
        ("anchor_batch", {"root": ROOT_A, "count": 0, "key": SCHOOL_SIGNING.did}, "args.count"),
        ("anchor_batch", {"root": ROOT_A, "count": "3", "key": SCHOOL_SIGNING.did}, "args.count"),
        ("publish_course", {**COURSE, "credits": -1}, "args.credits"),
        ("publish_course", {**COURSE, "course_id": "a b"}, "args.course_id"),
        ("publish_course", {**COURSE, "name": "Jane"}, "args.name"),
        ("revoke", {"reason": "x"}, "give either root and index_in_batch, or status_index"),
        ("revoke", {"root": ROOT_A, "reason": "x"}, "root and index_in_batch go together"),
        ("revoke", {"root": "zz", "index_in_batch": 0, "reason": "x"}, "args.root"),
        (
            "record_result",
            {
                "course_id": "first-aid-101",
                "learner": LEARNER.did,
                "assessment_id": "quiz",
                "score": 21,
                "max_score": 20,
                "passed": True,
            },
            "score 21 exceeds max_score 20",
        ),
    ]
    for action, args, message in cases:
        result = refused(c, SCHOOL, action, message, **args)
        assert result.code == "invalid_arguments", (action, result.code)


def test_learning_record_refusals() -> None:
    c = accredited_school()
    refused(c, SCHOOL, "enrol", "has no course 'nope'", course_id="nope", learner=LEARNER.did)
    ok(c, SCHOOL, "publish_course", **COURSE)
    refused(c, SCHOOL, "publish_course", "already exists (version 1)", **COURSE)
    refused(
        c,
        SCHOOL,
        "record_completion",
        "is not enrolled",
        course_id="first-aid-101",
        learner=LEARNER.did,
        module_id="m1",
    )
    ok(c, SCHOOL, "enrol", course_id="first-aid-101", learner=LEARNER.did)
    refused(
        c,
        SCHOOL,
        "enrol",
        "already enrolled",
        course_id="first-aid-101",
        learner=LEARNER.did,
    )
    ok(
        c,
        SCHOOL,
        "record_completion",
        course_id="first-aid-101",
        learner=LEARNER.did,
        module_id="m1",
    )
    refused(
        c,
        SCHOOL,
        "record_completion",
        "already recorded at height",
        course_id="first-aid-101",
        learner=LEARNER.did,
        module_id="m1",
    )
    # Another issuer cannot write into the school's course.
    ok(c, ACCREDITOR, "accredit_issuer", issuer=ACADEMY.did, name="Academy")
    refused(c, ACADEMY, "enrol", "has no course", course_id="first-aid-101", learner=LEARNER.did)


def test_course_versions() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "publish_course", **COURSE)
    refused(c, SCHOOL, "update_course", "changes nothing", **COURSE)
    refused(c, SCHOOL, "update_course", "use publish_course", **{**COURSE, "course_id": "new"})
    ok(c, SCHOOL, "update_course", **{**COURSE, "credits": 60})
    current = read(c, f"course/{SCHOOL.did}/first-aid-101")
    assert current["version"] == 2 and current["credits"] == 60
    first = read(c, f"course_version/{SCHOOL.did}/first-aid-101/1")
    assert first["credits"] == 50 and first["first_height"] == current["first_height"]


def test_revocation_and_suspension_drive_the_status_bits() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "anchor_batch", root=ROOT_A, count=3, key=SCHOOL_SIGNING.did)
    ok(c, SCHOOL, "anchor_batch", root=ROOT_B, count=10, key=SCHOOL_SIGNING.did)
    revoked = ok(c, SCHOOL, "revoke", root=ROOT_B, index_in_batch=6, reason="wrong learner")
    revoked_at = c.ledger.height
    assert [(e.type, e.subject) for e in revoked.events] == [
        ("credential_revoked", f"status/{SCHOOL.did}/9")
    ]
    ok(c, SCHOOL, "revoke", status_index=0, reason="issued in error")
    ok(c, ACCREDITOR, "suspend", issuer=SCHOOL.did, status_index=12, reason="under appeal")
    ok(c, SCHOOL, "suspend", root=ROOT_A, index_in_batch=1, reason="appeal")

    record = read(c, f"status/{SCHOOL.did}/9")
    assert record["status"] == "revoked"
    assert record["history"][0] | {"time_ms": 0} == {
        "action": "revoke",
        "reason": "wrong learner",
        "height": revoked_at,
        "time_ms": 0,
        "by": SCHOOL.did,
    }
    records = LedgerRecords(c.ledger)
    revocation = status_bits(records, SCHOOL.did, "revocation")
    suspension = status_bits(records, SCHOOL.did, "suspension")
    assert len(revocation) * 8 == MIN_STATUS_LIST_BITS == len(suspension) * 8
    # Index 0 is the left-most bit of the first byte (Bitstring Status List §4).
    assert revocation[:2] == bytes([0b1000_0000, 0b0100_0000])  # indices 0 and 9
    assert suspension[:2] == bytes([0b0100_0000, 0b0000_1000])  # indices 1 and 12
    assert not any(revocation[2:]) and not any(suspension[2:])

    # Unsuspend clears the bit; revoking a suspended credential moves it to revocation.
    ok(c, SCHOOL, "unsuspend", status_index=12, reason="appeal upheld")
    ok(c, SCHOOL, "revoke", status_index=1, reason="appeal rejected")
    assert status_bits(records, SCHOOL.did, "suspension")[:2] == bytes(2)
    assert status_bits(records, SCHOOL.did, "revocation")[:2] == bytes([0b1100_0000, 0b0100_0000])
    assert read(c, f"status_list/{SCHOOL.did}") == {"revoked": [0, 1, 9], "suspended": []}
    assert status_bits(records, ACADEMY.did, "revocation") == bytes(MIN_STATUS_LIST_BITS // 8)
    with pytest.raises(ValueError, match="status purpose"):
        status_bits(records, SCHOOL.did, "refresh")  # type: ignore[arg-type]


def test_status_refusals() -> None:
    c = accredited_school()
    ok(c, SCHOOL, "anchor_batch", root=ROOT_A, count=3, key=SCHOOL_SIGNING.did)
    ok(c, SCHOOL, "revoke", root=ROOT_A, index_in_batch=2, reason="issued in error")
    refused(c, SCHOOL, "revoke", "it is revoked (since height", status_index=2, reason="again")
    refused(c, SCHOOL, "suspend", "cannot suspend credential 2", status_index=2, reason="x")
    refused(c, SCHOOL, "unsuspend", "it is active", status_index=1, reason="x")
    refused(c, SCHOOL, "revoke", "was never assigned", status_index=3, reason="x")
    refused(c, SCHOOL, "revoke", "outside batch", root=ROOT_A, index_in_batch=3, reason="x")
    refused(c, SCHOOL, "revoke", "no batch with root", root=ROOT_C, index_in_batch=0, reason="x")
    refused(c, LEARNER, "revoke", "is not an issuer", status_index=0, reason="x")
    refused(
        c,
        LEARNER,
        "revoke",
        f"only issuer {SCHOOL.did} or an accreditor",
        root=ROOT_A,
        index_in_batch=0,
        reason="x",
    )
    refused(
        c,
        LEARNER,
        "suspend",
        "only issuer",
        issuer=SCHOOL.did,
        status_index=0,
        reason="x",
    )


def test_contract_describes_its_actions() -> None:
    described = LearningContract().describe()
    assert described["name"] == "learning"
    assert described["actions"]["accredit_issuer"]["roles"] == ["accreditor"]
    assert described["actions"]["anchor_batch"]["roles"] == ["public"]


def test_read_helpers_work_on_proven_values() -> None:
    """An offline verifier holds only the proven keys it needs, as a plain mapping."""
    proven = {
        f"issuer/{SCHOOL.did}": {
            "status": "suspended",
            "next_status_index": 10,
            "history": [
                {"status": "accredited", "height": 3},
                {"status": "suspended", "height": 8},
            ],
        },
        f"key/{SCHOOL_SIGNING.did}": {"issuer": SCHOOL.did, "periods": [{"from": 4, "to": 7}]},
        f"status_list/{SCHOOL.did}": {"revoked": [7], "suspended": []},
    }
    assert [issuer_status_at(proven, SCHOOL.did, h) for h in (2, 3, 7, 8)] == [
        None,
        "accredited",
        "accredited",
        "suspended",
    ]
    assert [key_bound_at(proven, SCHOOL_SIGNING.did, h) for h in (3, 4, 6, 7)] == [
        None,
        SCHOOL.did,
        SCHOOL.did,
        None,
    ]
    assert status_bits(proven, SCHOOL.did, "revocation")[0] == 0b0000_0001
