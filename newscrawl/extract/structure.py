"""Page-structure repair: the page's subheadings, lists and dropped prose put back into the
extraction's blocks, and the furniture outside the article's region left out."""

from __future__ import annotations

from dataclasses import replace

import lxml.html
from lxml import etree

from newscrawl.extract.blocks import (
    SUBHEADING_TAGS,
    Block,
    element_block,
    has_block_descendant,
    is_label,
    is_lead_in,
    is_term_list,
    list_blocks,
)
from newscrawl.extract.filters import is_noise
from newscrawl.extract.parse import element_text
from newscrawl.extract.region import in_region, is_prose, signature
from newscrawl.normalize import loose_key


def restore_structure(tree: lxml.html.HtmlElement, blocks: list[Block]) -> list[Block]:
    """The extraction's blocks with the page's own structure put back where it was lost.

    trafilatura's fallback extractors return every block as a paragraph, and its main
    extractor keeps or drops a subheading or a link-rich paragraph depending on what
    surrounds the article: either way the text of an unchanged article changes between
    fetches. A block whose text is only a subheading or a list item on the page is marked as
    one (so the heading and list rules of ``filter_blocks`` apply), and what was dropped
    right before a kept paragraph is put back (see ``_dropped_before``).
    """
    elements: dict[str, list[etree._Element]] = {}
    for element in tree.iter("p", "li", *SUBHEADING_TAGS):
        text = element_text(element)
        if text:
            elements.setdefault(text, []).append(element)
    kept = {block.text for block in blocks}
    structured: list[Block] = []
    previous: etree._Element | None = None
    for block in blocks:
        found = elements.get(block.text, [])
        if not found and not (block.heading or block.text_line) and is_label(block.text):
            block = replace(block, chrome=True)
        if found and not block.heading and all(e.tag in SUBHEADING_TAGS for e in found):
            block = replace(block, heading=True)
        if len(found) == 1 and is_term_list(found[0]):
            block = replace(block, terms=True)
        noise = is_noise(block)
        if structured and len(found) == 1 and not noise:
            headings = not (block.heading or structured[-1].heading)
            structured += _dropped_before(found[0], previous, kept, headings)
        structured.append(block)
        if found and not noise:  # a sign-up line does not bound the next gap
            # the same text in several places: where the block was is unknown
            previous = found[0] if len(found) == 1 else None
    return in_region(_regroup_lists(structured, elements), elements)


def _dropped_before(
    element: etree._Element, previous: etree._Element | None, kept: set[str], headings: bool
) -> list[Block]:
    """What the extraction dropped between a kept paragraph and the kept block before it.

    Walking back from the paragraph over what lies between the two in the page, nearest
    first: a subheading beside the paragraph (a sibling) is put back when ``headings`` allows
    it (not next to a kept heading), and so is prose (a paragraph of sentences, not one link;
    a pull quote; a wrapper holding only such paragraphs), a list of linked terms in the kept
    paragraph's markup, and a lead-in right before the kept block; a one-line promo and a box
    holding a form are stepped over. The walk ends at anything else, and without a kept block before
    the paragraph only subheadings can come back.
    """
    gap = _gap(element, previous)
    bounded = gap is not None
    restored: list[Block] = []
    for node in gap if gap is not None else element.itersiblings(preceding=True):
        text = element_text(node) if isinstance(node.tag, str) and node.tag != "noscript" else ""
        if not text:
            continue
        if text in kept:
            break
        if headings and node.tag in SUBHEADING_TAGS and node.getparent() is element.getparent():
            restored.append(element_block(node, heading=True))
        elif bounded and (prose := _prose(node)):
            restored += prose[::-1]
        elif bounded and _same_terms(node, element):
            restored.append(replace(element_block(node), terms=True))
        elif bounded and not restored and _lead_in(node):
            restored.append(element_block(node))  # announces the kept block ("In brief:")
        elif node.tag == "form" or node.find(".//form") is not None:
            continue  # a sign-up or search box is never article text, nor does it end the gap
        elif node.tag != "p" or not is_noise(element_block(node)):
            break  # a one-line promo ("Read more: …") does not end the gap either
    return restored[::-1]


# Markup of a line of text: a lead-in written in anything else (buttons, links, icons) is a
# widget's label ("Share", "Follow us on:").
_INLINE_TAGS = frozenset({"b", "strong", "i", "em", "span", "u", "mark", "small"})


def _lead_in(node: etree._Element) -> bool:
    """A line of text that announces the kept block right after it ("In brief:")."""
    if any(child.tag not in _INLINE_TAGS for child in node.iterdescendants()):
        return False
    return is_lead_in(element_block(node))


def _same_terms(node: etree._Element, paragraph: etree._Element) -> bool:
    """A list of linked terms written as a paragraph in the markup of the kept paragraph
    after it: a line of the article ("Miyagi: Sendai, Natori"), not a box of links."""
    return node.tag == "p" and signature(node) == signature(paragraph) and is_term_list(node)


def _gap(element: etree._Element, previous: etree._Element | None) -> list[etree._Element] | None:
    """The subtrees between ``previous`` and ``element`` in page order, nearest to ``element``
    first; None when ``previous`` does not come before ``element``."""
    if previous is None:
        return None
    before = {previous, *previous.iterancestors()}
    gap: list[etree._Element] = []
    node = element
    while node.getparent() is not None and node not in before:
        for sibling in node.itersiblings(preceding=True):
            if sibling in before:
                after_previous: list[etree._Element] = []
                inner = previous
                while inner is not sibling:
                    after_previous.extend(inner.itersiblings())
                    inner = inner.getparent()
                return gap + after_previous[::-1]
            gap.append(sibling)
        node = node.getparent()
    return None


def _prose(element: etree._Element) -> list[Block]:
    """A paragraph of prose, or the prose paragraphs of a quote (a pull quote in a figure) or
    of a wrapper that holds nothing else (but one-line promos, which are left out)."""
    if element.tag == "p":
        paragraphs = [element]
    elif element.tag in ("blockquote", "figure", "div", "section"):
        if "embed" in (element.get("class") or ""):
            return []  # an embedded post or a site-wide notice styled as a quote
        if element.xpath(".//img|.//iframe|.//form|.//ul|.//ol|.//aside|.//nav") or any(
            True for _ in element.iter(*SUBHEADING_TAGS)
        ):
            return []
        if element.tag != "figure" and element.xpath(".//figure"):
            return []
        paragraphs = [p for p in element.iter("p") if not has_block_descendant(p)]
        inside = "".join(loose_key(p.text_content()) for p in paragraphs)
        if element.tag in ("div", "section") and loose_key(element.text_content()) != inside:
            return []  # a wrapper with text outside its paragraphs: not only prose
    else:
        return []
    blocks = [element_block(p) for p in paragraphs]
    if element.tag != "p":
        blocks = [b for b in blocks if not is_noise(b)]
    return blocks if blocks and all(map(is_prose, blocks)) else []


def _regroup_lists(blocks: list[Block], elements: dict[str, list[etree._Element]]) -> list[Block]:
    """Runs of blocks that are items of one list on the page, judged as a list."""

    def list_of(block: Block) -> etree._Element | None:
        found = elements.get(block.text, [])
        if len(found) != 1:
            return None
        item = found[0] if found[0].tag == "li" else found[0].getparent()
        return item.getparent() if item is not None and item.tag == "li" else None

    regrouped: list[Block] = []
    run: list[Block] = []
    run_list: etree._Element | None = None
    for block in [*blocks, None]:
        owner = list_of(block) if block is not None and not block.heading else None
        if run and (owner is None or owner is not run_list):
            regrouped += list_blocks(run) if len(run) > 1 else run
            run = []
        if block is None:
            break
        if owner is None:
            regrouped.append(block)
        else:
            run.append(block)
            run_list = owner
    return regrouped
