"""Governance of the consortium: M-of-N proposals, roles, keys, individuals."""

from __future__ import annotations

from salus.core.genesis import Genesis
from tests.support import Chain, genesis_data, key

WHO, HOSPITAL, RED_CROSS = key(1), key(2), key(3)


def chain() -> Chain:
    return Chain(Genesis.from_data(genesis_data(3)))


def propose(c: Chain, signer: object, kind: str, **params: object) -> object:
    return c.run(signer, "identity", "propose", {"kind": kind, "params": params})  # type: ignore[arg-type]


def test_genesis_state_lists_the_consortium() -> None:
    c = chain()
    assert c.ledger.read("identity", "members") == ["city-hospital", "health-ministry", "red-cross"]
    org = c.ledger.read("identity", "org/health-ministry")
    assert org["roles"] == ["admin"] and org["keys"] == [WHO.did]
    roles, org_id = c.ledger.roles_of(WHO.did)
    assert roles == {"public", "member", "admin"} and org_id == "health-ministry"
    assert c.ledger.roles_of(key(50).did) == ({"public"}, None)


def test_add_org_needs_two_of_three() -> None:
    c = chain()
    newcomer = key(4)
    result = propose(
        c,
        WHO,
        "add_org",
        org="open-university",
        name="Open University",
        keys=[newcomer.did],
        roles=["issuer"],
    )
    assert result.ok, result.reason
    assert c.ledger.read("identity", "proposal/1")["status"] == "open"
    assert c.ledger.read("identity", "org/open-university") is None
    approved = c.run(HOSPITAL, "identity", "approve", {"proposal": 1})
    assert approved.ok, approved.reason
    assert [e.type for e in approved.events] == ["approved", "org_added", "executed"]
    assert c.ledger.read("identity", "proposal/1")["status"] == "executed"
    assert "open-university" in c.ledger.read("identity", "members")
    assert c.ledger.roles_of(newcomer.did)[0] == {"public", "member", "issuer"}


def test_same_org_cannot_approve_twice_and_outsiders_cannot_vote() -> None:
    c = chain()
    propose(c, WHO, "grant_role", subject="red-cross", role="logistics")
    again = c.run(WHO, "identity", "approve", {"proposal": 1})
    assert not again.ok and "already approved" in again.reason
    outsider = c.run(key(60), "identity", "approve", {"proposal": 1})
    assert not outsider.ok and outsider.code == "permission_denied"
    assert "'member'" in outsider.reason


def test_threshold_follows_membership() -> None:
    c = chain()
    # 2 of 3 -> remove red-cross (hospital approves) -> 2 members, ceil(2*2/3) = 2.
    propose(c, WHO, "remove_org", org="red-cross")
    assert c.run(HOSPITAL, "identity", "approve", {"proposal": 1}).ok
    assert c.ledger.read("identity", "members") == ["city-hospital", "health-ministry"]
    assert c.ledger.read("identity", "key/" + RED_CROSS.did) is None
    removed = c.run(
        RED_CROSS,
        "identity",
        "propose",
        {"kind": "grant_role", "params": {"subject": "red-cross", "role": "x"}},
    )
    assert removed.code == "permission_denied"
    # With 2 members a proposal still needs both.
    propose(c, WHO, "set_threshold", num=1, den=2)
    assert c.ledger.read("identity", "proposal/2")["status"] == "open"
    assert c.run(HOSPITAL, "identity", "approve", {"proposal": 2}).ok
    assert c.ledger.read("identity", "config")["threshold"] == {"num": 1, "den": 2}
    # Now one of two suffices: executes at once.
    propose(c, WHO, "grant_role", subject="city-hospital", role="assessor")
    assert c.ledger.read("identity", "proposal/3")["status"] == "executed"


def test_rotate_key_moves_authority() -> None:
    c = chain()
    fresh = key(5)
    propose(c, HOSPITAL, "rotate_key", org="city-hospital", add=[fresh.did], remove=[HOSPITAL.did])
    assert c.run(WHO, "identity", "approve", {"proposal": 1}).ok
    assert c.ledger.roles_of(HOSPITAL.did)[1] is None
    assert c.ledger.roles_of(fresh.did)[1] == "city-hospital"
    old = propose(c, HOSPITAL, "grant_role", subject="city-hospital", role="lab")
    assert old.code == "permission_denied"


def test_individual_roles_by_did() -> None:
    c = chain()
    person = key(70)
    propose(c, WHO, "grant_role", subject=person.did, role="juror")
    assert c.run(RED_CROSS, "identity", "approve", {"proposal": 1}).ok
    assert c.ledger.roles_of(person.did) == ({"public", "juror"}, None)
    propose(c, WHO, "revoke_role", subject=person.did, role="juror")
    assert c.run(RED_CROSS, "identity", "approve", {"proposal": 2}).ok
    assert c.ledger.roles_of(person.did) == ({"public"}, None)
    assert c.ledger.read("identity", f"role/{person.did}") is None


def test_bad_proposals_are_refused_with_reasons() -> None:
    c = chain()
    cases = [
        (
            {
                "kind": "add_org",
                "params": {"org": "red-cross", "name": "Dup", "keys": [key(8).did]},
            },
            "already taken",
        ),
        (
            {"kind": "add_org", "params": {"org": "x", "name": "X", "keys": [WHO.did]}},
            "already belongs",
        ),
        (
            {"kind": "add_org", "params": {"org": "x", "name": "X", "keys": ["did:key:nope"]}},
            "params.keys",
        ),
        ({"kind": "remove_org", "params": {"org": "nobody"}}, "not an active member"),
        (
            {"kind": "grant_role", "params": {"subject": "health-ministry", "role": "admin"}},
            "already holds",
        ),
        ({"kind": "grant_role", "params": {"subject": "red-cross", "role": "member"}}, "implicit"),
        (
            {"kind": "rotate_key", "params": {"org": "red-cross", "remove": [RED_CROSS.did]}},
            "without a key",
        ),
        ({"kind": "set_threshold", "params": {"num": 3, "den": 2}}, "must not exceed"),
        ({"kind": "launch_rocket", "params": {}}, "args.kind"),
    ]
    for args, message in cases:
        result = c.run(WHO, "identity", "propose", args)
        assert not result.ok, args
        assert message in result.reason, (message, result.reason)
    assert c.ledger.read("identity", "config")["next_proposal"] == 1


def test_proposal_fails_cleanly_when_overtaken() -> None:
    c = chain()
    newcomer = key(6)
    propose(c, WHO, "add_org", org="lab-a", name="Lab A", keys=[newcomer.did])
    propose(c, HOSPITAL, "add_org", org="lab-b", name="Lab B", keys=[newcomer.did])
    assert c.run(RED_CROSS, "identity", "approve", {"proposal": 1}).ok
    # lab-a joined: 4 members now, so proposal 2 needs ceil(4 * 2/3) = 3 approvals.
    assert c.run(RED_CROSS, "identity", "approve", {"proposal": 2}).ok
    assert c.ledger.read("identity", "proposal/2")["status"] == "open"
    third = c.run(WHO, "identity", "approve", {"proposal": 2})
    assert third.ok
    assert [e.type for e in third.events] == ["approved", "failed"]
    proposal = c.ledger.read("identity", "proposal/2")
    assert proposal["status"] == "failed" and "already belongs" in proposal["reason"]


def test_cancel_and_expiry() -> None:
    c = chain()
    propose(c, WHO, "grant_role", subject="red-cross", role="logistics")
    refused = c.run(HOSPITAL, "identity", "cancel", {"proposal": 1})
    assert not refused.ok and "only organisation" in refused.reason
    assert c.run(WHO, "identity", "cancel", {"proposal": 1}).ok
    late = c.run(HOSPITAL, "identity", "approve", {"proposal": 1})
    assert "cancelled" in late.reason
    propose(c, WHO, "grant_role", subject="red-cross", role="logistics")
    for _ in range(51):  # proposal_ttl_blocks is 50 in the test genesis
        c.block()
    expired = c.run(HOSPITAL, "identity", "approve", {"proposal": 2})
    assert not expired.ok and "expired" in expired.reason


def test_validator_set_changes_by_governance() -> None:
    c = chain()
    genesis_validator = key(9).did
    assert c.ledger.read("identity", "validators") == {genesis_validator: 10}
    newcomer = key(20).did
    propose(c, WHO, "add_validator", did=newcomer, power=5, name="red-cross-node")
    approved = c.run(RED_CROSS, "identity", "approve", {"proposal": 1})
    assert [e.type for e in approved.events] == ["approved", "validator_added", "executed"]
    assert c.ledger.read("identity", "validators") == {genesis_validator: 10, newcomer: 5}

    duplicate = propose(c, WHO, "add_validator", did=newcomer, power=1)
    assert not duplicate.ok and "already a validator" in duplicate.reason

    propose(c, WHO, "remove_validator", did=genesis_validator)
    assert c.run(HOSPITAL, "identity", "approve", {"proposal": 2}).ok
    assert c.ledger.read("identity", "validators") == {newcomer: 5}
    last = propose(c, WHO, "remove_validator", did=newcomer)
    assert not last.ok and "last validator" in last.reason
    unknown = propose(c, WHO, "remove_validator", did=key(33).did)
    assert not unknown.ok and "is not a validator" in unknown.reason
