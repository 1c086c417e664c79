"""``salus posts import``: a feed with good, unmatched and bad entries, against a real node."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Salus
from tests.cli.running import Network

FEED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Lab news</title>
<item><title>SARS-CoV-2 genome sequenced</title><link>https://lab.example/1</link>
  <pubDate>Tue, 10 Mar 2020 10:00:00 GMT</pubDate></item>
<item><title>Open day postponed</title><pubDate>Wed, 11 Mar 2020 10:00:00 GMT</pubDate></item>
<item><title>Coronavirus antibody study</title><link>mailto:lab@lab.example</link>
  <pubDate>Thu, 12 Mar 2020 10:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_import_reports_each_entry_and_exits_1_when_one_could_not_be_read(
    salus: Salus, network: Network, tmp_path: Path, pass_env: dict[str, str]
) -> None:
    feed = tmp_path / "lab.xml"
    feed.write_bytes(FEED)
    key = str(network.key_file("city-hospital"))
    args = ["posts", "import", str(feed), "--keywords", "sars-cov-2,coronavirus"]

    dry = salus(*args, "--dry-run")
    assert dry.exit_code == 1, dry.output
    assert f"{feed}: 3 entries (rss), 1 matching" in dry.output
    assert "would anchor item 1 (SARS-CoV-2 genome sequenced): sars-cov-2" in dry.output
    assert "skipped item 2 (Open day postponed): matches none of the keywords" in dry.output
    assert "skipped item 3 (Coronavirus antibody study): link 'mailto:lab@lab.example' is not" in (
        dry.output
    )
    assert "error: 1 entry of" in dry.output

    done = salus(*args, "--node", network.url, "--key", key, "--json", env=pass_env)
    assert done.exit_code == 1, done.output
    report = json.loads(done.output[: done.output.rindex("}") + 1])
    assert report["read"] == 3 and report["matched"] == 1 and report["dry_run"] is False
    (anchored,) = report["anchored"]
    assert anchored["where"] == "item 1" and anchored["source"] == "Lab news"
    assert [s["where"] for s in report["skipped"]] == ["item 2", "item 3"]

    # Only the good post: exit 0; importing it again anchors nothing, still exit 0.
    feed.write_bytes(FEED.replace(b"mailto:lab@lab.example", b"https://lab.example/3"))
    first = salus(*args, "--node", network.url, "--key", key, env=pass_env)
    assert first.exit_code == 0, first.output
    assert "anchored 1 post(s)" in first.output
    assert "item 3 at block" in first.output
    height = anchored["height"]
    assert f"skipped item 1 (SARS-CoV-2 genome sequenced): already anchored at block {height}" in (
        first.output
    )
    again = salus(*args, "--node", network.url, "--key", key, env=pass_env)
    assert again.exit_code == 0 and "anchored 0 post(s)" in again.output


def test_unusable_input_is_exit_2_with_the_reason(
    salus: Salus, tmp_path: Path, network: Network
) -> None:
    dtd = tmp_path / "evil.xml"
    dtd.write_bytes(b'<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>')
    result = salus("posts", "import", str(dtd), "--keywords", "covid", "--dry-run")
    assert result.exit_code == 2
    assert "a document type declaration, which is refused" in result.output
    empty = salus("posts", "import", str(dtd), "--keywords", " , ", "--dry-run")
    assert empty.exit_code == 2 and "at least one keyword" in empty.output
    lines = tmp_path / "posts.jsonl"
    lines.write_text('{"published": "2020-03-01T00:00:00Z", "title": "covid"}\n')
    no_key = salus("posts", "import", str(lines), "--keywords", "covid", "--node", network.url)
    assert no_key.exit_code == 2 and "--key is required" in no_key.output
    missing = salus("posts", "import", str(tmp_path / "nope.xml"), "--keywords", "covid")
    assert missing.exit_code == 2 and "does not exist" in missing.output
