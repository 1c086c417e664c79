"""The outbreak tracker's demo: a health authority's figures, a correction, a conflict, posts.

Seeded through the API with signed transactions, as the real parties would:

1. the consortium grants ``health-ministry`` the ``health_authority`` role (a governance
   proposal, approved by three of the four members);
2. the consortium gives the ministry the reporting scope ``*`` (every region: each
   other member's ``grant_scope`` is its approval, M of N grant it; no authority
   grants itself a scope), and the ministry gives ``red-cross`` the scope of one
   country (:data:`CONFLICT_COUNTRY`), within its own;
3. the ministry imports two JHU CSSE global time series, confirmed cases and deaths,
   :data:`DAYS` days for :data:`COUNTRIES` countries and a few provinces: one signed
   batch per file, with a Merkle root over its rows. The files are *synthetic*
   (generated deterministically by :func:`jhu_global_series`, an epidemic curve per
   country scaled by its population), written to ``HOME/demo-outbreak/`` so they can be
   re-imported or exported and compared;
4. the ministry corrects one imported figure, with its reason;
5. ``red-cross`` reports a different figure for the same country and day: the two
   reports stand side by side as a conflict;
6. the ministry notarises a few public posts read from an RSS file (also in
   ``HOME/demo-outbreak/``), keeping those that mention the outbreak.

Nothing here is real data: every figure and post is made up for the demo.
"""

from __future__ import annotations

import datetime
import math
import random
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from salus.apps.outbreak.batches import build_batch
from salus.apps.outbreak.contract import AUTHORITY, OUTBREAK
from salus.apps.outbreak.importing import import_file
from salus.apps.outbreak.jhu import parse_file
from salus.apps.outbreak.posts import import_posts, parse_posts, select_posts
from salus.apps.outbreak.regions import WORLD
from salus.client import ApiError
from salus.core.crypto import Signer
from salus.demo._apps import DemoApp, DemoContext
from salus.errors import SalusError

__all__ = ["COUNTRIES", "DAYS", "OUTBREAK_DEMO", "START", "demo_feed", "jhu_global_series"]

START: Final = datetime.date(2020, 1, 22)
DAYS: Final = 120
DEMO_DIR: Final = "demo-outbreak"
# (JHU Country/Region, population, Lat, Long); provinces below. Populations are the
# JHU CSSE lookup table's; only their order of magnitude matters for the curves.
COUNTRIES: Final[tuple[tuple[str, int, str, str], ...]] = (
    ("Afghanistan", 38928341, "33.93911", "67.709953"),
    ("Argentina", 45195777, "-38.4161", "-63.6167"),
    ("Austria", 9006400, "47.5162", "14.5501"),
    ("Belgium", 11589616, "50.8333", "4.469936"),
    ("Brazil", 212559409, "-14.235", "-51.9253"),
    ("Chile", 19116209, "-35.6751", "-71.543"),
    ("Colombia", 50882884, "4.5709", "-74.2973"),
    ("Denmark", 5792203, "56.2639", "9.5018"),
    ("Egypt", 102334403, "26.820553", "30.802498"),
    ("France", 65273512, "46.2276", "2.2137"),
    ("Germany", 83783945, "51.165691", "10.451526"),
    ("Ghana", 31072945, "7.9465", "-1.0232"),
    ("India", 1380004385, "20.593684", "78.96288"),
    ("Indonesia", 273523621, "-0.7893", "113.9213"),
    ("Iran", 83992953, "32.427908", "53.688046"),
    ("Ireland", 4937796, "53.1424", "-7.6921"),
    ("Italy", 60461828, "41.87194", "12.56738"),
    ("Japan", 126476458, "36.204824", "138.252924"),
    ("Kenya", 53771300, "-0.0236", "37.9062"),
    ("Korea, South", 51269183, "35.907757", "127.766922"),
    ("Mexico", 127792286, "23.6345", "-102.5528"),
    ("Netherlands", 17134873, "52.1326", "5.2913"),
    ("Nigeria", 206139587, "9.082", "8.6753"),
    ("Norway", 5421242, "60.472", "8.4689"),
    ("Pakistan", 220892331, "30.3753", "69.3451"),
    ("Peru", 32971846, "-9.19", "-75.0152"),
    ("Philippines", 109581085, "12.879721", "121.774017"),
    ("Poland", 37846605, "51.9194", "19.1451"),
    ("Portugal", 10196707, "39.3999", "-8.2245"),
    ("Russia", 145934460, "61.52401", "105.318756"),
    ("South Africa", 59308690, "-30.5595", "22.9375"),
    ("Spain", 46754783, "40.463667", "-3.74922"),
    ("Sweden", 10099270, "60.128161", "18.643501"),
    ("Switzerland", 8654618, "46.8182", "8.2275"),
    ("Turkey", 84339067, "38.9637", "35.2433"),
    ("United Kingdom", 67886004, "55.3781", "-3.436"),
    ("US", 329466283, "40", "-100"),
    ("Vietnam", 97338583, "14.058324", "108.277199"),
)
# (Province/State, JHU Country/Region, population, Lat, Long): JHU lists these
# countries by province only, as the real files do.
PROVINCES: Final[tuple[tuple[str, str, int, str, str], ...]] = (
    ("New South Wales", "Australia", 8118000, "-33.8688", "151.2093"),
    ("Victoria", "Australia", 6629900, "-37.8136", "144.9631"),
    ("Queensland", "Australia", 5115500, "-27.4698", "153.0251"),
    ("Western Australia", "Australia", 2675800, "-31.9505", "115.8605"),
    ("Ontario", "Canada", 14711827, "51.2538", "-85.3232"),
    ("Quebec", "Canada", 8537674, "52.9399", "-73.5491"),
    ("British Columbia", "Canada", 5110917, "53.7267", "-127.6476"),
    ("Alberta", "Canada", 4413146, "53.9333", "-116.5765"),
    ("Hubei", "China", 59170000, "30.9756", "112.2707"),
    ("Guangdong", "China", 113460000, "23.3417", "113.4244"),
    ("Beijing", "China", 21540000, "40.1824", "116.4142"),
    ("Zhejiang", "China", 57370000, "29.1832", "120.0934"),
)
_SEED: Final = 2020


def _curve(rng: random.Random, population: int, early: bool) -> tuple[list[int], list[int]]:
    """Cumulative confirmed cases and deaths over :data:`DAYS` days: a logistic wave
    (two for some countries), its size a share of the population, deaths following
    cases by about ten days. Integers and never decreasing, as cumulative counts are."""
    waves = 1 if early or rng.random() < 0.6 else 2
    confirmed = [0.0] * DAYS
    for wave in range(waves):
        size = population * rng.uniform(0.0004, 0.006) / waves
        middle = (rng.uniform(5, 25) if early else rng.uniform(45, 85)) + wave * rng.uniform(25, 35)
        rate = rng.uniform(0.12, 0.3)
        for day in range(DAYS):
            confirmed[day] += size / (1 + math.exp(-rate * (day - middle)))
    fatality = rng.uniform(0.008, 0.06)
    cases = [int(value) for value in confirmed]
    for day in range(1, DAYS):  # truncation keeps the curve monotone; make sure of it
        cases[day] = max(cases[day], cases[day - 1])
    lag = rng.randint(7, 12)
    deaths = [int(cases[day - lag] * fatality) if day >= lag else 0 for day in range(DAYS)]
    return cases, deaths


def jhu_global_series(days: int = DAYS) -> tuple[str, str]:
    """The demo's JHU CSSE global time series of confirmed cases and of deaths, as CSV
    text (``time_series_covid19_<metric>_global.csv``: Province/State, Country/Region,
    Lat, Long, one ``M/D/YY`` column per day). Deterministic: the same text every time."""
    rng = random.Random(_SEED)
    dates = [START + datetime.timedelta(days=offset) for offset in range(days)]
    header = ["Province/State", "Country/Region", "Lat", "Long"] + [
        f"{d.month}/{d.day}/{d.year % 100:02d}" for d in dates
    ]
    places = [("", name, pop, lat, long) for name, pop, lat, long in COUNTRIES] + list(PROVINCES)
    places.sort(key=lambda place: (place[1], place[0]))
    confirmed_lines = [",".join(header)]
    deaths_lines = [",".join(header)]
    for province, country, population, lat, long in places:
        cases, deaths = _curve(rng, population, early=country == "China")
        label = [_csv(province), _csv(country), lat, long]
        confirmed_lines.append(",".join(label + [str(v) for v in cases[:days]]))
        deaths_lines.append(",".join(label + [str(v) for v in deaths[:days]]))
    return "\n".join(confirmed_lines) + "\n", "\n".join(deaths_lines) + "\n"


def _csv(cell: str) -> str:
    return f'"{cell}"' if "," in cell else cell


# (days after START, title, description); the third and fifth match no keyword.
POSTS: Final[tuple[tuple[int, str, str], ...]] = (
    (2, "Novel coronavirus: what we know", "Advice for travellers returning from Hubei."),
    (40, "COVID-19: first confirmed case in the country", "The patient is in isolation."),
    (41, "Road works on the ring road", "Lanes close overnight for resurfacing."),
    (55, "Covid-19 testing sites open in every region", "Free drive-through testing."),
    (60, "Seasonal flu vaccination campaign ends", "Thank you to every clinic."),
    (75, "Coronavirus: schools reopen with distancing rules", "Classes of at most 15 pupils."),
)


def demo_feed(posts: Sequence[tuple[int, str, str]] = POSTS) -> bytes:
    """An RSS 2.0 feed of the ministry's (synthetic) press releases."""
    items = []
    for offset, title, text in posts:
        day = START + datetime.timedelta(days=offset)
        moment = datetime.datetime(day.year, day.month, day.day, 10, 0, tzinfo=datetime.UTC)
        items.append(
            "<item>"
            f"<title>{escape(title)}</title>"
            f"<link>https://ministry.example/press/{offset}</link>"
            f"<description>{escape(text)}</description>"
            f"<pubDate>{moment.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f'<guid isPermaLink="false">press-{offset}</guid>'
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Health Ministry press office (demo)</title>"
        "<link>https://ministry.example/press</link>"
        "<description>Synthetic press releases for the Salus demo</description>"
        + "".join(items)
        + "</channel></rss>\n"
    ).encode()


# -- seeding ----------------------------------------------------------------------------

MINISTRY: Final = "health-ministry"
RED_CROSS: Final = "red-cross"
CONFLICT_COUNTRY: Final = "IT"
CORRECTED: Final = ("FR", 80, "confirmed")  # (region, day offset, metric)
CORRECTION_REASON: Final = "late laboratory results from three regions added"
CONFLICT: Final = (CONFLICT_COUNTRY, 90, "confirmed")
KEYWORDS: Final = ("coronavirus", "covid-19", "sars-cov-2")


def _proposal_of(status: dict[str, Any]) -> int:
    for event in status.get("events", []):
        if event.get("type") == "proposed":
            return int(str(event["subject"]).removeprefix("proposal/"))
    raise SalusError(f"transaction {status['id']} opened no proposal")


def _grant_authority(ctx: DemoContext, ministry: Signer) -> None:
    """Governance: the consortium grants the ministry the health-authority role."""
    if AUTHORITY in ctx.client.account(ministry.did)["roles"]:
        return
    opened = ctx.runner.run(
        f"propose granting '{AUTHORITY}' to {MINISTRY}",
        ministry,
        "propose",
        {
            "kind": "grant_role",
            "params": {"subject": MINISTRY, "role": AUTHORITY},
            "note": "The ministry publishes the outbreak figures and names reporters",
        },
        expect="committed",
    )
    number = _proposal_of(opened)
    members = ctx.client.state("identity", "members")["value"]
    for org in members:
        proposal = ctx.client.state("identity", f"proposal/{number}")["value"]
        if proposal["status"] != "open":
            break
        if org in proposal["approvals"]:
            continue
        ctx.runner.run(
            f"{org} approves proposal {number}",
            ctx.key(org),
            "approve",
            {"proposal": number},
            expect="committed",
        )
    if AUTHORITY not in ctx.client.account(ministry.did)["roles"]:
        raise SalusError(f"demo seeding failed: proposal {number} did not grant {AUTHORITY}")


def _holds_scope(ctx: DemoContext, subject: str, region: str) -> bool:
    try:
        record = ctx.client.state(OUTBREAK, f"scope/{subject}")["value"]
    except ApiError as exc:
        if exc.status == 404:  # nothing granted yet
            return False
        raise
    return isinstance(record, dict) and region in record.get("regions", {})


def _consortium_scope(ctx: DemoContext, subject: str, region: str, note: str) -> None:
    """Member organisations other than ``subject`` approve its scope until M of N grant it
    (skipped when it is already held, so a re-run seeds nothing twice)."""
    for org in ctx.client.state("identity", "members")["value"]:
        if org == subject or _holds_scope(ctx, subject, region):
            continue
        ctx.runner.run(
            f"{org} approves scope {region} for {subject}",
            ctx.key(org),
            "grant_scope",
            {"subject": subject, "region": region, "note": note},
            expect="committed",
            contract=OUTBREAK,
        )
    if not _holds_scope(ctx, subject, region):
        raise SalusError(f"demo seeding failed: the consortium did not scope {subject} {region}")


def _figure_of(text: str, region: str, offset: int, metric: str) -> int:
    """The demo file's value of ``metric`` for ``region`` on day ``offset``."""
    parsed = parse_file(text.encode(), f"time_series_covid19_{metric}_global.csv")
    for row in parsed.rows:
        if row.region == region:
            value = row.metrics[metric][1][offset]
            if value is None:
                break
            return value
    raise SalusError(f"the demo data has no {metric} figure for {region} on day {offset}")


def _import(ctx: DemoContext, signer: Signer, path: Path) -> str:
    """Import one JHU file as one signed batch (waits until the node has indexed it); a
    file whose batch is already anchored (a re-run) is not sent again."""
    data = path.read_bytes()
    parsed = parse_file(data, path.name)
    root = build_batch(parsed.rows).root.hex()
    try:
        ctx.client.state(OUTBREAK, f"batch/{root}")
    except ApiError as exc:
        if exc.status != 404:
            raise
    else:
        return root
    result = import_file(ctx.client, signer, data, path.name)
    if result.parsed.skipped:
        raise SalusError(f"demo seeding failed: {path.name}: {result.parsed.skipped[0]}")
    return result.root


def _verify_lines(url: str, figure: dict[str, Any], genesis: str) -> list[str]:
    """Fetch the corrected figure's proofs (the imported version and the correction)."""
    node = f"--node {shlex.quote(url)}"
    which = f"{figure['region']} {figure['date']} {figure['metric']}"
    return [
        f"    salus outbreak figure {node} {which} --proof corrected.cbor",
        f"    salus outbreak figure {node} {which} --proof imported.cbor --version 1",
        f"    salus outbreak verify corrected.cbor --genesis {genesis}",
        f"    salus outbreak verify imported.cbor --genesis {genesis}",
    ]


def _seed(ctx: DemoContext) -> dict[str, Any]:
    run = ctx.runner.run
    ministry, red_cross = ctx.key(MINISTRY), ctx.key(RED_CROSS)
    _grant_authority(ctx, ministry)
    # No authority grants itself a scope: the consortium (M of N members) scopes the
    # ministry for the world, and the ministry names the Red Cross within it.
    _consortium_scope(
        ctx, MINISTRY, WORLD, "national figures, and the JHU CSSE series it republishes"
    )
    if not _holds_scope(ctx, RED_CROSS, CONFLICT_COUNTRY):
        run(
            f"scope {CONFLICT_COUNTRY} for {RED_CROSS}",
            ministry,
            "grant_scope",
            {"subject": RED_CROSS, "region": CONFLICT_COUNTRY, "note": "field teams' counts"},
            expect="committed",
            contract=OUTBREAK,
        )
    out = ctx.home / DEMO_DIR
    out.mkdir(exist_ok=True)
    confirmed, deaths = jhu_global_series()
    files = []
    batches: dict[str, str] = {}
    for metric, text in (("confirmed", confirmed), ("deaths", deaths)):
        path = out / f"time_series_covid19_{metric}_global.csv"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
        batches[metric] = _import(ctx, ministry, path)
        ctx.log(f"  imported {path.name}: batch {batches[metric]}")

    region, offset, metric = CORRECTED
    date = (START + datetime.timedelta(days=offset)).isoformat()
    value = _figure_of(confirmed, region, offset, metric) + 1375
    corrected = run(
        f"the ministry corrects {metric} in {region} on {date}",
        ministry,
        "correct",
        {
            "region": region,
            "date": date,
            "figures": {metric: {"value": value, "basis": "cumulative"}},
            "reason": CORRECTION_REASON,
            "batch": batches[metric],
        },
        expect="committed",
        contract=OUTBREAK,
    )
    c_region, c_offset, c_metric = CONFLICT
    c_date = (START + datetime.timedelta(days=c_offset)).isoformat()
    theirs = _figure_of(confirmed, c_region, c_offset, c_metric) + 2210
    conflicting = run(
        f"red-cross reports its own {c_metric} count for {c_region} on {c_date}",
        red_cross,
        "report",
        {
            "region": c_region,
            "date": c_date,
            "figures": {c_metric: {"value": theirs, "basis": "cumulative"}},
            "note": "counted by field teams, including untested probable cases",
        },
        expect="committed",
        contract=OUTBREAK,
    )

    feed = out / "ministry-press.xml"
    feed.write_bytes(demo_feed())
    parsed = parse_posts(feed.read_bytes())
    kept, skipped = select_posts(parsed.posts, KEYWORDS)
    anchored, refused = import_posts(ctx.client, ministry, [post for post, _ in kept])
    if refused:
        raise SalusError(f"demo seeding failed: posts not anchored: {refused[0].reason}")
    ctx.log(f"  notarised {len(anchored)} public posts ({len(skipped)} matched no keyword)")
    return {
        "files": files,
        "batches": batches,
        "corrected": {
            "region": region,
            "date": date,
            "metric": metric,
            "value": value,
            "reason": CORRECTION_REASON,
            "tx": corrected["id"],
        },
        "conflict": {
            "region": c_region,
            "date": c_date,
            "metric": c_metric,
            "value": theirs,
            "reporter": RED_CROSS,
            "tx": conflicting["id"],
        },
        "feed": str(feed),
        "posts": [a.digest for a in anchored],
    }


def _guide(home: Path, url: str, record: dict[str, Any]) -> list[str]:
    q = shlex.quote
    genesis = q(str(home.resolve() / "genesis.json"))
    fixed, other = record["corrected"], record["conflict"]
    fixed_view = f"{url}/dashboard/#region={fixed['region']}&metric={fixed['metric']}"
    post = record["posts"][0] if record["posts"] else None
    lines = [
        "Outbreak figures (synthetic JHU CSSE series, imported by the health ministry):",
        f"  dashboard           {url}/dashboard/",
        f"  a corrected figure  {fixed_view}   ({fixed['metric']} on {fixed['date']}: "
        f'"{fixed["reason"]}")',
        f"  a conflict          {url}/dashboard/#region={other['region']}   "
        f"({other['metric']} on {other['date']}: the ministry's and {other['reporter']}'s)",
        f"  the imported files  {q(str(Path(record['files'][0]).parent))}",
        "  Click a figure, then Verify; or check one offline:",
        *_verify_lines(url, fixed, genesis),
    ]
    if post is not None:
        lines += [
            "  A notarised public post, and its anchor's proof:",
            f"    curl -s {url}/v1/posts/{post}",
            f"    salus proof --node {q(url)} state notary anchor/{post} -o post-proof.cbor",
            f"    salus verify post-proof.cbor --genesis {genesis}",
        ]
    return lines


OUTBREAK_DEMO: Final = DemoApp(
    name="outbreak", title="outbreak figures and public posts", seed=_seed, guide=_guide
)
