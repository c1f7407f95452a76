"""The raw page behind every stored version: the evidence, kept for citing and re-extraction.

One document per snapshot in ``pages``: the response body exactly as the crawler received it
(after transfer/content decoding), its URL after redirects, status, the headers that matter
and the fetch time, the body zstandard-compressed. A page is compressed with the article's
previous snapshot as a *prefix* (zstd's raw-content dictionary): a new version of an article
repeats almost all of the page before it, so this stores ~60x less than the raw HTML where
compressing the page alone gives ~6x (corpus pages, see ``bench/snapshots.py``). An
article's first page is compressed against the source's latest page (same templates) when
that beats compressing it alone. At most ``MAX_CHAIN`` snapshots in a row depend on one
another, so reading one decompresses a bounded chain. A compressed body over ``CHUNK_SIZE``
goes to ``page_chunks`` in pieces (MongoDB documents stop at 16 MB); the ``pages`` document
is written last, so a snapshot that exists is complete.

Only fetches that store a version keep a snapshot: an unchanged check's page differs from
the stored one only in what the extractor ignores, and keeping every check would multiply
the store by the number of checks (see README, "Evidence").
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from newscrawl.store import Store, create_missing_indexes

logger = logging.getLogger(__name__)

if sys.version_info >= (3, 14):
    from compression.zstd import ZstdDict, compress, decompress
else:
    from backports.zstd import ZstdDict, compress, decompress

LEVEL = 3  # zstd's default: fast enough for the crawl's store thread
MAX_CHAIN = 16  # a snapshot depends on at most this many earlier ones
CHUNK_SIZE = 8 * 1024 * 1024


def _meta() -> dict[str, int]:
    """Everything but the body: what listings read. A new dict each call: litemongo adds to
    the projection it is given, which then means something else over the wire."""
    return {"body": 0}


@dataclass(frozen=True)
class RawPage:
    """A response as received: what a snapshot keeps."""

    body: bytes
    response_url: str
    fetched_at: datetime
    status: int = 200
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    date: str | None = None


class Snapshots:
    """Store and read raw pages; ``keep_latest`` > 0 keeps only that many per article."""

    def __init__(self, store: Store, keep_latest: int = 0) -> None:
        self.pages = store.db["pages"]
        self.chunks = store.db["page_chunks"]
        self.keep_latest = keep_latest
        # The latest page this object stored per source, (id, body): the base of the next
        # article's first page. Looking it up in the store each time made a first crawl
        # quadratic on the embedded store, which has no sorted index (every first page read
        # every page of its source, bodies included, to find the newest), and rebuilding its
        # body decompressed its whole chain.
        self._source_latest: dict[str, tuple[str, bytes]] = {}

    @classmethod
    def from_settings(cls, store: Store, settings: Any) -> Snapshots | None:
        """None when ``NEWSCRAWL_KEEP_PAGES`` is off."""
        if not settings.getbool("NEWSCRAWL_KEEP_PAGES", True):
            return None
        snapshots = cls(store, settings.getint("NEWSCRAWL_KEEP_PAGES_LATEST", 0))
        snapshots.ensure_indexes()
        return snapshots

    def ensure_indexes(self) -> None:
        create_missing_indexes(self.pages, [
            ([("url", ASCENDING), ("fetched_at", ASCENDING)], True),
            ([("url", ASCENDING), ("version", ASCENDING)], False),
            ([("source", ASCENDING), ("fetched_at", ASCENDING)], False),
        ])  # fmt: skip
        create_missing_indexes(self.chunks, [([("page", ASCENDING), ("part", ASCENDING)], True)])

    # writing ----------------------------------------------------------------------------
    def keep(self, url: str, source: str, version: int, raw: RawPage) -> dict[str, Any] | None:
        """Store ``raw`` as the snapshot of ``url``'s ``version``; None if already stored."""
        base, packed = self._compressed(url, source, raw.body)
        doc = {
            "_id": f"{url} {raw.fetched_at.isoformat()}",
            "url": url,
            "source": source,
            "version": version,
            "fetched_at": raw.fetched_at,
            "response_url": raw.response_url,
            "status": raw.status,
            "content_type": raw.content_type,
            "etag": raw.etag,
            "last_modified": raw.last_modified,
            "date": raw.date,
            "size": len(raw.body),
            "stored": len(packed),
            "base": base["_id"] if base else None,
            "chain": base.get("chain", 0) + 1 if base else 0,
        }
        self._write(doc, packed)
        try:
            self.pages.insert_one(doc)
        except DuplicateKeyError:
            return None
        self._source_latest[source] = (str(doc["_id"]), raw.body)
        if self.keep_latest:
            self.prune(url)
        return doc

    def _compressed(self, url: str, source: str, body: bytes) -> tuple[dict | None, bytes]:
        """(base snapshot, body compressed against it): the article's latest snapshot, or,
        for its first, the source's latest page (same templates) if that is smaller than
        the page compressed alone."""
        latest = [("fetched_at", DESCENDING)]
        base = self.pages.find_one({"url": url}, _meta(), sort=latest)
        first = base is None
        if first:
            base = self._latest_of_source(source)
        if base is not None and base.get("chain", 0) >= MAX_CHAIN:
            base = None  # start a new chain
        if base is None:
            return None, compress_page(body, None)
        remembered = self._source_latest.get(source, ("", b""))
        previous = remembered[1] if remembered[0] == base["_id"] else self.body(base)
        packed = compress_page(body, previous)
        if first:
            alone = compress_page(body, None)
            if len(alone) <= len(packed):
                return None, alone
        return base, packed

    def _latest_of_source(self, source: str) -> dict[str, Any] | None:
        """The source's latest page: the one this run stored last (if it is still there:
        another crawler may have pruned it), else the newest in the store."""
        remembered = self._source_latest.get(source)
        if remembered is not None:
            base = self.pages.find_one({"_id": remembered[0]}, _meta())
            if base is not None:
                return base
        return self.pages.find_one({"source": source}, _meta(), sort=[("fetched_at", DESCENDING)])

    def _write(self, doc: dict[str, Any], packed: bytes) -> None:
        """The body in the document, or in CHUNK_SIZE parts in ``page_chunks``."""
        if len(packed) <= CHUNK_SIZE:
            doc["body"], doc["parts"] = packed, 0
            return
        doc["body"], doc["parts"] = None, 0
        for part, start in enumerate(range(0, len(packed), CHUNK_SIZE)):
            self.chunks.replace_one(
                {"page": doc["_id"], "part": part},
                {"page": doc["_id"], "part": part, "data": packed[start : start + CHUNK_SIZE]},
                upsert=True,
            )
            doc["parts"] = part + 1

    def prune(self, url: str) -> int:
        """Drop all but the latest ``keep_latest`` snapshots of ``url``. A kept snapshot
        compressed against a dropped one (this article's, or another article's first) is
        re-stored on its own first. (Chain lengths after it are then overestimates, which
        only starts their next chain sooner.)"""
        docs = list(self.pages.find({"url": url}, _meta()).sort("fetched_at", ASCENDING))
        ids = [d["_id"] for d in docs[: -self.keep_latest]]
        if not ids:
            return 0
        for dependent in self.pages.find({"base": {"$in": ids}}, _meta()):
            if dependent["_id"] not in ids:
                self._store_alone(dependent)
        self.chunks.delete_many({"page": {"$in": ids}})
        return self.pages.delete_many({"_id": {"$in": ids}}).deleted_count

    def _store_alone(self, doc: dict[str, Any]) -> None:
        packed = compress_page(self.body(doc), None)
        self.chunks.delete_many({"page": doc["_id"]})
        update = {"base": None, "chain": 0, "stored": len(packed)}
        self._write(update, packed)
        self.pages.update_one({"_id": doc["_id"]}, {"$set": update})

    # reading ----------------------------------------------------------------------------
    def find(
        self,
        url: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Snapshot documents (without bodies), by article then fetch time."""
        query: dict[str, Any] = {}
        if url:
            query["url"] = url
        if source:
            query["source"] = source
        if since:
            query["fetched_at"] = {"$gte": since}
        return iter(self.pages.find(query, _meta()).sort([("url", 1), ("fetched_at", 1)]))

    def get(self, url: str, version: int) -> dict[str, Any] | None:
        return self.pages.find_one({"url": url, "version": version}, _meta())

    def body(self, doc: dict[str, Any]) -> bytes:
        """The exact bytes received, decompressed through the snapshot's prefix chain."""
        chain = [doc]
        while chain[-1].get("base"):
            base = self.pages.find_one({"_id": chain[-1]["base"]}, _meta())
            if base is None:
                raise LookupError(f"snapshot {chain[-1]['_id']!r}: its base is missing")
            chain.append(base)
        body: bytes | None = None
        for snapshot in reversed(chain):
            body = _decompress(self._packed(snapshot), body)
        assert body is not None
        return body

    def _packed(self, doc: dict[str, Any]) -> bytes:
        if not doc.get("parts"):
            full = cast(dict[str, Any], self.pages.find_one({"_id": doc["_id"]}, {"body": 1}))
            return full["body"]
        parts = self.chunks.find({"page": doc["_id"]}).sort("part", ASCENDING)
        return b"".join(p["data"] for p in parts)


def compress_page(body: bytes, prefix: bytes | None) -> bytes:
    """A page's body zstd-compressed, against ``prefix`` (a previous page) when given."""
    if not prefix:
        return compress(body, level=LEVEL)
    return compress(body, level=LEVEL, zstd_dict=ZstdDict(prefix, is_raw=True).as_prefix)


def _decompress(packed: bytes, prefix: bytes | None) -> bytes:
    if not prefix:
        return decompress(packed)
    return decompress(packed, zstd_dict=ZstdDict(prefix, is_raw=True).as_prefix)


class RawSpool:
    """Raw pages of the items spooled while the store was down (``newscrawl.spool``), kept
    beside the spool and handed back when the next run replays it."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"pages-{os.getpid()}-{datetime.now():%Y%m%d%H%M%S}.jsonl"

    def add(self, url: str, raw: RawPage) -> None:
        record = {
            **dataclasses.asdict(raw),
            "url": url,
            "fetched_at": raw.fetched_at.isoformat(),
            "body": base64.b64encode(compress(raw.body, level=LEVEL)).decode("ascii"),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("pages-*.jsonl")) if self.directory.is_dir() else []

    def load(self) -> dict[tuple[str, str], RawPage]:
        """Spooled pages by (url, fetch time in ISO form)."""
        pages = {}
        for path in self.files():
            for number, line in enumerate(path.read_bytes().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    url, at = record.pop("url"), record["fetched_at"]
                    record["fetched_at"] = datetime.fromisoformat(at)
                    record["body"] = decompress(base64.b64decode(record["body"]))
                    pages[(url, at)] = RawPage(**record)
                except Exception as exc:  # a cut-off line: its version is stored without page
                    logger.error("damaged raw page at %s line %d skipped: %s", path, number, exc)
        return pages

    def clear(self, files: list[Path]) -> None:
        """Remove files whose pages were all written (after the spool replayed)."""
        for path in files:
            path.unlink(missing_ok=True)
