"""A change as an image to post (the way diff bots post them), with its alt text.

1200×675 PNG (the 16:9 size social networks show in full): the source, the headline (its
change marked when it changed), the changed passages with removed words struck through on
red and added words underlined on green (a cue beside the colour), the two versions' times
and the article's address; the alt text links the viewer's diff page. Drawn with Pillow:
68 ms a card (median), where a headless chromium screenshot of the same card in the same
font took 2.2 s (README, "Change cards"), so the viewer can draw cards on request.

Text is set in DejaVu Sans when the system has it (most Linux systems; it covers Latin,
Greek and Cyrillic), else Pillow's own font. Scripts those fonts lack (CJK) show as boxes,
and right-to-left text is laid out left to right word by word: the alt text is always right.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from PIL import Image, ImageDraw, ImageFont

from newscrawl.payload import diff_link
from newscrawl.store import as_utc

WIDTH, HEIGHT = 1200, 675
MARGIN = 56
CONTEXT_WORDS = 8  # unchanged words kept on each side of a change
COLOURS: dict[str, Any] = {
    "background": "#ffffff", "text": "#1f2328", "muted": "#59636e", "accent": "#0b57d0",
    "rule": "#d0d7de",
    "-": ("#a40e26", "#ffe2e6"),  # removed: text, background
    "+": ("#0a5c2a", "#d6f5df"),  # added
}  # fmt: skip
_TOKEN = re.compile(r"\S+\s*|\s+")
Segment = list  # [tag, text], tag "=", "-" or "+" (newscrawl.diff)


@dataclass(frozen=True)
class Card:
    """What a card shows (built from a ``queries.Comparison``)."""

    url: str
    source: str
    title: str  # the new headline
    headline: list[Segment] | None  # its diff when it changed
    passages: list[list[Segment]]  # changed paragraphs, in order, context shortened
    old_version: int
    new_version: int
    old_time: datetime
    new_time: datetime
    link: str  # the viewer's diff page (NEWSCRAWL_PUBLIC_URL), else the article (alt text)


def card_of(comparison: Any, public_url: str = "", link: str | None = None) -> Card:
    """The card of a comparison; ``link`` (default: the viewer's diff page under
    ``public_url``, else the article) is what the alt text points at."""
    old, new, diff = comparison.old, comparison.new, comparison.diff
    url = comparison.article["_id"]
    passages = [
        shorten(row["segments"])
        for row in diff.get("paragraphs", [])
        if row["op"] != "equal" and not row.get("moved") and row.get("segments")
    ]
    return Card(
        url=url,
        source=comparison.article.get("source", ""),
        title=new["title"],
        headline=diff.get("title"),
        passages=passages,
        old_version=old["version"],
        new_version=new["version"],
        old_time=as_utc(old["fetched_at"]),
        new_time=as_utc(new["fetched_at"]),
        link=link or diff_link(public_url, url, old["version"], new["version"]) or url,
    )


def shorten(segments: list[Segment]) -> list[Segment]:
    """Unchanged stretches cut to CONTEXT_WORDS words beside each change."""
    out: list[Segment] = []
    for i, (tag, text) in enumerate(segments):
        if tag != "=":
            out.append([tag, text])
            continue
        words = text.split(" ")
        first, last = i == 0, i == len(segments) - 1
        if first and len(words) > CONTEXT_WORDS:
            text = "… " + " ".join(words[-CONTEXT_WORDS:])
        elif last and len(words) > CONTEXT_WORDS:
            text = " ".join(words[:CONTEXT_WORDS]) + " …"
        elif not first and not last and len(words) > 2 * CONTEXT_WORDS:
            text = " ".join([*words[:CONTEXT_WORDS], "…", *words[-CONTEXT_WORDS:]])
        out.append([tag, text])
    return out


def _when(moment: datetime) -> str:
    return moment.strftime("%-d %b %Y, %H:%M UTC")


def _side(segments: list[Segment], skip: str) -> str:
    return "".join(text for tag, text in segments if tag != skip)


def alt_text(card: Card) -> str:
    """The card in words, for the image's alt text (``card.txt``)."""
    lines = [
        f"Changes to an article{' from ' + card.source if card.source else ''}: version "
        f"{card.new_version} ({_when(card.new_time)}) against version {card.old_version} "
        f"({_when(card.old_time)}).",
    ]
    if card.headline:
        lines.append(
            f"Headline changed from “{_side(card.headline, '+').strip()}” to "
            f"“{_side(card.headline, '-').strip()}”."
        )
    else:
        lines.append(f"Headline: “{card.title}”.")
    for passage in card.passages:
        removed = " … ".join(t.strip() for tag, t in passage if tag == "-" and t.strip())
        added = " … ".join(t.strip() for tag, t in passage if tag == "+" and t.strip())
        if removed:
            lines.append(f"Removed: “{removed}”.")
        if added:
            lines.append(f"Added: “{added}”.")
    lines.append(f"Link: {card.link}")
    return "\n".join(lines) + "\n"


# --- drawing ------------------------------------------------------------------------------


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        # with a size, Pillow's own font is a FreeTypeFont too
        return cast(ImageFont.FreeTypeFont, ImageFont.load_default(size))


class _Canvas:
    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), COLOURS["background"])
        self.draw = ImageDraw.Draw(self.image)

    def lines(self, segments: list[Segment], font: Any, width: int) -> list[list[Segment]]:
        """``segments`` wrapped into lines of at most ``width`` pixels (runs of one tag)."""
        lines: list[list[Segment]] = [[]]
        x = 0.0
        for tag, text in segments:
            for token in _TOKEN.findall(text.replace("\n", " ")):
                size = font.getlength(token.rstrip())
                if x and x + size > width:
                    lines.append([])
                    x = 0.0
                    token = token.lstrip()
                    if not token:
                        continue
                while font.getlength(token.rstrip()) > width:  # a word wider than a line
                    cut = max(1, int(len(token) * width / font.getlength(token)) - 1)
                    lines[-1].append([tag, token[:cut]])
                    lines.append([])
                    token = token[cut:]
                line = lines[-1]
                if line and line[-1][0] == "-" and tag == "+":
                    x += font.size // 4  # the gap _line leaves between the two
                if line and line[-1][0] == tag:
                    line[-1][1] += token
                else:
                    line.append([tag, token])
                x += font.getlength(token)
        return [line for line in lines if line]

    def text_block(
        self, segments: list[Segment], font: Any, y: int, bottom: int, gap: float = 1.3
    ) -> int:
        """Draw wrapped ``segments`` from ``y``; lines past ``bottom`` are cut, the last one
        shown ending in "…". Returns the y below the block."""
        step = int(font.size * gap)
        lines = self.lines(segments, font, WIDTH - 2 * MARGIN)
        room = max(0, (bottom - y) // step)
        if len(lines) > room:
            lines = lines[:room]
            if lines:
                lines[-1][-1][1] = lines[-1][-1][1].rstrip()
                lines[-1].append(["=", " …"])
        for line in lines:
            self._line(line, font, y)
            y += step
        return y

    def _line(self, runs: list[Segment], font: Any, y: int) -> None:
        x = float(MARGIN)
        ascent, descent = font.getmetrics()
        for i, (tag, text) in enumerate(runs):
            shown = text.rstrip() if i == len(runs) - 1 or runs[i + 1][0] != tag else text
            width = font.getlength(shown.rstrip())
            if tag in ("-", "+"):
                colour, background = COLOURS[tag]
                self.draw.rectangle([x - 2, y - 2, x + width + 2, y + ascent + descent + 2],
                                    fill=background)  # fmt: skip
                self.draw.text((x, y), shown, font=font, fill=colour)
                thick = max(2, font.size // 14)
                if tag == "-":  # struck through
                    middle = y + ascent * 0.62
                    self.draw.line([x, middle, x + width, middle], fill=colour, width=thick)
                else:  # underlined
                    under = y + ascent + max(2, descent // 2)
                    self.draw.line([x, under, x + width, under], fill=colour, width=thick)
            else:
                self.draw.text((x, y), shown, font=font, fill=COLOURS["text"])
            x += font.getlength(text)
            if tag == "-" and i + 1 < len(runs) and runs[i + 1][0] == "+":
                x += font.size // 4  # a removed word and its replacement, apart

    def plain(self, text: str, font: Any, xy: tuple[float, float], colour: str,
              anchor: str = "la", width: int = WIDTH - 2 * MARGIN) -> None:  # fmt: skip
        while len(text) > 1 and font.getlength(text) > width:
            text = text[: int(len(text) * 0.9)] + "…" if len(text) > 60 else text[:-2] + "…"
        self.draw.text(xy, text, font=font, fill=COLOURS[colour], anchor=anchor)


def render(card: Card) -> bytes:
    """The card as PNG bytes."""
    canvas = _Canvas()
    small, label = _font(24), _font(26, bold=True)
    canvas.plain(card.source or "newscrawl", label, (MARGIN, MARGIN - 8), "accent")
    canvas.plain(f"version {card.old_version} → {card.new_version}", small,
                 (WIDTH - MARGIN, MARGIN - 6), "muted", anchor="ra", width=400)  # fmt: skip
    headline = _font(46, bold=True)
    segments = card.headline or [["=", card.title]]
    y = canvas.text_block(segments, headline, MARGIN + 40, MARGIN + 40 + 3 * 60, gap=1.25)
    y += 10
    canvas.draw.line([MARGIN, y, WIDTH - MARGIN, y], fill=COLOURS["rule"], width=2)
    y += 24
    footer = HEIGHT - MARGIN - 62
    body = _font(30)
    for passage in card.passages:
        if y + body.size > footer:
            break
        y = canvas.text_block(passage, body, y, footer) + 14
    if not card.passages and not card.headline:
        canvas.plain("Only the page's other headlines changed.", body, (MARGIN, y), "muted")
    canvas.draw.line([MARGIN, footer + 8, WIDTH - MARGIN, footer + 8], fill=COLOURS["rule"],
                     width=2)  # fmt: skip
    times = f"{_when(card.old_time)}  →  {_when(card.new_time)}"
    canvas.plain(times, small, (MARGIN, footer + 22), "muted")
    canvas.plain(card.url.split("://", 1)[-1], small, (MARGIN, footer + 54), "accent")
    out = io.BytesIO()
    canvas.image.save(out, "PNG", optimize=False)
    return out.getvalue()
