"""Realistic page mutations for stability tests and benchmarks.

Noise variants change a page *around* its article (promos, timestamps, share counts, cache
busting, scripts, structured-data dates): a stable extractor must hash them like the original.
Edit variants change the article itself (a word, a number, the headline, a paragraph added or
removed) and carry the expected new title and paragraphs.

The article's paragraph elements are found by matching the expected record's ``paragraphs``
to the page's ``<p>`` elements: test-side knowledge, never available to the extractor.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import lxml.html
from lxml import etree

from newscrawl.normalize import clean_text, normalize_for_hash

NoiseVariant = tuple[str, str]
EditVariant = tuple[str, str, str, list[str]]

WORD = re.compile(r"\b[A-Za-z]{5,}\b")
NUMBER = re.compile(r"\b\d+\b")
_SUBJECTS = ("Council", "Minister", "Regulator", "Union leaders", "Scientists", "Investors")
_VERBS = ("approve", "reject", "warn over", "question", "back", "delay")
_OBJECTS = (
    "new housing plan",
    "rail fare rise",
    "hospital funding",
    "coastal flood defences",
    "school meal scheme",
    "energy price cap",
)
REPLACEMENT_WORDS = ("quietly", "sharply", "formally", "abruptly", "narrowly", "publicly")
_ADDED_SENTENCES = (
    "Officials said further details would be published in the coming weeks.",
    "A spokesperson declined to comment further when contacted on Tuesday evening.",
    "The figures were later confirmed by a second independent review of the data.",
)
_JSONLD_XPATH = '//script[@type="application/ld+json"]'


# --- parsing and article location ----------------------------------------------------------


def parse_html(html: str) -> lxml.html.HtmlElement:
    parser = lxml.html.HTMLParser(encoding="utf-8")
    return lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)


def serialize_html(tree: lxml.html.HtmlElement) -> str:
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def text_key(text: str) -> str:
    return normalize_for_hash(clean_text(text))


def article_paragraphs(tree: lxml.html.HtmlElement, record: dict[str, Any]) -> dict[int, Any]:
    """Record paragraph index -> the page's single <p> element with exactly that text."""
    wanted: dict[str, int] = {}
    for index, text in enumerate(record["paragraphs"]):
        wanted.setdefault(text_key(text), index)
    found: dict[int, list[Any]] = {}
    for element in tree.iter("p"):
        index = wanted.get(text_key("".join(element.itertext())))
        if index is not None and not element.xpath("ancestor::script|ancestor::noscript"):
            found.setdefault(index, []).append(element)
    return {index: elements[0] for index, elements in found.items() if len(elements) == 1}


def article_container(paragraphs: dict[int, Any]) -> Any | None:
    """The lowest common ancestor of the article's paragraphs."""
    elements = list(paragraphs.values())
    if not elements:
        return None
    ancestors = [elements[0], *elements[0].iterancestors()]
    for candidate in ancestors:
        if all(candidate in (e, *e.iterancestors()) for e in elements[1:]):
            return candidate if candidate.tag not in ("p", "html") else candidate.getparent()
    return None


def _fragment(markup: str) -> Any:
    return lxml.html.fragment_fromstring(markup)


def random_headline(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"


def _link_list(rng: random.Random, heading: str, count: int = 5) -> str:
    items = "".join(
        f'<li><a href="/news/story-{rng.randrange(10**6)}">{random_headline(rng)}</a></li>'
        for _ in range(count)
    )
    return f'<div class="promo-{rng.randrange(10**4)}"><h3>{heading}</h3><ul>{items}</ul></div>'


# --- noise variants ------------------------------------------------------------------------

_Mutator = Callable[[lxml.html.HtmlElement, Any, dict[int, Any], random.Random], bool]


def _promo_before(tree: Any, container: Any, paras: dict[int, Any], rng: random.Random) -> bool:
    container.addprevious(_fragment(_link_list(rng, "Most read")))
    return True


def _promo_after(tree: Any, container: Any, paras: dict[int, Any], rng: random.Random) -> bool:
    container.addnext(_fragment(_link_list(rng, "More from this section")))
    return True


def _promo_in_aside(tree: Any, container: Any, paras: dict[int, Any], rng: random.Random) -> bool:
    targets = [e for e in tree.iter("aside", "nav") if container not in e.iterancestors()]
    if not targets:
        return False
    rng.choice(targets).append(_fragment(_link_list(rng, "Trending now")))
    return True


def _h1(tree: Any) -> Any | None:
    return next(tree.iter("h1"), None)


def _updated_near_headline(tree: Any, container: Any, paras: dict[int, Any], rng: Any) -> bool:
    h1 = _h1(tree)
    if h1 is None:
        return False
    minutes = rng.randrange(2, 59)
    h1.addnext(_fragment(f'<div class="timestamp">Updated {minutes} minutes ago</div>'))
    return True


def _last_updated_in_header(tree: Any, container: Any, paras: dict[int, Any], rng: Any) -> bool:
    header = next(tree.iter("header"), None)
    stamp = f"Last updated {rng.randrange(24):02d}:{rng.randrange(60):02d} BST"
    element = _fragment(f'<span class="last-updated">{stamp}</span>')
    if header is not None:
        header.append(element)
    else:
        container.addprevious(element)
    return True


def _share_count(tree: Any, container: Any, paras: dict[int, Any], rng: random.Random) -> bool:
    count = f"{rng.randrange(1, 99)},{rng.randrange(1000):03d}"
    widget = f'<div class="share-bar"><span class="count">{count} shares</span></div>'
    h1 = _h1(tree)
    (h1 if h1 is not None else container).addnext(_fragment(widget))
    return True


def _newsletter_box(tree: Any, container: Any, paras: dict[int, Any], rng: random.Random) -> bool:
    box = (
        '<div class="newsletter-signup"><h3>Sign up to our free daily newsletter</h3>'
        "<form><input type='email' placeholder='Email address'><button>Sign up</button></form>"
        "</div>"
    )
    container.addnext(_fragment(box))
    return True


def _read_more_between(tree: Any, container: Any, paras: dict[int, Any], rng: Any) -> bool:
    indexes = sorted(paras)
    if len(indexes) < 3:
        return False
    anchor = paras[rng.choice(indexes[1:-1])]
    link = f'<a href="/news/story-{rng.randrange(10**6)}">{random_headline(rng)}</a>'
    promo = _fragment(f"<p>Read more: {link}</p>")
    promo.tail = anchor.tail
    anchor.tail = None
    anchor.addnext(promo)
    return True


def _cache_busting(tree: Any, container: Any, paras: dict[int, Any], rng: random.Random) -> bool:
    version = rng.randrange(10**6)
    for element in tree.iter("img", "script", "link"):
        for attribute in ("src", "href"):
            value = element.get(attribute)
            if value and not value.startswith(("data:", "#")):
                joiner = "&" if "?" in value else "?"
                element.set(attribute, f"{value}{joiner}v={version}")
    for element in tree.iter("div", "span", "section"):
        element.set("data-render-id", f"{rng.getrandbits(32):08x}")
        classes = element.get("class")
        if classes:
            element.set("class", f"{classes} css-{rng.getrandbits(24):06x}")
    return True


def _scripts_changed(tree: Any, container: Any, paras: dict[int, Any], rng: Any) -> bool:
    token = rng.getrandbits(48)
    for script in tree.iter("script"):
        if script.get("type") != "application/ld+json" and not script.get("src"):
            script.text = f"{script.text or ''}\nwindow.__cb = {token};"
    head = tree.find("head")
    script = etree.SubElement(head if head is not None else tree, "script")
    script.text = f'window.__state = {{"session": "{token:x}", "ts": {rng.randrange(10**9)}}};'
    return True


def _jsonld_date_modified(tree: Any, container: Any, paras: dict[int, Any], rng: Any) -> bool:
    stamp = f"2031-0{rng.randrange(1, 9)}-1{rng.randrange(9)}T{rng.randrange(10, 23)}:15:00Z"
    return edit_jsonld(tree, lambda node: _set_if_present(node, "dateModified", stamp))


def _related_rotated(tree: Any, container: Any, paras: dict[int, Any], rng: Any) -> bool:
    """Give every link list outside the article (3+ linked items) different headlines."""
    changed = False
    for list_element in tree.iter("ul", "ol"):
        if container in list_element.iterancestors() or list_element in container.iterancestors():
            continue
        links = [li.find(".//a") for li in list_element.iterchildren("li")]
        links = [a for a in links if a is not None and clean_text(a.text_content())]
        if len(links) < 3:
            continue
        for link in links:
            for child in list(link):
                link.remove(child)
            link.text = random_headline(rng)
        changed = True
    return changed


NOISE_MUTATORS: dict[str, _Mutator] = {
    "promo_before_article": _promo_before,
    "promo_after_article": _promo_after,
    "promo_in_aside": _promo_in_aside,
    "updated_near_headline": _updated_near_headline,
    "last_updated_in_header": _last_updated_in_header,
    "share_count": _share_count,
    "newsletter_box": _newsletter_box,
    "read_more_between_paragraphs": _read_more_between,
    "cache_busting": _cache_busting,
    "scripts_changed": _scripts_changed,
    "jsonld_date_modified": _jsonld_date_modified,
    "related_rotated": _related_rotated,
}


def noise_variants(html: str, record: dict[str, Any], rng: random.Random) -> list[NoiseVariant]:
    """(name, html) variants that change the page around its article but not the article."""
    variants = []
    for name, mutate in NOISE_MUTATORS.items():
        tree = parse_html(html)
        paras = article_paragraphs(tree, record)
        container = article_container(paras)
        if container is not None and mutate(tree, container, paras, rng):
            variants.append((name, serialize_html(tree)))
    return variants


# --- structured data -----------------------------------------------------------------------


def jsonld_nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from jsonld_nodes(item)
    elif isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, list | dict):
                yield from jsonld_nodes(value)


def edit_jsonld(tree: Any, edit: Callable[[dict[str, Any]], bool]) -> bool:
    """Apply ``edit`` to every JSON-LD object; rewrite the scripts where it changed something."""
    changed = False
    for script in tree.xpath(_JSONLD_XPATH):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        results = [edit(node) for node in jsonld_nodes(data)]
        if any(results):
            script.text = json.dumps(data, ensure_ascii=False)
            changed = True
    return changed


def _set_if_present(node: dict[str, Any], key: str, value: str) -> bool:
    if key not in node:
        return False
    node[key] = value
    return True


def edit_article_body(tree: Any, old: str, new: str) -> None:
    """Mirror a body edit in JSON-LD ``articleBody`` where the old text is found verbatim."""

    def edit(node: dict[str, Any]) -> bool:
        body = node.get("articleBody")
        if not isinstance(body, str) or not old or old not in body:
            return False
        node["articleBody"] = body.replace(old, new, 1)
        return True

    edit_jsonld(tree, edit)


# --- edit variants -------------------------------------------------------------------------


def _text_nodes(element: Any) -> Iterator[tuple[Any, str]]:
    """(element, "text" | "tail") slots holding the element's own text, in document order."""
    for node in element.iter():
        if node is not element and node.tail:
            yield node, "tail"
        if node.text and isinstance(node.tag, str):
            yield node, "text"


def _replace_in_text(element: Any, pattern: re.Pattern[str], replace: Callable[[str], str]) -> bool:
    for node, slot in _text_nodes(element):
        value = getattr(node, slot)
        match = pattern.search(value)
        if match:
            new = value[: match.start()] + replace(match.group()) + value[match.end() :]
            setattr(node, slot, new)
            return True
    return False


# Block-level markup inside a <p> is a widget the page nested there (a "Trending" card list),
# not the paragraph's prose: editing its text is page noise, not an edit of the article.
_WIDGET_TAGS = ("div", "section", "article", "aside", "nav", "ul", "ol", "table", "figure",
                "form", "h1", "h2", "h3", "h4", "h5", "h6")  # fmt: skip


def _pick_paragraph(paras: dict[int, Any], rng: random.Random, pattern: re.Pattern[str]) -> Any:
    """A paragraph of prose (no nested widget) with a match for ``pattern``."""
    candidates = [
        i
        for i, e in paras.items()
        if pattern.search(e.text_content()) and next(e.iter(*_WIDGET_TAGS), None) is None
    ]
    return rng.choice(sorted(candidates)) if candidates else None


def body_edit(html: str, record: dict[str, Any], rng: random.Random, pattern: re.Pattern[str],
               replace: Callable[[str], str]) -> tuple[str, list[str]] | None:  # fmt: skip
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    index = _pick_paragraph(paras, rng, pattern)
    if index is None:
        return None
    element = paras[index]
    old = element.text_content()
    if not _replace_in_text(element, pattern, replace):
        return None
    expected = list(record["paragraphs"])
    expected[index] = clean_text(element.text_content())
    edit_article_body(tree, clean_text(old), expected[index])
    return serialize_html(tree), expected


def _word_changed(html: str, record: dict[str, Any], rng: random.Random) -> EditVariant | None:
    word = rng.choice(REPLACEMENT_WORDS)
    result = body_edit(html, record, rng, WORD, lambda _: word)
    return result and ("word_changed", result[0], record["title"], result[1])


def number_changed(html: str, record: dict[str, Any], rng: random.Random) -> EditVariant | None:
    result = body_edit(html, record, rng, NUMBER, lambda n: str(int(n) + rng.randrange(1, 9)))
    return result and ("number_changed", result[0], record["title"], result[1])


def _headline_changed(html: str, record: dict[str, Any], rng: random.Random) -> EditVariant | None:
    """Replace one headline word everywhere the headline appears (title, meta, h1, JSON-LD)."""
    title = record["title"]
    words = [w for w in WORD.findall(title)]
    if not words:
        return None
    old = rng.choice(words)
    new = rng.choice(REPLACEMENT_WORDS).capitalize()
    pattern = re.compile(rf"\b{re.escape(old)}\b")

    def swap(text: str) -> str:
        return pattern.sub(new, text)

    tree = parse_html(html)
    for element in [*tree.iter("title", "h1")]:
        _replace_in_text(element, pattern, lambda _: new)
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").lower()
        if key in ("og:title", "twitter:title", "title") and meta.get("content"):
            meta.set("content", swap(meta.get("content")))

    def edit(node: dict[str, Any]) -> bool:
        value = node.get("headline")
        if isinstance(value, str) and pattern.search(value):
            node["headline"] = swap(value)
            return True
        return False

    edit_jsonld(tree, edit)
    return "headline_changed", serialize_html(tree), swap(title), list(record["paragraphs"])


def _paragraph_added(html: str, record: dict[str, Any], rng: random.Random) -> EditVariant | None:
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    if len(paras) < 2:
        return None
    index = rng.choice(sorted(paras)[1:])  # after a body paragraph, not after the standfirst
    html, expected = insert_paragraph(tree, record, rng, index, paras[index])
    return "paragraph_added", html, record["title"], expected


def insert_paragraph(
    tree: Any, record: dict[str, Any], rng: random.Random, index: int, model: Any,
    path: list[int] | None = None,
) -> tuple[str, list[str]]:  # fmt: skip
    """After ``model`` (article paragraph ``index``, or the element around it that ``path``
    goes down from), a copy of it with one new sentence instead of the paragraph's content;
    the article's JSON-LD body follows. Returns the page and the paragraphs to expect."""
    added = copy.deepcopy(model)
    original, target = model, added
    for step in path or ():
        original, target = original[step], target[step]
    for child in list(target):
        target.remove(child)
    text = rng.choice(_ADDED_SENTENCES)
    target.text = text
    added.tail = model.tail
    model.tail = None
    model.addnext(added)
    old = clean_text(original.text_content())
    edit_article_body(tree, old, f"{old}\n{text}")
    expected = list(record["paragraphs"])
    expected.insert(index + 1, text)
    return serialize_html(tree), expected


def _paragraph_removed(html: str, record: dict[str, Any], rng: random.Random) -> EditVariant | None:
    tree = parse_html(html)
    paras = article_paragraphs(tree, record)
    if len(paras) < 3:
        return None
    index = rng.choice(sorted(paras)[1:])
    element = paras[index]
    edit_article_body(tree, clean_text(element.text_content()), "")
    element.drop_tree()  # keeps the tail text
    expected = list(record["paragraphs"])
    del expected[index]
    return "paragraph_removed", serialize_html(tree), record["title"], expected


BASIC_EDITS = (
    _word_changed,
    number_changed,
    _headline_changed,
    _paragraph_added,
    _paragraph_removed,
)


def edit_variants(html: str, record: dict[str, Any], rng: random.Random) -> list[EditVariant]:
    """(name, html, expected_title, expected_paragraphs) variants that really edit the article."""
    return [variant for make in BASIC_EDITS if (variant := make(html, record, rng)) is not None]


def edit_captured(
    headlines: list[str],
    paragraphs: list[str],
    record: dict[str, Any],
    expected_title: str,
    expected_paragraphs: list[str],
) -> bool:
    """Whether an extraction shows the edit: new title, new text present, removed text gone.

    ``headlines`` are the extraction's title and other headlines: the edited headline may be
    one the extractor does not pick as the title, so only its new word is checked.
    """
    new_words = set(WORD.findall(expected_title)) - set(WORD.findall(record["title"]))
    if not new_words <= set(WORD.findall(" ".join(headlines))):
        return False
    before = {text_key(p) for p in record["paragraphs"]}
    after = {text_key(p) for p in expected_paragraphs}
    got = {text_key(p) for p in paragraphs}
    joined = "\n".join(got)
    added_present = all(p in got or p in joined for p in after - before)
    removed_absent = all(p not in got and p not in joined for p in before - after)
    return added_present and removed_absent
