"""Change cards: ``scrapy card`` and the viewer's ``/card.png`` over a store filled by real
crawls (``tests.support.tracked``); the image is checked by its pixels, the alt text by its words.

``NEWSCRAWL_CARD_SCREENSHOT=$PWD/docs/card.png python -m pytest tests/test_card.py -k command``
rewrites the README's example card."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from newscrawl.card import COLOURS, HEIGHT, WIDTH, Card, alt_text, render, shorten
from tests.support.commands import scrapy


def _pixels(png: bytes) -> dict[tuple[int, int, int], int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    return {colour: count for count, colour in image.getcolors(WIDTH * HEIGHT)}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _marked(png: bytes) -> tuple[int, int]:
    """Pixels of the removed (struck, red) and added (underlined, green) backgrounds."""
    pixels = _pixels(png)
    return pixels.get(_rgb(COLOURS["-"][1]), 0), pixels.get(_rgb(COLOURS["+"][1]), 0)


def test_scrapy_card_draws_the_headline_change_and_writes_its_alt_text(tracked, store, tmp_path):
    url = tracked.urls["headline"]
    shot = Path(os.environ.get("NEWSCRAWL_CARD_SCREENSHOT") or tmp_path / "card.png")
    result = scrapy(tracked.env, "card", url, "1", "3", "-o", str(shot))
    assert result.returncode == 0, result.stderr
    removed, added = _marked(shot.read_bytes())
    assert removed > 2000 and added > 2000  # words on both sides, not a stray pixel
    alt = shot.with_suffix(".txt").read_text()
    old = store.versions.find_one({"url": url, "version": 1})["title"]
    new = store.versions.find_one({"url": url, "version": 3})["title"]
    assert f"Headline changed from “{old}” to “{new}”." in alt
    assert "version 3" in alt and "against version 1" in alt
    diff = store.diffs.find_one({"url": url, "version": 3})
    (row,) = [r for r in diff["paragraphs"] if r["op"] == "replace"]
    removed_words = "".join(t for tag, t in row["segments"] if tag == "-").strip()
    assert f"Removed: “{removed_words}”" in alt
    assert alt.rstrip().endswith(f"Link: {url}")  # no public address configured


def test_viewer_serves_the_card_with_links_to_its_diff_page(client, tracked):
    url = tracked.urls["added"]
    response = client.get("/card.png", query_string={"url": url, "from": 1, "to": 2})
    assert response.status_code == 200 and response.mimetype == "image/png"
    removed, added = _marked(response.data)
    assert added > 2000 and removed == 0  # a paragraph added, nothing removed
    alt = client.get("/card.txt", query_string={"url": url, "from": 1, "to": 2}).text
    assert "Added: “" in alt and "Removed" not in alt
    assert "Link: http://localhost/diff?url=" in alt and "from=1&to=2" in alt
    assert client.get("/card.png", query_string={"url": url, "from": 2, "to": 9}).status_code == 404
    assert client.get("/card.png?url=http://127.0.0.1:1/untracked").status_code == 404


def _card(**changes) -> Card:
    moment = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    fields = dict(url="https://example.org/a", source="Example", title="Same headline",
                  headline=None, passages=[], old_version=1, new_version=2, old_time=moment,
                  new_time=moment, link="https://example.org/a")  # fmt: skip
    return Card(**{**fields, **changes})


def test_long_changes_are_cut_to_the_card_and_context_is_shortened():
    context = " ".join(f"w{i}" for i in range(40))
    assert shorten([["=", context], ["-", "old"], ["+", "new"], ["=", context]]) == [
        ["=", "… " + " ".join(f"w{i}" for i in range(32, 40))], ["-", "old"], ["+", "new"],
        ["=", " ".join(f"w{i}" for i in range(8)) + " …"],
    ]  # fmt: skip
    huge = _card(passages=[[["+", "added words " * 400]], [["-", "never shown " * 10]]])
    removed, added = _marked(render(huge))
    assert added > 20_000 and removed == 0  # the first passage fills the card, cut off
    assert "Removed: “never shown" in alt_text(huge)  # the alt text has everything
    assert "Headline: “Same headline”." in alt_text(huge)
