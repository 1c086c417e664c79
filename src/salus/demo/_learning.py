"""The learning app's demo: an accredited college, a course, learners' records, certificates.

Seeded through the API with signed transactions, as the real parties would:

1. ``open-university`` (admitted by the consortium with the ``accreditor`` role)
   accredits the training provider ``City Nursing College``;
2. the college binds its credential-signing did:key and publishes a course;
3. four pseudonymous learners (did:keys, no names on the ledger) are enrolled, and
   their module completions and assessment results are recorded;
4. the college issues the four certificates in one anchored batch; each learner's
   certificate file (``.salus-cert``: the VC-JWT and its proofs) is written to
   ``HOME/demo-certificates/``, with a printable PDF of the first one;
5. one certificate is suspended and one revoked, each with its reason, and those two
   files are refreshed so they carry the proof of their new status.

The learners' names are synthetic and appear only inside their own credentials.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Final

from salus.apps.learning.contract import LEARNING
from salus.apps.learning.issuance import (
    CertificateRecord,
    change_status,
    issue_batch,
    package_address,
    refresh_package,
    status_list_url,
)
from salus.apps.learning.pdf import render_certificate_pdf
from salus.demo._apps import DemoApp, DemoContext
from salus.demo._consortium import DEMO_PASSPHRASE, NEW_ORGANISATION, key_path

__all__ = ["LEARNING_DEMO"]

COLLEGE_KEY: Final = "nursing-college"
COLLEGE_SIGNING_KEY: Final = "nursing-college-signing"
COLLEGE_NAME: Final = "City Nursing College"
COURSE_ID: Final = "ipc-101"
MODULES: Final = ("hand-hygiene", "ppe-donning-doffing", "isolation-wards")
ASSESSMENT: Final = "final-exam"
CERT_DIR: Final = "demo-certificates"
# (file stem, synthetic name, score out of 100); all pass (the pass mark is 60).
LEARNERS: Final = (
    ("amina", "Amina Yusuf", 91),
    ("zoe", "Zoë Ødegård", 78),
    ("li", "Li Wei", 66),
    ("dmitri", "Dmitri Volkov", 84),
)
SUSPENDED: Final = 2
SUSPEND_REASON: Final = "identity check pending after a reported impersonation"
REVOKED: Final = 3
REVOKE_REASON: Final = "issued in error: the final exam was not invigilated"


def _seed(ctx: DemoContext) -> dict[str, Any]:
    run = ctx.runner.run
    university = ctx.key(NEW_ORGANISATION)
    college = ctx.key(COLLEGE_KEY)
    signing = ctx.key(COLLEGE_SIGNING_KEY)
    run(
        f"{NEW_ORGANISATION} accredits {COLLEGE_NAME}",
        university,
        "accredit_issuer",
        {"issuer": college.did, "name": COLLEGE_NAME},
        expect="committed",
        contract=LEARNING,
    )
    run(
        "the college binds its signing key",
        college,
        "bind_key",
        {"key": signing.did},
        expect="committed",
        contract=LEARNING,
    )
    run(
        f"the college publishes course {COURSE_ID}",
        college,
        "publish_course",
        {
            "course_id": COURSE_ID,
            "title": "Covid-19 infection prevention and control",
            "credits": 20,
            "outcomes": [
                "Performs hand hygiene at the five WHO moments",
                "Puts on and removes personal protective equipment safely",
                "Applies isolation precautions on a Covid-19 ward",
            ],
            "assessment": "Invigilated online exam, pass mark 60/100",
        },
        expect="committed",
        contract=LEARNING,
    )
    learners = [ctx.key(f"learner-{stem}") for stem, _, _ in LEARNERS]
    for (stem, _, score), learner in zip(LEARNERS, learners, strict=True):
        base = {"course_id": COURSE_ID, "learner": learner.did}
        run(f"enrol learner {stem}", college, "enrol", base, expect="committed", contract=LEARNING)
        for module in MODULES:
            run(
                f"record {stem}'s module {module}",
                college,
                "record_completion",
                {**base, "module_id": module},
                expect="committed",
                contract=LEARNING,
            )
        run(
            f"record {stem}'s exam result",
            college,
            "record_result",
            {**base, "assessment_id": ASSESSMENT, "score": score, "max_score": 100, "passed": True},
            expect="committed",
            contract=LEARNING,
        )
    records = [
        CertificateRecord(
            learner_did=learner.did,
            course_id=COURSE_ID,
            learner_name=name,
            score=score,
            max_score=100,
        )
        for (_, name, score), learner in zip(LEARNERS, learners, strict=True)
    ]
    packages = issue_batch(ctx.client, college, signing, records)
    ctx.log(f"  issued {len(packages)} certificates in one anchored batch")
    for index, action, reason in (
        (SUSPENDED, "suspend", SUSPEND_REASON),
        (REVOKED, "revoke", REVOKE_REASON),
    ):
        root, index_in_batch, _ = package_address(packages[index])
        status = change_status(
            ctx.client, college, action, reason=reason, root=root, index_in_batch=index_in_batch
        )
        ctx.log(f"  {action} {LEARNERS[index][0]}'s certificate: block {status.get('height')}")
        packages[index] = refresh_package(ctx.client, packages[index])
    out = ctx.home / CERT_DIR
    out.mkdir(exist_ok=True)
    files = []
    for (stem, _, _), package in zip(LEARNERS, packages, strict=True):
        path = out / f"{stem}.salus-cert"
        path.write_bytes(package)
        files.append(str(path))
    pdf = out / f"{LEARNERS[0][0]}.pdf"
    pdf.write_bytes(
        render_certificate_pdf(packages[0], learner_name=None, verify_url=f"{ctx.url}/verify/")
    )
    ctx.log(f"  wrote the certificate files and a PDF to {out}")
    return {
        "issuer": college.did,
        "issuer_name": COLLEGE_NAME,
        "signing_key": signing.did,
        "course_id": COURSE_ID,
        "learners": [learner.did for learner in learners],
        "certificates": files,
        "pdf": str(pdf),
        "suspended": files[SUSPENDED],
        "revoked": files[REVOKED],
    }


def _guide(home: Path, url: str, record: dict[str, Any]) -> list[str]:
    q = shlex.quote
    genesis = q(str(home.resolve() / "genesis.json"))
    valid, suspended, revoked = (
        q(record["certificates"][0]),
        q(record["suspended"]),
        q(record["revoked"]),
    )
    college_key = q(str(key_path(home.resolve(), COLLEGE_KEY)))
    return [
        f"Learning records and certificates ({record['issuer_name']}, course "
        f"{record['course_id']}):",
        f"  verification page   {url}/verify/   (upload a file from "
        f"{q(str(Path(record['pdf']).parent))})",
        f"  printable PDF       {record['pdf']}",
        f"  issuer record       {url}/v1/learning/issuers/{record['issuer']}",
        f"  revocation list     {status_list_url(url, record['issuer'])}",
        f"  a learner's record  {url}/v1/learning/learners/{record['learners'][0]}/transcript",
        "  Check certificates offline (stop the node first, if you like):",
        f"    salus cert verify {valid} --genesis {genesis}      # valid",
        f"    salus cert verify {suspended} --genesis {genesis}  # suspended, with the reason",
        f"    salus cert verify {revoked} --genesis {genesis}    # revoked at block N: reason",
        "  Revoke the first one yourself, then refresh its file and verify it again:",
        f"    SALUS_PASSPHRASE={DEMO_PASSPHRASE} salus cert revoke --node {q(url)} "
        f"--key {college_key} {valid} --reason 'demo revocation'",
    ]


LEARNING_DEMO: Final = DemoApp(
    name="learning", title="learning records and certificates", seed=_seed, guide=_guide
)
