"""``scrapy notify [--max-time SECONDS]``: deliver the notification outbox now.

The crawl delivers at its close already (``newscrawl.notifier``); this is for a backlog left
by an endpoint that was down, or a crawl that stopped early, without waiting for the next
crawl. Exit status 1 when an endpoint failed (cron mails it), 0 otherwise.
"""

from __future__ import annotations

import argparse

from newscrawl.cli import QueueCommand
from newscrawl.endpoints import load_endpoints
from newscrawl.notifier import outbox_for, summary
from newscrawl.store import Store


class Command(QueueCommand):
    default_settings = {"LOG_LEVEL": "INFO"}  # delivery attempts are logged
    summary = "Send the queued notifications (webhooks, Apprise) now"
    max_time_help = "start no delivery after this many seconds (default: the whole outbox)"

    def nothing_to_do(self) -> str | None:
        if not load_endpoints(self.settings):
            return "no webhook or notification endpoint configured"
        return None

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        outbox = outbox_for(store, self.settings, load_endpoints(self.settings))
        outbox.register()
        counts = outbox.deliver(opts.max_time)
        print(summary(counts))
        return 1 if counts["failed"] else 0
