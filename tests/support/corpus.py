"""Shared loading of the article corpora (``../shared/corpus`` or ``$NEWSCRAWL_CORPUS``, and
``../shared/corpus-intl``) and their split by publisher into cross-validation folds."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from w3lib.encoding import html_to_unicode


@dataclass(frozen=True)
class CorpusPage:
    name: str
    raw: bytes
    html: str
    record: dict[str, Any]

    @property
    def url(self) -> str:
        return self.record["url"]

    @property
    def publisher(self) -> str:
        """The record's ``publisher``, else the file name's prefix (``BBC_2024_08_01``)."""
        return self.record.get("publisher") or self.name.split("/")[-1].split("_")[0]


def fold(publisher: str, folds: int) -> int:
    """The publisher's cross-validation fold: stable across runs, machines and corpora."""
    digest = hashlib.sha256(publisher.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % folds


SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def corpus_dir() -> Path:
    """The corpus directory: ``$NEWSCRAWL_CORPUS`` or ``shared/corpus`` beside the repository."""
    env = os.environ.get("NEWSCRAWL_CORPUS")
    if env:
        return Path(env)
    return SHARED / "corpus"


def intl_corpus_dir() -> Path:
    """The second corpus, publishers nobody tuned for: ``shared/corpus-intl``."""
    return SHARED / "corpus-intl"


@cache
def _load(directory: Path) -> tuple[CorpusPage, ...]:
    pages = []
    for path in sorted(directory.glob("*/*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        stem = path.name.removesuffix(".html.gz")
        record = json.loads(path.with_name(f"{stem}.json").read_text())
        html = _decode(raw)
        name = f"{path.parent.name}/{stem}"
        pages.append(CorpusPage(name=name, raw=raw, html=html, record=record))
    return tuple(pages)


def _decode(raw: bytes) -> str:
    """The page's text. Bytes that are valid UTF-8 are UTF-8 whatever the page declares: the
    corpus stores pages re-encoded (three declare a legacy charset that no longer applies)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return html_to_unicode(None, raw)[1]


def load_pages(directory: Path | None = None) -> list[CorpusPage]:
    """All corpus pages, sorted by name (cached per directory)."""
    return list(_load((directory or corpus_dir()).resolve()))


_TOKEN = re.compile(r"\w+")


def token_f1(got: list[str], expected: list[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of lowercase word tokens, as multisets."""
    got_tokens = Counter(_TOKEN.findall(" ".join(got).lower()))
    expected_tokens = Counter(_TOKEN.findall(" ".join(expected).lower()))
    overlap = sum((got_tokens & expected_tokens).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision = overlap / sum(got_tokens.values())
    recall = overlap / sum(expected_tokens.values())
    return precision, recall, 2 * precision * recall / (precision + recall)
