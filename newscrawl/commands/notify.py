"""``scrapy notify [--max-time SECONDS]``: deliver the notification outbox now.

The crawl delivers at its close already (``newscrawl.notifier``); this is for a backlog left
by an endpoint that was down, or a crawl that stopped early, without waiting for the next
crawl. Exit status 1 when an endpoint failed (cron mails it), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.endpoints import load_endpoints
from newscrawl.notifier import outbox_for, summary
from newscrawl.store import Store


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "[--max-time SECONDS]"

    def short_desc(self) -> str:
        return "Send the queued notifications (webhooks, Apprise) now"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--max-time", type=float, default=0, metavar="SECONDS",
            help="start no delivery after this many seconds (default: the whole outbox)",
        )  # fmt: skip

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy notify takes no arguments")
        endpoints = load_endpoints(self.settings)
        if not endpoints:
            print("no webhook or notification endpoint configured", file=sys.stderr)
            return
        store = Store.from_settings(self.settings)
        try:
            outbox = outbox_for(store, self.settings, endpoints)
            outbox.register()
            counts = outbox.deliver(opts.max_time)
        finally:
            store.close()
        print(summary(counts))
        self.exitcode = 1 if counts["failed"] else 0
