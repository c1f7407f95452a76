"""Noise filters: page furniture, timestamps, datelines, link lists, duplicates."""

from __future__ import annotations

import re

from newscrawl.extract.blocks import ENDS_SENTENCE, Block
from newscrawl.normalize import loose_key

# Lines that are page furniture, not article text (matched on the whole paragraph).
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:read|see|watch|listen|more|related|also\ read|read\ also|recommended|most\ read
           |trending|don't\ miss|top\ stories|latest|explore\ more)\b[^.!?]{0,150}?[:：]\s*.*
      | (?:\d+\s+)?related\ (?:stories|articles|content|coverage|posts)
      | (?:updated|published|last\ updated|posted|first\ published)\b.{0,60}
      | \d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago
      | [\d.,]+\s*[kKmM]?\s+(?:shares?|comments?|views?|reads?)
      | (?:share|share\ this\ (?:article|story)|advertisement|sponsored|skip\ advert
           |(?:story|article)\ continues\ below(?:\ advertisement)?|comments)
      | .{0,120}\bsign\ up\b.{0,160}\bnewsletters?\b.{0,160}
      | .{0,80}\bnewsletters?\b.{0,40}\bsign\ up\b.{0,120}
      | (?:follow|like)\ us\ on\b.{0,120}
      | (?:[^.!?]{0,40}[?!]\s+)?(?:let\ us\ know|share\ your\ (?:thoughts|views|opinions?))
          \b.{0,100}\b(?:in|below)\b.{0,20}\bcomments?\b.{0,40}
      | (?:get|receive)\b.{0,100}\bin\ your\ inbox\b.{0,40}
      | sign\ up\ (?:for|to)\b.{0,120}
      | by\ (?:submitting|signing\ up|clicking|registering)\b.{0,200}
          \b(?:privacy|terms)\b.{0,200}
      | .{0,80}\b(?:log|sign)\ in\ or\ (?:create\ an\ account|register|sign\ up)\b.{0,100}
      | .{0,120}\b(?:browser|javascript)\b.{0,60}
          \b(?:limited\ support|not\ supported|disabled|out\ of\ date)\b.{0,300}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Date/time-only lines such as "12:34 BST", "1 May 2024", "May 1, 2024 10:02 am EDT": every
# token between separators must be a date/time word. Checked token by token, never as one
# regular expression over the line, whose alternatives ("at" is a word and an abbreviation)
# backtrack exponentially on hostile input.
_TIMESTAMP_SEPARATORS = re.compile(r"[\s,\-–|/]+")
_TIMESTAMP_TOKEN = re.compile(
    r"""(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*
      | (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*
      | \d{1,4}(?:st|nd|rd|th)?
      | \d{1,2}[:.]\d{2}(?:[:.]\d{2})?
      | \d{1,4}(?:\.\d{1,2}){1,2}\.?|\d{1,2}\.\d{1,2}\.\d{2,4}  # 22.04.2024
      | \d{1,2}T\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|\+\d{2}:?\d{2})?  # ISO 8601
      | [ap]\.?m
      | (?-i:[A-Z]{2,4})  # time zones: BST, EDT, GMT (upper case only)
      | updated|published|posted|at|on""",
    re.IGNORECASE | re.VERBOSE,
)
_HAS_DIGIT = re.compile(r"\d")

_LINK_DENSITY_MAX = 0.6


def filter_blocks(blocks: list[Block], headlines: frozenset[str]) -> list[str]:
    """Body text without noise, duplicates, the headline, and headings that head no text.

    A heading followed by another heading, by nothing, or by a block dropped as noise (other
    than a one-line promo) heads a widget ("More from this section" over a link list), not a
    section.
    """
    seen: set[str] = set()
    kept: list[Block] = []
    for block in blocks:
        key = loose_key(block.text)
        if not key or key in seen or key in headlines:
            continue
        if is_noise(block):
            # A one-line promo ("Read more: …") inside a section leaves its heading alone.
            if kept and kept[-1].heading and not _BOILERPLATE.match(block.text):
                kept.pop()
            continue
        if kept and kept[-1].heading and block.heading:
            kept.pop()
        seen.add(key)
        kept.append(block)
    if kept and kept[-1].heading:
        kept.pop()
    return [block.text for block in kept]


def is_noise(block: Block) -> bool:
    text = block.text
    if block.fragment_list or block.chrome:
        return True
    if block.link_chars > _LINK_DENSITY_MAX * len(text) and not (block.terms or is_sentence(text)):
        return True  # a linked headline or link list; a long linked *sentence* is body text
    if _BOILERPLATE.match(text):
        return True
    return (
        len(text) < 80
        and bool(_HAS_DIGIT.search(text))
        and (_is_timestamp(text) or _is_dateline(text))
    )


def is_sentence(text: str) -> bool:
    """Ten words or more ending like a sentence: prose, even when mostly linked (headlines
    do not end so). Counted, not matched with one regular expression, which backtracks
    quadratically on a long text without an end."""
    return bool(ENDS_SENTENCE.search(text)) and len(text.split(maxsplit=10)) > 9


# A token that alone dates a line: a time of day, a year, a numeric date.
_DATING_TOKEN = re.compile(r"\d{1,2}[:.]\d{2}|(?:19|20)\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d+T\d")


def _is_dateline(text: str) -> bool:
    """A short line mostly of dates and times, in any language ("Stand: 22.04.2024, 06:00
    Uhr", "5:45 AM PST 11/19/2019 by NAME"): at least half its tokens are date or time
    tokens and one of them dates it (a score such as "2-1" does not), and it is not a
    sentence. Such lines change on every republication without the article changing."""
    if ENDS_SENTENCE.search(text) and not text.endswith(".."):
        return False
    tokens = [t.strip(".:;()") for t in _TIMESTAMP_SEPARATORS.split(text)]
    tokens = [t for t in tokens if t]
    dating = [t for t in tokens if _TIMESTAMP_TOKEN.fullmatch(t)]
    return 2 * len(dating) >= len(tokens) and any(_DATING_TOKEN.match(t) for t in dating)


def _is_timestamp(text: str) -> bool:
    tokens = [t.strip(".") for t in _TIMESTAMP_SEPARATORS.split(text)]
    return all(_TIMESTAMP_TOKEN.fullmatch(t) for t in tokens if t)
