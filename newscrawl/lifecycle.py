"""An article's life after publication: gone (404/410, soft 404), confirmed removed, back
again, or moved to another address.

A sign that an article is gone (a 404/410, a redirect to the home or a section page, a page
saying "page not found") is not taken at its word: the article is re-checked
``confirm_checks`` more times, ``confirm_interval`` apart, and marked ``removed`` only when
every one of them says gone too (publishers' CMSs answer 404 for minutes during deploys). A
removed article is still checked every ``removed_interval`` for ``removed_stop_after``: if it
comes back, the tracker re-tracks it (``Tracker._came_back``). Removals, reappearances and
moves are events (``newscrawl.events``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from newscrawl import events
from newscrawl.due import schedule_fields
from newscrawl.store import LEASE_FREE, Store, as_utc
from newscrawl.urls import canonical_url

DAY = 24 * 60 * 60
REDIRECT_HOME = "redirect-home"
REDIRECT_SECTION = "redirect-section"
NOT_FOUND_PAGE = "not-found-page"
# An index document is its directory: "/news/index.html" is the section "/news/".
_INDEX = re.compile(r"^(index|default|home)\.(html?|php|aspx?|jsp)$", re.IGNORECASE)
# "Page not found" and its equivalents, casefolded and accent-folded (see ``_fold``). Only
# phrases no article headline uses in passing: a page is "not found" when its headline says
# so, or its short body does (see ``not_found_page``).
NOT_FOUND_PHRASES = (
    # English
    "page not found", "page cannot be found", "page can't be found", "page could not be found",
    "page you requested could not be found", "page you are looking for",
    "page you were looking for",
    "page does not exist", "page doesn't exist", "page no longer exists", "404 not found",
    "error 404", "404 error", "article not found", "story not found", "content not found",
    "this article is no longer available", "this page is no longer available",
    "sorry, we couldn't find", "we can't find the page", "oops! that page",
    # German, Dutch, Scandinavian
    "fehler 404", "erreur 404", "seite nicht gefunden", "seite wurde nicht gefunden",
    "seite existiert nicht",
    "pagina niet gevonden", "pagina bestaat niet", "sidan kunde inte hittas",
    "sidan hittades inte", "siden blev ikke fundet", "siden finnes ikke", "siden ble ikke funnet",
    "sivua ei loytynyt",
    # Romance languages
    "page introuvable", "page non trouvee", "cette page n'existe pas",
    "pagina no encontrada", "la pagina que buscas", "pagina non trovata",
    "la pagina che stai cercando", "pagina nao encontrada", "pagina inexistente",
    # Central and eastern European, Turkish, Greek
    "nie znaleziono strony", "strona nie istnieje", "stranka nenalezena", "stranka nebola najdena",
    "az oldal nem talalhato", "pagina nu a fost gasita", "sayfa bulunamadı",
    "stranica nije pronađena", "страница не найдена", "сторінку не знайдено",
    "страницата не е намерена", "η σελιδα δεν βρεθηκε",
    # Asian languages, Arabic, Hebrew
    "ページが見つかりません", "お探しのページ", "页面不存在", "找不到页面", "页面未找到",
    "頁面不存在", "페이지를 찾을 수 없습니다", "không tìm thấy trang", "halaman tidak ditemukan",
    "ไม่พบหน้า", "पेज नहीं मिला", "الصفحة غير موجودة", "الصفحة المطلوبة غير موجودة",
    "הדף לא נמצא",
)  # fmt: skip
# A body longer than this is an article, whatever one of its lines says.
NOT_FOUND_MAX_WORDS = 120
NOT_FOUND_MAX_CHARS = 4000  # headline and body: a longer page is no error page either


def _fold(text: str) -> str:
    """Casefolded, accents and typographic apostrophes folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.split())


_PHRASES = tuple(_fold(p) for p in NOT_FOUND_PHRASES)


def not_found_page(title: str, paragraphs: list[str]) -> bool:
    """Whether an extracted page is an error page served with 200 (a soft 404): a short page
    (at most NOT_FOUND_MAX_WORDS words of body) whose headline or body says "page not
    found" in one of a few dozen languages. Conservative: a long body is an article."""
    texts = [title, *paragraphs]
    if sum(map(len, texts)) > NOT_FOUND_MAX_CHARS:
        return False
    if sum(len(p.split()) for p in paragraphs) > NOT_FOUND_MAX_WORDS:
        return False
    folded = [_fold(text) for text in texts]
    return any(phrase in text for text in folded for phrase in _PHRASES)


def _segments(path: str) -> list[str]:
    parts = [s for s in path.split("/") if s]
    if parts and _INDEX.match(parts[-1]):
        parts.pop()
    return parts


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def soft_404_redirect(requested: str, final: str) -> str | None:
    """``redirect-home`` or ``redirect-section`` when an article's address redirected to its
    site's home page or to a section above it (``/news/world/123-story`` to ``/news/world/``
    or ``/news/``), else None. A target with a query (``/?p=123``) is not taken for one."""
    if same_address(requested, final):
        return None
    old, new = urlsplit(requested), urlsplit(final)
    if _host(requested) != _host(final) or new.query:
        return None
    target, source = _segments(new.path), _segments(old.path)
    if not target:
        return REDIRECT_HOME
    if len(target) < len(source) and source[: len(target)] == target:
        return REDIRECT_SECTION
    return None


def same_address(a: str, b: str) -> bool:
    """Whether two URLs name the same page, whatever the scheme, ``www.``, trailing slash
    or tracking parameters (an http -> https redirect is no move)."""
    if a == b:  # most responses: served where they were asked for
        return True
    ca, cb = canonical_url(a) or a, canonical_url(b) or b
    sa, sb = urlsplit(ca), urlsplit(cb)
    return (_host(ca), sa.port, sa.path.rstrip("/"), sa.query) == (
        _host(cb), sb.port, sb.path.rstrip("/"), sb.query,
    )  # fmt: skip


@dataclass(frozen=True)
class RemovalPolicy:
    """How a gone article is confirmed removed, and how a removed one is still watched."""

    confirm_checks: int = 3
    confirm_interval: float = 60 * 60
    removed_interval: float = DAY
    removed_stop_after: float = 30 * DAY

    @classmethod
    def from_settings(cls, settings: Any) -> RemovalPolicy:
        return cls(
            confirm_checks=settings.getint("NEWSCRAWL_REMOVAL_CONFIRM_CHECKS", cls.confirm_checks),
            confirm_interval=settings.getfloat(
                "NEWSCRAWL_REMOVAL_CONFIRM_INTERVAL", cls.confirm_interval
            ),
            removed_interval=settings.getfloat(
                "NEWSCRAWL_REMOVED_RECHECK_INTERVAL", cls.removed_interval
            ),
            removed_stop_after=settings.getfloat(
                "NEWSCRAWL_REMOVED_RECHECK_STOP_AFTER", cls.removed_stop_after
            ),
        )

    def removed_next_check(self, now: datetime, removed_at: datetime) -> datetime | None:
        """When a removed article is checked again; None once it has been gone too long."""
        if (now - removed_at).total_seconds() >= self.removed_stop_after:
            return None
        return now + timedelta(seconds=self.removed_interval)


# What ``Lifecycle.gone`` made of a sign.
UNTRACKED = "untracked"  # not a tracked article: an error record, as any failed fetch
SUSPECT = "suspect"  # a sign, to be confirmed by re-checks
REMOVED = "removed"  # confirmed: the article is marked removed (event)
STILL_REMOVED = "still-removed"  # a removed article's slow check: still gone
GONE_RESULTS = frozenset({UNTRACKED, SUSPECT, REMOVED, STILL_REMOVED})


class Lifecycle:
    """The writes of an article's lifecycle, on the store thread."""

    def __init__(
        self,
        store: Store,
        policy: RemovalPolicy,
        on_event: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.on_event = on_event  # called with each event recorded (notifications)

    def _event(self, url: str, kind: str, at: datetime, source: str, **data: Any) -> None:
        event = events.record_event(self.store.db, url, kind, at, source, **data)
        if self.on_event is not None:
            self.on_event(event)

    def gone(self, url: str, source: str, reason: str, now: datetime) -> str:
        """Record a sign that the article at ``url`` is gone (``reason``: ``http-404``,
        ``http-410``, ``redirect-home``, ``redirect-section``, ``not-found-page``)."""
        articles = self.store.articles
        article = articles.find_one(
            {"_id": url}, {"status": 1, "gone": 1, "removed_at": 1, "moved_to": 1}
        )
        if article is None or article.get("moved_to"):
            self.store.record_error("article", url, source, reason, "not found", now)
            return UNTRACKED
        fields: dict[str, Any] = {"last_checked": now, **LEASE_FREE}
        if article.get("status") == REMOVED:
            removed_at = as_utc(article.get("removed_at") or now)
            fields.update(schedule_fields(self.policy.removed_next_check(now, removed_at)))
            articles.update_one({"_id": url}, {"$set": fields})
            return STILL_REMOVED
        gone = article.get("gone") or {"since": now, "checks": 0}
        since, checks = as_utc(gone["since"]), int(gone.get("checks", 0)) + 1
        if checks <= self.policy.confirm_checks:
            fields["gone"] = {"since": since, "checks": checks, "reason": reason}
            fields.update(schedule_fields(now + timedelta(seconds=self.policy.confirm_interval)))
            articles.update_one({"_id": url}, {"$set": fields})
            return SUSPECT
        fields.update(
            status=REMOVED,
            removed_at=since,
            removed_reason=reason,
            gone=None,
            **schedule_fields(self.policy.removed_next_check(now, since)),
        )
        if reason.startswith("http-"):
            fields["http_status"] = int(reason.removeprefix("http-"))
        articles.update_one({"_id": url}, {"$set": fields})
        self._event(url, "removed", since, source, reason=reason, confirmed_at=now, checks=checks)
        return REMOVED

    def moved(self, old: str, new: str, source: str, now: datetime) -> bool:
        """The tracked article at ``old`` now redirects to the article at ``new`` (tracked
        from this fetch on): ``old`` points to ``new`` and is no longer checked, ``new``
        remembers where it came from, and a ``moved`` event links the two. True the first
        time, False when already recorded."""
        result = self.store.articles.update_one(
            {"_id": old, "moved_to": {"$ne": new}},
            {"$set": {"status": "moved", "moved_to": new, "moved_at": now, "last_checked": now,
                      **schedule_fields(None), "gone": None, **LEASE_FREE}},
        )  # fmt: skip
        if not result.modified_count:
            return False
        self.store.articles.update_one({"_id": new}, {"$addToSet": {"moved_from": old}})
        self._event(old, "moved", now, source, to=new)
        return True
