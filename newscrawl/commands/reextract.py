"""``scrapy reextract [--source NAME] [--since DATE] [URL] [--dry-run]``: rebuild versions and
diffs from the stored raw pages with the current extractor (see ``newscrawl.reextract``)."""

from __future__ import annotations

import argparse
import sys
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
        return 1 if failed else 0
