"""``scrapy card URL [FROM [TO]] -o card.png``: a change as an image to post, with its alt
text beside it (``card.txt``); see ``newscrawl.card``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.exceptions import UsageError

from newscrawl.card import alt_text, card_of, render
from newscrawl.cli import StoreCommand
from newscrawl.commands.diff import choose
from newscrawl.store import Store


class Command(StoreCommand):
    usage = "URL [FROM [TO]] -o card.png"
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

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not 1 <= len(args) <= 3:
            raise UsageError("give the article's URL and optionally two version numbers")
        if not all(a.isdigit() for a in args[1:]):
            raise UsageError("versions are numbers: scrapy card URL 1 3")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        comparison, problem, status = choose(store, args[0], [int(a) for a in args[1:]])
        if comparison is None:
            print(problem, file=sys.stderr)
            return status or 1
        card = card_of(comparison, self.settings.get("NEWSCRAWL_PUBLIC_URL") or "")
        png = Path(opts.output)
        png.write_bytes(render(card))
        png.with_suffix(".txt").write_text(alt_text(card), encoding="utf-8")
        print(f"wrote {png} and {png.with_suffix('.txt')}")
        return 0
