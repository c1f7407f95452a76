"""Property-based tests (hypothesis) for URL canonicalization, normalization and hashing.

The diff properties (applying a stored diff to the old text gives the new one; identical
texts give an empty diff) are in ``tests/test_diff.py``: ``test_diff_rebuilds_new_version``,
``test_diff_of_an_edit_rebuilds_new_version``, ``test_identical_inputs_give_empty_change_set``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from newscrawl.normalize import clean_text, content_hash, loose_hash, normalize_for_hash
from newscrawl.urls import TRACKING_PARAMS, canonical_url

# URLs ----------------------------------------------------------------------------------------
HOSTS = st.sampled_from(["ex.com", "WWW.Ex.COM", "news.example.co.uk", "127.0.0.1", "[::1]",
                         "xn--caf-dma.fr", "café.fr", "a-b.c"])  # fmt: skip
PORTS = st.sampled_from(["", ":80", ":443", ":8080"])
SEGMENT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
PATHS = st.lists(SEGMENT, max_size=4).map(lambda parts: "/" + "/".join(parts))
NAMES = st.sampled_from(["id", "q", "page", "utm_source", "UTM_Medium", "fbclid", "gclid",
                         "ocid", "a", "é", "x y"]) | st.text(max_size=6)  # fmt: skip
QUERIES = st.lists(st.tuples(NAMES, st.text(max_size=6)), max_size=5)
SCHEMES = st.sampled_from(["http", "https", "HTTP", "Https"])


@st.composite
def http_urls(draw: st.DrawFn) -> str:
    query = "&".join(f"{k}={v}" for k, v in draw(QUERIES))
    fragment = draw(st.sampled_from(["", "#top", "#comments?utm_source=x", "#"]))
    url = f"{draw(SCHEMES)}://{draw(HOSTS)}{draw(PORTS)}{draw(PATHS)}"
    return url + (f"?{query}" if query else "") + fragment


@settings(max_examples=400, deadline=None)
@given(http_urls())
@example("https://ex.com/a?utm_source=rss#frag")
def test_canonical_url_is_idempotent(url: str) -> None:
    canonical = canonical_url(url)
    if canonical is not None:
        assert canonical_url(canonical) == canonical


@settings(max_examples=400, deadline=None)
@given(http_urls())
def test_canonical_url_has_no_tracking_parameters_and_no_fragment(url: str) -> None:
    canonical = canonical_url(url)
    if canonical is None:
        return
    parts = urlsplit(canonical)
    assert "#" not in canonical and not parts.fragment
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        assert not name.lower().startswith("utm_")
        assert name not in TRACKING_PARAMS


@settings(max_examples=200, deadline=None)
@given(http_urls())
def test_well_formed_http_urls_always_have_a_canonical_form(url: str) -> None:
    assert canonical_url(url) is not None


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["javascript:", "data:", "file:", "ftp:", "mailto:", "vbscript:", "about:",
                     "JavaScript:", " javascript:", "ws:", "blob:http://ex.com/"]),
    st.text(max_size=30),
)  # fmt: skip
def test_non_http_schemes_have_no_canonical_form(scheme: str, rest: str) -> None:
    assert canonical_url(scheme + rest) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_canonical_url_never_raises(text: str) -> None:
    assert canonical_url(text) is None or canonical_url(text).startswith(("http://", "https://"))


# normalization and hashing ------------------------------------------------------------------
TYPOGRAPHIC = {
    "'": ["\u2018", "\u2019", "\u201b"],
    '"': ["\u201c", "\u201d", "\u00ab"],
    "-": ["\u2013", "\u2014", "\u2212"],
    " ": ["\u00a0", "\u202f", "\u2009"],
}
PLAIN_TEXT = st.text(
    st.sampled_from(list("abcxyzé日 ,.!?'\"-0123456789") + ["\u0301", "\n", "\t"]), max_size=40
)
ANY_TEXT = st.text(max_size=60) | PLAIN_TEXT


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_normalize_for_hash_is_idempotent(text: str) -> None:
    once = normalize_for_hash(text)
    assert normalize_for_hash(once) == once


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_clean_text_removes_controls_and_lone_surrogates(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned
    assert not any("\ud800" <= c <= "\udfff" for c in cleaned)


@st.composite
def typographic_variant(draw: st.DrawFn, text: str) -> str:
    """``text`` with some ASCII quotes, dashes and spaces replaced by typographic variants."""
    out = []
    for char in text:
        variants = TYPOGRAPHIC.get(char)
        out.append(draw(st.sampled_from([char, *variants])) if variants else char)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(PLAIN_TEXT, min_size=1, max_size=4), st.data())
def test_hash_is_invariant_under_typographic_variants(texts: list[str], data: st.DataObject):
    title, *paragraphs = texts
    variant = [data.draw(typographic_variant(t)) for t in texts]
    assert content_hash(variant[0], variant[1:]) == content_hash(title, paragraphs)
    assert loose_hash(variant[0], variant[1:]) == loose_hash(title, paragraphs)


@settings(max_examples=300, deadline=None)
@given(st.lists(PLAIN_TEXT, min_size=1, max_size=4), st.data())
def test_hash_is_invariant_under_whitespace_changes(texts: list[str], data: st.DataObject):
    title, *paragraphs = texts
    spaces = st.sampled_from([" ", "  ", "\n", "\t", " \u00a0"])
    padded = [
        data.draw(spaces) + " ".join(t.split()).replace(" ", data.draw(spaces)) + " " for t in texts
    ]
    assert content_hash(padded[0], padded[1:]) == content_hash(title, paragraphs)


@settings(max_examples=200, deadline=None)
@given(PLAIN_TEXT, st.lists(PLAIN_TEXT, max_size=4), st.sampled_from(["zq", "42", "xyz"]))
def test_adding_a_word_changes_the_hash(title: str, paragraphs: list[str], word: str) -> None:
    edited = [*paragraphs, word]
    assert content_hash(title, edited) != content_hash(title, paragraphs)
