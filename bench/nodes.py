"""Re-check throughput with 1, 2 and 4 crawler processes sharing one store.

    python -m bench.nodes [--articles 2000] [--runs 2] [--crawlers 1,2,4] [--wire]

After a first crawl of N articles, N crawlers (``-a shard=i/N``, ``-a recheck=all``) start
together and re-check every article (the site answers 304); pages/s is the articles they
fetched over the wall time until the last one ends. Leases split the articles, so the
processes share the work instead of repeating it; the report shows how many were fetched
twice. Every process here runs on the same 2-core machine: this measures that the work
splits and that throughput grows with processes, not what separate servers would give.
``--wire`` puts the store behind nx-27017 (MongoDB's wire protocol on loopback) instead of
the embedded files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.crawl_speed import (
    FIRST,
    REPO,
    STATS_EXTENSION,
    Phase,
    Site,
    newscrawl_crawl,
    newscrawl_env,
    scrapy_command,
    write_sources,
)
from bench.store_growth import wire_server

UNCHANGED = Phase("unchanged, 304")


def recheck(crawlers: int, articles: int, env: dict[str, str], workdir: Path) -> tuple[int, float]:
    """(articles fetched, wall seconds) for ``crawlers`` processes re-checking together."""
    settings = {
        "NEWSCRAWL_RECHECK_LIMIT": str(articles),
        "EXTENSIONS": json.dumps({"newscrawl.crawlstore.CrawlStore": 100, STATS_EXTENSION: 900}),
    }
    started = time.monotonic()
    running = []
    for index in range(crawlers):
        directory = workdir / f"{crawlers}-{index}-{started}"
        directory.mkdir(parents=True)
        args = ["crawl", "feeds", "-a", "recheck=all", "-a", f"shard={index}/{crawlers}"]
        cmd, stats_file = scrapy_command(args, settings, directory)
        process = subprocess.Popen(
            cmd, cwd=REPO, env={**os.environ, **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        running.append((process, stats_file))
    for process, _ in running:
        if process.wait(timeout=1800) != 0:
            raise RuntimeError(f"a crawler of {crawlers} failed")
    wall = time.monotonic() - started
    fetched = sum(
        json.loads(stats_file.read_text()).get("bench/article_responses", 0)
        for _, stats_file in running
    )
    return fetched, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--crawlers", default="1,2,4", help="comma-separated process counts")
    parser.add_argument("--wire", action="store_true", help="the store over nx-27017")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    site, server = Site(args.articles), None
    try:
        with tempfile.TemporaryDirectory(prefix="nodes-") as tmp:
            workdir = Path(tmp)
            env = newscrawl_env(workdir, write_sources(workdir / "s.toml", site, args.articles))
            if args.wire:
                server, env["MONGO_URI"] = wire_server(workdir / "wire")
            newscrawl_crawl(FIRST, site, args.articles, workdir, env)
            site.set_mode(UNCHANGED, args.articles)
            rates: dict[int, list[float]] = {int(n): [] for n in args.crawlers.split(",")}
            for _ in range(args.runs):
                for crawlers in rates:
                    fetched, wall = recheck(crawlers, args.articles, env, workdir)
                    rates[crawlers].append(args.articles / wall)
                    print(f"{crawlers} crawler(s): {fetched} fetches for {args.articles} "
                          f"articles in {wall:.1f} s")  # fmt: skip
    finally:
        site.stop()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    first = statistics.median(rates[min(rates)])
    for crawlers, values in rates.items():
        rate = statistics.median(values)
        print(f"median: {crawlers} crawler(s) {rate:.0f} articles/s ({rate / first:.2f}x)")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
