"""The viewer's Flask application: the blueprints of its pages (``browse``), feeds of changes
(``changefeeds``) and kept raw pages (``snapshots``) over one store per server thread, with
the headers, error pages and time limit they share (``respond``).

Every route is GET-only and only reads the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, request
from pymongo.errors import ExecutionTimeout
from werkzeug.exceptions import HTTPException

from newscrawl import queries, record
from newscrawl import settings as project_settings
from newscrawl.sources import Source, SourcesError, load_sources
from newscrawl.store import Store, open_database
from newscrawl.web import browse, changefeeds, links, pages, snapshots, timelimit
from newscrawl.web.pages import live_href
from newscrawl.web.respond import TIME_LIMIT, error

logger = logging.getLogger(__name__)

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


def create_app(
    settings: Mapping[str, Any] | None = None,
    *,
    open_store: Callable[[], Store] | None = None,
    per_page: int = queries.PER_PAGE,
) -> Flask:
    """The viewer over the store chosen by ``settings`` (MONGO_URI / MONGO_DATABASE /
    NEWSCRAWL_DATA_DIR, as for the crawl), or over the stores ``open_store`` returns.

    Also read from ``settings``: NEWSCRAWL_PUBLIC_URL and NEWSCRAWL_TRUSTED_PROXIES (see
    ``links``), NEWSCRAWL_VIEWER_TIME_LIMIT (seconds for one request's store queries),
    NEWSCRAWL_SOURCES (the sources' filters of what counts in the feeds of changes). Those
    not given have the project's defaults (``newscrawl/settings.py``).
    """
    chosen = settings or {}
    if open_store is None:

        def open_store() -> Store:
            return Store(*open_database(chosen))

    app = Flask(__name__)
    app.config[links.PUBLIC_URL] = links.public_url(chosen.get(links.PUBLIC_URL) or "")
    links.trust_proxies(app, _setting(chosen, "NEWSCRAWL_TRUSTED_PROXIES", int))
    app.config[TIME_LIMIT] = time_limit = _setting(chosen, TIME_LIMIT, float)
    app.jinja_env.filters["when"] = pages.when
    app.jinja_env.filters["live_href"] = live_href
    app.jinja_env.globals["page_url"] = pages.page_url

    store = ThreadStores(open_store).get
    app.register_blueprint(browse.blueprint(store, per_page))
    app.register_blueprint(changefeeds.blueprint(store, _source_configs(chosen)))
    app.register_blueprint(snapshots.blueprint(store))

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        response.vary.add("Accept")
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Any, int]:
        return error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(ExecutionTimeout)
    def too_slow(exc: ExecutionTimeout) -> tuple[Any, int]:
        logger.warning("viewer: %s took over %s s, stopped", request.full_path, time_limit)
        return error(503, "The store took too long to answer. Try again later, or narrow "
                     "the search.")  # fmt: skip

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> tuple[Any, int]:
        logger.error("viewer error: %s", type(exc).__name__, exc_info=exc)
        return error(500, "The store could not be read. Try again later.")

    return app


def _source_configs(settings: Mapping[str, Any]) -> dict[str, Source]:
    """The sources file's sources by name, for their filters of what counts in the feeds of
    changes; none (every change counts) when the file cannot be read."""
    try:
        return {s.name: s for s in load_sources(settings.get("NEWSCRAWL_SOURCES") or None)}
    except SourcesError as exc:
        logger.warning("viewer: no per-source filters in the feeds of changes: %s", exc)
        return {}


def _setting(settings: Mapping[str, Any], name: str, kind: type) -> Any:
    """The number ``name`` in ``settings``, else the project's default."""
    value = settings.get(name)
    if value in (None, ""):
        value = getattr(project_settings, name)
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None
