"""Open Badges 3.0 certificates as VC-JWTs: format, signature, tampering, interop, batching."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.apps.learning.credentials import (
    OB_CONTEXT,
    STATUS_CONTEXT_V1,
    VC_CONTEXT_V1,
    AchievementResult,
    CredentialStatus,
    Evidence,
    batch_root,
    build_open_badge,
    credential_hash,
    credential_leaf_hash,
    decode_vc_jwt,
    did_key_id,
    encode_vc_jwt,
    status_entries,
    verify_status_list_jwt,
    verify_vc_jwt,
)
from salus.apps.learning.status_list import (
    b64url_encode,
    build_status_list_credential,
    new_list,
    set_bit,
    status_bit_of,
)
from salus.core.crypto import Signer, public_key_from_did
from salus.core.merkle import inclusion_proof, merkle_root, verify_inclusion
from salus.errors import BadSignature, EncodingError, ProofError, RootMismatch, SalusError

ISSUER = Signer(bytes(range(32)))
OTHER = Signer(bytes(range(1, 33)))
LEARNER = Signer(bytes(32)).did
ISSUED = 1714564800  # 2024-05-01T12:00:00Z
ISSUER_DID = "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd"
# Reproduce: sha256 of encode_vc_jwt(_credential(), ISSUER) (deterministic Ed25519, sorted JSON).
KNOWN_TOKEN_SHA256 = "14b2fe978fb2b2aaf657c6f8a1a94697d3f2dd4ed342693016efcdb102c83f2f"


def _credential(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "credential_id": "urn:uuid:8a5d6c1e-2f3b-4c7d-9e0f-1a2b3c4d5e6f",
        "issuer_did": ISSUER.did,
        "issuer_name": "Wuhan Nursing School",
        "issued_at_s": ISSUED,
        "achievement_id": "https://school.example/courses/ipc-101",
        "achievement_name": "Infection prevention and control",
        "achievement_description": "Donning and doffing PPE; hand hygiene; isolation wards.",
        "criteria_narrative": "Pass the practical assessment and the written test (>= 70%).",
        "learner_did": LEARNER,
        "learner_name": "Li Wei",
        "credits_available": 3,
        "credits_earned": 3,
        "results": [AchievementResult(value="86", status="Completed")],
        "evidence": [Evidence(id="urn:sha256:" + "ab" * 32, name="Practical assessment")],
        "status": CredentialStatus("https://salus.example/status/1", 94567),
    }
    arguments.update(overrides)
    return build_open_badge(**arguments)


def _token(**overrides: Any) -> str:
    return encode_vc_jwt(_credential(**overrides), ISSUER)


def _segment(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value).encode())


def _b58encode(data: bytes) -> str:
    """A from-scratch base58btc encoder, independent of the one under test."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = alphabet[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


# --- the credential ----------------------------------------------------------------


def test_open_badge_shape() -> None:
    credential = _credential()
    # BSL v1.0 §5.2: the status context defines BitstringStatusListEntry for VC 1.1.
    assert credential["@context"] == [VC_CONTEXT_V1, OB_CONTEXT, STATUS_CONTEXT_V1]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": ISSUER.did,
        "type": ["Profile"],
        "name": "Wuhan Nursing School",
    }
    assert credential["issuanceDate"] == "2024-05-01T12:00:00Z"
    subject = credential["credentialSubject"]
    assert subject["id"] == LEARNER and subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["type"] == ["Achievement"]
    assert subject["achievement"]["creditsAvailable"] == 3
    assert subject["achievement"]["criteria"] == {
        "narrative": "Pass the practical assessment and the written test (>= 70%)."
    }
    assert subject["creditsEarned"] == 3
    assert subject["result"] == [{"type": ["Result"], "value": "86", "status": "Completed"}]
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Li Wei",
        }
    ]
    assert credential["evidence"][0]["type"] == ["Evidence"]
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert credential["credentialStatus"]["statusListIndex"] == "94567"


def test_optional_parts_are_omitted() -> None:
    credential = _credential(
        learner_did=None,
        learner_name=None,
        credits_available=None,
        credits_earned=None,
        results=(),
        evidence=(),
        status=None,
    )
    assert set(credential["credentialSubject"]) == {"type", "achievement"}
    assert "evidence" not in credential and "credentialStatus" not in credential
    assert credential["@context"] == [VC_CONTEXT_V1, OB_CONTEXT]
    verified = verify_vc_jwt(encode_vc_jwt(credential, ISSUER))
    assert verified.subject is None and "sub" not in verified.payload
    assert verified.credential == credential


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"issuer_name": ""}, "issuer_name"),
        ({"credits_earned": float("nan")}, "finite"),
        ({"credits_earned": -1}, "negative"),
        ({"learner_did": "li.wei@example.org"}, "not a DID"),
        ({"expires_at_s": ISSUED}, "expire after"),
    ],
)
def test_build_refuses_bad_arguments(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _credential(**overrides)


# --- known answers -------------------------------------------------------------------


def test_kid_is_the_did_key_verification_method() -> None:
    # did:key §3.1.1: z + base58btc(0xed01 || key), fragment = the same multibase key.
    expected_did = "did:key:z" + _b58encode(b"\xed\x01" + ISSUER.public_key)
    assert ISSUER.did == expected_did == ISSUER_DID
    assert did_key_id(ISSUER.did) == f"{ISSUER_DID}#{ISSUER_DID[len('did:key:') :]}"
    header, _, _ = decode_vc_jwt(_token())
    assert header == {"alg": "EdDSA", "kid": did_key_id(ISSUER_DID), "typ": "JWT"}


def test_claims_follow_vc_data_model_6_3_1() -> None:
    credential = _credential(expires_at_s=ISSUED + 86400)
    _, payload, restored = decode_vc_jwt(encode_vc_jwt(credential, ISSUER))
    assert payload["iss"] == ISSUER.did
    assert payload["sub"] == LEARNER
    assert payload["nbf"] == ISSUED and payload["exp"] == ISSUED + 86400
    assert payload["jti"] == credential["id"]
    vc = payload["vc"]
    # Duplicated properties live only in the claims, except the issuer object's id
    # (VC 1.1 §4.7: an issuer object has one; strict parsers refuse it without).
    assert "id" not in vc and "issuanceDate" not in vc and "expirationDate" not in vc
    assert vc["issuer"]["id"] == ISSUER.did and "id" not in vc["credentialSubject"]
    assert restored == credential


def test_tokens_without_the_issuer_id_in_vc_still_verify() -> None:
    # Certificates issued before the issuer object kept its id decode as they did.
    header, payload, credential = decode_vc_jwt(_token())
    issuer = {k: v for k, v in payload["vc"]["issuer"].items() if k != "id"}
    old = _resigned(header, {**payload, "vc": {**payload["vc"], "issuer": issuer}})
    assert verify_vc_jwt(old).credential == credential


def test_two_status_entries_one_per_purpose() -> None:
    entries = status_entries("https://n.example/rev", "https://n.example/sus", 42)
    credential = _credential(status=entries)
    status = credential["credentialStatus"]
    assert [e["statusPurpose"] for e in status] == ["revocation", "suspension"]
    assert [e["statusListIndex"] for e in status] == ["42", "42"]
    assert [e["statusListCredential"] for e in status] == [
        "https://n.example/rev",
        "https://n.example/sus",
    ]
    assert status[1]["id"] == "https://n.example/sus#42"
    assert verify_vc_jwt(encode_vc_jwt(credential, ISSUER)).credential == credential
    with pytest.raises(ValueError, match="distinct purposes"):
        _credential(status=[entries[0], entries[0]])
    with pytest.raises(ValueError, match="non-empty list"):
        _credential(status=[])


def test_extra_claims_and_registered_names() -> None:
    token = encode_vc_jwt(_credential(), ISSUER, claims={"salus_height": 7})
    assert decode_vc_jwt(token)[1]["salus_height"] == 7
    for name in ("iss", "exp", "vc", "sub"):
        with pytest.raises(ValueError, match="registered JWT claim"):
            encode_vc_jwt(_credential(), ISSUER, claims={name: 1})


def test_fixed_credential_gives_a_stable_token() -> None:
    token = _token()
    assert token == _token()
    assert credential_hash(token) == hashlib.sha256(token.encode("ascii")).digest()
    assert credential_hash(token).hex() == KNOWN_TOKEN_SHA256
    header_b64 = token.split(".")[0]
    assert header_b64 == b64url_encode(
        b'{"alg":"EdDSA","kid":"' + did_key_id(ISSUER_DID).encode() + b'","typ":"JWT"}'
    )
    assert "=" not in token and "+" not in token and "/" not in token


# --- round trips ---------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    name=st.text(min_size=1, max_size=30),
    learner_name=st.none() | st.text(max_size=30),
    credits=st.none() | st.integers(min_value=0, max_value=600),
    with_learner=st.booleans(),
    expires=st.none() | st.integers(min_value=1, max_value=10**9),
)
def test_round_trip(
    name: str,
    learner_name: str | None,
    credits: int | None,
    with_learner: bool,
    expires: int | None,
) -> None:
    credential = _credential(
        achievement_name=name,
        learner_name=learner_name,
        credits_earned=credits,
        learner_did=LEARNER if with_learner else None,
        expires_at_s=None if expires is None else ISSUED + expires,
    )
    verified = verify_vc_jwt(encode_vc_jwt(credential, ISSUER), now_s=ISSUED)
    assert verified.credential == credential
    assert verified.issuer == ISSUER.did
    assert verified.subject == (LEARNER if with_learner else None)
    assert verified.issued_at_s == ISSUED


def test_validity_window() -> None:
    token = _token(expires_at_s=ISSUED + 100)
    verify_vc_jwt(token, now_s=ISSUED + 99)
    with pytest.raises(ProofError, match="not valid before 2024-05-01T12:00:00Z"):
        verify_vc_jwt(token, now_s=ISSUED - 1)
    with pytest.raises(ProofError, match="expired at 2024-05-01T12:01:40Z"):
        verify_vc_jwt(token, now_s=ISSUED + 100)


def test_encode_refuses_a_credential_of_another_issuer() -> None:
    with pytest.raises(ValueError, match="is not the signing key"):
        encode_vc_jwt(_credential(), OTHER)
    with pytest.raises(ValueError, match="not the verification method"):
        encode_vc_jwt(_credential(), ISSUER, key_id=did_key_id(OTHER.did))


# --- tampering -----------------------------------------------------------------------


def test_every_changed_character_is_detected() -> None:
    token = _token()
    for position, char in enumerate(token):
        replacement = "A" if char != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1 :]
        with pytest.raises((EncodingError, BadSignature)):
            verify_vc_jwt(tampered)


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda t: t + ".", EncodingError, "not 4"),
        (lambda t: t.rsplit(".", 1)[0], EncodingError, "not 2"),
        (lambda t: t + "=", EncodingError, "base64url"),
        (lambda t: t[:-1], EncodingError, "base64url|length"),
        (lambda t: "é" + t, EncodingError, "ASCII"),
    ],
)
def test_malformed_tokens_name_the_problem(
    mutate: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        verify_vc_jwt(mutate(_token()))


def _resigned(header: dict[str, Any], payload: dict[str, Any], signer: Signer = ISSUER) -> str:
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    return f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode()))}"


def test_alg_none_and_hs256_are_refused() -> None:
    header, payload, _ = decode_vc_jwt(_token())
    unsigned = f"{_segment({**header, 'alg': 'none'})}.{_segment(payload)}."
    with pytest.raises(EncodingError, match="alg 'none' is not allowed"):
        verify_vc_jwt(unsigned)
    # The classic key-confusion attack: HMAC keyed with the (public) Ed25519 key.
    hs256 = jwt.encode(
        payload, ISSUER.public_key, algorithm="HS256", headers={"kid": header["kid"]}
    )
    with pytest.raises(EncodingError, match="alg 'HS256' is not allowed"):
        verify_vc_jwt(hs256)


def test_swapped_kid_and_wrong_key_are_refused() -> None:
    header, payload, _ = decode_vc_jwt(_token())
    other_kid = {**header, "kid": did_key_id(OTHER.did)}
    # Another issuer's kid on this issuer's claims: the kid is not the issuer's.
    with pytest.raises(EncodingError, match="not to the issuer"):
        verify_vc_jwt(_resigned(other_kid, payload, OTHER))
    # Claims and kid of this issuer, signed by someone else: the signature fails.
    with pytest.raises(BadSignature):
        verify_vc_jwt(_resigned(header, payload, OTHER))
    # An attacker re-issuing under their own key is authentic as *their* credential:
    # deciding whether that issuer is accredited is the registry's job, not this module's.
    vc = {**payload["vc"], "issuer": {**payload["vc"]["issuer"], "id": OTHER.did}}
    forged = {**payload, "iss": OTHER.did, "vc": vc}
    assert verify_vc_jwt(_resigned(other_kid, forged, OTHER)).issuer == OTHER.did
    # The claim and the vc's issuer id must agree.
    with pytest.raises(EncodingError, match=r"'iss' differs from vc\.issuer\.id"):
        verify_vc_jwt(_resigned(other_kid, {**payload, "iss": OTHER.did}, OTHER))


@pytest.mark.parametrize(
    ("header_change", "message"),
    [
        ({"kid": ISSUER_DID}, "not a did:key verification method"),
        ({"kid": f"{ISSUER_DID}#key-1"}, "fragment must repeat"),
        ({"kid": "did:web:school.example#key-1"}, "not a did:key verification method"),
        ({"kid": None}, "missing or not a string"),
        ({"typ": "JOSE+JSON"}, "typ"),
        ({"crit": ["exp"]}, "unsupported parameters: crit"),
        ({"alg": "ES256"}, "alg 'ES256' is not allowed"),
    ],
)
def test_bad_headers_are_refused(header_change: dict[str, Any], message: str) -> None:
    header, payload, _ = decode_vc_jwt(_token())
    with pytest.raises(EncodingError, match=message):
        verify_vc_jwt(_resigned({**header, **header_change}, payload))


@pytest.mark.parametrize(
    ("payload_change", "message"),
    [
        (lambda p: {**p, "sub": OTHER.did, "vc": _with_subject_id(p["vc"], LEARNER)}, "'sub'"),
        (lambda p: {**p, "jti": "urn:uuid:other", "vc": {**p["vc"], "id": "urn:x"}}, "'jti'"),
        (lambda p: {**p, "vc": {**p["vc"], "issuanceDate": "2020-01-01T00:00:00Z"}}, "'nbf'"),
        (lambda p: {k: v for k, v in p.items() if k != "nbf"}, "'nbf'"),
        (lambda p: {**p, "nbf": "1714564800"}, "whole number"),
        (lambda p: {k: v for k, v in p.items() if k != "vc"}, "'vc'"),
        (lambda p: {**p, "vc": {**p["vc"], "issuer": {"id": OTHER.did}}}, "'iss'"),
        (lambda p: {**p, "vc": {**p["vc"], "credentialSubject": []}}, "single object"),
    ],
)
def test_claims_inconsistent_with_vc_are_refused(payload_change: Any, message: str) -> None:
    header, payload, _ = decode_vc_jwt(_token())
    with pytest.raises(EncodingError, match=message):
        verify_vc_jwt(_resigned(header, payload_change(payload)))


def _with_subject_id(vc: dict[str, Any], subject_id: str) -> dict[str, Any]:
    return {**vc, "credentialSubject": {**vc["credentialSubject"], "id": subject_id}}


def test_duplicate_json_keys_are_refused() -> None:
    header, payload, _ = decode_vc_jwt(_token())
    body = json.dumps(payload)[:-1] + ', "iss": "did:key:zEvil"}'
    signing_input = f"{_segment(header)}.{b64url_encode(body.encode())}"
    token = f"{signing_input}.{b64url_encode(ISSUER.sign(signing_input.encode()))}"
    with pytest.raises(EncodingError, match="duplicate key 'iss'"):
        verify_vc_jwt(token)


# --- interop with PyJWT (its own EdDSA code path, via pyca/cryptography) --------------


def test_our_token_verifies_in_pyjwt() -> None:
    token = _token()
    kid = jwt.get_unverified_header(token)["kid"]
    raw_key = public_key_from_did(kid.split("#", 1)[0])
    key = Ed25519PublicKey.from_public_bytes(raw_key)
    claims = jwt.decode(token, key, algorithms=["EdDSA"])
    assert claims["iss"] == ISSUER.did and claims["sub"] == LEARNER
    assert claims["vc"]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BA")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, key, algorithms=["EdDSA"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, Ed25519PublicKey.from_public_bytes(OTHER.public_key), algorithms=["EdDSA"]
        )


def test_pyjwt_token_verifies_with_salus() -> None:
    _, payload, credential = decode_vc_jwt(_token())
    private_key = Ed25519PrivateKey.from_private_bytes(ISSUER.seed)
    token = jwt.encode(
        payload, private_key, algorithm="EdDSA", headers={"kid": did_key_id(ISSUER.did)}
    )
    verified = verify_vc_jwt(token, now_s=ISSUED)
    assert verified.credential == credential
    assert verified.issuer == ISSUER.did
    # Both sides write compact, key-sorted JSON and Ed25519 is deterministic (RFC 8032),
    # so PyJWT's token for the same claims is byte-for-byte ours.
    assert token == _token()
    # A token whose JSON we would never write ourselves (other key order) verifies too.
    shuffled = dict(reversed(list(payload.items())))
    other = jwt.encode(
        shuffled, private_key, algorithm="EdDSA", headers={"kid": did_key_id(ISSUER.did)}
    )
    assert other != token
    assert verify_vc_jwt(other).credential == credential


# --- batches -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 33])
def test_batch_root_and_every_proof_verify(size: int) -> None:
    tokens = [_token(credential_id=f"urn:uuid:batch-{i}") for i in range(size)]
    root, proofs = batch_root(tokens)
    hashes = [credential_hash(t) for t in tokens]
    assert root == merkle_root(hashes)
    leaves = [credential_leaf_hash(t) for t in tokens]
    for index, token in enumerate(tokens):
        assert proofs[index] == inclusion_proof(leaves, index)
        verify_inclusion(index, size, credential_leaf_hash(token), proofs[index], root)
    if size > 1:
        with pytest.raises(RootMismatch):
            verify_inclusion(0, size, leaves[1], proofs[0], root)


def test_batch_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        batch_root([])


# --- robustness: whatever arrives, only SalusError (never KeyError, OverflowError...) -----

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.sampled_from([ISSUER.did, OTHER.did, ""]) | _json_values,
        "nbf": st.integers(min_value=-(10**20), max_value=10**20) | _json_values,
        "exp": st.integers(min_value=-(10**20), max_value=10**20) | _json_values,
        "jti": _json_values,
        "sub": _json_values,
        "vc": st.dictionaries(
            st.sampled_from(
                ["id", "issuer", "issuanceDate", "expirationDate", "credentialSubject", "x"]
            ),
            _json_values,
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(claims=_claims)
def test_signed_garbage_claims_raise_only_salus_errors(claims: dict[str, Any]) -> None:
    header = {"alg": "EdDSA", "kid": did_key_id(ISSUER.did), "typ": "JWT"}
    with contextlib.suppress(SalusError):
        verify_vc_jwt(_resigned(header, claims), now_s=ISSUED)


@settings(max_examples=200, deadline=None)
@given(token=st.text(max_size=200))
def test_arbitrary_text_raises_only_salus_errors(token: str) -> None:
    with pytest.raises(SalusError):
        verify_vc_jwt(token)


# --- signed status list credentials ----------------------------------------------------

LIST_URL = "https://node.example/v1/learning/issuers/x/status-list/revocation"
PUBLISHER = Signer(bytes(range(2, 34)))


def _status_list_token(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "list_url": LIST_URL,
        "issuer_did": PUBLISHER.did,
        "issued_at_s": ISSUED,
        "purpose": "revocation",
        "bits": set_bit(new_list(), 5, True),
        "valid_until_s": ISSUED + 300,
        "ttl_ms": 60_000,
    }
    arguments.update(overrides)
    credential = build_status_list_credential(**arguments)
    return encode_vc_jwt(credential, PUBLISHER, claims={"salus_height": 12})


def test_signed_status_list_verifies_and_reads() -> None:
    signed = verify_status_list_jwt(
        _status_list_token(),
        now_s=ISSUED + 10,
        list_url=LIST_URL,
        purpose="revocation",
        publishers={PUBLISHER.did},
    )
    assert (signed.publisher, signed.height, signed.purpose) == (PUBLISHER.did, 12, "revocation")
    assert (signed.valid_from_s, signed.valid_until_s) == (ISSUED, ISSUED + 300)
    assert signed.credential["credentialSubject"]["ttl"] == 60_000
    entry = CredentialStatus(LIST_URL, 5)
    revoked = build_open_badge(**{**_credential_args(), "status": entry})["credentialStatus"]
    assert status_bit_of(revoked, signed.credential) is True


def _credential_args() -> dict[str, Any]:
    return {
        "credential_id": "urn:uuid:8a5d6c1e-2f3b-4c7d-9e0f-1a2b3c4d5e6f",
        "issuer_did": ISSUER.did,
        "issuer_name": "Wuhan Nursing School",
        "issued_at_s": ISSUED,
        "achievement_id": "https://school.example/courses/ipc-101",
        "achievement_name": "Infection prevention and control",
        "achievement_description": "PPE",
        "criteria_narrative": "Pass",
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"now_s": ISSUED + 300}, ProofError, "expired"),
        ({"now_s": ISSUED - 1}, ProofError, "not valid before"),
        ({"list_url": LIST_URL + "x"}, ProofError, "not https"),
        ({"purpose": "suspension"}, ProofError, "not 'suspension'"),
        ({"publishers": {OTHER.did}}, ProofError, "not a trusted publisher"),
    ],
)
def test_signed_status_list_checks(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        verify_status_list_jwt(_status_list_token(), **kwargs)


def test_signed_status_list_refuses_tampering_and_other_credentials() -> None:
    token = _status_list_token()
    header, payload, _ = decode_vc_jwt(token)
    # Clearing the revoked bit without the publisher's key: the signature fails.
    cleared = build_status_list_credential(
        list_url=LIST_URL,
        issuer_did=PUBLISHER.did,
        issued_at_s=ISSUED,
        purpose="revocation",
        bits=new_list(),
    )
    payload["vc"]["credentialSubject"]["encodedList"] = cleared["credentialSubject"]["encodedList"]
    with pytest.raises(BadSignature):
        verify_status_list_jwt(_resigned(header, payload, OTHER))
    # A certificate is not a status list, however well signed.
    with pytest.raises(ProofError, match="not a BitstringStatusListCredential"):
        verify_status_list_jwt(_token())
