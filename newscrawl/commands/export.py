"""``scrapy export -o FILE``: every tracked article with its versions, as JSON Lines, or with
``--format newsedits`` as a SQLite file in the NewsEdits layout (one ``entryversion`` table,
so research pipelines written for that dataset read it unchanged)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterator
from typing import IO, Any

from scrapy.exceptions import UsageError

from newscrawl import queries
from newscrawl.cli import OutputCommand
from newscrawl.store import Store

# NewsEdits keeps an article's text in ``summary`` with paragraphs joined by this mark.
PARAGRAPH_MARK = "</p><p>"
ENTRYVERSION = """CREATE TABLE entryversion (
    entry_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    title TEXT,
    url TEXT NOT NULL,
    source TEXT,
    num_versions INTEGER NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (entry_id, version)
)"""


def article_records(store: Store, source: str | None = None) -> Iterator[dict[str, Any]]:
    """One export record per tracked article, oldest first, versions in order."""
    for article in queries.articles_oldest_first(store, source):
        url = article["_id"]
        diffs = queries.diffs_by_version(store, url)
        versions = [_version_record(v, diffs.get(v["version"])) for v in store.history(url)]
        yield {
            "url": url,
            "source": article.get("source"),
            "title": article.get("title"),
            "status": article.get("status"),
            "first_seen": _iso(article.get("first_seen")),
            "current_version": article.get("current_version") or article.get("versions"),
            "volatile": bool(article.get("volatile")),
            "flip_flops": article.get("flip_flops", 0),
            "skipped_changes": article.get("skipped_changes", 0),
            "unstored_changes": article.get("unstored_changes", 0),
            "versions": versions,
        }


def write_newsedits(records: Iterator[dict[str, Any]], path: str) -> int:
    """The records as a NewsEdits ``entryversion`` table in a new SQLite file at ``path``:
    one row per version, ``entry_id`` numbering articles in export order from 1. Returns the
    number of articles."""
    count = 0
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS entryversion")
        db.execute(ENTRYVERSION)
        for count, record in enumerate(records, 1):
            versions = record["versions"]
            db.executemany(
                "INSERT INTO entryversion VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(count, v["version"], v["fetched_at"], v["title"], record["url"],
                  record["source"], len(versions), v["text"].replace("\n\n", PARAGRAPH_MARK))
                 for v in versions],
            )  # fmt: skip
    return count


def _version_record(version: dict[str, Any], diff: dict[str, Any] | None) -> dict[str, Any]:
    changes = {"added": diff["added"], "removed": diff["removed"]} if diff else {}
    return {
        "version": version["version"],
        "fetched_at": _iso(version["fetched_at"]),
        "title": version["title"],
        "other_headlines": version.get("other_headlines", []),
        "text": "\n\n".join(version["paragraphs"]),
        "content_hash": version["content_hash"],
        "minor": version.get("minor", False),
        "revert_of": version.get("revert_of"),
        "skipped_before": version.get("skipped_before", 0),
        "changes": changes,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class Command(OutputCommand):
    usage = "-o FILE [--source NAME] [--format jsonl|newsedits]"
    summary = "Export tracked articles and their versions as JSON Lines"
    done = "exported {count} articles to {output}"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--format", choices=("jsonl", "newsedits"), default="jsonl",
            help="JSON Lines (default), or a NewsEdits SQLite file (entryversion table)",
        )  # fmt: skip

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if opts.format == "newsedits" and opts.output == "-":
            raise UsageError("a NewsEdits export is a SQLite file: give -o FILE")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        if opts.format != "newsedits":
            return super().run_with_store(store, args, opts)
        count = write_newsedits(article_records(store, opts.source), opts.output)
        print(self.done.format(count=count, output=opts.output), file=sys.stderr)
        return 0

    def write(self, store: Store, out: IO[Any], opts: argparse.Namespace) -> int:
        count = 0
        for record in article_records(store, opts.source):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
