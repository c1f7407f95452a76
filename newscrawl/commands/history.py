"""``scrapy history URL``: a tracked article's versions with their times and change sizes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from scrapy.exceptions import UsageError

from newscrawl import queries
from newscrawl.cli import StoreCommand, printable
from newscrawl.events import describe
from newscrawl.store import Store
from newscrawl.web.humanize import later, moment, stamp


def render(
    article: dict[str, Any],
    versions: list[dict[str, Any]],
    happened: Sequence[dict[str, Any]] = (),
) -> str:
    """A header about the article, one line per version, then its lifecycle events
    (removed, back, moved, ... whatever their kind: ``newscrawl.events.describe``)."""
    changes = len(versions) - 1
    times = {0: "has not changed", 1: "has changed once"}.get(
        changes, f"has changed {changes} times"
    )
    lines = [
        printable(article.get("title") or ""),
        printable(article["_id"]),
        f"source {printable(article.get('source') or '')} · first seen "
        f"{stamp(article['first_seen'])} · {article.get('status', 'active')} · {times}",
        "",
        f"{'version':>7}  {'seen':<20}  {'after':<26}  {'change':<16}  headline",
    ]
    for before, version in zip([None, *versions], versions, strict=False):
        after = later(before["fetched_at"], version["fetched_at"]) if before else "first seen"
        size = (
            f"+{version['words_added']} -{version['words_removed']} words"
            if before and version["words_added"] is not None
            else ""
        )
        notes = [
            "minor" if version.get("minor") else "",
            f"back to v{version['revert_of']}" if version.get("revert_of") else "",
            "headline changed" if version["headline_changed"] else "",
        ]
        note = "".join(f"[{n}] " for n in notes if n)
        lines.append(
            f"{version['version']:>7}  {stamp(version['fetched_at']):<20}  {after:<26}  "
            f"{size:<16}  {note}{printable(version.get('title') or '')}"
        )
    if article.get("moved_to"):
        lines += ["", f"moved to {printable(article['moved_to'])} (tracked there)"]
    if happened:
        lines += ["", "events:"]
    for event in happened:
        at = stamp(moment(event["at"]) or article["first_seen"])
        lines.append(f"  {at:<20}  {event['kind']:<16}  "
                     f"{printable(describe(event, article['_id']))}")  # fmt: skip
    return "\n".join(lines) + "\n"


class Command(StoreCommand):
    usage = "URL"
    summary = "List the versions of a tracked article with times and change sizes"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            raise UsageError("give the article's URL")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        article = self.tracked_article(store, args[0])
        if article is None:
            return 1
        url = article["_id"]
        versions, happened = queries.version_list(store, url), queries.events_of(store, url)
        sys.stdout.write(render(article, versions, happened))
        return 0
