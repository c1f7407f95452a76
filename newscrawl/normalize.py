"""Text normalization and content hashing.

Display text keeps what the publisher wrote (only Unicode NFC and collapsed whitespace);
the hash sees a stricter form in which typographic variants (curly quotes, dashes, no-break
spaces, zero-width characters) are folded, so a CMS swapping ``"`` for ``“`` does not make a
version. ``loose_key`` additionally drops all punctuation and whitespace: two texts with the
same loose key but different hashes differ only in punctuation/whitespace, a *minor* change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# str.replace chains are measured faster than str.translate for these few pairs.
_TYPOGRAPHIC = (
    ("\u2018", "'"), ("\u2019", "'"), ("\u201a", "'"), ("\u201b", "'"), ("\u2032", "'"),
    ("\u201c", '"'), ("\u201d", '"'), ("\u201e", '"'), ("\u201f", '"'), ("\u2033", '"'),
    ("\u00ab", '"'), ("\u00bb", '"'),
    ("\u2010", "-"), ("\u2011", "-"), ("\u2012", "-"), ("\u2013", "-"), ("\u2014", "-"),
    ("\u2015", "-"), ("\u2212", "-"),
    ("\u2026", "..."),
    ("\u00a0", " "), ("\u202f", " "), ("\u2007", " "), ("\u2009", " "), ("\u200a", " "),
    ("\u200b", ""), ("\u200c", ""), ("\u200d", ""), ("\u2060", ""), ("\ufeff", ""),
    ("\u00ad", ""),
)  # fmt: skip
_WHITESPACE = re.compile(r"\s+")
# C0/C1 control characters except tab/newline, and lone surrogates (from broken decoding).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_WORD = re.compile(r"[\W_]+")


def clean_text(text: str) -> str:
    """Display form: NFC, control characters and lone surrogates removed, whitespace collapsed."""
    text = _UNPRINTABLE.sub("", text)
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def normalize_for_hash(text: str) -> str:
    """Hash form of a display string: typographic variants folded, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    for old, new in _TYPOGRAPHIC:
        if old in text:
            text = text.replace(old, new)
    return _WHITESPACE.sub(" ", text).strip()


def loose_key(text: str) -> str:
    """Text with every non-word character removed: equal keys mean a punctuation-only change."""
    return loose_of_hash_form(normalize_for_hash(text))


def loose_of_hash_form(key: str) -> str:
    """``loose_key`` of a text given in its hash form (``normalize_for_hash``), not normalized
    again."""
    return _NOT_WORD.sub("", key)


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


# Separates the body from the other headlines in the hashed parts (never in cleaned text).
_HEADLINES_MARK = "\x1d"


def content_hash(title: str, paragraphs: Iterable[str], other_headlines: Iterable[str] = ()) -> str:
    """SHA-256 of the normalized title, body paragraphs (empty ones ignored) and other headlines
    (in any order).

    A page without other headlines hashes as title and body alone.
    """
    body = (normalize_for_hash(p) for p in paragraphs)
    others = _headlines_part(map(normalize_for_hash, other_headlines))
    return _digest([normalize_for_hash(title), *(p for p in body if p), *others])


def loose_hash(title: str, paragraphs: Iterable[str], other_headlines: Iterable[str] = ()) -> str:
    """Hash that ignores whitespace and punctuation; equal with a different content hash = minor."""
    others = _headlines_part(map(loose_key, other_headlines))
    return _digest([loose_key(title), loose_key(" ".join(paragraphs)), *others])


def _headlines_part(keys: Iterable[str]) -> list[str]:
    """The other headlines' hashed parts: marked off from the body, in any order (which
    source states which wording is no edit); none at all when there are none."""
    others = sorted(keys)
    return [_HEADLINES_MARK, *others] if others else []
