"""``scrapy reextract [--source NAME] [--since DATE] [URL] [--dry-run]``: rebuild versions and
diffs from the stored raw pages with the current extractor (see ``newscrawl.reextract``)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.commands.diff import printable
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


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--source NAME] [--since DATE] [URL] [--dry-run]"

    def short_desc(self) -> str:
        return "Rebuild versions and diffs from the stored raw pages with the current extractor"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--source", metavar="NAME", help="only articles of this source")
        parser.add_argument("--since", metavar="DATE", help="only articles fetched since DATE")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) > 1:
            raise UsageError("give at most one article URL")
        since = parse_since(opts.since)
        url = (canonical_url(args[0]) or args[0]) if args else None
        sources = load_sources(self.settings.get("NEWSCRAWL_SOURCES") or None)
        store = Store.from_settings(self.settings)
        try:
            self.exitcode = self._run(store, sources, opts, since, url)
        finally:
            store.close()

    def _run(self, store, sources, opts, since, url) -> int:  # noqa: ANN001
        reextractor = Reextractor(store, {s.name: s.extraction for s in sources})
        urls = reextractor.urls(source=opts.source, since=since, url=url)
        plans = list(reextractor.plans(urls))
        changed = [p for p in plans if p.changed]
        for plan in plans:
            if plan.changed or plan.skipped:
                print(printable(plan.summary()))
        added = sum(len(p.added) for p in changed)
        merged = sum(len(p.merged) for p in changed)
        retexted = sum(p.retexted for p in changed)
        skipped = sum(1 for p in plans if p.skipped)
        print(
            f"{len(plans)} articles re-extracted: {len(changed)} changed "
            f"({added} versions added, {merged} merged, {retexted} re-extracted differently), "
            f"{skipped} skipped"
        )
        if opts.dry_run:
            for plan in plans:
                reextractor.discard(plan.url)
            print("dry run: nothing written")
            return 0
        for plan in changed:
            history = reextractor.apply(plan)
            print(printable(f"{plan.url}: rebuilt; previous history kept as {history!r}"))
        return 0
