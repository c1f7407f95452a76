"""Loopback news site for ``bench.crawl_speed``: corpus pages repeated to N article URLs.

    python -m bench.crawl_server --port PORT --articles N

Serves ``/a/<i>`` (corpus page ``i % 53``, or an edited variant of it when editing is on and
``i % 10 == EDITED_RESIDUE``), ``/feed/<k>.xml`` (RSS of articles ``50k .. 50k+49`` with
headline, standfirst and date) and ``/robots.txt``, all held in memory. Validators (ETag /
Last-Modified) and 304 answers can be switched off. Control, for the benchmark driver only:

* ``POST /_control?conditional=0|1&edited=0|1&articles=N`` sets the mode; answers how many
  of the first N articles are edited.
* ``GET /_control`` answers the counters since the last ``POST`` (requests, 304s and body
  bytes per kind, and the server's CPU seconds) as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from xml.sax.saxutils import escape

from aiohttp import web

from tests.support.corpus import load_pages
from tests.support.mutations import edit_variants

PER_FEED = 50
EDITED_RESIDUE = 3  # articles i with i % 10 == 3 are edited: 10%
PUBLISHED = time.time() - 86_400
ROBOTS = b"User-agent: *\nAllow: /\n"


@dataclass(frozen=True)
class Body:
    data: bytes
    content_type: str
    etag: str
    last_modified: str


def body(data: bytes, content_type: str, modified: float) -> Body:
    etag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest()[:16] + '"'
    return Body(data, content_type, etag, formatdate(modified, usegmt=True))


class NewsSite:
    def __init__(self, articles: int, base: str) -> None:
        pages = load_pages()
        self.articles = articles
        self.base = base
        self.records = [p.record for p in pages]
        self.originals = [body(p.raw, "text/html", PUBLISHED) for p in pages]
        # edits of every corpus page: (page index, variant index) -> body
        self.edits: list[list[Body]] = []
        for page in pages:
            rng = random.Random(page.name)
            variants = edit_variants(page.html, page.record, rng)
            self.edits.append(
                [
                    body(html.encode(), "text/html; charset=utf-8", PUBLISHED + 3600)
                    for _, html, _, _ in variants
                ]
            )
        self.conditional = True
        self.editing = False
        self.counters: Counter[str] = Counter()
        self.cpu_start = time.process_time()

    def edited(self, index: int) -> Body | None:
        if index % 10 != EDITED_RESIDUE:
            return None
        variants = self.edits[index % len(self.edits)]
        return variants[(index // len(self.edits)) % len(variants)] if variants else None

    def edited_count(self, articles: int) -> int:
        return sum(self.edited(i) is not None for i in range(articles))

    def article(self, index: int) -> Body:
        edited = self.edited(index) if self.editing else None
        return edited or self.originals[index % len(self.originals)]

    def feed(self, number: int) -> Body:
        """RSS 2.0 like a publisher's: headline, standfirst and date for each article."""
        first = number * PER_FEED
        items = "".join(self._item(i) for i in range(first, min(first + PER_FEED, self.articles)))
        channel = f"<title>Feed {number}</title><link>{self.base}/</link>{items}"
        document = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}'
        return body(f"{document}</channel></rss>".encode(), "application/rss+xml", PUBLISHED)

    def _item(self, index: int) -> str:
        record = self.records[index % len(self.records)]
        standfirst = record["paragraphs"][0] if record["paragraphs"] else ""
        return (
            f"<item><title>{escape(record['title'])}</title><link>{self.base}/a/{index}</link>"
            f"<description>{escape(standfirst)}</description>"
            f"<pubDate>{formatdate(PUBLISHED, usegmt=True)}</pubDate></item>"
        )


def _index(text: str, suffix: str = "") -> int | None:
    text = text.removesuffix(suffix)
    return int(text) if text.isdigit() else None


def make_app(site: NewsSite) -> web.Application:
    feeds = {n: site.feed(n) for n in range(-(-site.articles // PER_FEED))}
    robots = body(ROBOTS, "text/plain", PUBLISHED)

    def resolve(path: str) -> tuple[str, Body | None]:
        if path.startswith("/a/"):
            index = _index(path[3:])
            ok = index is not None and index < site.articles
            return "article", site.article(index) if ok else None
        if path.startswith("/feed/"):
            index = _index(path[6:], ".xml")
            return "feed", feeds.get(index) if index is not None else None
        return ("robots", robots) if path == "/robots.txt" else ("other", None)

    async def serve(request: web.Request) -> web.Response:
        kind, page = resolve(request.path)
        site.counters[f"{kind}/requests"] += 1
        if page is None:
            return web.Response(status=404, text="not found")
        headers = {"Content-Type": page.content_type}
        if site.conditional:
            headers.update({"ETag": page.etag, "Last-Modified": page.last_modified})
            etag_match = request.headers.get("If-None-Match") == page.etag
            date_match = request.headers.get("If-Modified-Since") == page.last_modified
            if etag_match or date_match:
                site.counters[f"{kind}/not_modified"] += 1
                return web.Response(status=304, headers=headers)
        site.counters[f"{kind}/body_bytes"] += len(page.data)
        return web.Response(body=page.data, headers=headers)

    async def get_control(request: web.Request) -> web.Response:
        cpu = time.process_time() - site.cpu_start
        return web.json_response({**site.counters, "cpu_seconds": cpu})

    async def set_control(request: web.Request) -> web.Response:
        site.conditional = request.query.get("conditional", "1") == "1"
        site.editing = request.query.get("edited", "0") == "1"
        site.counters.clear()
        site.cpu_start = time.process_time()
        articles = int(request.query.get("articles", site.articles))
        return web.json_response({"edited": site.edited_count(articles)})

    app = web.Application()
    app.router.add_get("/_control", get_control)
    app.router.add_post("/_control", set_control)
    app.router.add_get("/{tail:.*}", serve)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--articles", type=int, required=True)
    args = parser.parse_args(argv)
    site = NewsSite(args.articles, f"http://127.0.0.1:{args.port}")
    web.run_app(make_app(site), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
