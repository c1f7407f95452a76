"""Body blocks: trafilatura's extraction (or a CSS container) as text blocks in page order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import lxml.html
from lxml import etree

from newscrawl.extract.parse import element_text
from newscrawl.normalize import clean_text

_WORDS = re.compile(r"\w+")
_LABEL_WORDS = 5
_LABEL_CHARS = 40  # a few words of a script written without spaces are one \w+ run
# Ends like a sentence, possibly inside quotes or brackets. Not newscrawl.furniture's test,
# which also takes CJK terminators and "»": with it, extraction keeps or drops other blocks.
ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
_LIST_TAGS = frozenset({"list", "ul", "ol"})
SUBHEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
# Headings in trafilatura XML (head) and in HTML.
_HEADING_TAGS = SUBHEADING_TAGS | {"head", "h1"}
# Text blocks in trafilatura XML (p, head, item) and in HTML (body_css, fallback extractors).
_BLOCK_TAGS = ("p", "head", "item", "quote", "li", *sorted(SUBHEADING_TAGS), "blockquote", "pre")


@dataclass(frozen=True)
class Block:
    """A text block of the body, as the stages judge it."""

    text: str
    link_chars: int
    heading: bool = False
    fragment_list: bool = False  # an item of a list of fragments (see body_blocks)
    chrome: bool = False  # a widget's label (set by structure.restore_structure)
    text_line: bool = False  # a line of a text laid out with <br>, not a widget's label
    terms: bool = False  # the page's paragraph is a list of linked terms (is_term_list)


def trafilatura_blocks(tree: lxml.html.HtmlElement, url: str) -> list[Block]:
    # Imported on first use: the crawl process extracts nothing when workers do, and a
    # re-check of unchanged pages extracts nothing at all (saves ~0.3 s and ~40 MB there).
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_links=True,
        include_tables=False,
        output_format="xml",
    )
    if not isinstance(document, Document) or document.body is None:
        return []
    return list(body_blocks(document.body))


def body_blocks(element: etree._Element) -> Iterator[Block]:
    """Innermost text blocks in order (trafilatura XML or, from its fallbacks, HTML)."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _BLOCK_TAGS and not has_block_descendant(child):
            heading = child.tag in _HEADING_TAGS
            if heading or child.find(".//lb") is None and child.find(".//br") is None:
                yield element_block(child, heading=heading)
            else:
                yield from _line_blocks(child)
        elif child.tag in _LIST_TAGS:
            yield from list_blocks(list(body_blocks(child)))
        else:
            yield from body_blocks(child)


def list_blocks(blocks: list[Block]) -> list[Block]:
    """A list's blocks, flagged when no item is a sentence.

    Lists of fragments (spec sheets, "key facts", ingredient and product lists, link lists)
    sit beside the story rather than tell it; bullet points written as sentences are kept.
    """
    items = [b for b in blocks if not b.heading]
    if items and not any(ENDS_SENTENCE.search(b.text) for b in items):
        return [replace(b, fragment_list=True) for b in blocks]
    return blocks


def is_lead_in(block: Block) -> bool:
    """A line announcing what follows it, ending in a colon ("He said:", "The changes
    include:"): the article's own words, though not a sentence."""
    return (
        block.text.endswith((":", "："))
        and 2 * block.link_chars < len(block.text)
        and len(block.text.split(maxsplit=1)) > 1
    )


def has_block_descendant(element: etree._Element) -> bool:
    return any(d is not element for d in element.iter(*_BLOCK_TAGS))


def element_block(element: etree._Element, heading: bool = False) -> Block:
    links = sum(len(clean_text("".join(ref.itertext()))) for ref in element.iter("ref", "a"))
    return Block(element_text(element), links, heading)


_BREAK = object()


def is_label(text: str) -> bool:
    """A few words, not a sentence: a widget's label ("Latest Videos From") when it stands
    outside any paragraph, heading or list item of the page."""
    return (
        count_words(text) <= _LABEL_WORDS
        and len(text) <= _LABEL_CHARS
        and not ENDS_SENTENCE.search(text)
    )


# Between the items of a list of terms written as one line: commas (Latin, CJK, full-width),
# semicolons, bars, slashes, middle dots, and the colon after its label.
_TERM_SEPARATORS = re.compile(r"[,、，;；|/·•:：]")


def is_term_list(element: etree._Element) -> bool:
    """A paragraph listing terms, most of them links ("Miyagi: <a>Sendai</a>, <a>Natori</a>,
    Iwanuma"): a line of places, people or results, which is article text where it stands
    among the article's paragraphs, however linked. Every item is a few words and the line
    is not a sentence, so a linked headline or a paragraph with links in it is not one."""
    links = [text for link in element.iter("a") if (text := element_text(link))]
    if len(links) < 2:
        return False
    text = element_text(element)
    if ENDS_SENTENCE.search(text):
        return False
    items = [item.strip() for item in _TERM_SEPARATORS.split(text) if item.strip()]
    linked = sum(any(link in item for link in links) for item in items)
    return len(items) >= 2 and all(map(is_label, items)) and 2 * linked >= len(items)


def _line_blocks(element: etree._Element) -> list[Block]:
    """A block's lines as blocks: text separated by line breaks (``<br>``, trafilatura's
    ``<lb>``) is how some CMSs lay out paragraphs, so each line is judged, and its edits
    shown, on its own. A short line among them (a subheading, a line of a list) is the
    text's own (``text_line``); only a block of nothing but labels is a widget's."""
    lines: list[Block] = []
    line: list[tuple[str, bool]] = []
    for piece in [*_pieces(element, False), _BREAK]:
        if piece is not _BREAK:
            line.append(piece)
            continue
        text = clean_text("".join(t for t, _ in line))
        if text:
            links = sum(len(clean_text(t)) for t, linked in line if linked)
            lines.append(Block(text, min(links, len(text))))
        line = []
    if all(is_label(b.text) for b in lines):
        return lines
    return [replace(b, text_line=True) for b in lines]


def _pieces(element: etree._Element, linked: bool) -> Iterator[Any]:
    """Text pieces of an element in order, each with whether it is link text, and _BREAK
    at each line break."""
    if element.tag in ("lb", "br"):
        yield _BREAK
        return
    linked = linked or element.tag in ("ref", "a")
    if element.text:
        yield element.text, linked
    for child in element:
        if isinstance(child.tag, str):
            yield from _pieces(child, linked)
        if child.tail:
            yield child.tail, linked


def css_blocks(tree: lxml.html.HtmlElement, selector: str) -> list[Block]:
    containers = tree.cssselect(selector)
    return list(body_blocks(containers[0])) if containers else []


def count_words(text: str | list[str]) -> int:
    return len(_WORDS.findall(text if isinstance(text, str) else " ".join(text)))
