"""Course certificates: Open Badges 3.0 credentials secured as VC-JWTs, batched under Merkle roots.

Rules this module obeys:
- Pure: no I/O, clock or randomness. Ids, times (whole UNIX seconds) and the
  :class:`~salus.core.crypto.Signer` arrive as arguments; Ed25519 signing is deterministic,
  so the same credential and key always give the same token.
- A certificate is an Open Badges 3.0 ``OpenBadgeCredential`` expressed in the W3C VC
  Data Model 1.1 and secured with the §6.3.1 JWT encoding: a compact JWS (RFC 7515
  §7.1) with header ``{"alg": "EdDSA", "typ": "JWT", "kid": "<did:key>#<multibase key>"}``
  (RFC 8037 §3.1, W3C did:key §3.1.1), and the claims ``iss`` (issuer id), ``nbf``
  (issuanceDate), ``exp`` (expirationDate), ``jti`` (id), ``sub`` (credentialSubject.id)
  and ``vc`` (the credential with those duplicated properties removed, as §6.3.1.1 allows;
  §6.3.1.2 puts them back on decoding). One exception: an issuer *object* keeps its
  ``id`` inside ``vc`` too (§6.3.1.1 says "instead of or in addition to"), because VC 1.1
  §4.7 requires an issuer object to have one and strict VC parsers (SpruceID's ``ssi``)
  refuse ``vc`` without it. Tokens without it (issued before) still decode.
- ``credentialStatus`` is one ``BitstringStatusListEntry`` or, for certificates since
  both lists exist, a list of two with the same index: ``revocation`` and ``suspension``
  (W3C Bitstring Status List v1.0 §2.1, one entry per purpose).
- JSON is serialised with sorted keys and no spaces, so a fixed credential gives a
  byte-for-byte stable token (the known-answer tests pin one).
- Decoding is strict and names the problem: segment count, base64url (canonical only),
  JSON (no duplicate keys, no NaN), ``alg`` (only EdDSA: ``none`` and HMAC never pass),
  ``kid`` (a did:key verification method of the issuer), claims consistent with ``vc``.
- What the ledger anchors is :func:`credential_hash`, the SHA-256 of the token's ASCII.
  A batch anchors one RFC 9162 root over those hashes (each is one leaf's data), and
  each certificate carries its inclusion path (:func:`batch_root`).
- The learner's display name can appear (as an OB 3.0 ``IdentityObject`` of type
  ``name``) only inside the credential the learner holds; the ledger sees its hash only.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from salus.apps.learning.status_list import (
    STATUS_CONTEXT_V1,
    VC_CONTEXT_V1,
    StatusPurpose,
    b64url_decode,
    b64url_encode,
    decode_list,
    status_list_entry,
    xsd_datetime,
)
from salus.core.crypto import Signer, public_key_from_did, sha256, verify_signature
from salus.core.merkle import leaf_hash, node_hash
from salus.errors import EncodingError, ProofError

__all__ = [
    "OB_CONTEXT",
    "STATUS_CONTEXT_V1",
    "VC_CONTEXT_V1",
    "AchievementResult",
    "CredentialStatus",
    "Evidence",
    "SignedStatusList",
    "VerifiedCredential",
    "batch_root",
    "build_open_badge",
    "credential_hash",
    "credential_leaf_hash",
    "decode_vc_jwt",
    "did_key_id",
    "encode_vc_jwt",
    "status_entries",
    "verify_status_list_jwt",
    "verify_vc_jwt",
]

# The OB 3.0 context published for VC Data Model 1.1 credentials (3.0.0, "context.json").
OB_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
_ALG: Final = "EdDSA"
_HEADER_KEYS: Final = frozenset({"alg", "typ", "kid", "cty"})
_DID_KEY: Final = "did:key:"
# JWT claims with a meaning here (RFC 7519 §4.1, VC Data Model 1.1 §6.3.1.1): extra
# claims passed to encode_vc_jwt may not reuse them.
_REGISTERED_CLAIMS: Final = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "vc"})


@dataclass(frozen=True, slots=True)
class AchievementResult:
    """One OB 3.0 ``Result`` (e.g. a grade); ``result_description`` names its ResultDescription."""

    value: str | None = None
    status: str | None = None  # OB 3.0 ResultStatusType, e.g. "Completed"
    result_description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": ["Result"]}
        if self.result_description is not None:
            out["resultDescription"] = self.result_description
        if self.value is not None:
            out["value"] = self.value
        if self.status is not None:
            out["status"] = self.status
        return out


@dataclass(frozen=True, slots=True)
class Evidence:
    """One OB 3.0 ``Evidence`` item: usually a URL (or content hash URI) and a narrative."""

    id: str | None = None
    name: str | None = None
    narrative: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": ["Evidence"]}
        for key, value in (
            ("id", self.id),
            ("name", self.name),
            ("narrative", self.narrative),
            ("description", self.description),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class CredentialStatus:
    """Where a certificate's status bit lives: a Bitstring Status List entry."""

    list_url: str
    index: int
    purpose: StatusPurpose = "revocation"


def status_entries(
    revocation_url: str, suspension_url: str, index: int
) -> tuple[CredentialStatus, CredentialStatus]:
    """The two entries of a certificate: bit ``index`` of the revocation and suspension lists."""
    return (
        CredentialStatus(revocation_url, index, "revocation"),
        CredentialStatus(suspension_url, index, "suspension"),
    )


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """A VC-JWT whose signature verified: who issued it, about whom, and what it says."""

    issuer: str
    subject: str | None
    key_id: str
    issued_at_s: int
    expires_at_s: int | None
    credential: dict[str, Any]
    header: dict[str, Any]
    payload: dict[str, Any]


def _check_number(name: str, value: float | int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    if value < 0:
        raise ValueError(f"{name} must not be negative")


def build_open_badge(
    *,
    credential_id: str,
    issuer_did: str,
    issuer_name: str,
    issued_at_s: int,
    achievement_id: str,
    achievement_name: str,
    achievement_description: str,
    criteria_narrative: str,
    learner_did: str | None = None,
    learner_name: str | None = None,
    credits_available: float | int | None = None,
    credits_earned: float | int | None = None,
    results: Sequence[AchievementResult] = (),
    evidence: Sequence[Evidence] = (),
    status: CredentialStatus | Sequence[CredentialStatus] | None = None,
    expires_at_s: int | None = None,
) -> dict[str, Any]:
    """An OB 3.0 ``OpenBadgeCredential`` in VC Data Model 1.1 form (OB 3.0 §B.1.1, VC §4).

    ``credential_id`` is a URI (e.g. ``urn:uuid:...``); ``issuer_did`` the issuer's did:key;
    ``learner_name`` is put in ``credentialSubject.identifier`` as an unhashed OB 3.0
    ``IdentityObject`` of type ``name`` and exists only in the learner's copy.
    ``status`` is one entry (``credentialStatus`` is then an object) or several with
    distinct purposes (a list, e.g. :func:`status_entries`); either adds the Bitstring
    Status List context, which defines the entry's terms for VC 1.1 (BSL v1.0 §5.2).
    Raises :class:`ValueError` for missing or ill-typed arguments.
    """
    public_key_from_did(issuer_did)  # an issuer of certificates is a did:key here
    for name, text in (
        ("credential_id", credential_id),
        ("issuer_name", issuer_name),
        ("achievement_id", achievement_id),
        ("achievement_name", achievement_name),
        ("achievement_description", achievement_description),
        ("criteria_narrative", criteria_narrative),
    ):
        if not isinstance(text, str) or not text:
            raise ValueError(f"{name} must be a non-empty string")
    achievement: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "name": achievement_name,
        "description": achievement_description,
        "criteria": {"narrative": criteria_narrative},
    }
    if credits_available is not None:
        _check_number("credits_available", credits_available)
        achievement["creditsAvailable"] = credits_available
    subject: dict[str, Any] = {"type": ["AchievementSubject"], "achievement": achievement}
    if learner_did is not None:
        if not learner_did.startswith("did:"):
            raise ValueError(f"learner_did {learner_did!r} is not a DID")
        subject["id"] = learner_did
    if learner_name is not None:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": learner_name,
            }
        ]
    if credits_earned is not None:
        _check_number("credits_earned", credits_earned)
        subject["creditsEarned"] = credits_earned
    if results:
        subject["result"] = [result.to_json() for result in results]
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT_V1, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": issuer_name},
        "issuanceDate": xsd_datetime(issued_at_s),
        "name": achievement_name,
        "credentialSubject": subject,
    }
    if expires_at_s is not None:
        if expires_at_s <= issued_at_s:
            raise ValueError("a certificate must expire after it is issued")
        credential["expirationDate"] = xsd_datetime(expires_at_s)
    if evidence:
        credential["evidence"] = [item.to_json() for item in evidence]
    if status is not None:
        credential["@context"].append(STATUS_CONTEXT_V1)
        credential["credentialStatus"] = _status_json(status)
    return credential


def _status_json(
    status: CredentialStatus | Sequence[CredentialStatus],
) -> dict[str, Any] | list[dict[str, Any]]:
    if isinstance(status, CredentialStatus):
        return status_list_entry(status.list_url, status.index, status.purpose)
    entries = list(status)
    if not entries or not all(isinstance(e, CredentialStatus) for e in entries):
        raise ValueError("status must be a CredentialStatus or a non-empty list of them")
    purposes = [entry.purpose for entry in entries]
    if len(set(purposes)) != len(purposes):
        raise ValueError(f"status entries must have distinct purposes, not {purposes}")
    return [status_list_entry(e.list_url, e.index, e.purpose) for e in entries]


@functools.lru_cache(maxsize=4096)
def _public_key(did: str) -> bytes:
    """:func:`public_key_from_did`, memoised: base58 decoding is the slow part of it, and a
    verifier meets the same few signing keys over and over. Pure, so caching is safe
    (errors are not cached: the call raises again)."""
    return public_key_from_did(did)


def did_key_id(did: str) -> str:
    """The did:key verification method id of a did:key: ``did:key:z6Mk...#z6Mk...``.

    did:key §3.1.1: the document's only verification method has as fragment the
    multibase-encoded key, which is the DID's method-specific id itself.
    """
    public_key_from_did(did)
    return f"{did}#{did[len(_DID_KEY) :]}"


def _did_from_key_id(kid: object) -> str:
    """The did:key a verification method id belongs to, or :class:`EncodingError`."""
    if not isinstance(kid, str):
        raise EncodingError("JWT header 'kid' is missing or not a string")
    did, sep, fragment = kid.partition("#")
    if not sep or not did.startswith(_DID_KEY):
        raise EncodingError(
            f"JWT header kid {kid!r} is not a did:key verification method ('did:key:z...#z...')"
        )
    try:
        _public_key(did)
    except EncodingError as exc:
        raise EncodingError(f"JWT header kid {kid!r}: {exc}") from exc
    if fragment != did[len(_DID_KEY) :]:
        raise EncodingError(
            f"JWT header kid {kid!r} is not the verification method of {did} "
            "(its fragment must repeat the multibase key)"
        )
    return did


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _seconds(date: object, what: str) -> int:
    """Whole UNIX seconds of an XML Schema dateTime with a time zone."""
    if not isinstance(date, str):
        raise EncodingError(f"credential {what} is not a dateTime string")
    try:
        parsed = datetime.fromisoformat(date)
    except ValueError as exc:
        raise EncodingError(f"credential {what} {date!r} is not a dateTime") from exc
    if parsed.tzinfo is None:
        raise EncodingError(f"credential {what} {date!r} has no time zone")
    return math.floor(parsed.timestamp())


def encode_vc_jwt(
    credential: Mapping[str, Any],
    signer: Signer,
    *,
    key_id: str | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``credential`` as a VC-JWT (VC Data Model 1.1 §6.3.1) with ``signer``'s Ed25519 key.

    The credential's issuer must be ``signer``'s did:key; ``key_id`` defaults to its
    verification method (:func:`did_key_id`) and, when given, must be that same one.
    ``claims`` are extra JWT claims (RFC 7519 §4.3 private names, e.g. ``salus_height``);
    they may not reuse a registered or VC claim name.
    Raises :class:`ValueError` for a credential that cannot be encoded.
    """
    kid = did_key_id(signer.did) if key_id is None else key_id
    if kid != did_key_id(signer.did):
        raise ValueError(f"key_id {kid!r} is not the verification method of the signing key")
    vc: dict[str, Any] = copy.deepcopy(dict(credential))
    issuer = vc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != signer.did:
        raise ValueError(f"credential issuer {issuer_id!r} is not the signing key {signer.did}")
    if "issuanceDate" not in vc:
        raise ValueError("a credential needs an issuanceDate (it becomes the nbf claim)")
    payload: dict[str, Any] = {"iss": issuer_id}
    for name, value in (claims or {}).items():
        if not isinstance(name, str) or name in _REGISTERED_CLAIMS:
            raise ValueError(f"extra claim {name!r} would override a registered JWT claim")
        payload[name] = value
    # §6.3.1.1: each claim "MUST represent" its property; the property is then dropped
    # from vc because §6.3.1.2 restores it from the claim -- except an issuer object's
    # id, which VC 1.1 §4.7 requires inside the object (see the module docstring).
    if not isinstance(issuer, dict):
        del vc["issuer"]
    try:
        payload["nbf"] = _seconds(vc.pop("issuanceDate"), "issuanceDate")
        if "expirationDate" in vc:
            payload["exp"] = _seconds(vc.pop("expirationDate"), "expirationDate")
    except EncodingError as exc:
        raise ValueError(str(exc)) from exc
    if "id" in vc:
        payload["jti"] = vc.pop("id")
    subject = vc.get("credentialSubject")
    if not isinstance(subject, dict):
        raise ValueError("credentialSubject must be a single object (it maps to the sub claim)")
    if "id" in subject:
        payload["sub"] = subject.pop("id")
    payload["vc"] = vc
    header = {"alg": _ALG, "kid": kid, "typ": "JWT"}
    signing_input = f"{b64url_encode(_json_bytes(header))}.{b64url_encode(_json_bytes(payload))}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise EncodingError(f"JSON object has a duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> None:
    raise EncodingError(f"JSON has a non-finite number {name}")


def _json_object(segment: str, what: str) -> dict[str, Any]:
    raw = b64url_decode(segment, f"JWT {what}")
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncodingError(f"JWT {what} is not UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise EncodingError(f"JWT {what} is not a JSON object")
    return value


def _int_claim(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EncodingError(f"JWT claim {name!r} is not a whole number of seconds")
    try:
        xsd_datetime(value)
    except ValueError as exc:
        raise EncodingError(f"JWT claim {name!r}: {exc}") from exc
    return value


def _json_copy(value: Any) -> Any:
    """A deep copy of parsed JSON (dicts, lists, scalars): several times faster than
    :func:`copy.deepcopy`, which handles every Python type and keeps a memo."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


def _restore_credential(payload: Mapping[str, Any]) -> dict[str, Any]:
    """VC Data Model 1.1 §6.3.1.2: rebuild the credential from ``vc`` and the claims."""
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        raise EncodingError("JWT has no 'vc' claim holding the credential")
    credential: dict[str, Any] = _json_copy(vc)
    iss = payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise EncodingError("JWT claim 'iss' is missing or not a string")
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        if issuer.setdefault("id", iss) != iss:
            raise EncodingError("JWT claim 'iss' differs from vc.issuer.id")
    elif issuer is None:
        credential["issuer"] = iss
    elif issuer != iss:
        raise EncodingError("JWT claim 'iss' differs from vc.issuer")
    nbf = _int_claim(payload, "nbf")
    if nbf is None:
        raise EncodingError("JWT claim 'nbf' (the issuanceDate) is missing")
    if "issuanceDate" in credential:
        if _seconds(credential["issuanceDate"], "issuanceDate") != nbf:
            raise EncodingError("JWT claim 'nbf' differs from vc.issuanceDate")
    else:
        credential["issuanceDate"] = xsd_datetime(nbf)
    exp = _int_claim(payload, "exp")
    if "expirationDate" in credential:
        if exp is None or _seconds(credential["expirationDate"], "expirationDate") != exp:
            raise EncodingError("JWT claim 'exp' differs from vc.expirationDate")
    elif exp is not None:
        credential["expirationDate"] = xsd_datetime(exp)
    jti = payload.get("jti")
    if jti is not None and not isinstance(jti, str):
        raise EncodingError("JWT claim 'jti' is not a string")
    if credential.setdefault("id", jti) != jti:
        raise EncodingError("JWT claim 'jti' differs from vc.id")
    if jti is None:
        del credential["id"]
    sub = payload.get("sub")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise EncodingError("vc.credentialSubject is missing or not a single object")
    if sub is not None and not isinstance(sub, str):
        raise EncodingError("JWT claim 'sub' is not a string")
    if subject.setdefault("id", sub) != sub:
        raise EncodingError("JWT claim 'sub' differs from vc.credentialSubject.id")
    if sub is None:
        del subject["id"]
    return credential


def _split(token: object) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise EncodingError("a VC-JWT is a string")
    if not token.isascii():
        raise EncodingError("a VC-JWT is ASCII (compact JWS serialisation)")
    parts = token.split(".")
    if len(parts) != 3:
        raise EncodingError(
            f"a VC-JWT has 3 dot-separated segments (header.payload.signature), not {len(parts)}"
        )
    return parts[0], parts[1], parts[2]


def decode_vc_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Parse a VC-JWT strictly, *without* checking its signature: ``(header, payload, credential)``.

    ``credential`` is the VC rebuilt per §6.3.1.2. Raises :class:`EncodingError`
    naming the first problem found.
    """
    header, payload, credential, _ = _decode(token)
    return header, payload, credential


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], bytes]:
    """:func:`decode_vc_jwt` plus the decoded signature bytes."""
    header_b64, payload_b64, signature_b64 = _split(token)
    header = _json_object(header_b64, "header")
    alg = header.get("alg")
    if alg != _ALG:
        raise EncodingError(f"JWT header alg {alg!r} is not allowed: only 'EdDSA' (Ed25519)")
    unknown = set(header) - _HEADER_KEYS
    if unknown:
        # RFC 7515 §4.1.11: a 'crit' or other parameter we do not understand must not pass.
        raise EncodingError(f"JWT header has unsupported parameters: {', '.join(sorted(unknown))}")
    if header.get("typ", "JWT") != "JWT":
        raise EncodingError(f"JWT header typ {header['typ']!r} is not 'JWT'")
    kid_did = _did_from_key_id(header.get("kid"))
    payload = _json_object(payload_b64, "payload")
    credential = _restore_credential(payload)
    if kid_did != payload["iss"]:
        raise EncodingError(
            f"JWT header kid belongs to {kid_did}, not to the issuer {payload['iss']}"
        )
    signature = b64url_decode(signature_b64, "JWT signature")
    return header, payload, credential, signature


def verify_vc_jwt(token: str, *, now_s: int | None = None) -> VerifiedCredential:
    """Verify a VC-JWT's Ed25519 signature with the key its did:key ``kid`` names.

    With ``now_s``, also check ``nbf <= now_s < exp``. Raises :class:`EncodingError`
    (malformed), :class:`~salus.errors.BadSignature` (signature or key wrong) or
    :class:`ProofError` (not valid at ``now_s``). This checks authenticity only:
    whether the issuer is accredited and the status bit are the caller's next steps.
    """
    header, payload, credential, signature = _decode(token)
    # The signing input is the token up to its last dot (RFC 7515 §5.2 step 8).
    verify_signature(
        _public_key(payload["iss"]),
        token[: token.rindex(".")].encode("ascii"),
        signature,
    )
    nbf = payload["nbf"]
    exp = _int_claim(payload, "exp")
    if now_s is not None:
        if now_s < nbf:
            raise ProofError(f"credential is not valid before {xsd_datetime(nbf)}")
        if exp is not None and now_s >= exp:
            raise ProofError(f"credential expired at {xsd_datetime(exp)}")
    return VerifiedCredential(
        issuer=payload["iss"],
        subject=payload.get("sub"),
        key_id=header["kid"],
        issued_at_s=nbf,
        expires_at_s=exp,
        credential=credential,
        header=header,
        payload=payload,
    )


@dataclass(frozen=True, slots=True)
class SignedStatusList:
    """A status list credential whose VC-JWT verified: who published it, for which list,
    the ledger height it reflects (``salus_height`` claim) and its validity window."""

    publisher: str
    list_url: str
    purpose: str
    height: int | None
    valid_from_s: int
    valid_until_s: int | None
    credential: dict[str, Any]


def verify_status_list_jwt(
    token: str,
    *,
    now_s: int | None = None,
    list_url: str | None = None,
    purpose: StatusPurpose | None = None,
    publishers: Collection[str] | None = None,
) -> SignedStatusList:
    """Verify a signed ``BitstringStatusListCredential`` (a VC-JWT) as BSL v1.0 §3.2 step 4 asks.

    Checks the Ed25519 signature of its did:key, the validity window at ``now_s``, the
    credential's shape and list, and, when given, that its ``id`` is ``list_url`` (the
    certificate's ``statusListCredential``), its purpose, and that it was signed by one of
    ``publishers`` (for a Salus network: its genesis validators, see docs/certificates.md).
    Raises :class:`EncodingError`, :class:`~salus.errors.BadSignature` or
    :class:`ProofError` naming the failed check.
    """
    verified = verify_vc_jwt(token, now_s=now_s)
    credential = verified.credential
    types = credential.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise ProofError("the credential is not a BitstringStatusListCredential")
    subject = credential["credentialSubject"]
    if subject.get("type") != "BitstringStatusList":
        raise ProofError("the status list credential's subject is not a BitstringStatusList")
    if list_url is not None and credential.get("id") != list_url:
        raise ProofError(f"the status list credential is {credential.get('id')!r}, not {list_url}")
    if purpose is not None and subject.get("statusPurpose") != purpose:
        raise ProofError(
            f"the status list is for {subject.get('statusPurpose')!r}, not {purpose!r}"
        )
    if publishers is not None and verified.issuer not in publishers:
        raise ProofError(
            f"the status list is signed by {verified.issuer}, which is not a trusted publisher"
        )
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise ProofError("the status list credential has no encodedList string")
    decode_list(encoded)  # §3.2 steps 8-9: it must inflate to at least 16 KB
    height = verified.payload.get("salus_height")
    if height is not None and (isinstance(height, bool) or not isinstance(height, int)):
        raise EncodingError("JWT claim 'salus_height' is not a whole number")
    return SignedStatusList(
        publisher=verified.issuer,
        list_url=str(credential.get("id")),
        purpose=str(subject.get("statusPurpose")),
        height=height,
        valid_from_s=verified.issued_at_s,
        valid_until_s=verified.expires_at_s,
        credential=credential,
    )


def credential_hash(token: str) -> bytes:
    """SHA-256 of the compact JWS's ASCII: the value the ledger anchors for a certificate."""
    _split(token)
    return sha256(token.encode("ascii"))


def credential_leaf_hash(token: str) -> bytes:
    """The RFC 9162 leaf hash of a certificate in a batch: ``SHA-256(0x00 || credential_hash)``."""
    return leaf_hash(credential_hash(token))


def batch_root(tokens: Sequence[str]) -> tuple[bytes, list[tuple[bytes, ...]]]:
    """The RFC 9162 root over the certificates' hashes and each one's inclusion path.

    Leaf ``i`` is :func:`credential_hash` of ``tokens[i]``; ``proofs[i]`` verifies with
    :func:`salus.core.merkle.verify_inclusion` ``(i, len(tokens), credential_leaf_hash(t),
    proofs[i], root)``. Builds the tree once (``n - 1`` node hashes) instead of once per
    proof, so a batch of 10,000 costs about as much as its root.
    """
    if not tokens:
        raise ValueError("a batch holds at least one certificate")
    levels: list[list[bytes]] = [[credential_leaf_hash(token) for token in tokens]]
    while len(levels[-1]) > 1:
        level = levels[-1]
        upper = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            upper.append(level[-1])  # RFC 9162 §2.1.1: an unpaired last node is promoted
        levels.append(upper)
    proofs: list[tuple[bytes, ...]] = []
    for index in range(len(tokens)):
        path: list[bytes] = []
        position = index
        for level in levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            position >>= 1
        proofs.append(tuple(path))
    return levels[-1][0], proofs
