"""The article's region: the element that holds the article's prose, and the markup its
prose is written in. Text outside the region is not article text unless it is prose in the
markup of the region's own prose (a body split around an ad or a paywall) or comes before
the article's prose (a standfirst): a sign-up notice, an author bio or a teaser written as
sentences in a box of its own after the article is furniture, whatever an extractor keeps."""

from __future__ import annotations

from collections import Counter

from lxml import etree

from newscrawl.extract.blocks import ENDS_SENTENCE, Block, is_lead_in
from newscrawl.extract.filters import is_sentence

# Links over this share of a paragraph: a linked headline (a promo), not prose.
_ONE_LINK = 0.9
# The article's region holds this share of the prose the extraction located on the page.
_REGION_SHARE = 0.9

Signature = tuple[tuple[str, str], ...]


def is_prose(block: Block) -> bool:
    """Written as sentences: a long one however linked, a short one without links, or a
    lead-in ("The changes include:")."""
    if is_sentence(block.text) and block.link_chars < _ONE_LINK * len(block.text):
        return True
    if is_lead_in(block):
        return True
    return not block.link_chars and bool(ENDS_SENTENCE.search(block.text))


def signature(element: etree._Element) -> Signature:
    """A block's markup: its tag and classes and its parent's. A CMS writes every paragraph
    of an article in the same markup; a box of furniture has its own."""
    parts = []
    for node in (element, element.getparent()):
        if node is not None:
            parts.append((str(node.tag), " ".join(sorted((node.get("class") or "").split()))))
    return tuple(parts)


def in_region(blocks: list[Block], elements: dict[str, list[etree._Element]]) -> list[Block]:
    """The blocks without the furniture outside the article's region.

    The region is the innermost element that holds nearly all the prose (see ``is_prose``)
    the extraction found in one place on the page. A block found on the page only outside
    it is not article text, whatever the extractor returned, unless it is prose either
    before the region's first paragraph (a standfirst, a summary) or in the markup
    (``signature``) of prose inside the region, so that no paragraph of the article is lost.
    Copies of a block elsewhere on the page (which rotate) do not change the decision.
    """
    located = {b.text: found[0] for b in blocks if len(found := elements.get(b.text, [])) == 1}
    weight: Counter[etree._Element] = Counter()
    total = 0
    for block in blocks:
        element = located.get(block.text)
        if element is None or block.heading or not is_prose(block):
            continue
        total += len(block.text)
        for ancestor in element.iterancestors():
            weight[ancestor] += len(block.text)
    if not total:
        return blocks
    region = max(
        (a for a, w in weight.items() if w >= _REGION_SHARE * total),
        key=lambda a: sum(1 for _ in a.iterancestors()),
    )

    def inside(element: etree._Element) -> bool:
        return region in element.iterancestors()

    prose_markup = {
        signature(element)
        for block in blocks
        if (element := located.get(block.text)) is not None
        and inside(element)
        and not block.heading
        and is_prose(block)
    }
    kept: list[Block] = []
    started = False  # past the region's first paragraph of prose
    for block in blocks:
        copies = elements.get(block.text)
        prose = not block.heading and is_prose(block)
        if block.terms and not any(
            inside(e) and signature(e) in prose_markup for e in copies or ()
        ):
            continue  # a list of links in a box of its own: tags, a menu, not the article's
        if not copies or any(map(inside, copies)):
            started = started or (prose and block.text in located)
            kept.append(block)
        elif prose and (not started or any(signature(e) in prose_markup for e in copies)):
            kept.append(block)
    return kept
