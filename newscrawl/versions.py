"""The ``versions`` and ``diffs`` collections as the tracker uses them: the reads its
decisions make (the latest version, the one the page showed, an earlier one with this text),
and the writes of a new version and its diff.

Each is written once. A version's text is compressed when large and a diff compacted
(``newscrawl.bounds``); one the store refuses even so is kept without its text
(``truncated``) or marked on its version (``diff_error``), the error recorded once, and never
retried. A version number is claimed by the insert itself: the unique index on
``(url, version)`` lets one of several crawlers win (see ``newscrawl.tracker``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from bson.errors import InvalidDocument
from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from newscrawl import record
from newscrawl.article import Fetched
from newscrawl.bounds import bound_diff, pack_version, unpack_version
from newscrawl.diff import diff_versions
from newscrawl.health import extraction_warnings, word_count
from newscrawl.significance import score_fields
from newscrawl.store import Store

logger = logging.getLogger(__name__)


class Added(NamedTuple):
    """A version just stored: its number, whether it is a minor edit of the version before,
    and its warnings (extraction health, then the writes the store refused)."""

    version: int
    minor: bool
    warnings: tuple[str, ...]


class Versions:
    """The tracker's reads and writes of one store's versions and diffs."""

    def __init__(
        self, store: Store, on_version: Callable[[dict[str, Any]], Any] | None = None
    ) -> None:
        self.store = store
        self.on_version = on_version  # see Tracker

    # reads ------------------------------------------------------------------------------
    def latest(self, url: str) -> dict[str, Any] | None:
        return self.store.versions.find_one({"url": url}, sort=[("version", DESCENDING)])

    def earlier(self, page: Fetched) -> int | None:
        """The first version with this text (a return to it is a revert)."""
        earlier = self.store.versions.find_one(
            {"url": page.url, "content_hash": page.content_hash}, sort=[("version", 1)]
        )
        return earlier["version"] if earlier else None

    def shown(
        self, url: str, article: dict[str, Any] | None, latest: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The stored version the page showed at the last check: the latest, or an earlier
        one the page flip-flopped back to (``current_version``). New versions follow it."""
        number = int(article.get("current_version") or 0) if article else 0
        if latest is None or not number or number >= latest["version"]:
            return latest
        return self.store.versions.find_one({"url": url, "version": number}) or latest

    def latest_with_text(self, url: str, text_hash: str) -> dict[str, Any] | None:
        """Number and title of the newest version with this text."""
        return self.store.versions.find_one(
            {"url": url, "content_hash": text_hash},
            {"version": 1, "title": 1},
            sort=[("version", DESCENDING)],
        )

    def is_flip_flop(self, page: Fetched, shown: dict[str, Any]) -> bool:
        """The move shown -> this text was already recorded once, or the page is back on the
        text shown after a change a volatile article's cap skipped: record no version."""
        return shown["content_hash"] == page.content_hash or (
            self.store.versions.find_one(
                {
                    "url": page.url,
                    "content_hash": page.content_hash,
                    "previous_hash": shown["content_hash"],
                },
                {"_id": 1},
            )
            is not None
        )

    # writes -----------------------------------------------------------------------------
    def add(
        self,
        page: Fetched,
        newest: dict[str, Any] | None,
        revert_of: int | None,
        latest: dict[str, Any] | None,
        skipped: int = 0,
    ) -> Added | None:
        """Insert the version after ``newest``, diffed against ``latest`` (the version the page
        showed before: ``newest`` unless it flip-flopped back to an earlier one) and counting
        the ``skipped`` changes not stored since; None when another process claimed that
        number first."""
        number = newest["version"] + 1 if newest else 1
        minor = bool(latest and latest.get("loose_hash") == page.loose_hash)
        latest = unpack_version(latest)
        warnings = extraction_warnings(page.paragraphs, latest["paragraphs"] if latest else None)
        doc = {
            "url": page.url,
            "version": number,
            "source": page.source,
            "fetched_at": page.fetched_at,
            **page.version_text(),
            "previous_hash": latest["content_hash"] if latest else None,
            "minor": minor,
            "revert_of": revert_of,
            "warnings": warnings,
            "skipped_before": skipped,
        }
        try:
            doc, refused = self._insert(doc)
        except DuplicateKeyError:
            logger.debug("version %s of %s stored concurrently; re-reading", number, page.url)
            return None
        if number == 1 and self.store.keeps_counters:
            record.count_article(self.store.db, page.source, page.fetched_at)
        if latest and not self.add_diff(doc, latest):
            refused.append("diff-too-large")
        if self.on_version is not None:
            self.on_version(doc)
        for warning in warnings:
            self.store.record_error(
                "extraction", page.url, page.source, warning,
                f"version {number}: {word_count(page.paragraphs)} words", page.fetched_at,
            )  # fmt: skip
        return Added(number, minor, (*warnings, *refused))

    def _insert(self, doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Insert a version, its text compressed if large; one the store refuses even so is kept
        without its text (``truncated``), the error recorded once: it is never retried.
        Returns the version as stored (text uncompressed) and what was refused."""
        try:
            self.store.versions.insert_one(pack_version(doc))
            return doc, []
        except InvalidDocument as exc:
            self._too_large("version-too-large", doc, exc)
            stub = {**doc, "paragraphs": [], "truncated": True}
            self.store.versions.insert_one(stub)
            return stub, ["version-too-large"]

    def _too_large(self, reason: str, version: dict[str, Any], exc: Exception) -> None:
        """Log and record, once, a write of ``version`` the store refused."""
        message = f"version {version['version']}: {exc}"
        logger.error("%s: %s, %s", reason, version["url"], message)
        self.store.record_error(
            "article", version["url"], version["source"], reason, message, version["fetched_at"]
        )

    def add_diff(self, version: dict[str, Any], previous: dict[str, Any]) -> bool:
        """Diff of ``version`` against ``previous`` (both version documents), written once:
        compact if large; one the store refuses even so is marked on the version and never
        retried (False)."""
        version, previous = unpack_version(version), unpack_version(previous)
        diff = diff_versions(previous, version)
        doc = {
            "url": version["url"],
            "source": version["source"],
            "version": version["version"],
            "from_version": previous["version"],
            "fetched_at": version["fetched_at"],
            "previous_fetched_at": previous["fetched_at"],
            "minor": version["minor"],
            "revert_of": version["revert_of"],
            **{k: v for k, v in diff.items() if k != "minor"},
        }
        doc.update(score_fields({**diff, "minor": doc["minor"]}, previous, version))
        try:
            self.store.diffs.insert_one(bound_diff(doc))
        except DuplicateKeyError:  # written meanwhile by another crawler
            logger.debug("diff %s of %s already stored", version["version"], version["url"])
            return True
        except InvalidDocument as exc:
            self._too_large("diff-too-large", version, exc)
            self.store.versions.update_one(
                {"url": version["url"], "version": version["version"]},
                {"$set": {"diff_error": "diff-too-large"}},
            )
            return False
        if self.store.keeps_counters:
            record.count_edit(self.store.db, doc)
        return True
