"""Routes of the ``outbreak`` app: the dashboard's data, figure provenance and proofs.

Every answer comes from the node's figure index (:mod:`salus.apps.outbreak.index`),
read at its last committed state through the request's own SQLite connection, and says
the height that state reflects (``as_of``). The index is kept up to the committed ledger
by a background thread (:mod:`salus.apps.outbreak.indexer`, started with the routes,
stopped when the index is closed), so a request never waits for indexing. Shapes are
documented with examples in docs/outbreak.md. Region ids are ISO 3166 based (``FR``,
``US-NY``, ``US-NY:36061``, ``X-DIAMOND-PRINCESS``); ``world`` (or ``*``) is the sum of
every region.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._inputs import INT_MAX, bytes_body, bytes_body_schema
from salus.apps.outbreak.batches import add_days
from salus.apps.outbreak.contract import METRICS, OUTBREAK, check_date
from salus.apps.outbreak.export import export_daily, export_json, export_time_series
from salus.apps.outbreak.index import FigureIndex, IndexedFigure
from salus.apps.outbreak.indexer import BackgroundIndexer
from salus.apps.outbreak.proof import encode_batch_figure, encode_report_figure, verify_figure
from salus.apps.outbreak.regions import WORLD, check_region
from salus.apps.outbreak.series import cumulative, daily_new, per_100k, seven_day_average
from salus.errors import NotFound
from salus.node.blobs import BlobStore
from salus.node.node import Node

__all__ = ["outbreak_router"]

Metric = Literal["confirmed", "deaths", "recovered", "tests", "vaccinations"]
_ROOT = re.compile(r"[0-9a-f]{64}")
_TS_FILE = re.compile(r"time_series_covid19_([a-z]+)_(global|US)\.(csv|json)")
_DAILY_FILE = re.compile(r"(\d{2})-(\d{2})-(\d{4})\.(csv|json)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _region(value: str, where: str = "path parameter 'region'") -> str:
    if value.strip().lower() in ("world", WORLD):
        return WORLD
    try:
        return check_region(value)
    except ValueError as exc:
        raise ApiError(400, f"{where}: {exc}") from None


def _date(value: str, what: str = "date") -> str:
    try:
        return check_date(value)
    except ValueError as exc:
        raise ApiError(400, f"path parameter '{what}': {exc}") from None


def _rate(value: float | int | None, population: int | None) -> float | None:
    if value is None or not population:
        return None
    return round(value * 100_000 / population, 2)


def _figures_block(
    rows_by_metric: dict[str, list[dict[str, Any]]], population: int | None
) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for metric in METRICS:
        rows = rows_by_metric.get(metric)
        if not rows:
            continue
        chosen = rows[0]
        own = [row for row in rows if not row["derived"]]
        block[metric] = {
            "date": chosen["date"],
            "cumulative": chosen["cumulative"],
            "new": chosen["new"],
            "avg7": chosen["avg7"],
            "cumulative_per100k": _rate(chosen["cumulative"], population),
            "avg7_per100k": _rate(chosen["avg7"], population),
            "reporter": chosen["reporter"],
            "reporters": len(own),
            "conflicts": max((row["conflicts"] for row in own), default=0),
            "derived": chosen["derived"],
            "contributors": chosen["contributors"] if chosen["derived"] else None,
        }
    return block


def outbreak_router(node: Node, blobs: BlobStore, index: FigureIndex) -> APIRouter:
    """The ``/v1/outbreak`` routes over ``node``'s ledger, ``blobs`` and ``index``."""
    router = APIRouter(prefix="/v1/outbreak", tags=["outbreak"], responses=ERROR_RESPONSES)
    if OUTBREAK in node.ledger.contracts:
        BackgroundIndexer(index, node, blobs).start()

    def snapshotted(route: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``route`` on one committed state of the index (see ``synced``)."""

        @functools.wraps(route)
        def reading(*args: Any, **kwargs: Any) -> Any:
            with index.snapshot():
                return route(*args, **kwargs)

        return reading

    def synced() -> int:
        """The height of the index state this request reads (its ``as_of``). Indexing
        runs on the background indexer, never here: a request never waits for it."""
        if OUTBREAK not in node.ledger.contracts:
            raise NotFound(f"this node does not run the {OUTBREAK} contract")
        return index.snapshot_state()[0]

    def generation() -> int:
        return index.snapshot_state()[1]

    def region_items(regions: list[str]) -> list[dict[str, Any]]:
        latest = index.latest(regions)
        counts = index.child_counts(regions)
        items = []
        for region in regions:
            if region not in latest:
                continue
            info = index.region_record(region)
            items.append(
                {
                    **info,
                    "figures": _figures_block(latest[region], info["population"]),
                    "subdivisions": counts.get(region, 0),
                }
            )
        return items

    @router.get("/status", summary="What the figure index holds")
    @snapshotted
    def status() -> dict[str, Any]:
        """Batches by status, figures and versions indexed, regions, the last update
        (height, block time, transaction) and the height the index reflects."""
        height = synced()
        return {**index.status(), "metrics": list(METRICS), "as_of": height}

    @router.get("/regions", summary="Regions with their latest figures (map and table)")
    @snapshotted
    def regions(
        parent: Annotated[
            str | None, Query(description="list the regions below this one (default: top level)")
        ] = None,
    ) -> dict[str, Any]:
        """Each country (or special region), or each region directly below ``parent``, with
        its latest figures per metric: cumulative, new, 7-day average, per 100,000 (null
        when the population is unknown), the reporter, conflicts, and the number of
        subdivisions. A region without figures of its own shows the sum of those below it
        (``derived``)."""
        height = synced()
        above = None if parent is None else _region(parent, "query parameter 'parent'")
        key = ("regions", generation(), above)
        items = index.cached(key, lambda: region_items(index.children(above)))
        return {
            "parent": above,
            "regions": items,
            "last_update": index.last_update(),
            "as_of": height,
        }

    @router.get("/regions/{region}", summary="One region, its figures and its subdivisions")
    @snapshotted
    def region(region: str) -> dict[str, Any]:
        """The region's record (name, ISO codes, coordinates, population), latest figures
        and the regions directly below it with theirs."""
        height = synced()
        place = _region(region)
        if not index.known_region(place):
            raise NotFound(f"no figures are indexed for region {place} (at height {height})")
        items = region_items([place])
        if not items:
            raise NotFound(f"no figures are indexed for region {place} (at height {height})")
        return {
            **items[0],
            "children": region_items(index.children(place)),
            "as_of": height,
        }

    @router.get("/regions/{region}/series", summary="A region's daily series for one metric")
    @snapshotted
    def series(
        region: str,
        metric: Metric = "confirmed",
        reporter: Annotated[
            str | None, Query(max_length=200, description="default: the main reporter")
        ] = None,
    ) -> dict[str, Any]:
        """Dates with cumulative totals, daily new counts, 7-day averages and the same per
        100,000 people; ``null`` where there is no figure. Days on which reporters
        disagree are listed in ``conflicts`` with each reporter's figure."""
        height = synced()
        place = _region(region)
        if not index.known_region(place):
            raise NotFound(f"no figures are indexed for region {place} (at height {height})")
        info = index.region_record(place)
        reporters = index.reporters(place, metric)
        points: list[tuple[int, int, str]] = []
        if reporter is not None and reporter not in reporters:
            raise NotFound(f"{reporter} reported no {metric} figures for {place}")
        if reporters:
            chosen: str | None = reporter or reporters[0]
            assert chosen is not None
            points = index.own_points(place, metric, chosen)
        else:
            chosen = None
            points = [
                (day, value, "cumulative") for day, value in index.derived_points(place, metric)
            ]
        if not points:
            raise NotFound(f"no {metric} figures are indexed for {place} (at height {height})")
        first = points[0][0]
        days = points[-1][0] - first + 1
        shifted = [(d - first, v, b) for d, v, b in points]
        totals = cumulative(shifted, days)
        new = daily_new(totals, shifted if reporters else [])
        average = seven_day_average(new)
        population = info["population"]
        conflicts = []
        if len(reporters) > 1:
            for day, values in sorted(index.disagreements(place, metric).items()):
                conflicts.append(
                    {
                        "date": add_days("1970-01-01", day),
                        "figures": {
                            name: {"value": value, "basis": basis}
                            for name, (value, basis) in sorted(values.items())
                        },
                    }
                )
        start = add_days("1970-01-01", first)
        return {
            "region": place,
            "name": info["name"],
            "metric": metric,
            "reporter": chosen,
            "reporters": reporters,
            "derived": chosen is None,
            "population": population,
            "start": start,
            "end": add_days(start, days - 1),
            "dates": [add_days(start, k) for k in range(days)],
            "cumulative": totals,
            "new": new,
            "avg7": average,
            "cumulative_per100k": per_100k(totals, population),
            "avg7_per100k": per_100k(average, population),
            "conflicts": conflicts,
            "as_of": height,
        }

    @router.get("/totals", summary="Global totals and the time of the last update")
    @snapshotted
    def totals() -> dict[str, Any]:
        """The world's latest cumulative figures per metric (the sum of every region,
        each carried forward from its last report), and the last update's height, block
        time and transaction."""
        height = synced()
        latest = index.latest([WORLD]).get(WORLD, {})
        figures = {
            metric: {
                "date": rows[0]["date"],
                "cumulative": rows[0]["cumulative"],
                "new": rows[0]["new"],
                "avg7": rows[0]["avg7"],
                "regions": rows[0]["contributors"],
            }
            for metric, rows in latest.items()
            if rows
        }
        return {
            "figures": figures,
            "countries": len(index.latest(index.children(None))),
            "last_update": index.last_update(),
            "as_of": height,
        }

    def versions_of(region: str, date: str, metric: str) -> list[IndexedFigure]:
        found = index.versions(region, date, metric)
        if not found:
            raise NotFound(
                f"no {metric} figure of {region} for {date} is indexed "
                f"(a region without figures of its own is the sum of its subdivisions)"
            )
        return found

    @router.get(
        "/figures/{region}/{date}/{metric}",
        summary="A figure's provenance: reporters, versions, corrections, conflicts",
    )
    @snapshotted
    def figure(region: str, date: str, metric: Metric) -> dict[str, Any]:
        """Every reporter's figure for the region, date and metric, each with every
        version (value, basis, the batch row or ledger report it came from, transaction,
        block height and time, signer, and the reason of each correction). ``conflict``
        is true when reporters' current values differ."""
        height = synced()
        place, day = _region(region), _date(date)
        found = versions_of(place, day, metric)
        reporters: dict[str, list[IndexedFigure]] = {}
        for version in found:
            reporters.setdefault(version.reporter, []).append(version)
        main = index.reporters(place, metric)
        ordered = sorted(reporters, key=lambda r: (main.index(r) if r in main else len(main), r))
        entries = []
        currents = set()
        for name in ordered:
            versions = reporters[name]
            current = next(v for v in versions if v.current)
            currents.add((current.value, current.basis))
            entries.append(
                {
                    "reporter": name,
                    "current": current.to_json(),
                    "versions": [v.to_json() for v in versions],
                    "corrected": len(versions) > 1,
                }
            )
        return {
            "region": place,
            "date": day,
            "metric": metric,
            "reporters": entries,
            "conflict": len(currents) > 1,
            "as_of": height,
        }

    @router.get(
        "/figures/{region}/{date}/{metric}/proof",
        summary="A figure's proof bundle, verifiable offline",
        response_model=None,
    )
    @snapshotted
    def figure_proof(
        region: str,
        date: str,
        metric: Metric,
        reporter: Annotated[str | None, Query(max_length=200)] = None,
        version: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
        format: Annotated[
            Literal["json", "cbor"], Query(description="'cbor' downloads the bundle file")
        ] = "json",
    ) -> Any:
        """The figure with its row, the row's RFC 9162 inclusion path to the batch root and
        a state proof of the batch record (or the state proof of its ledger report).
        ``salus outbreak verify FILE --genesis genesis.json`` checks it with no node.
        Default: the main reporter's current version."""
        synced()
        place, day = _region(region), _date(date)
        found = versions_of(place, day, metric)
        names = index.reporters(place, metric)
        name = reporter or next((r for r in names if any(v.reporter == r for v in found)), None)
        mine = [v for v in found if v.reporter == name]
        if not mine:
            raise NotFound(f"{reporter} has no {metric} figure of {place} for {day}")
        chosen = next((v for v in mine if v.current), mine[-1]) if version is None else None
        if version is not None:
            chosen = next((v for v in mine if v.version == version), None)
            if chosen is None:
                raise NotFound(f"the figure has versions 1 to {len(mine)}, not {version}")
        assert chosen is not None
        stated = {
            "region": place,
            "date": day,
            "metric": metric,
            "reporter": chosen.reporter,
            "value": chosen.value,
            "basis": chosen.basis,
        }
        if chosen.source == "batch":
            row, count, path = index.batch_row(chosen.ref, chosen.pos)
            bundle = encode_batch_figure(
                figure=stated,
                row=row,
                index=chosen.pos,
                count=count,
                path=path,
                ledger=node.state_proof(OUTBREAK, f"batch/{chosen.ref}"),
            )
        else:
            bundle = encode_report_figure(
                figure=stated,
                version=chosen.pos,
                ledger=node.state_proof(OUTBREAK, chosen.ref),
            )
        if format == "cbor":
            filename = _UNSAFE.sub("_", f"salus-figure-{place}-{day}-{metric}-v{chosen.version}")
            return Response(
                bundle,
                media_type="application/cbor",
                headers={"Content-Disposition": f'attachment; filename="{filename}.cbor"'},
            )
        return {
            "figure": {**stated, "version": chosen.version},
            "bundle": base64.b64encode(bundle).decode("ascii"),
            "verdict": verify_figure(bundle, node.genesis).to_json(),
        }

    @router.post(
        "/verify",
        summary="Verify a figure proof bundle",
        openapi_extra=bytes_body_schema("bundle", "base64 of a figure bundle"),
    )
    @snapshotted
    def verify(bundle: Annotated[bytes, Depends(bytes_body("bundle"))]) -> dict[str, Any]:
        """Run the offline figure verifier against this network's genesis (what ``salus
        outbreak verify`` does with no node). Always 200 for a readable request: the
        verdict says valid, or which step failed and why."""
        return verify_figure(bundle, node.genesis).to_json()

    @router.get("/batches", summary="Imported batches, oldest first")
    @snapshotted
    def batches(
        after: Annotated[int, Query(ge=0, le=INT_MAX, description="cursor: last seq seen")] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Each anchored file: reporter, source file and format, rows, figures, dates,
        anchoring transaction and block, and its index status (``indexed``, ``invalid``
        with the problem, or ``unavailable`` when its rows are not in this node's blob
        store). ``next`` is the cursor of the next page."""
        height = synced()
        page = index.batches(after=after, limit=limit)
        return {
            "batches": page,
            "next": page[-1]["seq"] if len(page) == limit else None,
            "as_of": height,
        }

    @router.get("/batches/{root}", summary="One imported batch and its index status")
    @snapshotted
    def batch(
        root: Annotated[str, Path(description="the batch's Merkle root, hex")],
    ) -> dict[str, Any]:
        """The batch record as anchored, with its index status."""
        if not _ROOT.fullmatch(root):
            raise ApiError(400, "path parameter 'root': must be 64 lower-case hex characters")
        height = synced()
        return {**index.batch(root), "as_of": height}

    @router.get("/reporters/{subject}", summary="A reporter's scopes and their history")
    @snapshotted
    def reporter_scopes(subject: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
        """The regions an organisation (or did:key) may report for, when and by whom each
        scope was granted, and every grant and revocation."""
        with node.commit_lock:
            record = node.ledger.read(OUTBREAK, f"scope/{subject}")
            height = node.ledger.height
        if record is None:
            raise NotFound(f"{subject} holds no reporting scope (at height {height})")
        return {"reporter": subject, **record, "as_of": height}

    @router.get(
        "/download/{filename}",
        summary="Figures as a JHU CSSE CSV file or its JSON twin",
        response_model=None,
    )
    @snapshotted
    def download(filename: str) -> Response:
        """``time_series_covid19_<metric>_global.csv``, ``time_series_covid19_<metric>_US.csv``
        or the daily report ``MM-DD-YYYY.csv`` (``.json`` for JSON), written from each
        region's main reporter's current figures, with the labels it was imported with."""
        height = synced()
        ts = _TS_FILE.fullmatch(filename)
        daily = _DAILY_FILE.fullmatch(filename)
        if ts is not None:
            metric, scope, kind = ts.groups()
            if metric not in METRICS:
                raise ApiError(400, f"metric {metric!r} is not one of {', '.join(METRICS)}")
            fmt = "jhu-us-ts" if scope == "US" else "jhu-global-ts"

            def build() -> str:
                rows = index.export_rows(fmt, metric=metric)
                if kind == "csv":
                    return export_time_series(rows, metric, us=scope == "US")
                return json.dumps(export_json(rows, format=fmt, metric=metric))

            # At most 20 such files (metric x global/US x csv/json): each is written once
            # per index generation, however many people download it.
            text = index.cached(("download", generation(), filename), build)
        elif daily is not None:
            month, day, year, kind = daily.groups()
            date = _date(f"{year}-{month}-{day}", "filename")
            rows = index.export_rows("jhu-daily", date=date)
            if kind == "csv":
                text = export_daily(rows, date)
            else:
                text = json.dumps(export_json(rows, format="jhu-daily", date=date))
        else:
            raise NotFound(
                f"no download {filename!r}: ask for time_series_covid19_<metric>_global.csv, "
                "time_series_covid19_<metric>_US.csv or MM-DD-YYYY.csv (or .json)"
            )
        media = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
        return Response(
            text,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Salus-Height": str(height),
            },
        )

    return router
