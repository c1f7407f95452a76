"""``scrapy warc`` and ``scrapy reextract`` over a store filled by real crawls (``tests.tracked``,
whose crawls keep every version's raw page)."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from datetime import datetime

from warcio.archiveiterator import ArchiveIterator

from newscrawl.snapshots import Snapshots
from newscrawl.store import as_utc
from tests.conftest import REPO


def scrapy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def read_warc(path) -> list:
    records = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            records.append((record.rec_type, record.rec_headers, record.content_stream().read()))
    return records


def test_warc_round_trip_gives_the_exact_bytes_of_every_version(tracked, store, tmp_path):
    out = tmp_path / "all.warc.gz"
    result = scrapy(tracked.env, "warc", "-o", str(out))
    assert result.returncode == 0, result.stderr
    snapshots = Snapshots(store)
    expected = {(d["response_url"], as_utc(d["fetched_at"])): snapshots.body(d)
                for d in snapshots.find()}  # fmt: skip
    assert len(expected) == store.versions.count_documents({}) == 8
    records = read_warc(out)
    responses = [r for r in records if r[0] == "response"]
    requests = [r for r in records if r[0] == "request"]
    assert len(responses) == len(requests) == len(expected)
    got = {}
    for _, headers, payload in responses:
        digest = base64.b32encode(hashlib.sha1(payload).digest()).decode()
        assert headers.get_header("WARC-Payload-Digest") == f"sha1:{digest}"
        when = as_utc(datetime.fromisoformat(headers.get_header("WARC-Date")))
        got[(headers.get_header("WARC-Target-URI"), when)] = payload
    assert got == expected
    concurrent = {h.get_header("WARC-Concurrent-To") for _, h, _ in requests}
    assert concurrent == {h.get_header("WARC-Record-ID") for _, h, _ in responses}


def test_warc_of_one_article(tracked, tmp_path):
    out = tmp_path / "one.warc.gz"
    url = tracked.urls["headline"]
    result = scrapy(tracked.env, "warc", "-o", str(out), "--url", url + "?utm_source=x")
    assert result.returncode == 0, result.stderr
    uris = [h.get_header("WARC-Target-URI") for t, h, _ in read_warc(out) if t == "response"]
    assert uris == [url] * 3
