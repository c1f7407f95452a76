"""``scrapy diff URL [FROM [TO]]``: two versions of a tracked article, as a readable
terminal diff (colour on a terminal, ``[-deleted-]{+inserted+}`` marks otherwise)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from newscrawl import queries
from newscrawl.cli import ComparisonCommand, printable
from newscrawl.diff import headlines_changed
from newscrawl.web.humanize import later, stamp

Paint = Callable[[str, str], str]


def _marks(tag: str, text: str) -> str:
    return f"[-{text}-]" if tag == "-" else f"{{+{text}+}}"


def _colours(tag: str, text: str) -> str:
    return f"\x1b[31;9m{text}\x1b[0m" if tag == "-" else f"\x1b[32m{text}\x1b[0m"


def _inline(segments: list[list[str]], paint: Paint) -> str:
    return "".join(
        printable(text) if tag == "=" else paint(tag, printable(text)) for tag, text in segments
    )


def render(comparison: queries.Comparison, color: bool) -> str:
    """The comparison as text: a header, the headline change, then each changed paragraph
    with the count of unchanged ones between."""
    paint = _colours if color else _marks
    article, old, new, diff = comparison.article, comparison.old, comparison.new, comparison.diff
    lines = [
        printable(new["title"]),
        f"{printable(article['_id'])} ({printable(article.get('source') or '')})",
        f"version {old['version']} ({stamp(old['fetched_at'])}) -> version {new['version']} "
        f"({stamp(new['fetched_at'])}), {later(old['fetched_at'], new['fetched_at'])}",
        _size(diff, new),
    ]
    if diff.get("title"):
        lines += ["", "Headline:", "  " + _inline(diff["title"], paint)]
    for headline in diff.get("other_headlines") or ():
        lines += ["", "Other headline:", "  " + _inline(headline, paint)]
    unchanged = 0
    for row in diff["paragraphs"]:
        if row["op"] == "equal":
            unchanged += 1
            continue
        if unchanged:
            lines += ["", f"  ... {unchanged} unchanged paragraph{'s' * (unchanged > 1)} ..."]
            unchanged = 0
        lines += ["", _row_heading(row), "  " + _inline(row["segments"], paint)]
    if not headlines_changed(diff) and all(r["op"] == "equal" for r in diff["paragraphs"]):
        lines += ["", "No text changed."]
    return "\n".join(lines) + "\n"


def _size(diff: dict[str, Any], new: dict[str, Any]) -> str:
    size = f"+{diff.get('words_added', 0)} -{diff.get('words_removed', 0)} words"
    if diff.get("minor"):
        size += ", minor (punctuation/whitespace only)"
    if new.get("revert_of"):
        size += f", back to version {new['revert_of']}"
    return size


def _row_heading(row: dict[str, Any]) -> str:
    moved = " (moved)" if row.get("moved") else ""
    if row["op"] == "insert":
        return f"Added paragraph {row['new'] + 1}{moved}:"
    if row["op"] == "delete":
        return f"Removed paragraph {row['old'] + 1}{moved}:"
    return f"Paragraph {row['new'] + 1}:"


def use_color(choice: str) -> bool:
    if choice == "auto":
        return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return choice == "always"


class Command(ComparisonCommand):
    usage = "URL [FROM [TO]]"
    summary = "Show what changed between two versions of a tracked article"

    def long_desc(self) -> str:
        return (
            "Show what changed between versions FROM and TO of a tracked article (default: "
            "the latest version and the one before; with FROM only, FROM and the next one)."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--color", choices=("auto", "always", "never"), default="auto",
            help="colour the changes (auto: when writing to a terminal)",
        )  # fmt: skip

    def show(self, comparison: queries.Comparison, opts: argparse.Namespace) -> int:
        sys.stdout.write(render(comparison, use_color(opts.color)))
        return 0
