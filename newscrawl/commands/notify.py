"""``scrapy notify [--max-time SECONDS]``: deliver the notification outbox now.

The crawl delivers at its close already (``newscrawl.notifier``); this is for a backlog left
by an endpoint that was down, or a crawl that stopped early, without waiting for the next
crawl. Exit status 1 when an endpoint failed (cron mails it), 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.exceptions import UsageError

from newscrawl.cli import StoreCommand
from newscrawl.endpoints import load_endpoints
from newscrawl.notifier import outbox_for, summary
from newscrawl.store import Store


class Command(StoreCommand):
    default_settings = {"LOG_LEVEL": "INFO"}  # delivery attempts are logged
    usage = "[--max-time SECONDS]"
    summary = "Send the queued notifications (webhooks, Apprise) now"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--max-time", type=float, default=0, metavar="SECONDS",
            help="start no delivery after this many seconds (default: the whole outbox)",
        )  # fmt: skip

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args:
            raise UsageError("scrapy notify takes no arguments")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not load_endpoints(self.settings):
            print("no webhook or notification endpoint configured", file=sys.stderr)
            return
        super().run(args, opts)

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        outbox = outbox_for(store, self.settings, load_endpoints(self.settings))
        outbox.register()
        counts = outbox.deliver(opts.max_time)
        print(summary(counts))
        return 1 if counts["failed"] else 0
