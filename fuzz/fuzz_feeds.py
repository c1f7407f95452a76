"""atheris harness: ``parse_feed`` returns entries or raises FeedError, nothing else."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["newscrawl", "fastfeedparser", "feedparser"]):
    from newscrawl.feedparsing import FeedError, parse_feed


def test_one_input(data: bytes) -> None:
    try:
        entries = parse_feed(data)
    except FeedError:
        return
    assert all(isinstance(e.link, str) and e.link for e in entries)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
