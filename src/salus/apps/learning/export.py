"""A learner's records as one bundle an accreditation system can ingest.

The bundle is a W3C Verifiable Presentation (VC Data Model 1.1 §4.10), unsigned, whose
``holder`` is the learner's did:key and whose ``verifiableCredential`` lists the
learner's certificates as VC-JWTs — the form VC tools read. Beside it, under
``salusPackages``, each certificate's package (base64) so the receiver can also check
it offline against the ledger with ``salus cert verify``; and, when a node was asked,
``salusTranscript``: the learning-record events about the learner (enrolments,
completions, results), with the block height each is in.

Only certificates whose subject is the learner are included; the others are
skipped and counted. Nothing here reads files or the network: callers pass bytes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from salus.apps.learning.certificate import decode_package
from salus.apps.learning.credentials import credential_hash, decode_vc_jwt
from salus.errors import SalusError

__all__ = ["LearnerExport", "learner_bundle"]

VC_CONTEXT = "https://www.w3.org/2018/credentials/v1"


@dataclass(frozen=True, slots=True)
class LearnerExport:
    """The presentation and what was left out of it."""

    presentation: dict[str, Any]
    included: int
    other_learners: int
    unreadable: tuple[str, ...]


def learner_bundle(
    learner: str,
    packages: Iterable[tuple[str, bytes]],
    *,
    transcript: Sequence[dict[str, Any]] | None = None,
) -> LearnerExport:
    """Collect ``learner``'s certificates from ``(name, package bytes)`` pairs.

    Unreadable packages are reported by name in ``unreadable``, never dropped silently.
    """
    tokens: list[str] = []
    packed: list[dict[str, str]] = []
    others = 0
    unreadable: list[str] = []
    for name, package in packages:
        try:
            token = decode_package(package)["token"]
            _, payload, credential = decode_vc_jwt(token)
        except (ValueError, SalusError) as exc:
            reason = exc.reason if isinstance(exc, SalusError) else str(exc)
            unreadable.append(f"{name}: {reason}")
            continue
        subject = payload.get("sub") or credential.get("credentialSubject", {}).get("id")
        if subject != learner:
            others += 1
            continue
        tokens.append(token)
        packed.append(
            {
                "credentialHash": credential_hash(token).hex(),
                "package": base64.b64encode(package).decode("ascii"),
            }
        )
    presentation: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": learner,
        "verifiableCredential": tokens,
        "salusPackages": packed,
    }
    if transcript is not None:
        presentation["salusTranscript"] = list(transcript)
    return LearnerExport(presentation, len(tokens), others, tuple(unreadable))
