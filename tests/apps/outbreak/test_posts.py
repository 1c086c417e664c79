"""Public posts: JSONL, RSS 2.0 and Atom in, keyword selection, canonical form, safe XML."""

from __future__ import annotations

import hashlib
import json

import pytest

from salus.apps.outbreak.posts import (
    MAX_FEED_BYTES,
    POST_TYPE,
    Post,
    canonical_post,
    parse_keywords,
    parse_posts,
    post_digest,
    select_posts,
)
from salus.errors import EncodingError

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Ministry press office</title>
    <link>https://ministry.example/news</link>
    <item>
      <title>Novel coronavirus: first case confirmed</title>
      <link>https://ministry.example/news/1</link>
      <description>&lt;p&gt;The &lt;b&gt;first&lt;/b&gt; case was confirmed today.&lt;/p&gt;
        &lt;script&gt;alert(1)&lt;/script&gt;</description>
      <pubDate>Wed, 11 Mar 2020 16:00:00 +0100</pubDate>
      <guid isPermaLink="false">press-1</guid>
    </item>
    <item>
      <title>Flu season update</title>
      <link>https://ministry.example/news/2</link>
      <pubDate>Thu, 12 Mar 2020 09:30:00 GMT</pubDate>
    </item>
    <item>
      <title>COVID-19 testing sites open</title>
      <dc:date>2020-03-13T08:00:00Z</dc:date>
    </item>
    <item><title>Covid hotline (no date)</title></item>
    <item>
      <title>Covid advice</title>
      <link>javascript:alert(1)</link>
      <pubDate>Fri, 13 Mar 2020 10:00:00 GMT</pubDate>
    </item>
    <item>
      <title>Covid clinics</title>
      <pubDate>the thirteenth of March</pubDate>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>City lab blog</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2020-03-14T18:30:02Z</updated>
  <entry>
    <title>SARS-CoV-2 sequencing at the city lab</title>
    <link rel="edit" href="https://lab.example/edit/1"/>
    <link href="https://lab.example/posts/1"/>
    <id>urn:lab:1</id>
    <updated>2020-03-14T18:30:02+02:00</updated>
    <content type="html">&lt;p&gt;We sequenced the first genomes.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Säsongsinfluensa and Coronavirus</title>
    <id>urn:lab:2</id>
    <published>2020-03-15T07:00:00Z</published>
    <updated>2020-03-16T07:00:00Z</updated>
    <summary>Two viruses, one season.</summary>
  </entry>
  <entry><title>Coronavirus (undated)</title><id>urn:lab:3</id></entry>
</feed>
""".encode()


def test_rss_items_become_posts_and_bad_items_are_listed_with_why() -> None:
    parsed = parse_posts(RSS)
    assert parsed.format == "rss"
    first, flu, testing = parsed.posts
    assert first == Post(
        source="Ministry press office",
        title="Novel coronavirus: first case confirmed",
        summary="The first case was confirmed today.",
        url="https://ministry.example/news/1",
        published="2020-03-11T15:00:00Z",
        guid="press-1",
    )
    assert first.where == "item 1"
    assert flu.published == "2020-03-12T09:30:00Z"
    assert testing.published == "2020-03-13T08:00:00Z" and testing.url is None
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("item 4", "it has no <pubDate>"),
        ("item 5", "link 'javascript:alert(1)' is not an http(s) URL"),
        ("item 6", "pubDate 'the thirteenth of March' is not an RFC 822 date"),
    ]
    assert parsed.skipped[0].title == "Covid hotline (no date)"


def test_atom_entries_take_the_alternate_link_and_published_before_updated() -> None:
    parsed = parse_posts(ATOM)
    assert parsed.format == "atom"
    sequencing, season = parsed.posts
    assert sequencing.source == "City lab blog"
    assert sequencing.url == "https://lab.example/posts/1"
    assert sequencing.published == "2020-03-14T16:30:02Z"
    assert sequencing.summary == "We sequenced the first genomes."
    assert sequencing.guid == "urn:lab:1"
    assert season.published == "2020-03-15T07:00:00Z"
    assert season.title == "Säsongsinfluensa and Coronavirus"
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("entry 3", "it has neither <published> nor <updated>")
    ]


def test_jsonl_lines_with_every_kind_of_problem() -> None:
    lines = [
        {"published": "2020-03-01T10:00:00+01:00", "text": "Covid-19 cases rise", "id": 7},
        {},
        {"time": "2020-03-01T10:00", "title": "Covid"},
        {"date": "2020-03-02T10:00:00Z", "title": "Covid", "url": "ftp://x.example/a"},
        {"created_at": "2020-03-02T10:00:00Z", "source": "Radio 4", "title": "  "},
        {"published": 1583000000, "title": "Covid"},
        {"published": "2020-03-03T10:00:00Z", "title": "Covid", "link": "https://x.example/b"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n[1, 2]\n{not json\n"
    parsed = parse_posts(text.encode(), source="tweets")
    assert parsed.format == "jsonl"
    first, last = parsed.posts
    assert (first.source, first.summary, first.published, first.guid) == (
        "tweets",
        "Covid-19 cases rise",
        "2020-03-01T09:00:00Z",
        "7",
    )
    assert (last.where, last.url) == ("line 7", "https://x.example/b")
    assert [(s.where, s.reason) for s in parsed.skipped] == [
        ("line 2", "it has no time (one of: published, time, date, created_at)"),
        ("line 3", "time '2020-03-01T10:00' has no time zone"),
        ("line 4", "link 'ftp://x.example/a' is not an http(s) URL"),
        ("line 5", "it has neither a title nor any text"),
        ("line 6", "field 'published' (the time) must be a string, not int"),
        ("line 9", "a JSON list, not an object"),
        ("line 10", "not JSON: Expecting property name enclosed in double quotes at column 2"),
    ]


@pytest.mark.parametrize(
    ("document", "what"),
    [
        # Entity expansion ("billion laughs").
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;">]>'
            b"<rss><channel><title>&b;</title></channel></rss>",
            "a document type declaration",
        ),
        # An external entity (XXE) reading a local file.
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<rss><channel><title>&x;</title></channel></rss>",
            "a document type declaration",
        ),
        # An external DTD.
        (
            b'<!DOCTYPE rss SYSTEM "http://evil.example/rss.dtd"><rss><channel/></rss>',
            "a document type declaration",
        ),
    ],
)
def test_xml_with_a_dtd_or_entities_is_refused(document: bytes, what: str) -> None:
    with pytest.raises(EncodingError, match=f"the XML has {what}, which is refused"):
        parse_posts(document)


def test_unreadable_files_are_refused_whole_with_the_reason() -> None:
    with pytest.raises(EncodingError, match=r"not well-formed: mismatched tag at line 1"):
        parse_posts(b"<rss><channel></rss>")
    with pytest.raises(EncodingError, match="undefined entity"):
        parse_posts(b"<rss><channel><title>&nbsp;</title></channel></rss>")
    with pytest.raises(EncodingError, match=r"root element is <html>, not RSS 2.0"):
        parse_posts(b"<html><body/></html>")
    with pytest.raises(EncodingError, match=r"RSS 1\.0"):
        parse_posts(b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')
    with pytest.raises(EncodingError, match="not Atom <feed>"):
        parse_posts(RSS, format="atom")
    with pytest.raises(EncodingError, match="no <channel>"):
        parse_posts(b"<rss/>")
    with pytest.raises(EncodingError, match="not UTF-8"):
        parse_posts(b'{"title": "\xff"}')
    with pytest.raises(EncodingError, match="over the limit"):
        parse_posts(b" " * (MAX_FEED_BYTES + 1))


def test_a_bom_and_an_explicit_format_are_accepted() -> None:
    assert parse_posts(b"\xef\xbb\xbf" + RSS, format="rss").format == "rss"
    line = b'{"published": "2020-03-01T10:00:00Z", "title": "Covid"}'
    assert parse_posts(b"\xef\xbb\xbf" + line, format="jsonl", source="s").posts[0].title == "Covid"


def test_keywords_match_case_insensitively_from_the_start_of_a_word() -> None:
    # "COVID" in full-width letters, as East Asian text may write it.
    full_width = "\uff23\uff2f\uff36\uff29\uff24"

    def post(title: str) -> Post:
        return Post("src", title, "", None, "2020-03-01T00:00:00Z", where=title)

    titles = [
        "COVID-19 update",
        "Covid's second wave",
        full_width + " in full-width letters",  # NFKC folds these
        "Tsars and sars",
        "Tsars only",
        "postcovid world",
        "Nothing here",
    ]
    kept, skipped = select_posts([post(t) for t in titles], parse_keywords("covid, SARS ,,"))
    assert [(p.title, k) for p, k in kept] == [
        ("COVID-19 update", ("covid",)),
        ("Covid's second wave", ("covid",)),
        (full_width + " in full-width letters", ("covid",)),
        ("Tsars and sars", ("SARS",)),
    ]
    assert [s.where for s in skipped] == ["Tsars only", "postcovid world", "Nothing here"]
    assert {s.reason for s in skipped} == {"matches none of the keywords"}
    with pytest.raises(ValueError, match="at least one keyword"):
        parse_keywords(" , ")


def test_the_same_post_twice_is_kept_once() -> None:
    one = Post("src", "Covid", "", None, "2020-03-01T00:00:00Z", where="line 1")
    again = Post("src", "Covid", "", None, "2020-03-01T00:00:00Z", where="line 4")
    kept, skipped = select_posts([one, again], ["covid"])
    assert [p.where for p, _ in kept] == ["line 1"]
    assert [(s.where, s.reason) for s in skipped] == [("line 4", "same post as line 1")]


def test_the_canonical_form_is_sorted_compact_utf8_and_its_hash_is_the_digest() -> None:
    post = Post("Rádio", "Covid", "Ça va", "https://x.example/", "2020-03-01T00:00:00Z", "g1")
    data = canonical_post(post)
    assert (
        data
        == (
            '{"guid":"g1","published":"2020-03-01T00:00:00Z","source":"Rádio","summary":"Ça va",'
            f'"title":"Covid","type":"{POST_TYPE}","url":"https://x.example/","version":1}}'
        ).encode()
    )
    assert post_digest(post) == hashlib.sha256(data).hexdigest()
    # Where a post was found in a file is not part of it.
    moved = Post("Rádio", "Covid", "Ça va", "https://x.example/", "2020-03-01T00:00:00Z", "g1")
    assert canonical_post(moved) == data


def test_long_text_is_cut_and_control_characters_dropped() -> None:
    line = {
        "published": "2020-03-01T00:00:00Z",
        "title": "Covid " + "x" * 400,
        "text": "a\x00b\x07c " + "y" * 3000,
    }
    (post,) = parse_posts(json.dumps(line).encode(), source="s").posts
    assert len(post.title) == 300 and post.title.endswith("…")
    assert post.summary.startswith("abc ") and len(post.summary) == 2000
