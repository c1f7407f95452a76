"""``scrapy reextract [--source NAME] [--since DATE] [URL] [--dry-run]``: rebuild versions and
diffs from the stored raw pages with the current extractor (see ``newscrawl.reextract``)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scrapy.exceptions import UsageError

from newscrawl import record
from newscrawl.cli import StoreCommand, printable
from newscrawl.reextract import Reextractor
from newscrawl.sources import load_sources
from newscrawl.store import Store
from newscrawl.urls import canonical_url


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        since = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since must be an ISO date or time, got {value!r}") from None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


class Command(StoreCommand):
    usage = "[--source NAME] [--since DATE] [URL] [--dry-run]"
    summary = "Rebuild versions and diffs from the stored raw pages with the current extractor"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        self.add_source_option(parser)
        parser.add_argument("--since", metavar="DATE", help="only articles fetched since DATE")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) > 1:
            raise UsageError("give at most one article URL")
        opts.since = parse_since(opts.since)
        sources = load_sources(self.settings.get("NEWSCRAWL_SOURCES") or None)
        self.extraction = {s.name: s.extraction for s in sources}

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        url = (canonical_url(args[0]) or args[0]) if args else None
        reextractor = Reextractor(store, self.extraction)
        urls = reextractor.urls(source=opts.source, since=opts.since, url=url)
        changed: list[str] = []
        count = added = merged = retexted = skipped = 0
        for plan in reextractor.plans(urls):  # report everything before writing anything
            if plan.changed or plan.skipped:
                print(printable(plan.summary()))
            count += plan.changed
            if plan.changed and not opts.dry_run:
                changed.append(plan.url)  # its rebuild stays in the scratch collections
            else:
                reextractor.discard(plan.url)
            added, merged = added + len(plan.added), merged + len(plan.merged)
            retexted, skipped = retexted + plan.retexted, skipped + bool(plan.skipped)
        print(
            f"{len(urls)} articles re-extracted: {count} changed "
            f"({added} versions added, {merged} merged, {retexted} re-extracted differently), "
            f"{skipped} skipped"
        )
        if opts.dry_run:
            print("dry run: nothing written")
            return 0
        failed = 0
        for url in changed:
            try:
                history = reextractor.apply(reextractor.rebuilt(url))
            except RuntimeError as exc:
                print(printable(f"{url}: not rebuilt: {exc}"), file=sys.stderr)
                failed += 1
                continue
            print(printable(f"{url}: rebuilt; previous history kept as {history!r}"))
        if len(changed) > failed:
            record.rebuild(store.db, again=True)  # each source's record from the new history
        return 1 if failed else 0
