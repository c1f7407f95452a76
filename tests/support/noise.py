"""Page furniture reworded in place: noise that changes text already on the page.

Real pages rewrite their own furniture on every fetch: menus and teaser headlines rotate,
timestamps tick, view counts grow, footers change year, widget labels and sign-up copy are A/B
tested. ``tests.support.mutations`` inserts new blocks; these kinds change *existing* short
texts that are not part of the article (the expected title and paragraphs, a visible standfirst
included). Nothing here knows a page: the candidate texts are every short text slot outside the
expected article text, and which of them change (and how) is drawn from the seed.

Each kind is ``kind(tree, record, rng) -> bool`` (False: nothing to change on this page);
``noise_variant`` and ``noise_variants`` also serve ``tests.support.mutations``' insertion kinds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from newscrawl.normalize import clean_text
from tests.support.mutations import (
    NOISE_MUTATORS,
    article_container,
    article_paragraphs,
    parse_html,
    random_headline,
    serialize_html,
    text_key,
)

Record = dict[str, Any]
Rng = random.Random
Slot = tuple[Any, str]  # (element, "text" | "tail")
Kind = Callable[[Any, dict[str, Any], random.Random], bool]

MAX_WORDS = 25  # longer texts are prose, which a record might have left out of the article
_SKIP = {"head", "script", "style", "noscript", "template", "title", "svg", "h1", "textarea"}
_HEADINGS = {"h2", "h3", "h4", "h5", "h6"}
_LETTERS = re.compile(r"[^\W\d_]{3,}")
_DIGITS = re.compile(r"\d+")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s+[A-Z]{2,4})?(?:\s+\d{1,2}/\d{1,2}/\d{2,4})?"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    rf"|\d{{1,2}}\.?\s+(?:{'|'.join(m[:3] for m in _MONTHS)})[a-z]*\.?\s+\d{{4}}"
    rf"|(?:{'|'.join(m[:3] for m in _MONTHS)})[a-z]*\.?\s+\d{{1,2}},?\s+\d{{4}}"
    r"|\d+\s+(?:minutes?|hours?|days?|mins?|hrs?)\s+ago"
)
_WORDS = ("Latest", "Popular", "Exclusive", "Explained", "Live", "Opinion", "Weekend",
          "Members", "Premium", "Trending", "Daily", "Analysis", "Podcast", "Video")  # fmt: skip
_NAMES = ("Alex Morgan", "Sam Keller", "Jo Lindqvist", "Maria Rossi", "Tom Berger", "Ana Silva")
_ZONES = ("PST", "EST", "GMT", "CET", "UTC", "BST")
_CAPTION = re.compile(r"caption|credit|copyright|source|byline|author|meta|footer|promo")


# --- candidate texts ---------------------------------------------------------------------


def _excluded(tree: Any, record: dict[str, Any]) -> tuple[set[Any], str, Any]:
    """Elements whose text is article text, the article text's key, and its container."""
    paragraphs = article_paragraphs(tree, record)
    container = article_container(paragraphs)
    # A page's summary shown under the headline is its standfirst: article text even when the
    # record leaves it out, so a text equal to the meta description is never furniture.
    summaries = [
        m.get("content") or ""
        for m in tree.iter("meta")
        if (m.get("name") or m.get("property") or "").lower().endswith("description")
    ]
    texts = [record["title"], *record["paragraphs"], *summaries]
    article = "\n".join(text_key(t) for t in texts)
    excluded = set(paragraphs.values())
    if container is not None:
        excluded.update(e for e in container.iter(*_HEADINGS))
    return excluded, article, container


def furniture_slots(tree: Any, record: dict[str, Any]) -> list[Slot]:
    """Every short text slot not part of the article's expected title and paragraphs.

    A slot is out when its element or an ancestor holds article text (a matched paragraph,
    a subheading inside the article, the ``<h1>``) or when its text occurs in the expected
    text (a standfirst, a link inside a paragraph); only texts of at most ``MAX_WORDS``
    words with a letter or digit qualify.
    """
    excluded, article, _ = _excluded(tree, record)
    body = tree.find("body")
    if body is None:
        return []
    slots: list[Slot] = []

    def walk(element: Any, inside: bool) -> None:
        inside = inside or element in excluded or element.tag in _SKIP
        if not inside and element.text:
            _consider(slots, element, "text", article)
        for child in element:
            if isinstance(child.tag, str):
                walk(child, inside)
            if not inside and child.tail:
                _consider(slots, child, "tail", article)

    walk(body, False)
    return slots


def _consider(slots: list[Slot], element: Any, slot: str, article: str) -> None:
    text = clean_text(getattr(element, slot))
    if not re.search(r"\w", text) or len(text.split()) > MAX_WORDS:
        return
    block = _block(_owner((element, slot)))
    if block is not None and len(block.text_content().split()) > MAX_WORDS:
        return  # a piece of a long block: prose, even where the record leaves it out
    key = text_key(text)
    if len(key) >= 2 and key not in article:
        slots.append((element, slot))


_INLINE = {"a", "span", "b", "strong", "i", "em", "u", "small", "time", "abbr", "sup", "sub",
           "mark", "cite", "q", "font", "label", "code", "s", "br", "img"}  # fmt: skip


def _block(element: Any) -> Any | None:
    """The nearest block-level element holding ``element`` (itself if it is one)."""
    for candidate in (element, *element.iterancestors()):
        if candidate.tag not in _INLINE:
            return candidate
    return None


def _owner(slot: Slot) -> Any:
    element, name = slot
    return element if name == "text" else element.getparent()


def _in_link(slot: Slot) -> bool:
    owner = _owner(slot)
    return owner.tag == "a" or any(a.tag == "a" for a in owner.iterancestors())


# --- rewording ---------------------------------------------------------------------------


def _timestamp(rng: random.Random) -> str:
    when = datetime(2031, 1, 1) + timedelta(minutes=rng.randrange(60 * 24 * 365))
    hour = when.hour % 12 or 12
    ampm = "AM" if when.hour < 12 else "PM"
    return rng.choice(
        (
            when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            when.strftime("%Y-%m-%d %H:%M"),
            f"{hour}:{when.minute:02d} {ampm} {rng.choice(_ZONES)} {when:%m/%d/%Y}",
            f"{when.day} {_MONTHS[when.month - 1]} {when.year}, {when:%H:%M}",
            f"{_MONTHS[when.month - 1][:3]} {when.day}, {when.year}",
            f"{when:%d.%m.%Y %H:%M}",
            f"{rng.randrange(2, 59)} minutes ago",
        )
    )


def reword(text: str, rng: random.Random) -> str:
    """The same kind of text, changed: a new time for a timestamp, other numbers, one word."""
    if _DATE.search(text):
        return _DATE.sub(lambda _: _timestamp(rng), text, count=1)
    if _DIGITS.search(text):
        return _DIGITS.sub(lambda m: str(int(m.group()) + rng.randrange(1, 97)), text)
    words = list(_LETTERS.finditer(text))
    if not words:
        return f"{text} {rng.choice(_WORDS)}"
    match = rng.choice(words)
    new = rng.choice([w for w in _WORDS if w.lower() != match.group().lower()])
    return text[: match.start()] + new + text[match.end() :]


def _reword_slot(slot: Slot, rng: Rng, replace: Callable[[str], str] | None = None) -> None:
    element, name = slot
    value = getattr(element, name)
    lead = value[: len(value) - len(value.lstrip())]
    trail = value[len(value.rstrip()) :]
    setattr(element, name, lead + (replace or (lambda t: reword(t, rng)))(value.strip()) + trail)


def _sample(slots: list[Slot], rng: random.Random, share: float) -> list[Slot]:
    if not slots:
        return []
    return rng.sample(slots, max(1, round(len(slots) * share)))


# --- kinds -------------------------------------------------------------------------------


def _churn(tree: Any, record: Record, rng: Rng) -> bool:
    """A broad random share (10-40%) of all furniture texts, each reworded by its type."""
    chosen = _sample(furniture_slots(tree, record), rng, rng.uniform(0.1, 0.4))
    for slot in chosen:
        _reword_slot(slot, rng)
    return bool(chosen)


def _links_reworded(tree: Any, record: Record, rng: Rng) -> bool:
    """Link texts (menus, teaser headlines, bylines' linked names): about half rotate."""
    links = [s for s in furniture_slots(tree, record) if _in_link(s)]
    chosen = _sample(links, rng, 0.5)
    for slot in chosen:
        words = len(clean_text(getattr(*slot)).split())
        if words >= 4:
            _reword_slot(slot, rng, lambda _: random_headline(rng))
        elif words in (2, 3) and clean_text(getattr(*slot)).istitle():
            _reword_slot(slot, rng, lambda _: rng.choice(_NAMES))
        else:
            _reword_slot(slot, rng)
    return bool(chosen)


def _labels_reworded(tree: Any, record: Record, rng: Rng) -> bool:
    """Short texts outside links (widget labels, sign-up copy, "Summary"): about half."""
    labels = [
        s for s in furniture_slots(tree, record)
        if not _in_link(s) and len(clean_text(getattr(*s)).split()) <= 8
    ]  # fmt: skip
    chosen = _sample(labels, rng, 0.5)
    for slot in chosen:
        _reword_slot(slot, rng)
    return bool(chosen)


def _numbers_changed(tree: Any, record: Record, rng: Rng) -> bool:
    """Every furniture number moves (view and comment counts, copyright years, dates)."""
    numbered = [s for s in furniture_slots(tree, record) if _DIGITS.search(getattr(*s))]
    for slot in numbered:
        _reword_slot(slot, rng, lambda t: _DIGITS.sub(lambda m: str(int(m.group()) + 1), t))
    return bool(numbered)


def _timestamps_changed(tree: Any, record: Record, rng: Rng) -> bool:
    """Every furniture timestamp re-rendered, in a format drawn per fetch."""
    stamped = [s for s in furniture_slots(tree, record) if _DATE.search(getattr(*s))]
    for slot in stamped:
        _reword_slot(slot, rng, lambda t: _DATE.sub(lambda _: _timestamp(rng), t))
    return bool(stamped)


def _captions_reworded(tree: Any, record: Record, rng: Rng) -> bool:
    """Texts in figures and in elements named like furniture (captions, credits, bylines)."""

    def furniture(slot: Slot) -> bool:
        owner = _owner(slot)
        for element in (owner, *owner.iterancestors()):
            if element.tag in ("figure", "figcaption", "footer", "small", "time"):
                return True
            if _CAPTION.search(f"{element.get('class', '')} {element.get('id', '')}".lower()):
                return True
        return False

    chosen = [s for s in furniture_slots(tree, record) if furniture(s)]
    chosen = _sample(chosen, rng, 0.6)
    for slot in chosen:
        _reword_slot(slot, rng)
    return bool(chosen)


def _edges_reworded(tree: Any, record: Record, rng: Rng) -> bool:
    """Furniture just before and just after the article (bylines, tags, "Read next")."""
    slots = furniture_slots(tree, record)
    order = {element: i for i, element in enumerate(tree.iter())}
    paragraphs = article_paragraphs(tree, record)
    if not slots or not paragraphs:
        return False
    first = min(order[e] for e in paragraphs.values())
    last = max(order[e] for e in paragraphs.values())
    before = sorted((s for s in slots if order[s[0]] < first), key=lambda s: -order[s[0]])
    after = sorted((s for s in slots if order[s[0]] > last), key=lambda s: order[s[0]])
    chosen = before[: rng.randrange(1, 6)] + after[: rng.randrange(1, 6)]
    for slot in chosen:
        _reword_slot(slot, rng)
    return bool(chosen)


def _dateline_in_body(tree: Any, record: Record, rng: Rng) -> bool:
    """A dateline with a linked author name just before the first paragraph, fresh time."""
    paragraphs = article_paragraphs(tree, record)
    if not paragraphs:
        return False
    first = paragraphs[min(paragraphs)]
    tag = rng.choice(("p", "div", "span"))
    name = rng.choice(_NAMES)
    slug = name.lower().replace(" ", "-")
    link = f'<a href="/author/{slug}">{name}</a>'
    markup = f'<{tag} class="dateline">{_timestamp(rng)} by {link}</{tag}>'
    element = parse_html(f"<html><body>{markup}</body></html>").find("body")[0]
    first.addprevious(element)
    return True


REWORDED: dict[str, Kind] = {
    "furniture_churn": _churn,
    "links_reworded": _links_reworded,
    "labels_reworded": _labels_reworded,
    "numbers_changed": _numbers_changed,
    "timestamps_changed": _timestamps_changed,
    "captions_reworded": _captions_reworded,
    "edges_reworded": _edges_reworded,
    "dateline_in_body": _dateline_in_body,
}
INSERTED = tuple(NOISE_MUTATORS)
NOISE_KINDS = (*INSERTED, *REWORDED)


def noise_variant(html: str, record: dict[str, Any], kind: str, rng: random.Random) -> str | None:
    """``html`` with one noise kind applied (either module's), or None when it does not apply."""
    tree = parse_html(html)
    if kind in REWORDED:
        changed = REWORDED[kind](tree, record, rng)
    else:
        paragraphs = article_paragraphs(tree, record)
        container = article_container(paragraphs)
        changed = container is not None and NOISE_MUTATORS[kind](tree, container, paragraphs, rng)
    return serialize_html(tree) if changed else None


def noise_variants(
    html: str, record: dict[str, Any], rng: random.Random, kinds: tuple[str, ...] = NOISE_KINDS
) -> Iterator[tuple[str, str]]:
    """(kind, html) for every kind that applies to the page."""
    for kind in kinds:
        variant = noise_variant(html, record, kind, rng)
        if variant is not None:
            yield kind, variant
