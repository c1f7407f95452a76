"""``scrapy wayback [--max-time SECONDS]``: submit the queued new versions to the Internet
Archive's Save Page Now, within ``NEWSCRAWL_WAYBACK_PER_MINUTE`` (see ``newscrawl.wayback``).

Run it from the crawl's timer, after the crawl: the crawl only queues, so a slow or refusing
archive never slows it. ``--max-time`` ends the run before a submission that would start
later than that (so a run fits in the timer's interval); what is left waits for the next run.
"""

from __future__ import annotations

import argparse
import sys

from newscrawl.cli import QueueCommand
from newscrawl.store import Store
from newscrawl.wayback import Wayback, WaybackError


class Command(QueueCommand):
    summary = "Submit queued new versions to the Internet Archive (NEWSCRAWL_WAYBACK)"
    max_time_help = "start no submission after this many seconds (default: drain the queue)"

    def nothing_to_do(self) -> str | None:
        if not self.settings.getbool("NEWSCRAWL_WAYBACK"):
            return "NEWSCRAWL_WAYBACK is off: nothing is queued or submitted"
        return None

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        try:
            counts = Wayback.from_settings(store, self.settings).drain(opts.max_time)
        except WaybackError as exc:
            print(f"wayback: {exc}", file=sys.stderr)
            return 1
        print(
            f"{counts['archived']} archived, {counts['retry']} to retry later, "
            f"{counts['failed']} failed"
        )
        return 0
