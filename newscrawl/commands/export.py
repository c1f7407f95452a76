"""``scrapy export -o FILE``: every tracked article with its versions, as JSON Lines."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import IO, Any

from pymongo import ASCENDING

from newscrawl.cli import OutputCommand
from newscrawl.store import Store


def article_records(store: Store, source: str | None = None) -> Iterator[dict[str, Any]]:
    """One export record per tracked article, oldest first, versions in order."""
    query = {"source": source} if source else {}
    for article in store.articles.find(query).sort("first_seen", ASCENDING):
        url = article["_id"]
        diffs = {d["version"]: d for d in store.diffs.find({"url": url})}
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
    usage = "-o FILE [--source NAME]"
    summary = "Export tracked articles and their versions as JSON Lines"
    done = "exported {count} articles to {output}"

    def write(self, store: Store, out: IO[Any], opts: argparse.Namespace) -> int:
        count = 0
        for record in article_records(store, opts.source):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
