"""``scrapy wayback [--max-time SECONDS]``: submit the queued new versions to the Internet
Archive's Save Page Now, within ``NEWSCRAWL_WAYBACK_PER_MINUTE`` (see ``newscrawl.wayback``).

Run it from the crawl's timer, after the crawl: the crawl only queues, so a slow or refusing
archive never slows it. ``--max-time`` ends the run before a submission that would start
later than that (so a run fits in the timer's interval); what is left waits for the next run.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.store import Store
from newscrawl.wayback import Wayback, WaybackError


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--max-time SECONDS]"

    def short_desc(self) -> str:
        return "Submit queued new versions to the Internet Archive (NEWSCRAWL_WAYBACK)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--max-time", type=float, default=0, metavar="SECONDS",
            help="start no submission after this many seconds (default: drain the queue)",
        )  # fmt: skip

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy wayback takes no arguments")
        if not self.settings.getbool("NEWSCRAWL_WAYBACK", False):
            print("NEWSCRAWL_WAYBACK is off: nothing is queued or submitted", file=sys.stderr)
            return
        store = Store.from_settings(self.settings)
        try:
            counts = Wayback.from_settings(store, self.settings).drain(opts.max_time)
        except WaybackError as exc:
            print(f"wayback: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        finally:
            store.close()
        print(
            f"{counts['archived']} archived, {counts['retry']} to retry later, "
            f"{counts['failed']} failed"
        )
