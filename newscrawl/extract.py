"""Article extraction: headline and body paragraphs, built to be stable under page noise.

The page is parsed once with lxml. Structured data (JSON-LD, meta tags) gives the headline,
byline and dates; trafilatura finds the body on the same tree, and a set of generic filters
then removes what changes between fetches without being an edit of the article: link-only
promos, "Read more" lines, timestamps, share counts, newsletter boxes, duplicates.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from html import unescape
from typing import Any

import lxml.html
from lxml import etree
from rapidfuzz import fuzz
from w3lib.encoding import html_to_unicode

from newscrawl.article import Article
from newscrawl.normalize import clean_text, loose_key

logger = logging.getLogger(__name__)


# Bumped when a change to extraction changes the text of unchanged pages: the first check of
# an article by a newer extractor takes its text as the baseline (newscrawl.tracker.REBASELINE).
EXTRACTOR_VERSION = 3


_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "SatiricalArticle",
        "ScholarlyArticle",
        "TechArticle",
        "Report",
    }
)
# Characters lxml refuses or that only come from broken input.
_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADLINE_WORD = re.compile(r"\w{4,}")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")

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
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

_LINK_DENSITY_MAX = 0.6
# Links over this share of a paragraph: a linked headline (a promo), not restored as prose.
_ONE_LINK = 0.9
# Structured articleBody this many times longer than the extraction: the extractor missed text.
_BODY_RESCUE_RATIO = 1.5
_WORDS = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]?$")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
_LIST_TAGS = frozenset({"list", "ul", "ol"})
_HEADING_TAGS = frozenset({"head", "h1", "h2", "h3", "h4", "h5", "h6"})
# Text blocks in trafilatura XML (p, head, item) and in HTML (body_css, fallback extractors).
_BLOCK_TAGS = (
    "p",
    "head",
    "item",
    "quote",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
)


def extract_article(
    html: str | bytes, url: str, overrides: Mapping[str, Any] | None = None
) -> Article | None:
    """The article on a page, or None when the page holds no article (no title or no body).

    Never raises: any failure on hostile input is logged and gives None.
    """
    try:
        return _extract(html, url, overrides or {})
    except Exception:  # the crawl must survive any page; the contract is "None, not raise"
        logger.exception("extraction failed for %s", url)
        return None


def _extract(html: str | bytes, url: str, overrides: Mapping[str, Any]) -> Article | None:
    tree = _parse(html)
    if tree is None:
        return None
    for selector in overrides.get("drop_css") or ():
        for element in tree.cssselect(selector):
            _remove(element)
    meta = _Metadata.read(tree)
    title, other_headlines, headlines = _title(tree, meta, overrides.get("title_css"))
    if not title:
        return None
    _drop_non_article(tree)
    if overrides.get("body_css"):
        paragraphs = _filter_blocks(_css_blocks(tree, overrides["body_css"]), headlines)
    else:
        blocks = _with_page_structure(tree, _trafilatura_blocks(tree, url))
        paragraphs = _filter_blocks(blocks, headlines)
        if meta.article_body and _words(meta.article_body) > _BODY_RESCUE_RATIO * _words(
            paragraphs
        ):
            paragraphs = _rescued_body(tree, meta, headlines, paragraphs)
        standfirst = _standfirst(tree, meta.description, paragraphs) or _strapline(tree, paragraphs)
        if standfirst:
            paragraphs.insert(0, standfirst)
    if not paragraphs:
        return None
    return Article(
        title=title,
        paragraphs=paragraphs,
        byline=meta.byline,
        published=meta.published,
        modified=meta.modified,
        other_headlines=other_headlines,
    )


def _parse(html: str | bytes) -> lxml.html.HtmlElement | None:
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


def _remove(element: etree._Element) -> None:
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


def _drop_non_article(tree: lxml.html.HtmlElement) -> None:
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
        _remove(element)


_STRING = etree.XPath("string()")


def _text(element: etree._Element) -> str:
    return clean_text(_STRING(element))


# --- structured data -----------------------------------------------------------------------


@dataclass
class _Metadata:
    headline: str | None = None
    article_body: str | None = None
    article_body_source: Any = None  # articleBody as the JSON-LD gives it, line breaks kept
    byline: str | None = None
    published: str | None = None
    modified: str | None = None
    og_title: str | None = None
    description: str | None = None
    meta_title: str | None = None

    @classmethod
    def read(cls, tree: lxml.html.HtmlElement) -> _Metadata:
        meta = cls()
        node = _jsonld_article(tree)
        if node is not None:
            meta.headline = _as_text(node.get("headline")) or _as_text(node.get("name"))
            meta.article_body = _as_text(node.get("articleBody"))
            meta.article_body_source = node.get("articleBody")
            meta.byline = _author_names(node.get("author"))
            meta.published = _as_text(node.get("datePublished"))
            meta.modified = _as_text(node.get("dateModified"))
        tags = _meta_tags(tree)
        meta.og_title = tags.get("og:title") or tags.get("twitter:title")
        meta.meta_title = tags.get("title")
        meta.description = tags.get("og:description") or tags.get("description")
        meta.byline = meta.byline or tags.get("author")
        meta.published = meta.published or tags.get("article:published_time")
        meta.modified = meta.modified or tags.get("article:modified_time")
        return meta


def _meta_tags(tree: lxml.html.HtmlElement) -> dict[str, str]:
    tags: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        value = clean_text(_unescape_twice_escaped(element.get("content") or ""))
        if key and value and key not in tags:
            tags[key] = value
    return tags


def _jsonld_article(tree: lxml.html.HtmlElement) -> dict[str, Any] | None:
    """The JSON-LD article node with a headline, preferring one that carries articleBody."""
    found: list[dict[str, Any]] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        found.extend(node for node in _walk_jsonld(data) if node.get("headline"))
    if not found:
        return None
    return next((node for node in found if node.get("articleBody")), found[0])


def _walk_jsonld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk_jsonld(item, depth + 1)
    elif isinstance(data, dict):
        kind = data.get("@type")
        kinds = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()
        if kinds & _ARTICLE_TYPES:
            yield data
        if "@graph" in data:
            yield from _walk_jsonld(data["@graph"], depth + 1)


def _as_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return clean_text(_unescape_twice_escaped(_TAG.sub(" ", str(value)))) or None
    return None


def _unescape_twice_escaped(text: str) -> str:
    """Entities left in text the parser already decoded (``&#039;`` from a CMS escaping
    twice); only complete ones, ending in ``;``, so "AT&T" or "&copy" in prose stay."""
    return _ENTITY.sub(lambda match: unescape(match.group()), text)


def _author_names(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        name = item.get("name") if isinstance(item, dict) else item
        text = _as_text(name)
        if text and text not in names:
            names.append(text)
    return ", ".join(names) or None


# --- title ---------------------------------------------------------------------------------


def _title(
    tree: lxml.html.HtmlElement, meta: _Metadata, title_css: str | None
) -> tuple[str, list[str], frozenset[str]]:
    """The headline most of the page's sources agree on (ties: JSON-LD, og:title, h1,
    <title>), the page's other headlines (see ``_other_headlines``), and the loose keys of
    every headline the page states (none of them is body text)."""
    if title_css:
        for element in tree.cssselect(title_css):
            text = _text(element)
            if text:
                return text, [], frozenset({loose_key(text)})
    h1 = next((t for t in (_text(e) for e in tree.iterfind(".//h1")) if t), None)
    title_element = tree.find(".//title")
    document_title = _strip_site_suffix(_text(title_element)) if title_element is not None else None
    candidates = [c for c in (meta.headline, meta.og_title, h1, document_title) if c]
    if not candidates:
        title = meta.meta_title or ""
        return title, [], frozenset({loose_key(title)})
    votes = Counter(loose_key(c) for c in candidates)
    title = max(candidates, key=lambda c: votes[loose_key(c)])  # max keeps the first of equals
    # An outvoted headline is a variant (SEO or social headline), not body text; one that ties
    # with the title may be the headline readers see: it stays in the body when the
    # extraction has it.
    key = loose_key(title)
    keys = frozenset(k for k, n in votes.items() if k == key or n < votes[key])
    return title, _other_headlines(title, candidates), keys


def _other_headlines(title: str, candidates: list[str]) -> list[str]:
    """The page's other wordings of its headline, first seen first.

    Left out: a wording only in case or punctuation different from one already kept; one
    contained in the title or containing it (a headline piece cut at a separator, an
    og:title with the site name added), whose edits the title shows; and one sharing no word
    with the title (a login dialog's ``<h1>``), which is not a headline of this article.
    """
    title_key = loose_key(title).lower()
    title_words = set(_HEADLINE_WORD.findall(title.lower()))
    seen, others = {title_key}, []
    for candidate in candidates:
        key = loose_key(candidate).lower()
        if key in seen or key in title_key or title_key in key:
            continue
        if title_words.isdisjoint(_HEADLINE_WORD.findall(candidate.lower())):
            continue
        seen.add(key)
        others.append(candidate)
    return others


def _strip_site_suffix(title: str) -> str:
    parts = _TITLE_SEPARATORS.split(title)
    return max(parts, key=len) if len(parts) > 1 else title


# --- body ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    text: str
    link_chars: int
    heading: bool = False
    fragment_list: bool = False  # an item of a list of fragments (see _body_blocks)
    chrome: bool = False  # a widget's label (see _is_chrome)


def _trafilatura_blocks(tree: lxml.html.HtmlElement, url: str) -> list[_Block]:
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
    return list(_body_blocks(document.body))


def _body_blocks(element: etree._Element) -> Iterator[_Block]:
    """Innermost text blocks in order (trafilatura XML or, from its fallbacks, HTML)."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _BLOCK_TAGS and not _has_block_descendant(child):
            heading = child.tag in _HEADING_TAGS
            if heading or child.find(".//lb") is None and child.find(".//br") is None:
                yield _block(child, heading=heading)
            else:
                yield from _line_blocks(child)
        elif child.tag in _LIST_TAGS:
            yield from _list_blocks(list(_body_blocks(child)))
        else:
            yield from _body_blocks(child)


def _list_blocks(blocks: list[_Block]) -> list[_Block]:
    """A list's blocks, flagged when no item is a sentence.

    Lists of fragments (spec sheets, "key facts", ingredient and product lists, link lists)
    sit beside the story rather than tell it; bullet points written as sentences are kept.
    """
    items = [b for b in blocks if not b.heading]
    if items and not any(_ENDS_SENTENCE.search(b.text) for b in items):
        return [replace(b, fragment_list=True) for b in blocks]
    return blocks


def _has_block_descendant(element: etree._Element) -> bool:
    return any(d is not element for d in element.iter(*_BLOCK_TAGS))


def _block(element: etree._Element, heading: bool = False) -> _Block:
    links = sum(len(clean_text("".join(ref.itertext()))) for ref in element.iter("ref", "a"))
    return _Block(_text(element), links, heading)


_BREAK = object()


def _line_blocks(element: etree._Element) -> Iterator[_Block]:
    """A block's lines as blocks: text separated by line breaks (``<br>``, trafilatura's
    ``<lb>``) is how some CMSs lay out paragraphs, so each line is judged, and its edits
    shown, on its own."""
    line: list[tuple[str, bool]] = []
    for piece in [*_pieces(element, False), _BREAK]:
        if piece is not _BREAK:
            line.append(piece)
            continue
        text = clean_text("".join(t for t, _ in line))
        if text:
            links = sum(len(clean_text(t)) for t, linked in line if linked)
            yield _Block(text, min(links, len(text)))
        line = []


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


_SUBHEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_CHROME_WORDS = 5
_CHROME_CHARS = 40  # a few words of a script written without spaces are one \w+ run
# Minimum fuzz.ratio between a page element and the meta description to be its standfirst.
_STANDFIRST_SIMILARITY = 90


def _with_page_structure(tree: lxml.html.HtmlElement, blocks: list[_Block]) -> list[_Block]:
    """The extraction's blocks with the page's own structure put back where it was lost.

    trafilatura's fallback extractors return every block as a paragraph, and its main
    extractor keeps or drops a subheading or a link-rich paragraph depending on what
    surrounds the article: either way the text of an unchanged article changes between
    fetches. A block whose text is only a subheading or a list item on the page is marked as
    one (so the heading and list rules of ``_filter_blocks`` apply), and what was dropped
    right before a kept paragraph is put back (see ``_dropped_before``).
    """
    elements: dict[str, list[etree._Element]] = {}
    for element in tree.iter("p", "li", *_SUBHEADING_TAGS):
        text = _text(element)
        if text:
            elements.setdefault(text, []).append(element)
    kept = {block.text for block in blocks}
    structured: list[_Block] = []
    previous: etree._Element | None = None
    for block in blocks:
        found = elements.get(block.text, [])
        if not found and not block.heading and _is_chrome(block.text):
            block = replace(block, chrome=True)
        if found and not block.heading and all(e.tag in _SUBHEADING_TAGS for e in found):
            block = replace(block, heading=True)
        noise = _is_noise(block)
        if structured and len(found) == 1 and not noise:
            headings = not (block.heading or structured[-1].heading)
            structured += _dropped_before(found[0], previous, kept, headings)
        structured.append(block)
        if found and not noise:  # a sign-up line does not bound the next gap
            # the same text in several places: where the block was is unknown
            previous = found[0] if len(found) == 1 else None
    return _in_region(_regroup_lists(structured, elements), elements)


# The article's region holds this share of the prose the extraction located on the page.
_REGION_SHARE = 0.9


def _in_region(blocks: list[_Block], elements: dict[str, list[etree._Element]]) -> list[_Block]:
    """The blocks without the furniture outside the article's region.

    The region is the innermost element that holds nearly all the prose (see ``_is_prose``)
    the extraction found in one place on the page. A block found on the page only outside
    it that is not prose (a teaser headline, a widget label, a credit line, a sidebar's
    heading) is not article text, whatever the extractor returned; prose outside it stays,
    so that no paragraph of the article is lost. Copies of a block elsewhere on the page
    (which rotate) do not change the decision.
    """
    located = {b.text: found[0] for b in blocks if len(found := elements.get(b.text, [])) == 1}
    weight: Counter[etree._Element] = Counter()
    total = 0
    for block in blocks:
        element = located.get(block.text)
        if element is None or block.heading or not _is_prose(block):
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
    return [
        block
        for block in blocks
        if not (copies := elements.get(block.text))
        or any(region in element.iterancestors() for element in copies)
        or (not block.heading and _is_prose(block))
    ]


def _is_chrome(text: str) -> bool:
    """A few words, not a sentence, outside any paragraph, heading or list item on the page:
    a widget's label ("Latest Videos From"), not article text."""
    return (
        _words(text) <= _CHROME_WORDS
        and len(text) <= _CHROME_CHARS
        and not _ENDS_SENTENCE.search(text)
    )


def _dropped_before(
    element: etree._Element, previous: etree._Element | None, kept: set[str], headings: bool
) -> list[_Block]:
    """What the extraction dropped between a kept paragraph and the kept block before it.

    Walking back from the paragraph over what lies between the two in the page, nearest
    first: a subheading beside the paragraph (a sibling) is put back when ``headings`` allows
    it (not next to a kept heading), and so is prose (a paragraph of sentences, not one link;
    a pull quote; a wrapper holding only such paragraphs); a one-line promo and a box holding
    a form are stepped over. The walk ends at anything else, and without a kept block before
    the paragraph only subheadings can come back.
    """
    gap = _gap(element, previous)
    bounded = gap is not None
    restored: list[_Block] = []
    for node in gap if gap is not None else element.itersiblings(preceding=True):
        text = _text(node) if isinstance(node.tag, str) and node.tag != "noscript" else ""
        if not text:
            continue
        if text in kept:
            break
        if headings and node.tag in _SUBHEADING_TAGS and node.getparent() is element.getparent():
            restored.append(_block(node, heading=True))
        elif bounded and (prose := _prose(node)):
            restored += prose[::-1]
        elif node.tag == "form" or node.find(".//form") is not None:
            continue  # a sign-up or search box is never article text, nor does it end the gap
        elif node.tag != "p" or not _is_noise(_block(node)):
            break  # a one-line promo ("Read more: …") does not end the gap either
    return restored[::-1]


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


def _prose(element: etree._Element) -> list[_Block]:
    """A paragraph of prose, or the prose paragraphs of a quote (a pull quote in a figure) or
    of a wrapper that holds nothing else (but one-line promos, which are left out)."""
    if element.tag == "p":
        paragraphs = [element]
    elif element.tag in ("blockquote", "figure", "div", "section"):
        if "embed" in (element.get("class") or ""):
            return []  # an embedded post or a site-wide notice styled as a quote
        if element.xpath(".//img|.//iframe|.//form|.//ul|.//ol|.//aside|.//nav") or any(
            True for _ in element.iter(*_SUBHEADING_TAGS)
        ):
            return []
        if element.tag != "figure" and element.xpath(".//figure"):
            return []
        paragraphs = [p for p in element.iter("p") if not _has_block_descendant(p)]
        inside = "".join(loose_key(p.text_content()) for p in paragraphs)
        if element.tag in ("div", "section") and loose_key(element.text_content()) != inside:
            return []  # a wrapper with text outside its paragraphs: not only prose
    else:
        return []
    blocks = [_block(p) for p in paragraphs]
    if element.tag != "p":
        blocks = [b for b in blocks if not _is_noise(b)]
    return blocks if blocks and all(map(_is_prose, blocks)) else []


def _is_prose(block: _Block) -> bool:
    """Written as sentences: a long one however linked, or a short one without links."""
    if _is_sentence(block.text) and block.link_chars < _ONE_LINK * len(block.text):
        return True
    return not block.link_chars and bool(_ENDS_SENTENCE.search(block.text))


def _regroup_lists(blocks: list[_Block], elements: dict[str, list[etree._Element]]) -> list[_Block]:
    """Runs of blocks that are items of one list on the page, judged as a list."""

    def list_of(block: _Block) -> etree._Element | None:
        found = elements.get(block.text, [])
        if len(found) != 1:
            return None
        item = found[0] if found[0].tag == "li" else found[0].getparent()
        return item.getparent() if item is not None and item.tag == "li" else None

    regrouped: list[_Block] = []
    run: list[_Block] = []
    run_list: etree._Element | None = None
    for block in [*blocks, None]:
        owner = list_of(block) if block is not None and not block.heading else None
        if run and (owner is None or owner is not run_list):
            regrouped += _list_blocks(run) if len(run) > 1 else run
            run = []
        if block is None:
            break
        if owner is None:
            regrouped.append(block)
        else:
            run.append(block)
            run_list = owner
    return regrouped


def _css_blocks(tree: lxml.html.HtmlElement, selector: str) -> list[_Block]:
    containers = tree.cssselect(selector)
    return list(_body_blocks(containers[0])) if containers else []


def _standfirst(tree: lxml.html.HtmlElement, description: str | None, paragraphs: list[str]) -> str:
    """The summary shown on the page above the body, when the extraction missed it.

    The meta description counts only when the page displays it in one element, verbatim or
    nearly: a publisher editing the standfirst on the page often leaves the meta tag alone,
    and the page's wording is the one readers see. The element is found by the description's
    first or last words, so an edit at either end still finds it.
    """
    if not description or not paragraphs:
        return ""
    key, body = loose_key(description), loose_key(" ".join(paragraphs[:3]))
    if len(key) < 40 or key in body:
        return ""
    for end in (description[:24], description[-24:]):
        for text in tree.xpath("//body//text()[contains(., $end)]", end=end):
            element = text.getparent()  # of a tail text: the element it follows
            if text.is_tail:
                element = element.getparent()
            found = loose_key(element.text_content())
            if found != key and fuzz.ratio(found, key) < _STANDFIRST_SIMILARITY:
                continue
            if found in body:
                return ""  # the page's wording is in the body already
            return _text(element)
    return ""


# Class names publishers give the summary line under the headline.
_STRAPLINE_CLASSES = frozenset(
    {
        "standfirst",
        "strapline",
        "dek",
        "deck",
        "subheadline",
        "sub-headline",
        "subtitle",
        "lead",
        "intro",
        "preamble",
        "epigraph",
        "summary",
    }
)
_CLASS_PART = re.compile(r"[-_]+")


def _class_names(element: etree._Element) -> set[str]:
    """An element's class names and the last part of each (``article__preamble`` also
    names ``preamble``; ``lead-image`` does not name ``lead``)."""
    names = set((element.get("class") or "").lower().split())
    return names | {_CLASS_PART.split(name)[-1] for name in names}


def _strapline(tree: lxml.html.HtmlElement, paragraphs: list[str]) -> str:
    """The summary line under the headline, found by the class names publishers give it,
    between the ``<h1>`` and the body's first paragraph, when the extraction missed it and
    the meta description is not it."""
    h1 = next((e for e in tree.iterfind(".//body//h1") if _text(e)), None)
    if h1 is None or not paragraphs:
        return ""
    body = loose_key(" ".join(paragraphs[:3]))
    first = paragraphs[0]
    for element in h1.itersiblings():
        for node in element.iter():
            if not isinstance(node.tag, str):
                continue
            if node.tag == "p" and _text(node) == first:
                return ""  # the body starts: a summary comes before it
            classes = _class_names(node)
            if node.tag in ("p", "div", "h2", "span") and classes & _STRAPLINE_CLASSES:
                text = _text(node)
                if _words(text) >= 4 and loose_key(text) not in body:
                    return text
    return ""


def _words(text: str | list[str]) -> int:
    return len(_WORDS.findall(text if isinstance(text, str) else " ".join(text)))


def _rescued_body(
    tree: lxml.html.HtmlElement, meta: _Metadata, headlines: frozenset[str], extracted: list[str]
) -> list[str]:
    """The body when the extraction found much less text than JSON-LD ``articleBody``.

    The page's own paragraphs that the structured body holds (they keep the page's
    paragraph breaks and subheadings); failing those, what the extraction found; and on a
    client-rendered page, whose text is only in its scripts (nothing found at all), the
    structured body itself, split at its line breaks.
    """
    paragraphs = _filter_blocks(_article_body_blocks(tree, meta.article_body or ""), headlines)
    if paragraphs or extracted:
        return paragraphs or extracted
    lines = _body_lines(meta.article_body_source)
    return _filter_blocks([_Block(line, 0) for line in lines], headlines)


# Paragraph breaks in a structured body: line breaks and HTML block tags.
_BODY_BREAKS = re.compile(r"\n|<br\s*/?>|</?(?:p|div|h[1-6]|li)\b[^>]*>", re.IGNORECASE)


def _body_lines(value: Any) -> list[str]:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return []
    lines = (_as_text(line) for line in _BODY_BREAKS.split(value))
    return [line for line in lines if line]


def _article_body_blocks(tree: lxml.html.HtmlElement, article_body: str) -> list[_Block]:
    """Blocks of the container of the page's paragraphs that JSON-LD ``articleBody`` holds.

    Used when the generic extractor found much less text than the publisher's own body: the
    structured body has no paragraph breaks and no subheadings, the page has both.
    """
    body_key = loose_key(article_body)
    found = [
        p
        for p in tree.iter("p")
        if len(key := loose_key(p.text_content())) >= 20 and key in body_key
    ]
    if len(found) < 2:
        return []
    container = found[0]
    while container is not None and not all(container in p.iterancestors() for p in found):
        container = container.getparent()
    return list(_body_blocks(container)) if container is not None else []


def _filter_blocks(blocks: list[_Block], headlines: frozenset[str]) -> list[str]:
    """Body text without noise, duplicates, the headline, and headings that head no text.

    A heading followed by another heading, by nothing, or by a block dropped as noise (other
    than a one-line promo) heads a widget ("More from this section" over a link list), not a
    section.
    """
    seen: set[str] = set()
    kept: list[_Block] = []
    for block in blocks:
        key = loose_key(block.text)
        if not key or key in seen or key in headlines:
            continue
        if _is_noise(block):
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


def _is_noise(block: _Block) -> bool:
    text = block.text
    if block.fragment_list or block.chrome:
        return True
    if block.link_chars > _LINK_DENSITY_MAX * len(text) and not _is_sentence(text):
        return True  # a linked headline or link list; a long linked *sentence* is body text
    if _BOILERPLATE.match(text):
        return True
    return (
        len(text) < 80
        and bool(_HAS_DIGIT.search(text))
        and (_is_timestamp(text) or _is_dateline(text))
    )


def _is_sentence(text: str) -> bool:
    """Ten words or more ending like a sentence: prose, even when mostly linked (headlines
    do not end so). Counted, not matched with one regular expression, which backtracks
    quadratically on a long text without an end."""
    return bool(_SENTENCE_END.search(text)) and len(text.split(maxsplit=10)) > 9


# A token that alone dates a line: a time of day, a year, a numeric date.
_DATING_TOKEN = re.compile(r"\d{1,2}[:.]\d{2}|(?:19|20)\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d+T\d")


def _is_dateline(text: str) -> bool:
    """A short line mostly of dates and times, in any language ("Stand: 22.04.2024, 06:00
    Uhr", "5:45 AM PST 11/19/2019 by NAME"): at least half its tokens are date or time
    tokens and one of them dates it (a score such as "2-1" does not), and it is not a
    sentence. Such lines change on every republication without the article changing."""
    if _ENDS_SENTENCE.search(text) and not text.endswith(".."):
        return False
    tokens = [t.strip(".:;()") for t in _TIMESTAMP_SEPARATORS.split(text)]
    tokens = [t for t in tokens if t]
    dating = [t for t in tokens if _TIMESTAMP_TOKEN.fullmatch(t)]
    return 2 * len(dating) >= len(tokens) and any(_DATING_TOKEN.match(t) for t in dating)


def _is_timestamp(text: str) -> bool:
    tokens = [t.strip(".") for t in _TIMESTAMP_SEPARATORS.split(text)]
    return all(_TIMESTAMP_TOKEN.fullmatch(t) for t in tokens if t)
