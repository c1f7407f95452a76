"""Crawl throughput benchmark: newscrawl against a bare Scrapy spider, same machine, same run.

    python -m bench.crawl_speed [--sizes 300,1000] [--runs 3] [--scale 10000] [--short]
                                [--before DIR]

A loopback site (``bench.crawl_server``, its own process) serves the corpus pages repeated to
N article URLs and 50 articles per RSS feed. Each run, in a fresh store:

* ``bare``: ``bench.crawl_probe.BareSpider`` fetches the same feeds and articles and does
  nothing (the project's settings without pipelines or the run recorder);
* ``first crawl``: ``scrapy crawl feeds``, every article new;
* ``unchanged, 304`` / ``unchanged, 200``: ``-a recheck=all`` with nothing changed, the server
  answering conditional requests, then ignoring them (identical bytes);
* ``10% edited``: ``-a recheck=all`` with one article in ten edited (``tests.support.mutations``);
* ``nothing due`` / ``bare, 0 pages``: a run that polls the feeds (all 304) and finds no
  article due, and the bare spider fetching nothing: the start-up and shutdown cost alone.

Two rates per phase: **whole process** (article responses per wall-clock second of the
``scrapy`` process, start to exit, as a user running it from cron sees it) and **in-crawl**
(per second of the crawl's ``elapsed_time_seconds``, which leaves out start-up and
shutdown). Ratios are taken to ``bare`` of the same run, then the median over runs. Peak
memory is the highest summed PSS of the crawl process and its children (the extraction
workers, their fork server, multiprocessing's resource tracker), sampled every 50 ms, with
the summed RSS beside it: RSS counts the pages the workers share with their fork server
once in each process, PSS divides them among the processes sharing them. ``--before DIR``
also runs every newscrawl phase from another checkout (``git archive REV | tar -x -C
DIR``), in its own store, in the same run: a before/after comparison on the same machine
state.
Also measured: trafilatura alone and ``extract_article`` on one core over the corpus pages,
``diff_article`` on every edited pair the crawl stored, and, with ``--scale``, the peak memory
of a first crawl and a re-check of that many articles. ``--short`` (200 articles, one run,
no scale point) checks only that every phase ran with the right counts; exit status 1 if not.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

from bench.crawl_probe import PER_FEED
from newscrawl.diff import diff_article
from newscrawl.extract import extract_article
from newscrawl.store import Store
from tests.support.corpus import CorpusPage, load_pages
from tests.support.mockserver import free_port

REPO = Path(__file__).resolve().parents[1]
SHORT_ARTICLES = 200
CRAWL_TIMEOUT = 1800
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "LOG_LEVEL": "INFO",
}
STATS_EXTENSION = "bench.crawl_probe.StatsDump"


@dataclass(frozen=True)
class Phase:
    name: str
    conditional: bool = True
    edited: bool = False
    args: tuple[str, ...] = ("-a", "recheck=all")
    fetches: bool = True  # whether the phase fetches every article (else none)


BARE = Phase("bare", args=())
BARE_IDLE = Phase("bare, 0 pages", args=(), fetches=False)
FIRST = Phase("first crawl", args=())
IDLE = Phase("nothing due", edited=True, args=("-a", "recheck=due"), fetches=False)
PHASES = (
    FIRST,
    Phase("unchanged, 304"),
    Phase("unchanged, 200", conditional=False),
    Phase("10% edited", edited=True),
    IDLE,
)


@dataclass
class Result:
    phase: str
    stats: dict[str, Any]
    peak_kb: int  # summed PSS
    peak_rss_kb: int
    server: dict[str, Any]
    wall: float  # seconds of the whole process, start to exit
    edited: int = 0

    def stat(self, name: str) -> int:
        return int(self.stats.get(name, 0))

    @property
    def pages(self) -> int:
        return self.stat("bench/article_responses")

    @property
    def seconds(self) -> float:
        return float(self.stats["elapsed_time_seconds"])

    @property
    def rate(self) -> float:
        return self.pages / self.seconds

    @property
    def wall_rate(self) -> float:
        return self.pages / self.wall

    @property
    def server_cpu(self) -> float:
        return self.server["cpu_seconds"] / self.seconds


@dataclass
class Run:
    results: dict[str, Result] = field(default_factory=dict)
    diff_ms: list[tuple[int, float]] = field(default_factory=list)  # (words, ms)


# --- the site --------------------------------------------------------------------------------


class Site:
    """The ``bench.crawl_server`` process and its control endpoint."""

    def __init__(self, articles: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "bench.crawl_server",
            "--port",
            str(self.port),
            "--articles",
            str(articles),
        ]
        self.process = subprocess.Popen(cmd, cwd=REPO)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("benchmark server exited at start")
            try:
                self.counters()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("benchmark server did not start")

    def set_mode(self, phase: Phase, articles: int) -> int:
        """Switch the site to the phase's mode; returns how many of the articles are edited."""
        query = f"conditional={int(phase.conditional)}&edited={int(phase.edited)}"
        request = urllib.request.Request(
            f"{self.base}/_control?{query}&articles={articles}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(json.load(response)["edited"])

    def counters(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/_control", timeout=30) as response:
            return json.load(response)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- running a crawl ---------------------------------------------------------------------------


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """Summed PSS and summed RSS of ``pid`` and all its descendants (Linux /proc)."""
    pss, rss, pending = 0, 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text().splitlines()
            children = [
                child
                for task in Path(f"/proc/{current}/task").iterdir()
                for child in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        fields = {line.split()[0]: int(line.split()[1]) for line in rollup[1:] if line}
        pss, rss = pss + fields.get("Pss:", 0), rss + fields.get("Rss:", 0)
        pending.extend(int(child) for child in children)
    return pss, rss


def sample_peak(process: subprocess.Popen, interval: float = 0.05) -> Callable[[], tuple[int, int]]:
    """Start sampling the process tree's memory; the returned function joins and gives the
    peaks of summed PSS and summed RSS."""
    peak = [0, 0]

    def sample() -> None:
        while process.poll() is None:
            pss, rss = tree_memory_kb(process.pid)
            peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def join() -> tuple[int, int]:
        thread.join()
        return peak[0], peak[1]

    return join


def scrapy_command(
    command: list[str], settings: dict[str, str], workdir: Path
) -> tuple[list[str], Path]:
    stats_file = workdir / "stats.json"
    merged = {
        **FAST,
        **settings,
        "BENCH_STATS_FILE": str(stats_file),
        "LOG_FILE": str(workdir / "crawl.log"),
    }
    cmd = [sys.executable, "-m", "scrapy", *command]
    for name, value in merged.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd, stats_file


def run_crawl(
    phase: Phase,
    site: Site,
    command: list[str],
    settings: dict[str, str],
    env: dict[str, str],
    workdir: Path,
    articles: int,
    repo: Path = REPO,
) -> Result:
    workdir.mkdir(parents=True, exist_ok=True)
    edited = site.set_mode(phase, articles)
    cmd, stats_file = scrapy_command(command, settings, workdir)
    started = time.monotonic()
    process = subprocess.Popen(
        cmd,
        cwd=repo,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = sample_peak(process)
    status = process.wait(timeout=CRAWL_TIMEOUT)
    wall = time.monotonic() - started
    if status != 0 or not stats_file.exists():
        log = workdir / "crawl.log"
        tail = log.read_text()[-3000:] if log.exists() else "(no log)"
        raise RuntimeError(f"{phase.name}: crawl failed:\n{tail}")
    stats = json.loads(stats_file.read_text())
    pss, rss = peak()
    return Result(phase.name, stats, pss, rss, site.counters(), wall, edited)


def bare_crawl(site: Site, articles: int, workdir: Path, phase: Phase = BARE) -> Result:
    fetched = articles if phase.fetches else 0
    command = [
        "runspider",
        str(REPO / "bench" / "crawl_probe.py"),
        "-a",
        f"base={site.base}",
        "-a",
        f"articles={fetched}",
    ]
    settings = {"ITEM_PIPELINES": "{}", "EXTENSIONS": json.dumps({STATS_EXTENSION: 900})}
    env = {"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True"}
    return run_crawl(phase, site, command, settings, env, workdir / slug(phase), articles)


def slug(phase: Phase) -> str:
    return phase.name.replace(",", "").replace("%", "").replace(" ", "_")


def write_sources(path: Path, site: Site, articles: int) -> Path:
    feeds = ", ".join(f'"{site.base}/feed/{n}.xml"' for n in range(-(-articles // PER_FEED)))
    path.write_text(f'[[source]]\nname = "Bench"\nfeeds = [{feeds}]\ndomains = ["127.0.0.1"]\n')
    return path


def newscrawl_env(workdir: Path, sources: Path) -> dict[str, str]:
    return {
        "NEWSCRAWL_DATA_DIR": str(workdir / "data"),
        "MONGO_URI": "",
        "MONGO_DATABASE": "bench",
        "NEWSCRAWL_SOURCES": str(sources),
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
    }


def newscrawl_crawl(
    phase: Phase,
    site: Site,
    articles: int,
    workdir: Path,
    env: dict[str, str],
    repo: Path = REPO,
) -> Result:
    # The checkout's own extensions, as a user's crawl runs them, and the stats dump.
    project = runpy.run_path(str(repo / "newscrawl" / "settings.py"))
    extensions = {**project.get("EXTENSIONS", {}), STATS_EXTENSION: 900}
    settings = {"EXTENSIONS": json.dumps(extensions), "NEWSCRAWL_RECHECK_LIMIT": str(articles)}
    command = ["crawl", "feeds", *phase.args]
    return run_crawl(phase, site, command, settings, env, workdir / slug(phase), articles, repo)


# --- one-core baselines and diffs ------------------------------------------------------------


def pages_per_second(pages: list[CorpusPage], extract: Callable[[CorpusPage], object]) -> float:
    start = time.perf_counter()
    for page in pages:
        extract(page)
    return len(pages) / (time.perf_counter() - start)


def trafilatura_alone(page: CorpusPage) -> object:
    return trafilatura.extract(page.html, url=page.url, include_comments=False)


def newscrawl_extract(page: CorpusPage) -> object:
    return extract_article(page.raw, page.url)


def diff_timings(data_dir: Path, repeats: int = 3) -> list[tuple[int, float]]:
    """(words, median ms of ``diff_article``) for every version pair a crawl stored a diff of."""
    store = Store.from_settings({"NEWSCRAWL_DATA_DIR": str(data_dir), "MONGO_DATABASE": "bench"})
    try:
        out = []
        for diff in store.diffs.find({}, {"url": 1, "version": 1, "from_version": 1}):
            new = store.versions.find_one({"url": diff["url"], "version": diff["version"]})
            old = store.versions.find_one({"url": diff["url"], "version": diff["from_version"]})
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                diff_article(old["title"], old["paragraphs"], new["title"], new["paragraphs"])
                times.append((time.perf_counter() - start) * 1000)
            out.append((len(" ".join(new["paragraphs"]).split()), statistics.median(times)))
        return out
    finally:
        store.close()


# --- runs, checks, report ----------------------------------------------------------------------


BEFORE = "before: "  # prefix of the phases run from the ``--before`` checkout


def one_run(
    site: Site, articles: int, workdir: Path, phases: Iterable[Phase], before: Path | None = None
) -> Run:
    """Bare, then newscrawl's phases, then (with ``before``) the same from that checkout."""
    run, phases = Run(), list(phases)
    run.results[BARE.name] = bare_crawl(site, articles, workdir)
    if IDLE in phases:
        run.results[BARE_IDLE.name] = bare_crawl(site, articles, workdir, BARE_IDLE)
    checkouts = [("", REPO, workdir)] + ([(BEFORE, before, workdir / "before")] if before else [])
    for prefix, repo, directory in checkouts:
        directory.mkdir(parents=True, exist_ok=True)
        env = newscrawl_env(directory, write_sources(directory / "sources.toml", site, articles))
        for phase in phases:
            result = newscrawl_crawl(phase, site, articles, directory, env, repo)
            result.phase = prefix + phase.name
            run.results[result.phase] = result
    if any(phase.edited and phase.fetches for phase in phases):
        run.diff_ms = diff_timings(workdir / "data")
    return run


def problems(run: Run, articles: int) -> list[str]:
    """What is wrong with a run's counts (not its speed)."""
    feeds = -(-articles // PER_FEED)
    expected: list[tuple[str, str, Callable[[int, Result], bool]]] = [
        ("bare", "bench/article_responses", lambda v, r: v == articles),
        ("first crawl", "newscrawl/articles/new", lambda v, r: v == articles),
        ("first crawl", "newscrawl/feeds/polled", lambda v, r: v == feeds),
        ("unchanged, 304", "newscrawl/articles/not_modified", lambda v, r: v == articles),
        ("unchanged, 304", "newscrawl/feeds/not_modified", lambda v, r: v == feeds),
        ("unchanged, 200", "newscrawl/articles/same_bytes", lambda v, r: v == articles),
        ("10% edited", "newscrawl/articles/not_modified", lambda v, r: v == articles - r.edited),
        # stored at once, or held for the next check (NEWSCRAWL_HOLD_CHANGES, newscrawl.holding)
        (
            "10% edited",
            "newscrawl/articles/changed",
            lambda v, r: 0.9 * r.edited <= v + r.stat("newscrawl/articles/held") <= r.edited,
        ),
        ("nothing due", "newscrawl/feeds/not_modified", lambda v, r: v == feeds),
        ("nothing due", "newscrawl/articles/rechecks", lambda v, r: v == 0),
    ]
    out = []
    for phase, stat, ok in expected:
        for result in (run.results.get(phase), run.results.get(BEFORE + phase)):
            if result is not None and not ok(result.stat(stat), result):
                out.append(f"{result.phase}: {stat} = {result.stat(stat)} ({articles} articles)")
    fetching = {BARE.name, *(p.name for p in PHASES if p.fetches)}
    for result in run.results.values():
        pages = articles if result.phase.removeprefix(BEFORE) in fetching else 0
        # an edited article is fetched twice: the confirmation re-fetch (newscrawl.confirm)
        pages += result.stat("newscrawl/confirm/fetches")
        if result.stat("log_count/ERROR") or result.pages != pages:
            out.append(
                f"{result.phase}: {result.pages} article responses, "
                f"{result.stat('log_count/ERROR')} errors logged"
            )
    if run.results.get("10% edited") and len(run.diff_ms) != run.results["10% edited"].stat(
        "newscrawl/articles/changed"
    ):
        out.append(f"10% edited: {len(run.diff_ms)} diffs stored")
    return out


def median_of(runs: list[Run], value: Callable[[Run], float]) -> float:
    return statistics.median(value(run) for run in runs)


def print_table(runs: list[Run], articles: int) -> None:
    print(f"\n{articles} articles, {len(runs)} run(s): medians over runs, ratio to same-run bare")
    print(
        f"{'phase':24} {'whole s':>7} {'pages/s':>8} {'x bare':>7} | {'crawl s':>7} "
        f"{'pages/s':>8} {'x bare':>7} | {'PSS MB':>7} {'RSS MB':>7} {'MB fetched':>10} "
        f"{'server CPU':>10}"
    )
    for name in runs[0].results:

        def med(value: Callable[[Result, Result], float], n: str = name) -> float:
            return median_of(runs, lambda one: value(one.results[n], one.results["bare"]))

        wall = med(lambda x, b: x.wall)
        fetches = runs[0].results[name].pages > 0
        whole = med(lambda x, b: x.wall_rate) if fetches else 0.0
        whole_ratio = med(lambda x, b: x.wall_rate / b.wall_rate) if fetches else 0.0
        seconds = med(lambda x, b: x.seconds)
        rate = med(lambda x, b: x.rate) if fetches else 0.0
        ratio = med(lambda x, b: x.rate / b.rate) if fetches else 0.0
        peak = max(r.results[name].peak_kb for r in runs) / 1024
        peak_rss = max(r.results[name].peak_rss_kb for r in runs) / 1024
        fetched = med(lambda x, b: x.stat("downloader/response_bytes"))
        cpu = med(lambda x, b: x.server_cpu)
        print(
            f"{name:24} {wall:7.2f} {whole:8.1f} {whole_ratio:7.2f} | {seconds:7.2f} "
            f"{rate:8.1f} {ratio:7.2f} | {peak:7.0f} {peak_rss:7.0f} {fetched / 1e6:10.1f} "
            f"{cpu:10.0%}"
        )


def print_details(runs: list[Run], traf: list[float], ours: list[float]) -> None:
    first = median_of(runs, lambda r: r.results["first crawl"].rate)
    print(
        f"\ntrafilatura alone, one core: {statistics.median(traf):.1f} pages/s; "
        f"extract_article, one core: {statistics.median(ours):.1f} pages/s; "
        f"first crawl / trafilatura: {first / statistics.median(traf):.2f}"
    )
    repoll = median_of(
        runs,
        lambda r: r.results["unchanged, 304"].stat("bench/feed_bytes")
        / r.results["first crawl"].stat("bench/feed_bytes"),
    )
    print(f"feed re-poll (304) bytes / first poll bytes: {repoll:.2%}")
    diffs = [d for run in runs for d in run.diff_ms]
    if diffs:
        times = [ms for _, ms in diffs]
        words = sorted(w for w, _ in diffs)
        print(
            f"diff_article on {len(diffs)} stored edits ({words[0]}-{words[-1]} words, median "
            f"{statistics.median(words)}): median {statistics.median(times):.2f} ms, "
            f"worst {max(times):.2f} ms"
        )


def print_scale(run: Run, articles: int) -> None:
    print(f"\nscale point, {articles} articles (one run):")
    bare = run.results["bare"]
    for result in run.results.values():
        print(
            f"  {result.phase:24} whole {result.wall_rate:7.1f} pages/s "
            f"x bare {result.wall_rate / bare.wall_rate:.2f} ({result.wall:.0f} s); "
            f"in-crawl {result.rate:7.1f} x bare {result.rate / bare.rate:.2f}; "
            f"peak {result.peak_kb / 1024:.0f} MB PSS ({result.peak_rss_kb / 1024:.0f} MB RSS)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="300,1000", help="comma-separated article counts, each a table"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--scale",
        type=int,
        default=10_000,
        help="articles of the peak-memory scale point (0: skip)",
    )
    parser.add_argument(
        "--short", action="store_true", help=f"CI: {SHORT_ARTICLES} articles, 1 run, no scale point"
    )
    parser.add_argument(
        "--before", type=Path, help="another checkout whose crawls run beside this one's"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.short:
        sizes, args.runs, args.scale = [SHORT_ARTICLES], 1, 0

    pages = load_pages()
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}")
    site = Site(max(*sizes, args.scale))
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="crawl-speed-") as tmp:
            for size in sizes:
                runs, traf, ours = [], [], []
                for number in range(args.runs):
                    workdir = Path(tmp) / f"{size}-{number}"
                    runs.append(one_run(site, size, workdir, PHASES, args.before))
                    failures += problems(runs[-1], size)
                    traf.append(pages_per_second(pages, trafilatura_alone))
                    ours.append(pages_per_second(pages, newscrawl_extract))
                print_table(runs, size)
                print_details(runs, traf, ours)
            if args.scale:
                scale = one_run(site, args.scale, Path(tmp) / "scale", PHASES[:2], args.before)
                failures += problems(scale, args.scale)
                print_scale(scale, args.scale)
    finally:
        site.stop()
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
