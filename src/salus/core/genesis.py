"""The genesis document: the network's chain id, founding consortium and validators.

A third party needs only this document (or its validator set) to verify any proof
bundle, so it is small, human-readable JSON, and its hash is the ``prev_hash`` of
block 1. The hash is SHA-256 of the canonical CBOR encoding of the validated
document, so formatting of the JSON file does not change it.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from salus.core import codec
from salus.core.crypto import public_key_from_did, sha256
from salus.errors import EncodingError, GenesisError

__all__ = [
    "ConsortiumSpec",
    "Genesis",
    "OrganisationSpec",
    "Threshold",
    "ValidatorSpec",
    "check_did",
    "check_key_list",
    "check_org_id",
    "check_role",
    "check_role_list",
    "describe_validation_error",
]

_ORG_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_ROLE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def check_org_id(value: str) -> str:
    if not _ORG_ID.fullmatch(value):
        raise ValueError(
            f"organisation id {value!r} must be 1-64 of [a-z0-9-], not starting with '-'"
        )
    return value


def check_role(value: str) -> str:
    if not _ROLE.fullmatch(value):
        raise ValueError(f"role {value!r} must be 1-64 of [a-z0-9_], starting with a letter")
    if value in ("public", "member"):
        raise ValueError(f"role {value!r} is implicit and cannot be granted")
    return value


def check_did(value: str) -> str:
    try:
        public_key_from_did(value)
    except EncodingError as exc:
        raise ValueError(exc.reason) from None
    return value


def check_key_list(keys: list[str]) -> list[str]:
    """Validator for a list of did:keys: each valid, none twice."""
    for key in keys:
        check_did(key)
    if len(set(keys)) != len(keys):
        raise ValueError("the same key is listed twice")
    return keys


def check_role_list(roles: list[str]) -> list[str]:
    """Validator for a list of grantable roles; returns them sorted, without repeats."""
    for role in roles:
        check_role(role)
    return sorted(set(roles))


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line naming every invalid field, e.g. ``args.digest: String should ...``."""
    return "; ".join(
        f"{'.'.join([prefix, *(str(p) for p in err['loc'])]).strip('.') or '(root)'}: {err['msg']}"
        for err in exc.errors()
    )


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Threshold(_Strict):
    """M-of-N approval rule as a fraction: M = ceil(N * num / den), at least 1."""

    num: int = Field(ge=1)
    den: int = Field(ge=1)

    @model_validator(mode="after")
    def _proper(self) -> Threshold:
        if self.num > self.den:
            raise ValueError("threshold num must not exceed den")
        return self

    def required(self, members: int) -> int:
        """Approvals required among ``members`` organisations."""
        return max(1, -(-members * self.num // self.den))


class OrganisationSpec(_Strict):
    id: str
    name: str = Field(min_length=1, max_length=200)
    keys: list[str] = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)

    _id = field_validator("id")(check_org_id)
    _keys = field_validator("keys")(check_key_list)
    _roles = field_validator("roles")(check_role_list)


class ConsortiumSpec(_Strict):
    organisations: list[OrganisationSpec] = Field(min_length=1)
    threshold: Threshold = Threshold(num=2, den=3)
    proposal_ttl_blocks: int = Field(default=100_000, ge=1)

    @model_validator(mode="after")
    def _unique(self) -> ConsortiumSpec:
        ids = [org.id for org in self.organisations]
        if len(set(ids)) != len(ids):
            raise ValueError("organisation ids must be unique")
        keys = [key for org in self.organisations for key in org.keys]
        if len(set(keys)) != len(keys):
            raise ValueError("a key belongs to more than one organisation")
        return self


class ValidatorSpec(_Strict):
    did: str
    power: int = Field(default=1, ge=1)
    name: str = ""

    _did = field_validator("did")(check_did)

    @property
    def public_key(self) -> bytes:
        return public_key_from_did(self.did)


class Genesis(_Strict):
    """A validated genesis document."""

    chain_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    genesis_time_ms: int = Field(ge=0)
    consortium: ConsortiumSpec
    validators: list[ValidatorSpec] = Field(min_length=1)
    app: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _checks(self) -> Genesis:
        dids = [v.did for v in self.validators]
        if len(set(dids)) != len(dids):
            raise ValueError("a validator is listed twice")
        codec.check_value(self.app, what="app")
        return self

    @classmethod
    def from_data(cls, data: Any) -> Genesis:
        """Validate parsed JSON; :class:`GenesisError` names every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise GenesisError(f"invalid genesis: {describe_validation_error(exc)}") from None
        except EncodingError as exc:
            raise GenesisError(f"invalid genesis: {exc.reason}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Genesis:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise GenesisError(f"genesis is not valid JSON: {exc}") from None
        return cls.from_data(data)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    @property
    def hash(self) -> bytes:
        """SHA-256 of the canonical encoding: the ``prev_hash`` of block 1."""
        return sha256(codec.encode(self.model_dump(mode="json")))

    @functools.cached_property
    def _validator_powers(self) -> dict[bytes, int]:
        return {v.public_key: v.power for v in self.validators}

    def validator_powers(self) -> dict[bytes, int]:
        """Validator public key -> voting power (a copy; computed once per document)."""
        return dict(self._validator_powers)

    def is_validator(self, public_key: bytes) -> bool:
        return public_key in self._validator_powers
