"""Eligibility attestations: the operator's signed word that a did:key may join a plan.

The operator checks a person's eligibility off the ledger (identity and birth date,
which never reach the ledger) and signs a short statement: *this did:key is eligible
for this plan, in this age band, as of this time*, with ``evidence``, the SHA-256 of
the operator's own (off-ledger) eligibility record. The member keeps the signed
attestation; joining presents it, and the contract checks the Ed25519 signature
against the plan's attestor key and keeps only the attestation's hash and the band.

Signed message (domain-tagged like every Salus signature, see :mod:`salus.core.crypto`)::

    b"salus/mutual-aid/attestation/v1\\0" || canonical CBOR of
        {"plan": str, "member": did, "band": str, "issued_ms": int, "evidence": hex}

The attestation hash is SHA-256 of that message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final

from salus.core import codec
from salus.core.crypto import Signer, public_key_from_did, sha256, verify_signature
from salus.errors import BadSignature

__all__ = [
    "ATTESTATION_DOMAIN",
    "Attestation",
    "attestation_message",
    "sign_attestation",
    "verify_attestation",
]

ATTESTATION_DOMAIN: Final = b"salus/mutual-aid/attestation/v1\x00"


def attestation_message(
    *, plan: str, member: str, band: str, issued_ms: int, evidence: str
) -> bytes:
    """The exact bytes an attestor signs."""
    body = {
        "plan": plan,
        "member": member,
        "band": band,
        "issued_ms": issued_ms,
        "evidence": evidence,
    }
    return ATTESTATION_DOMAIN + codec.encode(body)


@dataclass(frozen=True, slots=True)
class Attestation:
    """A signed eligibility attestation as a member holds it."""

    plan: str
    member: str
    band: str
    issued_ms: int
    evidence: str
    signature: str  # 128 hex characters

    @property
    def hash(self) -> str:
        """SHA-256 of the signed message, hex: what the ledger keeps."""
        return sha256(self.message()).hex()

    def message(self) -> bytes:
        return attestation_message(
            plan=self.plan,
            member=self.member,
            band=self.band,
            issued_ms=self.issued_ms,
            evidence=self.evidence,
        )

    def join_args(self) -> dict[str, Any]:
        """Arguments of ``mutual_aid.join`` for this attestation (signed by the member)."""
        return {
            "plan": self.plan,
            "band": self.band,
            "issued_ms": self.issued_ms,
            "evidence": self.evidence,
            "signature": self.signature,
        }

    def enrolment_entry(self) -> dict[str, Any]:
        """One entry of ``mutual_aid.enrol_members`` (signed by the operator)."""
        return {
            "member": self.member,
            "band": self.band,
            "issued_ms": self.issued_ms,
            "evidence": self.evidence,
            "signature": self.signature,
        }


def sign_attestation(
    attestor: Signer, *, plan: str, member: str, band: str, issued_ms: int, evidence: str
) -> Attestation:
    """Sign an attestation with the plan's attestor key (an operator's off-ledger tool)."""
    message = attestation_message(
        plan=plan, member=member, band=band, issued_ms=issued_ms, evidence=evidence
    )
    return Attestation(plan, member, band, issued_ms, evidence, attestor.sign(message).hex())


def verify_attestation(attestor_did: str, attestation: Attestation) -> str:
    """Check the attestor's signature; return the attestation hash (hex).

    Raises :class:`~salus.errors.SalusError` (``BadSignature`` or ``EncodingError``)
    with the reason when it does not verify.
    """
    message = attestation.message()
    try:
        signature = bytes.fromhex(attestation.signature)
    except ValueError:
        raise BadSignature("the attestation signature is not hex") from None
    verify_signature(_attestor_key(attestor_did), message, signature)
    return sha256(message).hex()


@functools.lru_cache(maxsize=64)
def _attestor_key(did: str) -> bytes:
    # A plan has one attestor; decoding its did:key (base58) once saves a
    # noticeable share of bulk enrolment.
    return public_key_from_did(did)
