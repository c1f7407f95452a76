"""How tests start ``scrapy crawl feeds``: one command line for every test that crawls."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Tests crawl a loopback site: no politeness delays.
FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0"}


def crawl_command(*args: str, settings: dict[str, str] | None = None) -> list[str]:
    """``scrapy crawl feeds ARGS`` with FAST and ``settings`` as ``-s`` options (run in REPO)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "feeds", *args]
    for name, value in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd
