"""The contract framework: Python classes with named, role-guarded actions.

Rules this module obeys:
- A contract is a subclass of :class:`Contract` with a ``name`` and methods marked
  with :func:`action`. Each action declares the roles allowed to call it and takes
  ``(self, ctx, args)`` where ``args`` is annotated with an :class:`ActionArgs`
  model; the framework validates the raw arguments against that model strictly
  (no coercion, no unknown fields) before the action runs.
- All state access goes through ``ctx.state`` (this contract's namespace) or
  ``ctx.read`` (another contract's, read-only). Contracts hold no state of their own
  between calls: the same instance serves every transaction and every block.
- An action refuses by raising :class:`~salus.errors.ContractError` (``ctx.fail``).
  The executor then drops everything the action wrote: a transaction is atomic.
- Actions must be deterministic: they see only ``ctx`` (block height and time, the
  signer, state), never the clock, randomness, files or the network.

Two roles exist on every network: ``public`` (any valid key, i.e. any pseudonymous
individual) and ``member`` (any key of an active consortium organisation). Every
other role is granted through the identity contract's governance.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, Protocol, TypeVar

import cbor2
from pydantic import BaseModel, ConfigDict, ValidationError

from salus.core import codec
from salus.core.block import Event
from salus.core.genesis import describe_validation_error
from salus.errors import ContractError, EncodingError, InvalidArguments, UnknownAction

__all__ = [
    "MEMBER",
    "PUBLIC",
    "ActionArgs",
    "ActionSpec",
    "Context",
    "Contract",
    "ContractState",
    "StateView",
    "action",
    "state_key",
]

PUBLIC = "public"
MEMBER = "member"
MAX_KEY_CHARS = 256
_KEY = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces
_ACTION_MARK = "__salus_roles__"

F = TypeVar("F", bound=Callable[..., None])


class ActionArgs(BaseModel):
    """Base class of action argument models: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class StateView(Protocol):
    """Raw byte-level access to the state an executor exposes to one transaction."""

    def get(self, key: bytes) -> bytes | None: ...

    def put(self, key: bytes, value: bytes | None) -> None: ...


def state_key(contract: str, key: str) -> bytes:
    """The state-tree key of ``key`` in ``contract``'s namespace."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ContractError(
            f"state key {key!r} must be 1-{MAX_KEY_CHARS} printable ASCII characters, no spaces"
        )
    return f"{contract}/{key}".encode("ascii")


class ContractState:
    """One contract's namespace of the state, holding plain values."""

    __slots__ = ("_contract", "_view")

    def __init__(self, view: StateView, contract: str) -> None:
        self._view = view
        self._contract = contract

    def get(self, key: str) -> Any:
        """The value stored under ``key``, or ``None``."""
        raw = self._view.get(state_key(self._contract, key))
        # Stored bytes were produced by codec.encode, so a plain load is safe; every
        # call returns a fresh object, so callers may mutate what they get.
        return None if raw is None else cbor2.loads(raw)

    def has(self, key: str) -> bool:
        return self._view.get(state_key(self._contract, key)) is not None

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (``None`` deletes)."""
        if value is None:
            self._view.put(state_key(self._contract, key), None)
            return
        try:
            codec.check_value(value, what=f"state {key}")
        except EncodingError as exc:
            raise ContractError(exc.reason) from exc
        self._view.put(state_key(self._contract, key), codec.encode(value))

    def delete(self, key: str) -> None:
        self.put(key, None)


class Context:
    """Everything an action may see and do while it runs."""

    __slots__ = (
        "_identity",
        "_resolve",
        "_roles_of",
        "_view",
        "contract",
        "events",
        "height",
        "signer",
        "signer_did",
        "state",
        "time_ms",
        "tx_id",
    )

    def __init__(
        self,
        *,
        view: StateView,
        contract: str,
        signer: bytes,
        signer_did: str,
        height: int,
        time_ms: int,
        tx_id: str,
        identity: Callable[[], tuple[frozenset[str], str | None]],
        roles_of: Callable[[str], frozenset[str]],
    ) -> None:
        self._view = view
        self._resolve = identity
        self._identity: tuple[frozenset[str], str | None] | None = None
        self._roles_of = roles_of
        self.contract = contract
        self.signer = signer
        self.signer_did = signer_did
        self.height = height
        self.time_ms = time_ms
        self.tx_id = tx_id
        self.state = ContractState(view, contract)
        self.events: list[Event] = []

    def _signer_identity(self) -> tuple[frozenset[str], str | None]:
        # Resolved on first use: most public actions never ask.
        if self._identity is None:
            self._identity = self._resolve()
        return self._identity

    @property
    def roles(self) -> frozenset[str]:
        """The roles the signer holds (``public`` at least)."""
        return self._signer_identity()[0]

    @property
    def org(self) -> str | None:
        """The signer's organisation, or ``None`` for an individual."""
        return self._signer_identity()[1]

    def read(self, contract: str, key: str) -> Any:
        """Read another contract's state (read-only)."""
        return ContractState(self._view, contract).get(key)

    def roles_of(self, did: str) -> frozenset[str]:
        """The roles a did:key currently holds (``public`` at least)."""
        return self._roles_of(did)

    def emit(self, type: str, subject: str | None = None, **attrs: Any) -> None:
        """Record an event; it is kept only if the action succeeds."""
        try:
            codec.check_value(attrs, what=f"event {type}")
        except EncodingError as exc:
            raise ContractError(exc.reason) from exc
        self.events.append(Event(self.contract, type, subject, attrs))

    def fail(self, reason: str) -> NoReturn:
        """Refuse the action; nothing it wrote is kept."""
        raise ContractError(reason)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action as the framework sees it."""

    name: str
    roles: frozenset[str]
    args_model: type[ActionArgs]
    method: Callable[[Any, Context, Any], None]
    doc: str

    def parse_args(self, raw: Mapping[str, Any]) -> ActionArgs:
        """Validate raw arguments; :class:`InvalidArguments` names each bad field."""
        try:
            return self.args_model.model_validate(raw)
        except ValidationError as exc:
            problems = describe_validation_error(exc, "args")
            raise InvalidArguments(f"invalid arguments for {self.name}: {problems}") from None


def action(*, roles: Iterable[str]) -> Callable[[F], F]:
    """Mark a method as a contract action callable by holders of any of ``roles``."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("an action must name at least one role (use PUBLIC for anyone)")

    def mark(method: F) -> F:
        setattr(method, _ACTION_MARK, allowed)
        return method

    return mark


class Contract:
    """Base class of every contract. Subclasses set ``name`` and define actions."""

    name: ClassVar[str]
    actions: ClassVar[dict[str, ActionSpec]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, ActionSpec] = {}
        for attr, member in inspect.getmembers(cls, inspect.isfunction):
            roles = getattr(member, _ACTION_MARK, None)
            if roles is None:
                continue
            hints = typing.get_type_hints(member)
            model = hints.get("args")
            if not (isinstance(model, type) and issubclass(model, ActionArgs)):
                raise TypeError(
                    f"{cls.__name__}.{attr}: 'args' must be annotated with an ActionArgs"
                )
            found[attr] = ActionSpec(
                name=attr,
                roles=roles,
                args_model=model,
                method=member,
                doc=inspect.getdoc(member) or "",
            )
        cls.actions = found

    def init_genesis(self, state: ContractState, config: Any) -> None:
        """Write the contract's initial state from its genesis ``config`` (default: none)."""

    def spec(self, action_name: str) -> ActionSpec:
        """The named action, or :class:`UnknownAction` listing the ones that exist."""
        try:
            return self.actions[action_name]
        except KeyError:
            known = ", ".join(sorted(self.actions)) or "none"
            raise UnknownAction(
                f"contract {self.name!r} has no action {action_name!r} (actions: {known})"
            ) from None

    def describe(self) -> dict[str, Any]:
        """Machine-readable description: actions, roles and argument schemas."""
        return {
            "name": self.name,
            "doc": inspect.getdoc(type(self)) or "",
            "actions": {
                spec.name: {
                    "roles": sorted(spec.roles),
                    "doc": spec.doc,
                    "args": spec.args_model.model_json_schema(),
                }
                for spec in self.actions.values()
            },
        }
