"""``salus posts import``: notarise public posts about the outbreak, read from JSONL, RSS or Atom.

Thin over :mod:`salus.apps.outbreak.posts`. Exit status: 0 when every entry was
anchored or deliberately left out (matches no keyword, anchored before); 1 when an
entry could not be read or the node refused to anchor one (the others are anchored
all the same); 2 for unusable input (a missing or unreadable file, no keywords).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from salus.apps.outbreak.posts import (
    MAX_FEED_BYTES,
    AnchoredPost,
    Post,
    PostFormat,
    SkippedPost,
    import_posts,
    parse_keywords,
    parse_posts,
    select_posts,
)
from salus.cli._common import (
    CommandError,
    InputError,
    SalusGroup,
    echo_json,
    example,
    get_passphrase,
    node_option,
    open_client,
    passphrase_option,
)
from salus.errors import EncodingError
from salus.keystore import load_key

__all__ = ["posts"]

# Skips that are the import doing its job, not a problem with the file or the node.
_EXPECTED_SKIPS = ("matches none of the keywords", "already anchored", "same post as")


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus posts import who-news.xml --keywords coronavirus,covid-19 --key ministry.key"
    ),
)
def posts() -> None:
    """Notarise public posts (news, statements) about the outbreak on the ledger."""


def _keywords(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    try:
        return parse_keywords(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@posts.command(
    "import",
    epilog=example(
        "salus posts import who-news.xml --keywords coronavirus,covid-19 --key ministry.key",
        "salus posts import posts.jsonl --keywords covid --source 'Ministry press office' \\",
        "    --key ministry.key --json",
        "salus posts import feed.atom --keywords coronavirus --dry-run",
    ),
)
@node_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keywords",
    required=True,
    callback=_keywords,
    metavar="WORD[,WORD...]",
    help="Keep posts whose title or text has one of these (case-insensitive, from a word start).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "rss", "atom"]),
    default="auto",
    show_default=True,
    help="File format; 'auto' tells XML feeds from JSON lines.",
)
@click.option("--source", default="", help="Source name for posts that do not name one.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file that signs the anchors (not needed with --dry-run).",
)
@click.option("--dry-run", is_flag=True, help="Only read and select; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@passphrase_option
def posts_import(
    node_url: str,
    file: Path,
    keywords: tuple[str, ...],
    fmt: PostFormat,
    source: str,
    key_file: Path | None,
    dry_run: bool,
    as_json: bool,
    passphrase_file: Path | None,
) -> None:
    """Import posts from FILE (JSONL, RSS 2.0 or Atom), keep those matching --keywords,
    store each in the node's blob store and anchor its SHA-256 with the notary.

    Every entry not imported is listed with where it is in FILE and why.
    """
    if file.stat().st_size > MAX_FEED_BYTES:
        raise InputError(f"{file} is over the limit of {MAX_FEED_BYTES >> 20} MiB")
    try:
        parsed = parse_posts(file.read_bytes(), format=fmt, source=source or file.stem)
    except EncodingError as exc:
        raise InputError(f"{file}: {exc.reason}") from None
    selected, unmatched = select_posts(parsed.posts, keywords)
    skipped: list[SkippedPost] = [*parsed.skipped, *unmatched]
    anchored: list[AnchoredPost] = []
    if not dry_run:
        if key_file is None:
            raise InputError("--key is required to anchor posts (or use --dry-run)")
        signer = load_key(key_file, get_passphrase(passphrase_file, what=str(key_file)))
        with open_client(node_url) as client:
            done, refused = import_posts(
                client,
                signer,
                [post for post, _ in selected],
                progress=_progress if sys.stderr.isatty() and not as_json else _quiet,
            )
        anchored.extend(done)
        skipped.extend(refused)
    skipped.sort(key=lambda s: _order(s.where))
    problems = [s for s in skipped if not s.reason.startswith(_EXPECTED_SKIPS)]
    if as_json:
        echo_json(
            {
                "file": str(file),
                "format": parsed.format,
                "read": len(parsed.posts) + len(parsed.skipped),
                "matched": len(selected),
                "dry_run": dry_run,
                "keywords": list(keywords),
                "anchored": [a.to_json() for a in anchored],
                "selected": [
                    {"where": p.where, "title": p.title, "keywords": list(k)} for p, k in selected
                ],
                "skipped": [s.to_json() for s in skipped],
            }
        )
    else:
        read = len(parsed.posts) + len(parsed.skipped)
        _report(file, parsed.format, read, selected, anchored, dry_run)
        for entry in skipped:
            title = f" ({entry.title})" if entry.title else ""
            click.echo(f"  skipped {entry.where}{title}: {entry.reason}")
    if problems:
        count = len(problems)
        raise CommandError(
            f"{count} entr{'y' if count == 1 else 'ies'} of {file} could not be imported "
            "(listed above)"
        )


def _report(
    file: Path,
    fmt: str,
    read: int,
    selected: list[tuple[Post, tuple[str, ...]]],
    anchored: list[AnchoredPost],
    dry_run: bool,
) -> None:
    click.echo(
        f"{file}: {read} entr{'y' if read == 1 else 'ies'} ({fmt}), {len(selected)} matching"
    )
    if dry_run:
        for post, matched in selected:
            click.echo(f"  would anchor {post.where} ({post.title[:80]}): {', '.join(matched)}")
        return
    click.echo(f"anchored {len(anchored)} post(s)")
    for done in anchored:
        click.echo(
            f"  {done.post.where} at block {done.height}: {done.digest} ({done.post.title[:80]})"
        )


def _order(where: str) -> tuple[int, str]:
    kind, _, number = where.partition(" ")
    return (int(number) if number.isdigit() else 0, kind)


def _progress(done: int, total: int) -> None:
    click.echo(f"\ranchoring: {done}/{total}", err=True, nl=done == total)


def _quiet(done: int, total: int) -> None:
    return None
