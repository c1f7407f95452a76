"""The viewer's Flask application: HTML pages, their JSON, and feeds of changes.

Every route is GET-only and only reads the store. Each page's data is built once as a
JSON-ready dict: ``/x.json`` (or ``Accept: application/json``) returns it, ``/x`` renders it
with an autoescaping Jinja template, so the two never disagree.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request
from pymongo.errors import ExecutionTimeout
from werkzeug.exceptions import HTTPException

from newscrawl import card, filters, queries, record
from newscrawl.sources import Source, SourcesError, load_sources
from newscrawl.store import Store, open_database, utcnow
from newscrawl.web import feeds, links, pages, params, publishers, snapshots, timelimit
from newscrawl.web.diffcache import DiffCache
from newscrawl.web.humanize import as_utc, moment
from newscrawl.web.pages import live_href
from newscrawl.web.sidebyside import changed_rows
from newscrawl.web.timeline import timeline

logger = logging.getLogger(__name__)

FEED_SIZE = 50
RECENT_EVENTS = 10  # lifecycle events on the first page of recent changes
# Defaults of the viewer's settings (newscrawl/settings.py), for apps made without them.
TIME_LIMIT = 5.0
LEGACY_RECHECK = 60.0  # seconds between looks for articles still without search words
# No scripts at all: even a markup bug could not run a publisher's payload.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class ThreadStores:
    """One store per server thread: the embedded store's SQLite connections may only be used
    by the thread that opened them (MongoDB clients would not mind). Each store's scans keep
    to the request's time limit (``timelimit.guard``)."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._local = threading.local()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self._open()
            scanned = [store.articles, store.versions, store.diffs, store.events]
            timelimit.guard(store.client, [*scanned, store.db[record.COLLECTION]])
        return store


class LegacyArticles:
    """Whether the store still holds articles without ``search_words`` (stored before they
    existed; a crawl's store opening fills them in): known clean once, else looked up again
    at most every LEGACY_RECHECK seconds."""

    def __init__(self) -> None:
        self._clean = False
        self._next_look = 0.0
        self._found = True

    def present(self, store: Store) -> bool:
        if self._clean:
            return False
        now = time.monotonic()
        if now >= self._next_look:
            self._found = queries.lacks_search_words(store)
            self._clean = not self._found
            self._next_look = now + LEGACY_RECHECK
        return self._found


def create_app(
    settings: Mapping[str, Any] | None = None,
    *,
    open_store: Callable[[], Store] | None = None,
    per_page: int = queries.PER_PAGE,
) -> Flask:
    """The viewer over the store chosen by ``settings`` (MONGO_URI / MONGO_DATABASE /
    NEWSCRAWL_DATA_DIR, as for the crawl), or over the stores ``open_store`` returns.

    Also read from ``settings``: NEWSCRAWL_PUBLIC_URL and NEWSCRAWL_TRUSTED_PROXIES (see
    ``links``), NEWSCRAWL_VIEWER_TIME_LIMIT (seconds for one request's store queries).
    """
    chosen = settings or {}
    if open_store is None:

        def open_store() -> Store:
            return Store(*open_database(chosen))

    app = Flask(__name__)
    app.config[links.PUBLIC_URL] = links.public_url(chosen.get(links.PUBLIC_URL) or "")
    links.trust_proxies(app, _setting(chosen, "NEWSCRAWL_TRUSTED_PROXIES", int, 0))
    time_limit = _setting(chosen, "NEWSCRAWL_VIEWER_TIME_LIMIT", float, TIME_LIMIT)
    stores = ThreadStores(open_store)
    source_configs = _source_configs(chosen)
    diff_cache = DiffCache()
    legacy = LegacyArticles()
    app.jinja_env.filters["when"] = pages.when
    app.jinja_env.filters["live_href"] = live_href
    app.jinja_env.globals["page_url"] = pages.page_url

    def store() -> Store:
        return stores.get()

    app.register_blueprint(snapshots.blueprint(store))

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        response.vary.add("Accept")
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Any, int]:
        return _error(error.code or 500, error.description or error.name)

    @app.errorhandler(ExecutionTimeout)
    def too_slow(error: ExecutionTimeout) -> tuple[Any, int]:
        logger.warning("viewer: %s took over %s s, stopped", request.full_path, time_limit)
        return _error(503, "The store took too long to answer. Try again later, or narrow "
                      "the search.")  # fmt: skip

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[Any, int]:
        logger.error("viewer error: %s", type(error).__name__, exc_info=error)
        return _error(500, "The store could not be read. Try again later.")

    def timed(view: Callable[[], Any]) -> Callable[[], Any]:
        """The view with its store queries held to the time limit."""

        @functools.wraps(view)
        def within_limit() -> Any:
            with timelimit.deadline(time_limit):
                return view()

        return within_limit

    @timed
    def changes() -> Any:
        source, minor, number = (
            request.args.get("source") or None,
            params.flag("minor"),
            params.page(),
        )
        min_score, order = params.score(), params.order()
        page = queries.recent_changes(
            store(), source=source, minor=minor, page=number, per_page=per_page,
            min_score=min_score, order=order,
        )  # fmt: skip
        shown = {"source": source, "minor": minor or None, "min": min_score,
                 "sort": None if order == "time" else order}  # fmt: skip
        recent = queries.latest_events(store(), source, RECENT_EVENTS) if number == 1 else []
        data = {
            "source": source,
            "minor": minor,
            "min": min_score,
            "sort": order,
            "sources": queries.sources(store()),
            "changes": [pages.change_fields(c) for c in page.items],
            "events": [{**pages.event_fields(e), "headline": e["headline"]} for e in recent],
            **pages.paging(page, **shown),
            "feeds": pages.feed_links(
                "changes", source=source, minor=minor or None, min=min_score
            ),  # fmt: skip
        }
        return _respond("changes.html", data)

    @timed
    def article() -> Any:
        found = _article(store())
        url = found["_id"]
        versions = queries.version_list(store(), url)
        rows = []
        for before, version in zip([None, *versions], versions, strict=False):
            rows.append(pages.version_fields(found["_id"], version, before))
        data = {
            **pages.article_fields(found),
            "changes": max(0, len(versions) - 1),
            "versions": rows,
            "events": [pages.event_fields(e, url) for e in queries.events_of(store(), url)],
            "timeline": timeline(versions),
            "feeds": pages.feed_links("article", url=found["_id"]),
        }
        return _respond("article.html", data)

    def comparison() -> tuple[queries.Comparison, int]:
        """The versions ``?url=…[&from=N&to=M]`` asks for (default: the latest change)."""
        found = _article(store())
        latest = int(found.get("versions") or 1)
        new = params.number("to", latest)
        old = params.number("from", new - 1)
        if not 1 <= old < new:
            abort(400, "Compare an earlier version with a later one (1 <= from < to).")
        compared = queries.compare(store(), found, old, new, cache=diff_cache)
        if compared is None:
            abort(404, f"This article has no version {new if new > latest else old}.")
        return compared, latest

    @timed
    def diff() -> Any:
        return _respond("diff.html", pages.comparison_fields(*comparison()))

    def change_card() -> card.Card:
        compared = comparison()[0]
        old, new = compared.old["version"], compared.new["version"]
        link = links.external("diff", url=compared.article["_id"], **{"from": old, "to": new})
        return card.card_of(compared, link=link)

    @timed
    def card_png() -> Response:
        """The change as an image to post (``newscrawl.card``); its alt text at /card.txt."""
        response = Response(card.render(change_card()), mimetype="image/png")
        response.cache_control.public, response.cache_control.max_age = True, 3600
        return response

    @timed
    def card_txt() -> Response:
        return Response(card.alt_text(change_card()), mimetype="text/plain")

    @timed
    def search() -> Any:
        q, number = request.args.get("q", "").strip(), params.page()
        try:
            found = queries.search_filter(q)
        except queries.BadQuery as error:
            abort(400, str(error))
        old = found is not None and legacy.present(store())
        page = queries.search(store(), q, page=number, per_page=per_page, legacy=old)
        data = {
            "q": q,
            "results": [
                {
                    **pages.article_fields(a),
                    "versions": a.get("versions"),
                    "links": pages.links(a["_id"]),
                }
                for a in page.items
            ],
            **pages.paging(page, q=q or None),
            "more": page.capped,
        }
        return _respond("search.html", data)

    @timed
    def source() -> Any:
        name, days = request.args.get("name", "").strip(), params.days()
        if not name:
            abort(400, "Give the source's name: ?name=...")
        data = publishers.source_record(store(), name, days)
        if data is None:
            abort(404, "No articles of this source are tracked.")
        return _respond("source.html", data)

    @timed
    def sources() -> Any:
        return _respond("sources.html", publishers.sources_record(store(), params.days()))

    def feed_changes(**query: Any) -> list[dict[str, Any]]:
        """The newest changes for a feed: those that count under their source's filters
        (``newscrawl.filters``), all of them when no source filters any."""
        if not any(map(filters.filters_anything, source_configs.values())):
            page = queries.recent_changes(store(), per_page=FEED_SIZE, with_rows=True, **query)
            return page.items

        def keep(change: dict[str, Any]) -> bool:
            return filters.counts(source_configs.get(change.get("source") or ""), change)

        return queries.counted_changes(store(), keep, limit=FEED_SIZE, **query)

    @timed
    def changes_feed() -> Response:
        source, minor = request.args.get("source") or None, params.flag("minor")
        min_score = params.score()
        changes = feed_changes(source=source, minor=minor, min_score=min_score)
        recent = queries.latest_events(store(), source, FEED_SIZE)
        title = f"newscrawl: changes in {source}" if source else "newscrawl: changes"
        key = f"changes?source={source or ''}&minor={minor}&min={min_score or ''}"
        page_url = links.external("changes", source=source, minor=minor or None, min=min_score)
        return _feed(key, title, page_url, changes, recent)

    @timed
    def article_feed() -> Response:
        found = _article(store())
        minor, min_score = params.flag("minor"), params.score()
        changes = feed_changes(url=found["_id"], minor=minor, min_score=min_score)
        happened = queries.events_of(store(), found["_id"])[-FEED_SIZE:]
        for event in happened:
            event["headline"] = found.get("title") or ""
        title = f"newscrawl: changes to {found.get('title') or found['_id']}"
        key = f"article?url={found['_id']}&minor={minor}&min={min_score or ''}"
        page_url = links.external("article", url=found["_id"])
        return _feed(key, title, page_url, changes, happened, found["_id"],
                     fallback=found.get("first_seen"))  # fmt: skip

    # The page's own rule first: url_for builds the first rule of an endpoint.
    for rule, view in [("/", changes), ("/changes", changes), ("/article", article),
                       ("/diff", diff), ("/search", search), ("/card.png", card_png),
                       ("/card.txt", card_txt), ("/source", source),
                       ("/sources", sources)]:  # fmt: skip
        app.add_url_rule(rule, view.__name__, view, methods=["GET"])
    for rule, view in [("/changes", changes), ("/article", article), ("/diff", diff),
                       ("/search", search), ("/source", source),
                       ("/sources", sources)]:  # fmt: skip
        app.add_url_rule(f"{rule}.json", f"{view.__name__}_json", view, methods=["GET"])
    for rule, view in [("/changes", changes_feed), ("/article", article_feed)]:
        for kind in ("atom", "rss"):
            endpoint = f"{rule.strip('/')}_{kind}"
            app.add_url_rule(f"{rule}.{kind}", endpoint, view, methods=["GET"])
    return app


def _source_configs(settings: Mapping[str, Any]) -> dict[str, Source]:
    """The sources file's sources by name, for their filters of what counts in the feeds of
    changes; none (every change counts) when the file cannot be read."""
    try:
        return {s.name: s for s in load_sources(settings.get("NEWSCRAWL_SOURCES") or None)}
    except SourcesError as error:
        logger.warning("viewer: no per-source filters in the feeds of changes: %s", error)
        return {}


def _setting(settings: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    value = settings.get(name)
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


# --- request helpers ------------------------------------------------------------------------


def _wants_json() -> bool:
    if request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(template: str, data: dict[str, Any]) -> Any:
    if _wants_json():
        return jsonify(data)
    return render_template(template, data=data)


def _error(status: int, message: str) -> tuple[Any, int]:
    if _wants_json():
        return jsonify({"error": message, "status": status}), status
    return render_template("error.html", status=status, message=message), status


def _article(store: Store) -> dict[str, Any]:
    url = request.args.get("url", "").strip()
    if not url:
        abort(400, "Give the article's address: ?url=...")
    found = queries.find_article(store, url)
    if found is None:
        abort(404, "This address is not tracked.")
    return found


# --- feeds ----------------------------------------------------------------------------------


def _feed(
    key: str,
    title: str,
    page_url: str,
    changes: list[dict[str, Any]],
    happened: Sequence[dict[str, Any]] = (),
    url: str | None = None,
    fallback: datetime | None = None,
) -> Response:
    """The Atom or RSS document (by the path's extension) of these stored changes and
    events (seen from the article at ``url``), the newest FEED_SIZE of them."""
    entries = [_event_entry(event, url) for event in happened]
    for change in changes:
        url, number = change["url"], change["version"]
        diff_url = links.external("diff", url=url, **{"from": change["from_version"], "to": number})
        html = render_template(
            "feed_entry.html", change=change, rows=changed_rows(change), diff_url=diff_url
        )
        entries.append(
            feeds.Entry(
                id=feeds.stable_id(f"{url}#version={number}"),
                title=f"{change['headline']} (version {number})",
                updated=change["fetched_at"],
                link=diff_url,
                related=live_href(url) or diff_url,
                category=change.get("source") or "",
                summary=f"+{change.get('words_added', 0)} / -{change.get('words_removed', 0)} "
                "words",
                html=html,
            )
        )
    entries = sorted(entries, key=lambda e: as_utc(e.updated), reverse=True)[:FEED_SIZE]
    updated = entries[0].updated if entries else fallback or utcnow()
    feed = feeds.Feed(feeds.stable_id(key), title, links.this_request(), page_url, updated, entries)
    if request.path.endswith(".rss"):
        return Response(feeds.rss(feed), mimetype="application/rss+xml")
    return Response(feeds.atom(feed), mimetype="application/atom+xml")


def _event_entry(event: dict[str, Any], url: str | None) -> feeds.Entry:
    """A feed entry for a lifecycle event (``newscrawl.events``), whatever its kind."""
    fields = pages.event_fields(event, url)
    article = links.external("article", url=event["url"])
    html = render_template("feed_event.html", event=fields, article_url=article)
    return feeds.Entry(
        id=feeds.stable_id(f"{event['url']}#event={event['_id']}"),
        title=f"{event.get('headline') or event['url']}: {fields['summary']}",
        updated=moment(event["at"]) or utcnow(),
        link=article,
        related=live_href(event["url"]) or article,
        category=event.get("source") or "",
        summary=fields["summary"],
        html=html,
    )
