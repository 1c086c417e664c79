"""The state machine: atomic transactions, roles, nonces, determinism."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from salus.core.contract import MEMBER, PUBLIC, ActionArgs, Context, Contract, action
from salus.core.genesis import Genesis
from salus.core.identity import IdentityContract
from salus.core.ledger import Ledger
from salus.core.state_tree import StateTree
from salus.core.tx import Transaction, sign_transaction
from salus.errors import NonceError, PermissionDenied, UnknownAction, UnknownContract, WrongChain
from tests.support import Chain, genesis_data, key


class PutArgs(ActionArgs):
    key: str = Field(min_length=1, max_length=20)
    value: int
    fail_after_write: bool = False


class Counter(Contract):
    """A test contract: members write numbers; anyone may bump a public counter."""

    name = "counter"

    @action(roles=[MEMBER])
    def put(self, ctx: Context, args: PutArgs) -> None:
        ctx.state.put(f"n/{args.key}", args.value)
        ctx.emit("put", subject=args.key, value=args.value)
        if args.fail_after_write:
            ctx.fail("asked to fail after writing")

    @action(roles=[PUBLIC])
    def bump(self, ctx: Context, args: PutArgs) -> None:
        current = ctx.state.get("public") or 0
        ctx.state.put("public", current + args.value)

    @action(roles=["auditor"])
    def audit(self, ctx: Context, args: PutArgs) -> None:
        ctx.emit("audited", subject=args.key)

    @action(roles=[PUBLIC])
    def crash(self, ctx: Context, args: PutArgs) -> None:
        ctx.state.put("crashed", True)
        raise ZeroDivisionError("bug in contract")


def contracts() -> list[Contract]:
    return [IdentityContract(), Counter()]


def chain() -> Chain:
    return Chain(Genesis.from_data(genesis_data(3)), contracts())


def test_failed_action_changes_nothing_but_consumes_the_nonce() -> None:
    c = chain()
    result = c.run(key(1), "counter", "put", {"key": "a", "value": 1, "fail_after_write": True})
    assert not result.ok and result.reason == "asked to fail after writing"
    assert result.events == ()
    assert c.ledger.read("counter", "n/a") is None
    assert c.ledger.nonce_of(key(1).public_key) == 1


def test_contract_bug_is_contained() -> None:
    c = chain()
    root_before = c.ledger.state_root
    result = c.run(key(40), "counter", "crash", {"key": "a", "value": 1})
    assert not result.ok and result.code == "contract_failure"
    assert "ZeroDivisionError" in result.reason
    assert c.ledger.read("counter", "crashed") is None
    assert c.ledger.state_root != root_before  # only the nonce moved


def test_transactions_in_one_block_see_each_other() -> None:
    c = chain()
    pending = c.block(
        c.tx(key(40), "counter", "bump", {"key": "x", "value": 2}),
        c.tx(key(41), "counter", "bump", {"key": "x", "value": 3}),
        c.tx(key(40), "counter", "bump", {"key": "x", "value": 5}),
    )
    assert all(r.ok for r in pending.results)
    assert c.ledger.read("counter", "public") == 10


def test_role_check_names_the_role() -> None:
    c = chain()
    result = c.run(key(1), "counter", "audit", {"key": "a", "value": 1})
    assert result.code == "permission_denied"
    assert "'auditor'" in result.reason and key(1).did in result.reason
    with pytest.raises(PermissionDenied, match="'auditor'"):
        c.ledger.check_tx(c.tx(key(1), "counter", "audit", {"key": "a", "value": 1}))


def test_admission_checks() -> None:
    c = chain()
    ledger = c.ledger
    good = c.tx(key(1), "counter", "put", {"key": "a", "value": 1})
    ledger.check_tx(good)
    with pytest.raises(NonceError):
        ledger.check_tx(good, pending_nonce=1)
    other = Transaction(
        "other-chain", key(1).public_key, 5, "counter", "put", {"key": "a", "value": 1}
    )
    with pytest.raises(WrongChain):
        ledger.check_tx(sign_transaction(other, key(1)))
    with pytest.raises(UnknownContract, match="installed: counter, identity"):
        ledger.check_tx(c.tx(key(1), "nothing", "put", {}))
    with pytest.raises(UnknownAction, match="actions: audit, bump, crash, put"):
        ledger.check_tx(c.tx(key(1), "counter", "delete", {}))
    bad_args = c.tx(key(1), "counter", "put", {"key": "a", "value": "1"})
    with pytest.raises(Exception, match=r"args\.value"):
        ledger.check_tx(bad_args)
    unknown_arg = c.tx(key(1), "counter", "put", {"key": "a", "value": 1, "extra": 1})
    with pytest.raises(Exception, match=r"args\.extra"):
        ledger.check_tx(unknown_arg)


def test_replay_inside_a_block_is_rejected() -> None:
    c = chain()
    stx = c.tx(key(1), "counter", "put", {"key": "a", "value": 1})
    pending = c.block(stx, stx)
    assert pending.results[0].ok
    assert pending.results[1].code == "bad_nonce"


def test_block_time_must_increase() -> None:
    c = chain()
    c.block()
    with pytest.raises(ValueError, match="must be after"):
        c.ledger.execute_block([], time_ms=c.time_ms, proposer=c.validator.public_key)


def test_state_root_is_root_of_all_values() -> None:
    c = chain()
    c.block(c.tx(key(1), "counter", "put", {"key": "a", "value": 1}))
    assert c.ledger.state_root == StateTree.from_items(c.ledger.items()).root


def test_restore_checks_the_root() -> None:
    c = chain()
    pending = c.block(c.tx(key(1), "counter", "put", {"key": "a", "value": 1}))
    values = dict(c.ledger.items())
    restored = Ledger.restore(c.genesis, contracts(), values=values, last_header=pending.header)
    assert restored.state_root == c.ledger.state_root and restored.height == 1
    values[b"counter/n/a"] = values[b"counter/n/a"] + b"\x00"
    with pytest.raises(Exception, match="stored state gives root"):
        Ledger.restore(c.genesis, contracts(), values=values, last_header=pending.header)


op = st.tuples(
    st.integers(0, 4),  # signer
    st.sampled_from(["put", "bump", "audit", "crash"]),
    st.sampled_from(["a", "b", "c"]),
    st.integers(-5, 5),
    st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(op, max_size=6), min_size=1, max_size=6))
def test_two_nodes_fed_the_same_blocks_agree_at_every_height(blocks: list[list[Any]]) -> None:
    genesis = Genesis.from_data(genesis_data(3))
    first, second = Chain(genesis, contracts()), Chain(genesis, contracts())
    signers = [key(1), key(2), key(40), key(41), key(42)]
    for ops in blocks:
        txs = [
            first.tx(signers[s], "counter", action, {"key": k, "value": v, "fail_after_write": f})
            for s, action, k, v, f in ops
        ]
        a = first.block(*txs)
        b = second.ledger.execute_block(
            txs, time_ms=first.time_ms, proposer=first.validator.public_key
        )
        second.ledger.commit(b)
        assert a.header == b.header
        assert a.results == b.results
        assert first.ledger.state_root == StateTree.from_items(first.ledger.items()).root
