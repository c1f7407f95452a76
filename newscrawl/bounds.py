"""What one stored version or diff may hold: MongoDB refuses a document over 16 MiB (BSON).

A version whose document is over MAX_VERSION_BYTES keeps its paragraphs zlib-compressed in
``packed`` and an empty ``paragraphs``: whoever reads a version's text calls
``unpack_version``. A diff over MAX_DIFF_BYTES is stored in the compact form of
``newscrawl.diff.compact_diff`` (``truncated: True``), which the viewer and feeds show as is.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, overload

import bson

from newscrawl.diff import compact_diff

MAX_VERSION_BYTES = 4 * 1024 * 1024
# Well under the limit: the viewer's feeds load 50 diffs at once.
MAX_DIFF_BYTES = 4 * 1024 * 1024


def bson_size(doc: dict[str, Any]) -> int:
    return len(bson.encode(doc))


def pack_version(doc: dict[str, Any]) -> dict[str, Any]:
    """The version document to store: as is, or with its paragraphs compressed if too large."""
    if bson_size(doc) <= MAX_VERSION_BYTES:
        return doc
    packed = zlib.compress(json.dumps(doc["paragraphs"]).encode("ascii"))
    return {**doc, "paragraphs": [], "packed": packed}


@overload
def unpack_version(doc: dict[str, Any]) -> dict[str, Any]: ...
@overload
def unpack_version(doc: None) -> None: ...
def unpack_version(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored version document with its paragraphs, compressed or not."""
    if doc is None or "packed" not in doc:
        return doc
    paragraphs = json.loads(zlib.decompress(doc["packed"]))
    return {k: v for k, v in doc.items() if k != "packed"} | {"paragraphs": paragraphs}


def bound_diff(doc: dict[str, Any]) -> dict[str, Any]:
    """The diff document to store: as is, or compact if over MAX_DIFF_BYTES."""
    if bson_size(doc) <= MAX_DIFF_BYTES:
        return doc
    return compact_diff(doc, lambda compact: bson_size(compact) <= MAX_DIFF_BYTES)
