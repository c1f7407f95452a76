"""``scrapy card URL [FROM [TO]] -o card.png``: a change as an image to post, with its alt
text beside it (``card.txt``); see ``newscrawl.card``. Scrapy imports every command module
at start-up, ``scrapy crawl`` too, so Pillow is imported only when a card is drawn."""

from __future__ import annotations

import argparse
from pathlib import Path

from newscrawl.cli import ComparisonCommand
from newscrawl.queries import Comparison


class Command(ComparisonCommand):
    usage = "URL [FROM [TO]] -o card.png"
    one_version_status = 1  # no change to draw: a card was asked for and none written
    summary = "Render a change of a tracked article as an image to post, with its alt text"

    def long_desc(self) -> str:
        return (
            "Render versions FROM and TO of a tracked article (default: the latest change) as "
            "a 1200x675 PNG, and write its alt text beside it (card.png -> card.txt). Links "
            "point at the viewer's diff page when NEWSCRAWL_PUBLIC_URL is set."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-o", "--output", default="card.png", metavar="FILE",
            help="the PNG to write (default card.png); its alt text goes in FILE.txt",
        )  # fmt: skip

    def show(self, comparison: Comparison, opts: argparse.Namespace) -> int:
        from newscrawl.card import alt_text, card_of, render

        card = card_of(comparison, self.settings.get("NEWSCRAWL_PUBLIC_URL") or "")
        png = Path(opts.output)
        png.write_bytes(render(card))
        png.with_suffix(".txt").write_text(alt_text(card), encoding="utf-8")
        print(f"wrote {png} and {png.with_suffix('.txt')}")
        return 0
