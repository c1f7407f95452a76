"""Rebuild articles' histories from their stored raw pages with the current extractor.

Each article's snapshots are replayed in fetch order through the crawl's own steps
(extraction, normalization, hashing, ``Tracker.record``) into scratch collections
(``reextract_*``), so the rebuilt history follows exactly the rules a crawl follows (reverts,
flip-flops, minor edits, diffs). ``plan`` only compares; ``apply`` first copies the old
versions and diffs to ``versions_history`` / ``diffs_history`` under a history id, then
replaces them. An article whose versions do not all have a snapshot (pruned by
``NEWSCRAWL_KEEP_PAGES_LATEST``, or stored before snapshots existed) is skipped: rebuilding
it would lose the versions that have no page.

While an article is rebuilt it is leased like a re-check, so no crawl checks it meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from scrapy.http import HtmlResponse

from newscrawl.extract import EXTRACTOR_VERSION, Article, extract_article
from newscrawl.schedule import RevisitPolicy
from newscrawl.snapshots import Snapshots
from newscrawl.store import Store, utcnow
from newscrawl.tracker import Fetched, Tracker

Extractor = Callable[[str, str, Mapping[str, Any] | None], Article | None]
SCRATCH = "reextract_"
LEASE_SECONDS = 15 * 60


class ScratchStore(Store):
    """The store's collections under the ``reextract_`` prefix: where a rebuild is made (its
    versions count in no source's record: the counters are rebuilt once a rebuild is applied)."""

    keeps_counters = False

    def __init__(self, store: Store) -> None:
        super().__init__(store.client, store.db)
        for name in ("articles", "versions", "diffs", "errors"):
            setattr(self, name, store.db[SCRATCH + name])


@dataclass
class Rebuild:
    """One article's history as stored and as the current extractor would have recorded it."""

    url: str
    old: list[dict[str, Any]]
    new: list[dict[str, Any]] = field(default_factory=list)
    new_diffs: list[dict[str, Any]] = field(default_factory=list)
    skipped: str = ""  # why the article cannot be rebuilt
    no_article: int = 0  # snapshots the extractor now finds no article in

    @property
    def added(self) -> list[datetime]:
        """Fetch times of versions the rebuild has and the stored history has not."""
        return sorted({v["fetched_at"] for v in self.new} - {v["fetched_at"] for v in self.old})

    @property
    def merged(self) -> list[datetime]:
        """Fetch times of stored versions the current extractor sees no change in."""
        return sorted({v["fetched_at"] for v in self.old} - {v["fetched_at"] for v in self.new})

    @property
    def retexted(self) -> int:
        """Versions kept at the same fetch whose re-extracted text differs."""
        old = {v["fetched_at"]: v["content_hash"] for v in self.old}
        return sum(1 for v in self.new if v["fetched_at"] in old and old[v["fetched_at"]]
                   != v["content_hash"])  # fmt: skip

    @property
    def changed(self) -> bool:
        return not self.skipped and bool(self.added or self.merged or self.retexted)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.url}: skipped ({self.skipped})"
        parts = [f"{len(self.old)} -> {len(self.new)} versions"]
        if self.added:
            parts.append("added " + ", ".join(t.isoformat() for t in self.added))
        if self.merged:
            parts.append("merged " + ", ".join(t.isoformat() for t in self.merged))
        if self.retexted:
            parts.append(f"{self.retexted} re-extracted differently")
        if self.no_article:
            parts.append(f"{self.no_article} pages without an article now")
        return f"{self.url}: " + "; ".join(parts)


class Reextractor:
    def __init__(
        self,
        store: Store,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        extract: Extractor = extract_article,
        policy: RevisitPolicy | None = None,
    ) -> None:
        self.store = store
        self.snapshots = Snapshots(store)
        self.scratch = ScratchStore(store)
        self.scratch.ensure_indexes()
        self.overrides = overrides or {}  # per source name, as in sources.toml
        self.extract = extract
        self.policy = policy or RevisitPolicy()

    def urls(
        self, source: str | None = None, since: datetime | None = None, url: str | None = None
    ) -> list[str]:
        """Articles with snapshots (of ``source``, fetched since ``since``, or just ``url``)."""
        return sorted({d["url"] for d in self.snapshots.find(url=url, source=source, since=since)})

    def plans(self, urls: list[str]) -> Iterator[Rebuild]:
        for url in urls:
            yield self.plan(url)

    def plan(self, url: str) -> Rebuild:
        """Replay the article's snapshots into the scratch collections; nothing else moves."""
        old = self.store.history(url)
        rebuild = Rebuild(url=url, old=old)
        docs = list(self.snapshots.find(url=url))
        missing = {v["version"] for v in old} - {d["version"] for d in docs}
        if missing:
            rebuild.skipped = f"no stored page for versions {sorted(missing)}"
            return rebuild
        self.discard(url)
        tracker = Tracker(self.scratch, self.policy)
        for doc in docs:
            page = self._fetched(doc)
            if page is None:
                rebuild.no_article += 1
            else:
                tracker.record(page)
        return self.rebuilt(url, rebuild)

    def rebuilt(self, url: str, rebuild: Rebuild | None = None) -> Rebuild:
        """The article's rebuild as planned into the scratch collections (so a caller need
        not hold every article's plan in memory between planning and applying)."""
        rebuild = rebuild or Rebuild(url=url, old=self.store.history(url))
        rebuild.new = self.scratch.history(url)
        rebuild.new_diffs = list(self.scratch.diffs.find({"url": url}).sort("version", 1))
        return rebuild

    def _fetched(self, doc: dict[str, Any]) -> Fetched | None:
        """The snapshot as the pipelines would have handed it to the tracker."""
        headers = {"Content-Type": doc["content_type"]} if doc.get("content_type") else {}
        response = HtmlResponse(
            url=doc["response_url"] or doc["url"], body=self.snapshots.body(doc), headers=headers
        )
        overrides = self.overrides.get(doc.get("source") or "")
        article = self.extract(response.text, response.url, overrides)
        if article is None:
            return None
        article = replace(article.normalized(), extractor=EXTRACTOR_VERSION)
        if not article.title and not article.paragraphs:
            return None
        return Fetched(
            url=doc["url"], source=doc.get("source") or "", fetched_at=doc["fetched_at"],
            response_url=doc.get("response_url"), **asdict(article), **article.hashes(),
        )  # fmt: skip

    def apply(self, rebuild: Rebuild) -> str | None:
        """Replace the article's versions and diffs with the rebuilt ones; the old ones are
        kept under the returned history id. None when there is nothing to write."""
        if not rebuild.changed or not rebuild.new:
            self.discard(rebuild.url)
            return None
        url, now, token = rebuild.url, utcnow(), uuid.uuid4().hex
        free = {"$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]}
        lease = {"lease_owner": token, "lease_until": now + timedelta(seconds=LEASE_SECONDS)}
        with self.store.exclusive():  # as a crawl's claim (the embedded store reads, then writes)
            taken = self.store.articles.update_one({"_id": url, **free}, {"$set": lease})
        if not taken.matched_count:
            raise RuntimeError(f"{url} is being re-checked by a crawl; try again later")
        history = f"{now.isoformat()} {token[:8]}"
        try:
            if self.store.versions.count_documents({"url": url}) != len(rebuild.old):
                raise RuntimeError(f"{url} got a new version since the plan; run again")
            self._archive(url, history, now)
            self.store.versions.delete_many({"url": url})
            self.store.diffs.delete_many({"url": url})
            self.store.versions.insert_many([_fresh(v) for v in rebuild.new])
            if rebuild.new_diffs:
                self.store.diffs.insert_many([_fresh(d) for d in rebuild.new_diffs])
            self._renumber_snapshots(rebuild)
            latest = rebuild.new[-1]
            self.store.articles.update_one(
                {"_id": url},
                {
                    "$set": {
                        "versions": latest["version"], "title": latest["title"],
                        "content_hash": latest["content_hash"], "extractor": EXTRACTOR_VERSION,
                        "last_changed": latest["fetched_at"], "reextracted_at": now,
                    },
                    "$push": {"histories": history},
                },
            )  # fmt: skip
        finally:
            self.store.articles.update_one(
                {"_id": url, "lease_owner": token},
                {"$set": {"lease_owner": None, "lease_until": None}},
            )
        self.discard(url)
        return history

    def _archive(self, url: str, history: str, now: datetime) -> None:
        for name in ("versions", "diffs"):
            docs = [
                {**_fresh(d), "replaced_id": d["_id"], "history": history, "replaced_at": now}
                for d in self.store.db[name].find({"url": url})
            ]
            if docs:
                self.store.db[f"{name}_history"].insert_many(docs)

    def _renumber_snapshots(self, rebuild: Rebuild) -> None:
        """Each snapshot belongs to the version current right after its fetch."""
        starts = [(v["fetched_at"], v["version"]) for v in rebuild.new]
        for doc in self.snapshots.find(url=rebuild.url):
            current = [n for at, n in starts if at <= doc["fetched_at"]]
            if current:
                self.snapshots.pages.update_one(
                    {"_id": doc["_id"]}, {"$set": {"version": current[-1]}}
                )

    def discard(self, url: str) -> None:
        """Drop the article's rebuild from the scratch collections."""
        self.scratch.articles.delete_many({"_id": url})
        for name in ("versions", "diffs", "errors"):
            getattr(self.scratch, name).delete_many({"url": url})


def _fresh(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


def history_of(store: Store, history: str) -> list[dict[str, Any]]:
    """The versions a rebuild replaced, in order."""
    return list(store.db["versions_history"].find({"history": history}).sort("version", ASCENDING))
