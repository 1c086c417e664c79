"""Public posts about the outbreak: read from JSONL, RSS 2.0 or Atom, kept by keyword, notarised.

Theory of operation
-------------------
1. :func:`parse_posts` reads a file's bytes into :class:`Post` records and a list of
   :class:`SkippedPost` (each with where it was and why). Formats:

   - **JSONL**: one JSON object per line with ``published`` (or ``time``, ``date``,
     ``created_at``: an RFC 3339 / ISO 8601 time *with* a time zone), ``title`` and/or
     ``text`` (or ``summary``), and optionally ``url`` (or ``link``), ``source`` and
     ``id``. Blank lines are ignored.
   - **RSS 2.0** (https://www.rssboard.org/rss-specification): ``channel/title`` is the
     source; each ``item``'s ``title``, ``link``, ``description``, ``guid`` and
     ``pubDate`` (RFC 822 date, as RSS 2.0 requires), else Dublin Core ``dc:date``.
   - **Atom** (RFC 4287): ``feed/title`` is the source; each ``entry``'s ``title``,
     ``link`` (rel ``alternate`` or none, §4.2.7.2), ``summary`` else ``content``,
     ``id``, and ``published`` else ``updated`` (RFC 3339).

   XML is parsed with the standard library's expat, with every DTD refused: a
   document type declaration, an entity declaration or an external entity reference
   stops the parse with an error. That closes the entity-expansion ("billion laughs")
   and external-entity (XXE) attacks without a third-party parser. HTML inside a
   description or summary is reduced to its text; nothing a post carries is ever
   rendered as markup.
2. :func:`select_posts` keeps the posts whose title or summary contains one of the
   keywords, case-insensitively (Unicode NFKC + casefold), starting at a word
   boundary: ``covid`` matches "COVID-19" and "Covid's", ``sars`` does not match "tsars".
3. :func:`import_posts` stores each kept post's canonical JSON (:func:`canonical_post`:
   sorted keys, no insignificant whitespace, UTF-8, in the spirit of RFC 8785) in the
   node's off-chain blob store and anchors its SHA-256 with the ``notary`` contract,
   note ``public post: <source>``. The post's text never goes on the ledger, only its
   hash; a state proof of ``notary/anchor/<sha256>`` shows who anchored it and at
   which block time, and anyone holding the post can re-hash it. A post anchored
   before (same bytes) is reported as skipped, not anchored twice.

Nothing is dropped silently: every line or item not imported appears in the result's
``skipped`` list with its location and the reason.
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import re
import unicodedata
import xml.parsers.expat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal
from xml.etree.ElementTree import Element, TreeBuilder

from salus.client import ApiError, SalusClient
from salus.core.crypto import Signer
from salus.core.notary import NOTARY
from salus.errors import EncodingError, SalusError

__all__ = [
    "MAX_FEED_BYTES",
    "NOTE_PREFIX",
    "POST_TYPE",
    "POST_VERSION",
    "AnchoredPost",
    "ParsedPosts",
    "Post",
    "PostFormat",
    "PostImport",
    "SkippedPost",
    "canonical_post",
    "import_posts",
    "parse_keywords",
    "parse_posts",
    "post_digest",
    "read_post_document",
    "select_posts",
]

POST_TYPE: Final = "salus.public-post"
POST_VERSION: Final = 1
NOTE_PREFIX: Final = "public post: "
MAX_FEED_BYTES: Final = 32 << 20
MAX_TITLE: Final = 300
MAX_SUMMARY: Final = 2000
MAX_SOURCE: Final = 120
MAX_URL: Final = 2048
MAX_ID: Final = 300
_SUBMIT_CHUNK: Final = 200

PostFormat = Literal["auto", "jsonl", "rss", "atom"]

_ATOM: Final = "http://www.w3.org/2005/Atom"
_DC: Final = "http://purl.org/dc/elements/1.1/"
_CONTENT: Final = "http://purl.org/rss/1.0/modules/content/"
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Post:
    """One public post, as stored off-chain (its canonical JSON is what gets hashed)."""

    source: str
    title: str
    summary: str
    url: str | None
    published: str  # RFC 3339, UTC, whole seconds: "2020-03-11T16:00:00Z"
    guid: str | None = None
    where: str = field(default="", compare=False)  # "line 3", "item 2": for reports only

    def to_json(self) -> dict[str, Any]:
        """The document stored in the blob store (``where`` is not part of it)."""
        return {
            "type": POST_TYPE,
            "version": POST_VERSION,
            "source": self.source,
            "title": self.title,
            "summary": self.summary,
            "url": self.url,
            "published": self.published,
            "guid": self.guid,
        }


@dataclass(frozen=True, slots=True)
class SkippedPost:
    """A line or item that was not imported, and why."""

    where: str
    reason: str
    title: str = ""

    def to_json(self) -> dict[str, str]:
        return {"where": self.where, "title": self.title, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ParsedPosts:
    """What a file held: its format, the posts read, the entries skipped."""

    format: str
    posts: tuple[Post, ...]
    skipped: tuple[SkippedPost, ...]


@dataclass(frozen=True, slots=True)
class AnchoredPost:
    """A post notarised on the ledger."""

    post: Post
    digest: str
    tx_id: str
    height: int

    def to_json(self) -> dict[str, Any]:
        return {
            "where": self.post.where,
            "title": self.post.title,
            "source": self.post.source,
            "published": self.post.published,
            "digest": self.digest,
            "tx": self.tx_id,
            "height": self.height,
        }


@dataclass(frozen=True, slots=True)
class PostImport:
    """The outcome of an import: what was anchored, and every entry skipped with why."""

    format: str
    read: int
    anchored: tuple[AnchoredPost, ...]
    skipped: tuple[SkippedPost, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "read": self.read,
            "anchored": [a.to_json() for a in self.anchored],
            "skipped": [s.to_json() for s in self.skipped],
        }


# -- canonical form ---------------------------------------------------------------------


def canonical_post(post: Post) -> bytes:
    """The post's canonical JSON bytes: sorted keys, no spaces, UTF-8 (cf. RFC 8785)."""
    return json.dumps(
        post.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def post_digest(post: Post) -> str:
    """The hex SHA-256 of :func:`canonical_post`: its blob address and notary digest."""
    return hashlib.sha256(canonical_post(post)).hexdigest()


_PUBLISHED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _text_field(document: dict[str, Any], name: str, limit: int, *, optional: bool) -> Any:
    value = document.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"its {name} is {type(value).__name__}, not text")
    if len(value) > limit:
        raise ValueError(f"its {name} is {len(value)} characters, over {limit}")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError(f"its {name} holds control characters")
    return value


def read_post_document(data: bytes) -> tuple[dict[str, Any] | None, str]:
    """The fields of a stored public-post document to list, or ``(None, why not)``.

    Whoever anchors a document chooses its bytes, so nothing in it is trusted: each field
    must have the type and length :func:`canonical_post` gives it. A ``url`` that is not
    http(s) (``javascript:``, ``data:``...) is never handed on as a link: it becomes
    ``None`` and ``link_refused`` says why; the post is still listed.
    """
    try:
        document = json.loads(data)
    except ValueError:
        return None, "it is not JSON"
    if not isinstance(document, dict) or document.get("type") != POST_TYPE:
        return None, f"it is not a {POST_TYPE} document"
    if document.get("version") != POST_VERSION:
        return None, f"its version is {document.get('version')!r}, not {POST_VERSION}"
    try:
        source = _text_field(document, "source", MAX_SOURCE, optional=False)
        title = _text_field(document, "title", MAX_TITLE, optional=False)
        summary = _text_field(document, "summary", MAX_SUMMARY, optional=False)
        guid = _text_field(document, "guid", MAX_ID, optional=True)
        url = _text_field(document, "url", MAX_URL, optional=True)
        published = _text_field(document, "published", 20, optional=False)
    except ValueError as exc:
        return None, str(exc)
    if not source.strip():
        return None, "it names no source"
    if not title.strip() and not summary.strip():
        return None, "it has neither a title nor any text"
    try:
        if not _PUBLISHED.fullmatch(published):
            raise ValueError
        datetime.fromisoformat(published)
    except ValueError:
        return None, f"its published time {published[:40]!r} is not YYYY-MM-DDTHH:MM:SSZ"
    refused = None
    if url is not None:
        try:
            url = _url(url)
        except ValueError as exc:
            url, refused = None, str(exc)
    fields = {"source": source, "title": title, "summary": summary, "url": url}
    fields.update(published=published, guid=guid, link_refused=refused)
    return fields, ""


# -- text clean-up -----------------------------------------------------------------------


class _TextOnly(html.parser.HTMLParser):
    """Collects the text of an HTML fragment; tags, scripts and styles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _plain(text: str, limit: int, *, markup: bool = False) -> str:
    """Text with markup removed (if ``markup``), whitespace collapsed, cut at ``limit``."""
    if markup and "<" in text:
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    text = _SPACE.sub(" ", text).strip()
    # Control characters other than whitespace have no place in a post's text.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _url(value: str | None) -> str | None:
    """An http(s) URL, or None when absent; any other scheme is refused (never a link)."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    if not re.match(r"(?i)https?://[^\s/?#]+", url) or any(ch.isspace() for ch in url):
        raise ValueError(f"link {url[:80]!r} is not an http(s) URL")
    if len(url) > MAX_URL:
        raise ValueError(f"link is {len(url)} characters, over {MAX_URL}")
    return url


def _utc(moment: datetime, text: str) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_time(text: str) -> str:
    """An RFC 3339 / ISO 8601 time with a zone, as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"time {text.strip()[:60]!r} is not an RFC 3339 date-time") from None
    return _utc(moment, text.strip())


def _rfc822_time(text: str) -> str:
    """An RFC 822 date (RSS 2.0 ``pubDate``); ``-0000`` (zone unknown) is taken as UTC."""
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"pubDate {text.strip()[:60]!r} is not an RFC 822 date") from None
    if moment.tzinfo is None:  # RFC 2822 §3.3: -0000 means UTC with no local zone known
        moment = moment.replace(tzinfo=UTC)
    return _utc(moment, text)


def _make_post(
    *,
    source: str,
    title: str,
    summary: str,
    url: str | None,
    published: str,
    guid: str | None,
    where: str,
) -> Post:
    post = Post(
        source=_plain(source, MAX_SOURCE),
        title=_plain(title, MAX_TITLE, markup=True),
        summary=_plain(summary, MAX_SUMMARY, markup=True),
        url=_url(url),
        published=published,
        guid=_plain(guid, MAX_ID) or None if guid else None,
        where=where,
    )
    if not post.title and not post.summary:
        raise ValueError("it has neither a title nor any text")
    if not post.source:
        raise ValueError("it names no source (give one with --source)")
    return post


# -- JSONL ------------------------------------------------------------------------------

_TIME_FIELDS: Final = ("published", "time", "date", "created_at")
_TEXT_FIELDS: Final = ("text", "summary")
_URL_FIELDS: Final = ("url", "link")


def _first(record: dict[str, Any], names: Sequence[str], what: str) -> str | None:
    for name in names:
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(
                f"field '{name}' ({what}) must be a string, not {type(value).__name__}"
            )
        return value
    return None


def _jsonl(text: str, default_source: str) -> tuple[list[Post], list[SkippedPost]]:
    posts: list[Post] = []
    skipped: list[SkippedPost] = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"line {number}"
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(SkippedPost(where, f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(record, dict):
            skipped.append(SkippedPost(where, f"a JSON {type(record).__name__}, not an object"))
            continue
        title = record.get("title")
        shown = title[:80] if isinstance(title, str) else ""
        try:
            when = _first(record, _TIME_FIELDS, "the time")
            if when is None:
                raise ValueError(f"it has no time (one of: {', '.join(_TIME_FIELDS)})")
            guid = record.get("id")
            posts.append(
                _make_post(
                    source=_first(record, ("source",), "the source") or default_source,
                    title=_first(record, ("title",), "the title") or "",
                    summary=_first(record, _TEXT_FIELDS, "the text") or "",
                    url=_first(record, _URL_FIELDS, "the link"),
                    published=_iso_time(when),
                    guid=str(guid) if isinstance(guid, str | int) else None,
                    where=where,
                )
            )
        except ValueError as exc:
            skipped.append(SkippedPost(where, str(exc), shown))
    return posts, skipped


# -- XML (RSS 2.0, Atom) -----------------------------------------------------------------


class _RefusedXml(ValueError):
    pass


def _parse_xml(data: bytes) -> Element:
    """Parse XML with expat into an ElementTree, refusing any DTD, entity or external reference.

    Names come back in ElementTree's ``{namespace}local`` form.
    """
    builder = TreeBuilder()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")

    def name(raw: str) -> str:
        uri, _, local = raw.rpartition(" ")
        return f"{{{uri}}}{local}" if uri else local

    def refuse(what: str) -> Callable[..., Any]:
        def handler(*_: object) -> Any:
            raise _RefusedXml(f"the XML has {what}, which is refused (no DTDs or entities)")

        return handler

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(name(tag), {name(k): v for k, v in attrs.items()})

    parser.StartDoctypeDeclHandler = refuse("a document type declaration")
    parser.EntityDeclHandler = refuse("an entity declaration")
    parser.UnparsedEntityDeclHandler = refuse("an unparsed entity declaration")
    parser.ExternalEntityRefHandler = refuse("an external entity reference")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise ValueError(
            f"the XML is not well-formed: {xml.parsers.expat.errors.messages[exc.code]} "
            f"at line {exc.lineno} column {exc.offset + 1}"
        ) from None
    root: Element = builder.close()
    return root


def _text(element: Element | None) -> str:
    return "" if element is None else "".join(element.itertext())


def _rss(root: Element, default_source: str) -> tuple[list[Post], list[SkippedPost]]:
    channel = root.find("channel")
    if channel is None:
        raise EncodingError("the RSS document has no <channel>")
    source = _text(channel.find("title")).strip() or default_source
    posts: list[Post] = []
    skipped: list[SkippedPost] = []
    for number, item in enumerate(channel.iter("item"), start=1):
        where = f"item {number}"
        title = _text(item.find("title"))
        try:
            pub_date, dc_date = item.find("pubDate"), item.find(f"{{{_DC}}}date")
            if pub_date is not None and _text(pub_date).strip():
                published = _rfc822_time(_text(pub_date))
            elif dc_date is not None and _text(dc_date).strip():
                published = _iso_time(_text(dc_date))
            else:
                raise ValueError("it has no <pubDate>")
            description = item.find("description")
            if description is None:
                description = item.find(f"{{{_CONTENT}}}encoded")
            guid = item.find("guid")
            posts.append(
                _make_post(
                    source=source,
                    title=title,
                    summary=_text(description),
                    url=_text(item.find("link")) or None,
                    published=published,
                    guid=_text(guid).strip() or None if guid is not None else None,
                    where=where,
                )
            )
        except ValueError as exc:
            skipped.append(SkippedPost(where, str(exc), _plain(title, 80, markup=True)))
    return posts, skipped


def _atom_link(entry: Element) -> str | None:
    for link in entry.findall(f"{{{_ATOM}}}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return None


def _atom(root: Element, default_source: str) -> tuple[list[Post], list[SkippedPost]]:
    source = _text(root.find(f"{{{_ATOM}}}title")).strip() or default_source
    posts: list[Post] = []
    skipped: list[SkippedPost] = []
    for number, entry in enumerate(root.iter(f"{{{_ATOM}}}entry"), start=1):
        where = f"entry {number}"
        title = _text(entry.find(f"{{{_ATOM}}}title"))
        try:
            when = entry.find(f"{{{_ATOM}}}published")
            if when is None:
                when = entry.find(f"{{{_ATOM}}}updated")
            if when is None or not _text(when).strip():
                raise ValueError("it has neither <published> nor <updated>")
            summary = entry.find(f"{{{_ATOM}}}summary")
            if summary is None:
                summary = entry.find(f"{{{_ATOM}}}content")
            posts.append(
                _make_post(
                    source=source,
                    title=title,
                    summary=_text(summary),
                    url=_atom_link(entry),
                    published=_iso_time(_text(when)),
                    guid=_text(entry.find(f"{{{_ATOM}}}id")).strip() or None,
                    where=where,
                )
            )
        except ValueError as exc:
            skipped.append(SkippedPost(where, str(exc), _plain(title, 80, markup=True)))
    return posts, skipped


# -- entry points --------------------------------------------------------------------------


def parse_posts(data: bytes, *, format: PostFormat = "auto", source: str = "") -> ParsedPosts:
    """Read posts from a JSONL, RSS 2.0 or Atom file's bytes.

    ``source`` names the posts' source when the file does not (a JSONL line without
    ``source``, a feed without a title). Raises :class:`~salus.errors.EncodingError`
    when the file as a whole cannot be read (too large, not UTF-8, malformed XML, a DTD,
    an unknown XML format); a bad line or item is skipped with its reason instead.
    """
    if len(data) > MAX_FEED_BYTES:
        raise EncodingError(f"the file is {len(data)} bytes, over the limit of {MAX_FEED_BYTES}")
    data = data.removeprefix(b"\xef\xbb\xbf")
    looks_xml = data.lstrip()[:1] == b"<"
    if format == "jsonl" or (format == "auto" and not looks_xml):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(f"the file is not UTF-8 (byte {exc.start})") from None
        posts, skipped = _jsonl(text, source)
        return ParsedPosts("jsonl", tuple(posts), tuple(skipped))
    try:
        root = _parse_xml(data)
    except ValueError as exc:
        raise EncodingError(str(exc)) from None
    if root.tag == "rss" and format in ("auto", "rss"):
        posts, skipped = _rss(root, source)
        return ParsedPosts("rss", tuple(posts), tuple(skipped))
    if root.tag == f"{{{_ATOM}}}feed" and format in ("auto", "atom"):
        posts, skipped = _atom(root, source)
        return ParsedPosts("atom", tuple(posts), tuple(skipped))
    expected = {"auto": "RSS 2.0 <rss> or Atom <feed>", "rss": "<rss>", "atom": "Atom <feed>"}
    raise EncodingError(
        f"the XML's root element is <{root.tag}>, not {expected[format]}"
        + (" (RSS 1.0 / RDF feeds are not supported)" if root.tag.endswith("}RDF") else "")
    )


def parse_keywords(text: str) -> tuple[str, ...]:
    """Comma-separated keywords, trimmed, blanks dropped; at least one is required."""
    keywords = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    if not keywords:
        raise ValueError("give at least one keyword, e.g. 'coronavirus,covid-19'")
    return keywords


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def select_posts(
    posts: Iterable[Post], keywords: Sequence[str]
) -> tuple[list[tuple[Post, tuple[str, ...]]], list[SkippedPost]]:
    """Posts matching a keyword (with the keywords each matched), and those that match none.

    A post appearing twice (same canonical bytes) is kept once; the repeat is skipped.
    """
    patterns = [(k, re.compile(r"(?<!\w)" + re.escape(_fold(k)))) for k in keywords]
    kept: list[tuple[Post, tuple[str, ...]]] = []
    skipped: list[SkippedPost] = []
    seen: dict[str, str] = {}
    for post in posts:
        haystack = _fold(f"{post.title}\n{post.summary}")
        matched = tuple(k for k, pattern in patterns if pattern.search(haystack))
        if not matched:
            skipped.append(SkippedPost(post.where, "matches none of the keywords", post.title[:80]))
            continue
        digest = post_digest(post)
        if digest in seen:
            skipped.append(SkippedPost(post.where, f"same post as {seen[digest]}", post.title[:80]))
            continue
        seen[digest] = post.where
        kept.append((post, matched))
    return kept, skipped


def import_posts(
    client: SalusClient,
    signer: Signer,
    posts: Sequence[Post],
    *,
    timeout: float = 60.0,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[list[AnchoredPost], list[SkippedPost]]:
    """Store each post off-chain and anchor its hash with the notary, signed by ``signer``.

    Posts already anchored are skipped with the block they were anchored at. Every
    transaction is sent before any is waited for, so the node can put many in a block.
    """
    skipped: list[SkippedPost] = []
    todo: list[tuple[Post, str, bytes]] = []
    for post in posts:
        data = canonical_post(post)
        digest = hashlib.sha256(data).hexdigest()
        try:
            anchor = client.state(NOTARY, f"anchor/{digest}")["value"]
        except ApiError as exc:
            if exc.status != 404:
                raise
        else:
            skipped.append(
                SkippedPost(
                    post.where, f"already anchored at block {anchor['height']}", post.title[:80]
                )
            )
            continue
        todo.append((post, digest, data))
    nonce = client.next_nonce(signer.did)
    sent: list[tuple[Post, str, str]] = []
    for start in range(0, len(todo), _SUBMIT_CHUNK):
        chunk = todo[start : start + _SUBMIT_CHUNK]
        txs = []
        for post, digest, data in chunk:
            address = client.put_blob(data)
            if address != digest:
                raise SalusError(f"the node stored {post.where} under {address}, not {digest}")
            note = (NOTE_PREFIX + post.source)[:200]
            txs.append(
                client.sign(signer, NOTARY, "anchor", {"digest": digest, "note": note}, nonce=nonce)
            )
            nonce += 1
        for (post, digest, _), result in zip(chunk, client.submit_batch(txs), strict=True):
            if result.get("status") == "pending":
                sent.append((post, digest, str(result["id"])))
            else:
                reason = result.get("reason") or result.get("code") or "no reason given"
                skipped.append(
                    SkippedPost(post.where, f"refused by the node: {reason}", post.title[:80])
                )
    anchored: list[AnchoredPost] = []
    for done, (post, digest, tx_id) in enumerate(sent, start=1):
        status = client.wait_for(tx_id, timeout=timeout)
        if status["status"] == "committed":
            anchored.append(AnchoredPost(post, digest, tx_id, int(status["height"])))
        else:
            reason = status.get("reason") or status["status"]
            skipped.append(SkippedPost(post.where, f"rejected: {reason}", post.title[:80]))
        progress(done, len(sent))
    return anchored, skipped
