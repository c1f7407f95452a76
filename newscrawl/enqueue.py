"""Schedule a spider on scrapyd unless a job of it is already pending or running.

Scrapyd has no recurring jobs, so cron or a systemd timer runs this every N minutes::

    python -m newscrawl.enqueue --scrapyd http://localhost:6800 --project newscrawl \\
        --spider feeds -a recheck=due

Exit status: 0 scheduled, 3 (``SKIPPED``) not scheduled because a job of that spider is still
pending or running, 1 scrapyd unreachable or answering an error, 2 bad command line.
Standard library only: it runs from any checkout, without the crawler's dependencies.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

SKIPPED = 3
# schedule.json's own parameters: a spider argument of the same name would be taken for them.
RESERVED = {"project", "spider", "setting", "jobid", "priority", "_version"}


class ScrapydError(Exception):
    """Scrapyd answered with ``"status": "error"`` (unknown project or spider, ...)."""


def call(
    scrapyd: str,
    endpoint: str,
    *,
    query: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """GET (``query``) or POST (``form``) one scrapyd JSON endpoint; its reply, if ``ok``."""
    url = f"{scrapyd.rstrip('/')}/{endpoint}"
    if query:
        url += "?" + urlencode(query)
    body = urlencode(form, doseq=True).encode() if form is not None else None
    with urlopen(url, data=body, timeout=timeout) as response:
        reply = json.load(response)
    if reply.get("status") != "ok":
        raise ScrapydError(reply.get("message", reply))
    return reply


def active_jobs(scrapyd: str, project: str, spider: str) -> list[dict[str, Any]]:
    """The spider's pending and running jobs in the project."""
    jobs = call(scrapyd, "listjobs.json", query={"project": project})
    return [job for job in jobs["pending"] + jobs["running"] if job["spider"] == spider]


def schedule(
    scrapyd: str, project: str, spider: str, args: dict[str, str], settings: list[str]
) -> str:
    """Queue one job; its id."""
    form = {**args, "project": project, "spider": spider, "setting": settings}
    return call(scrapyd, "schedule.json", form=form)["jobid"]


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m newscrawl.enqueue",
        description="Schedule a spider on scrapyd unless one of its jobs is pending or running.",
        epilog=f"exit status: 0 scheduled, {SKIPPED} still running (not scheduled), 1 error",
    )
    parser.add_argument("--scrapyd", default="http://localhost:6800", help="scrapyd URL")
    parser.add_argument("--project", default="newscrawl")
    parser.add_argument("--spider", default="feeds")
    repeatable = (("-a", "args", "spider argument"), ("-s", "settings", "Scrapy setting"))
    for flag, dest, what in repeatable:
        parser.add_argument(
            flag, dest=dest, action="append", type=_pair, default=[], metavar="NAME=VALUE",
            help=f"{what} (repeatable)",
        )  # fmt: skip
    opts = parser.parse_args(argv)
    clash = RESERVED & {name for name, _ in opts.args}
    if clash:
        parser.error(f"spider arguments {sorted(clash)} clash with scrapyd's parameters")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        active = active_jobs(opts.scrapyd, opts.project, opts.spider)
        if active:
            ids = ", ".join(job["id"] for job in active)
            print(f"{opts.spider} still running or pending (job {ids}), not scheduled")
            return SKIPPED
        settings = [f"{name}={value}" for name, value in opts.settings]
        job = schedule(opts.scrapyd, opts.project, opts.spider, dict(opts.args), settings)
    except (OSError, ValueError, ScrapydError) as exc:  # URLError is an OSError
        print(f"error: scrapyd at {opts.scrapyd}: {exc}", file=sys.stderr)
        return 1
    print(f"scheduled {opts.spider} as job {job}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
