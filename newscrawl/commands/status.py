"""``scrapy status``: the last crawls and every source's state; non-zero exit when stale.

It also shows this node's spool: pages waiting for the store and entries set aside in its
quarantine (damaged lines, pages the store refused).

``--max-age MINUTES`` makes the command exit with status 1 when the newest successful crawl
(``finish_reason == "finished"``) finished longer ago than that, or there is none, so cron
or a monitor can alert on it.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from newscrawl.cli import StoreCommand
from newscrawl.outbox import endpoint_states
from newscrawl.runs import last_success, recent_runs, source_states
from newscrawl.spool import Spool
from newscrawl.store import Store, as_utc, utcnow

STALE = 1


def status_report(
    store: Store, runs: int, max_age: float | None, spool: Spool | None = None
) -> dict[str, Any]:
    now = utcnow()
    success = last_success(store.db)
    age = (now - success["finished"]).total_seconds() / 60 if success else None
    stale = max_age is not None and (age is None or age > max_age)
    return {
        "now": now,
        "runs": recent_runs(store.db, runs),
        "sources": source_states(store.db, now),
        "spool": spool.summary() if spool else None,
        "notifications": endpoint_states(store.db),
        "last_success": success,
        "last_success_age_minutes": age,
        "max_age_minutes": max_age,
        "ok": not stale,
    }


def format_text(report: dict[str, Any]) -> str:
    lines = ["Last runs, newest first:"]
    for run in report["runs"]:
        lines.append(
            f"  {_time(run['finished'])}  {run['finish_reason']:<10} {run['spider']} "
            f"on {run['node']}{' job ' + run['job'] if run.get('job') else ''}, "
            f"{run['duration'] or 0:.0f}s: {run['feeds_polled']} feeds "
            f"({run['feeds_not_modified']} not modified), {run['articles_checked']} articles "
            f"checked, {run['new_articles']} new, {run['new_versions']} new versions, "
            f"{run['errors']} errors{_store_troubles(run)}"
        )
    if not report["runs"]:
        lines.append("  none recorded")
    lines.append("Sources:")
    for source in report["sources"]:
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(source["by_status"].items()))
        sitemaps = f", {source['sitemaps']} sitemaps" if source.get("sitemaps") else ""
        lines.append(
            f"  {source['source']}: {source['feeds']} feeds{sitemaps}, last poll "
            f"{_time(source['last_polled'])}, {source['feed_errors']} failing; "
            f"{source['articles']} articles ({statuses or 'none'}); "
            f"{source['errors_24h']} errors in 24h"
        )
        for where in source.get("discovered", []):
            found = ", ".join(f"{f['kind']} {f['url']}" for f in where["found"]) or "nothing"
            lines.append(f"    {where['kind']} {where['url']}: {found}")
    if not report["sources"]:
        lines.append("  nothing polled yet")
    spool = report["spool"]
    if spool:
        lines.append(
            f"Spool ({spool['directory']}): {spool['pending_pages']} pages waiting for the "
            f"store in {spool['pending_files']} files; {spool['quarantined']} entries set "
            f"aside" + (f" in {spool['quarantine']}" if spool["quarantined"] else "")
        )
    if report["notifications"]:
        lines.append("Notifications:")
    for endpoint in report["notifications"]:
        lines.append(f"  {endpoint['label']}: {_endpoint_state(endpoint)}")
    success, age = report["last_success"], report["last_success_age_minutes"]
    newest = f"{_time(success['finished'])} ({age:.0f} min ago)" if success else "none recorded"
    verdict = (
        ""
        if report["max_age_minutes"] is None
        else (" OK" if report["ok"] else f" STALE: older than {report['max_age_minutes']:g} min")
    )
    lines.append(f"Newest successful crawl: {newest}{verdict}")
    return "\n".join(lines)


def _store_troubles(run: dict[str, Any]) -> str:
    """The store's troubles in a run line (``, 3 spooled, 1 refused by the store``); runs
    recorded before these counts existed have none."""
    counts = (
        ("spooled", "spooled"),
        ("rejected", "refused by the store"),
        ("spool_replayed", "replayed from the spool"),
        ("spool_quarantined", "damaged spool entries set aside"),
    )
    return "".join(f", {run[key]} {label}" for key, label in counts if run.get(key))


def _endpoint_state(endpoint: dict[str, Any]) -> str:
    """``failing (3 in a row since …: HTTP 503), next try …`` or ``ok``, then the counts."""
    counts = f"{endpoint['sent']} sent, {endpoint['pending']} pending"
    if endpoint["given_up"]:
        counts += f", {endpoint['given_up']} given up"
    if not endpoint["failures"]:
        return f"ok, last sent {_time(_utc(endpoint['last_success']))}; {counts}"
    return (
        f"failing ({endpoint['failures']} in a row, last {_time(_utc(endpoint['last_failure']))}"
        f": {endpoint['last_error']}), next try {_time(_utc(endpoint['next_try']))}; {counts}"
    )


def _utc(value: Any) -> datetime | None:
    return as_utc(value) if value else None


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class Command(StoreCommand):
    usage = "[--runs N] [--max-age MINUTES] [--json]"
    summary = "Show the last crawls and each source's state; exit 1 when crawls are stale"
    takes_arguments = False

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--runs",
            type=int,
            default=10,
            metavar="N",
            help="how many recent runs to show (default 10)",
        )
        parser.add_argument(
            "--max-age",
            type=float,
            metavar="MINUTES",
            help="exit 1 if the newest successful crawl is older than this",
        )
        parser.add_argument("--json", action="store_true", help="print JSON")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        report = status_report(store, opts.runs, opts.max_age, Spool.from_settings(self.settings))
        if opts.json:
            print(json.dumps(report, default=_json_default, ensure_ascii=False, indent=2))
        else:
            print(format_text(report))
        return 0 if report["ok"] else STALE
