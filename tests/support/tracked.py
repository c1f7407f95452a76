"""A store filled by real ``scrapy crawl feeds`` runs, for the read-side tests (viewer, feeds,
commands), which only read it and so share one per module.

Three corpus pages under two sources, crawled with real edits in between:

* ``headline``  (source "Local"): v1 original, v2 headline changed, v3 a word changed.
* ``added``     (source "Local"): v1 original, v2 paragraph added, v3 a comma dropped (minor).
* ``payload``   (source "Other Desk"): v1 original, v2 title and a paragraph carrying markup
  payloads as text, which every reader must show escaped.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.corpus import CorpusPage, load_pages
from tests.support.crawling import REPO, crawl_command
from tests.support.mockserver import Site, rss
from tests.support.mutations import (
    WORD,
    _replace_in_text,
    body_edit,
    edit_jsonld,
    edit_variants,
    parse_html,
    serialize_html,
)

TITLE_PAYLOAD = '<script>alert("title")</script>'
PARAGRAPH_PAYLOAD = '"><img src=x onerror=alert("para")>'
_COMMA = re.compile(r",")


@dataclass
class Tracked:
    """Where the crawls stored: the store's settings and the articles' canonical URLs."""

    env: dict[str, str]
    urls: dict[str, str]


def tracked_pages() -> list[CorpusPage]:
    """Corpus pages (every 7th, none chosen by name) supporting the edits the scenario needs."""
    rng = random.Random(0)
    needed = {"headline_changed", "word_changed", "paragraph_added"}
    usable = []
    for page in load_pages()[::7]:
        kinds = {name for name, *_ in edit_variants(page.html, page.record, rng)}
        has_comma = any("," in p for p in page.record["paragraphs"][1:])
        if needed <= kinds and has_comma:
            usable.append(page)
    return usable[:3]


def tracked_variant(
    page_html: str, record: dict[str, Any], kind: str
) -> tuple[str, dict[str, Any]]:
    """The page with one real edit of ``kind`` and the record it should extract to."""
    for name, html, title, paragraphs in edit_variants(page_html, record, random.Random(1)):
        if name == kind:
            return html, {"title": title, "paragraphs": paragraphs}
    raise AssertionError(f"no {kind} edit for this page")


def minor_edit(page_html: str, record: dict[str, Any]) -> str:
    """The page with one comma dropped from a paragraph: a punctuation-only change."""
    result = body_edit(page_html, record, random.Random(2), _COMMA, lambda _: "")
    assert result, "no paragraph with a comma"
    return result[0]


def _payload(page: CorpusPage) -> str:
    """The page with markup payloads (as text) in its headline and one paragraph.

    In JSON-LD the payload's ``</script>`` is written ``<\\/script>``, as publishers do, so
    the test page stays the page it claims to be."""
    title = page.record["title"]
    word = WORD.findall(title)[0]
    pattern = re.compile(rf"\b{re.escape(word)}\b")
    new_title = pattern.sub(f"{word} {TITLE_PAYLOAD}", title, count=1)
    tree = parse_html(page.html)
    for element in tree.iter("title", "h1"):
        _replace_in_text(element, pattern, lambda w: f"{w} {TITLE_PAYLOAD}")
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").lower()
        if key in ("og:title", "twitter:title", "title") and meta.get("content"):
            meta.set("content", pattern.sub(f"{word} {TITLE_PAYLOAD}", meta.get("content"), 1))

    def headline(node: dict[str, Any]) -> bool:
        value = node.get("headline")
        if isinstance(value, str) and pattern.search(value):
            node["headline"] = pattern.sub(f"{word} {TITLE_PAYLOAD}", value, count=1)
            return True
        return False

    edit_jsonld(tree, headline)
    record = {"title": new_title, "paragraphs": page.record["paragraphs"]}
    result = body_edit(
        serialize_html(tree), record, random.Random(3), WORD, lambda w: f"{w} {PARAGRAPH_PAYLOAD}"
    )
    assert result, "no paragraph to carry the payload"
    in_json = json.dumps(TITLE_PAYLOAD)[1:-1]
    return result[0].replace(in_json, in_json.replace("</", "<\\/"))


def _crawl(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        crawl_command(*args),
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise AssertionError(f"crawl failed ({result.returncode}):\n{result.stderr[-6000:]}")


@contextmanager
def tracked_store(directory: Path) -> Iterator[Tracked]:
    """Serve three corpus pages, crawl them with edits between (each edit checked twice, as
    ``NEWSCRAWL_HOLD_CHANGES`` stores it), yield the store."""
    headline, added, payload = tracked_pages()
    site = Site().start()
    sources = directory / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "Local"\nfeeds = ["{site.url("/feed.xml")}"]\n'
        'domains = ["127.0.0.1"]\n\n'
        f'[[source]]\nname = "Other Desk"\nfeeds = ["{site.url("/other.xml")}"]\n'
        'domains = ["127.0.0.1"]\n'
    )
    env = {
        "NEWSCRAWL_DATA_DIR": str(directory / "data"),
        "MONGO_DATABASE": f"newscrawl_test_{uuid.uuid4().hex[:12]}",
        "MONGO_URI": os.environ.get("MONGO_URI", ""),
        "NEWSCRAWL_SOURCES": str(sources),
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
    }
    paths = {"headline": "/news/headline.html", "added": "/news/added.html",
             "payload": "/desk/payload.html"}  # fmt: skip
    urls = {key: site.url(path) for key, path in paths.items()}
    site.put("/feed.xml", rss("Local", [urls["headline"], urls["added"]]))
    site.put("/other.xml", rss("Other Desk", [urls["payload"]]))
    headline_v2, headline_record = tracked_variant(
        headline.html, headline.record, "headline_changed"
    )
    headline_v3, _ = tracked_variant(headline_v2, headline_record, "word_changed")
    added_v2, added_record = tracked_variant(added.html, added.record, "paragraph_added")
    payload_v2 = _payload(payload)
    rounds = [
        {"headline": headline.html, "added": added.html, "payload": payload.html},
        {"headline": headline_v2, "added": added_v2, "payload": payload_v2},
        {"headline": headline_v3, "added": minor_edit(added_v2, added_record)},
    ]
    try:
        for number, pages in enumerate(rounds):
            for key, html in pages.items():
                site.put(paths[key], html)
            _crawl(env, *(["-a", "recheck=all"] if number else []))
            if number:  # a re-check's new text is held; the next check stores it
                _crawl(env, "-a", "recheck=all")
        yield Tracked(env=env, urls=urls)
    finally:
        site.stop()
        if env["MONGO_URI"]:
            import pymongo

            with pymongo.MongoClient(env["MONGO_URI"]) as client:
                client.drop_database(env["MONGO_DATABASE"])
