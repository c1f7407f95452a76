"""How tests start ``scrapy crawl feeds`` and ``scrapy serve``: one command line for every
test that crawls, one helper for every test that serves the viewer."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.mockserver import Site

REPO = Path(__file__).resolve().parents[2]
# Tests crawl a loopback site: no politeness delays.
FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0"}


def crawl_command(*args: str, settings: dict[str, str] | None = None) -> list[str]:
    """``scrapy crawl feeds ARGS`` with FAST and ``settings`` as ``-s`` options (run in REPO)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "feeds", *args]
    for name, value in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """``scrapy serve --port 0`` (waitress, 4 threads) over ``env``'s store; yields the base
    URL it prints, and stops the server on exit."""
    cmd = [sys.executable, "-m", "scrapy", "serve", "--port", "0"]
    process = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        lines = [process.stderr.readline()]
        while "newscrawl viewer on" not in lines[-1] and lines[-1] and len(lines) < 50:
            lines.append(process.stderr.readline())  # past any warnings printed first
        assert "newscrawl viewer on http://127.0.0.1:" in lines[-1], "".join(lines)
        yield lines[-1].split(" on ", 1)[1].strip().rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def write_sources(path: Path, site: Site, feeds: list[str], extra: str = "") -> Path:
    domain = "127.0.0.1"
    feed_list = ", ".join(f'"{site.url(f)}"' for f in feeds)
    path.write_text(
        f'[[source]]\nname = "Local"\nfeeds = [{feed_list}]\ndomains = ["{domain}"]\n{extra}\n'
    )
    return path
