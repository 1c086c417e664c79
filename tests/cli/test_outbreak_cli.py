"""``salus outbreak``: import a quirky JHU file, report, correct, show provenance, verify."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from salus.cli._outbreak import outbreak
from salus.keystore import save_key
from tests.apps.outbreak.support import DATA, MINISTRY, RED_CROSS, Served, grant, served_node
from tests.cli.test_cli_help import _without_example

PASSPHRASE = "test passphrase"
QUIRKY = "quirky_time_series_covid19_confirmed_global.csv"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_node(tmp_path_factory.mktemp("cli-outbreak")) as node:
        grant(node.client, "health-ministry", "*")
        yield node


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    paths = {"ministry": tmp_path / "ministry.key", "red-cross": tmp_path / "red-cross.key"}
    save_key(paths["ministry"], MINISTRY, PASSPHRASE, strength="interactive")
    save_key(paths["red-cross"], RED_CROSS, PASSPHRASE, strength="interactive")
    return paths


@pytest.fixture
def genesis_file(served: Served, tmp_path: Path) -> Path:
    path = tmp_path / "genesis.json"
    path.write_text(served.genesis.model_dump_json())
    return path


def run(*args: str) -> Result:
    result = CliRunner().invoke(outbreak, list(args), env={"SALUS_PASSPHRASE": PASSPHRASE})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"salus outbreak {' '.join(args)} raised") from result.exception
    assert "Traceback" not in result.output
    return result


def test_every_outbreak_command_has_an_example() -> None:
    outbreak.name = "salus"  # the walker checks examples start with the root's name
    try:
        assert _without_example(outbreak) == []
    finally:
        outbreak.name = "outbreak"


def test_importing_a_quirky_file_imports_the_rest_and_lists_each_skipped_cell(
    served: Served, keys: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / QUIRKY
    path.write_bytes((DATA / QUIRKY).read_bytes())
    node = ("--node", served.url)
    result = run("import", str(path), *node, "--key", str(keys["ministry"]))
    assert result.exit_code == 0, result.output
    assert f"importing {QUIRKY}" in result.output  # the progress bar's label
    assert "imported 2 row(s) with 4 figure(s)" in result.output
    assert "16 row(s), column(s) or cell(s) not imported:" in result.output
    for line in (
        "  row 3, column '1/22/2020': '-' means no value; cell skipped",
        "  row 4, column '1/22/2020': 'abc' is not a number; cell skipped",
        "  row 4, column '1/23/20': '3.5' is not a whole number; cell skipped",
        "  row 3, column '1/24/20': '-5' is a negative cumulative count; cell skipped",
        "  row 5: duplicate of row 2 (region AF); row skipped",
        "  row 7, column 'Country_Region': 'Narnia' is not a known country "
        "(ISO 3166 or JHU spelling); row skipped",
        "  row 1, column 'notes': is neither a known column nor a date; column skipped",
        "  row 2, column '1/23/20': '1,234' read as 1234",
    ):
        assert line in result.output, line
    provenance = run("figure", "AF", "2020-01-23", "confirmed", *node)
    assert provenance.exit_code == 0, provenance.output
    assert "health-ministry: 1234 (cumulative)" in provenance.output
    strict = run("import", str(path), *node, "--key", str(keys["ministry"]), "--strict")
    assert strict.exit_code == 1  # imported again (no new versions), skips make it fail
    dry = run("import", str(path), "--dry-run", "--json")
    assert dry.exit_code == 0 and '"skipped": 16' in dry.output


def test_report_correct_provenance_and_an_offline_proof(
    served: Served, keys: dict[str, Path], genesis_file: Path, tmp_path: Path
) -> None:
    node = ("--node", served.url)
    ministry = ("--key", str(keys["ministry"]))
    reported = run(
        "report", *node, *ministry, "--region", "FR", "--date", "2021-03-01",
        "--figure", "confirmed=3800000", "--figure", "tests=1200:new",
    )  # fmt: skip
    assert reported.exit_code == 0, reported.output
    corrected = run(
        "correct", *node, *ministry, "--region", "FR", "--date", "2021-03-01",
        "--figure", "confirmed=3801375", "--reason", "late laboratory results",
    )  # fmt: skip
    assert corrected.exit_code == 0, corrected.output
    proof = tmp_path / "fr.cbor"
    shown = run("figure", "FR", "2021-03-01", "confirmed", *node, "--proof", str(proof))
    assert shown.exit_code == 0, shown.output
    assert "health-ministry: 3801375 (cumulative)" in shown.output
    assert " v1 3800000 at block" in shown.output
    assert "* v2 3801375 at block" in shown.output and ": late laboratory results" in shown.output
    valid = run("verify", str(proof), "--genesis", str(genesis_file))
    assert valid.exit_code == 0, valid.output
    assert valid.output.startswith("valid: confirmed cumulative 3801375 for FR on 2021-03-01")
    for step in ("decode", "ledger", "figure"):
        assert f"ok  {step}" in valid.output
    raw = bytearray(proof.read_bytes())
    raw[len(raw) // 2] ^= 1
    tampered = tmp_path / "tampered.cbor"
    tampered.write_bytes(bytes(raw))
    bad = run("verify", str(tampered), "--genesis", str(genesis_file))
    assert bad.exit_code == 1 and bad.output.startswith("invalid (step decode)")
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    assert run("verify", str(proof), "--genesis", str(junk)).exit_code == 2
    as_json = run("verify", str(proof), "--genesis", str(genesis_file), "--json")
    assert '"valid": true' in as_json.output


def test_scopes_export_and_generate(served: Served, keys: dict[str, Path], tmp_path: Path) -> None:
    node = ("--node", served.url)
    ministry = ("--key", str(keys["ministry"]))
    refused = run(
        "report", *node, "--key", str(keys["red-cross"]), "--region", "IT",
        "--date", "2021-03-01", "--figure", "deaths=3",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "red-cross has no reporting scope covering IT" in refused.output
    granted = run("grant-scope", *node, *ministry, "--subject", "red-cross", "--region", "IT")
    assert granted.exit_code == 0 and "red-cross may report for IT" in granted.output
    again = run(
        "report", *node, "--key", str(keys["red-cross"]), "--region", "IT",
        "--date", "2021-03-01", "--figure", "deaths=3",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    revoked = run(
        "revoke-scope", *node, *ministry, "--subject", "red-cross", "--region", "IT",
        "--reason", "field teams withdrawn",
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    generated = tmp_path / "time_series_covid19_deaths_global.csv"
    assert run("generate", "deaths", "--days", "20", "-o", str(generated)).exit_code == 0
    imported = run("import", str(generated), *node, *ministry)
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "deaths.csv"
    exported = run("export", "time_series_covid19_deaths_global.csv", *node, "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert out.read_text().startswith("Province/State,Country/Region,Lat,Long,1/22/20")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--figure", "cases=1"), "METRIC=VALUE"),
        (("--figure", "confirmed=ten"), "is not a whole number"),
        (("--figure", "confirmed=1:weekly"), "the basis is cumulative or new"),
        ((), "give at least one --figure"),
    ],
)
def test_bad_figures_are_usage_errors(
    served: Served, keys: dict[str, Path], args: tuple[str, ...], message: str
) -> None:
    result = run(
        "report", "--node", served.url, "--key", str(keys["ministry"]), "--region", "FR",
        "--date", "2021-03-02", *args,
    )  # fmt: skip
    assert result.exit_code == 2 and message in result.output


def test_import_needs_a_key_or_dry_run_and_a_known_format(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    assert "--key is required" in run("import", str(path)).output
    result = run("import", str(path), "--dry-run")
    assert result.exit_code == 1 and "has no Country/Region" in result.output
