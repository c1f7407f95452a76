"""Parse and clean: the page as an lxml tree, without code, hidden text and embeds."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from newscrawl.normalize import clean_text

# Characters lxml refuses or that only come from broken input.
_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def decode_body(body: bytes, encoding: str) -> str:
    """The body as Scrapy's ``TextResponse.text`` gives it, ``encoding`` being the
    response's ``encoding``."""
    return html_to_unicode(f"charset={encoding}", body)[1]


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    if isinstance(html, bytes):
        raw = html
        try:  # valid UTF-8 beyond ASCII is UTF-8, whatever the page declares
            html = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            _, html = html_to_unicode(None, raw)
    html = _INVALID_CHARS.sub("", html)
    if not html.strip():
        return None
    # Bytes + explicit encoding: lxml refuses str input that carries an XML encoding declaration.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False
    )
    try:
        return lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def remove(element: etree._Element) -> None:
    """Remove an element but keep its tail text (which belongs to the parent)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# Markup that is never the article's own text, named by conventions shared across sites:
# social-media embeds (the class names are the platforms' embed codes) and text only screen
# readers get (CSS frameworks' and WordPress's visually-hidden classes).
_EMBED_CLASSES = frozenset(
    {
        "twitter-tweet",
        "twitter-video",
        "instagram-media",
        "tiktok-embed",
        "bluesky-embed",
        "reddit-embed-bq",
        "text-post-media",
    }
)
_HIDDEN_CLASSES = frozenset(
    {
        "sr-only",
        "visually-hidden",
        "visuallyhidden",
        "screen-reader-text",
        "screenreader-only",
        "element-invisible",
    }
)


_CODE_TAGS = frozenset({"script", "style", "template"})


def drop_non_article(tree: lxml.html.HtmlElement) -> None:
    """Remove scripts and styles (their text is code), hidden text and social embeds.

    One pass over the elements with a set test per class list: an XPath testing each class
    name with ``contains(concat(...))`` costs a tenth of trafilatura's own extraction time.
    """
    found = []
    for element in tree.iter(etree.Element):
        if element.tag in _CODE_TAGS:
            found.append(element)
            continue
        names = (element.get("class") or "").split()
        if names and (
            not _HIDDEN_CLASSES.isdisjoint(names)
            or (element.tag == "blockquote" and not _EMBED_CLASSES.isdisjoint(names))
        ):
            found.append(element)
    for element in found:
        remove(element)


_STRING = etree.XPath("string()")


def element_text(element: etree._Element) -> str:
    return clean_text(_STRING(element))
