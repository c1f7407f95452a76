"""The viewer's Flask application: HTML pages, their JSON, and feeds of changes.

Every route is GET-only and only reads the store. Each page's data is built once as a
JSON-ready dict: ``/x.json`` (or ``Accept: application/json``) returns it, ``/x`` renders it
with an autoescaping Jinja template, so the two never disagree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from newscrawl.diff import headlines_changed
from newscrawl.store import Store, open_database, utcnow
from newscrawl.web import feeds, queries
from newscrawl.web.humanize import iso, later, stamp
from newscrawl.web.sidebyside import (
    changed_rows,
    headline_row,
    other_headline_rows,
    paragraph_rows,
)

logger = logging.getLogger(__name__)

FEED_SIZE = 50
# No scripts at all: even a markup bug could not run a publisher's payload.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class ThreadStores:
    """One store per server thread: the embedded store's SQLite connections may only be used
    by the thread that opened them (MongoDB clients would not mind)."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._local = threading.local()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self._open()
        return store


def create_app(
    settings: Mapping[str, Any] | None = None,
    *,
    open_store: Callable[[], Store] | None = None,
    per_page: int = queries.PER_PAGE,
) -> Flask:
    """The viewer over the store chosen by ``settings`` (MONGO_URI / MONGO_DATABASE /
    NEWSCRAWL_DATA_DIR, as for the crawl), or over the stores ``open_store`` returns."""
    if open_store is None:
        chosen = settings or {}

        def open_store() -> Store:
            return Store(*open_database(chosen))

    app = Flask(__name__)
    stores = ThreadStores(open_store)
    app.jinja_env.filters["when"] = _when
    app.jinja_env.filters["live_href"] = live_href
    app.jinja_env.globals["page_url"] = _page_url

    def store() -> Store:
        return stores.get()

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        response.vary.add("Accept")
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Any, int]:
        return _error(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[Any, int]:
        logger.error("viewer error: %s", type(error).__name__, exc_info=error)
        return _error(500, "The store could not be read. Try again later.")

    def changes() -> Any:
        source, minor, number = request.args.get("source") or None, _flag("minor"), _page()
        page = queries.recent_changes(
            store(), source=source, minor=minor, page=number, per_page=per_page
        )
        data = {
            "source": source,
            "minor": minor,
            "sources": queries.sources(store()),
            "changes": [_change(c) for c in page.items],
            **_paging(page, source=source, minor=minor or None),
            "feeds": _feed_links("changes", source=source, minor=minor or None),
        }
        return _respond("changes.html", data)

    def article() -> Any:
        found = _article(store())
        versions = queries.version_list(store(), found["_id"])
        rows = []
        for before, version in zip([None, *versions], versions, strict=False):
            rows.append(_version(found["_id"], version, before))
        data = {
            **_article_fields(found),
            "changes": max(0, len(versions) - 1),
            "versions": rows,
            "feeds": _feed_links("article", url=found["_id"]),
        }
        return _respond("article.html", data)

    def diff() -> Any:
        found = _article(store())
        latest = int(found.get("versions") or 1)
        new = _int_arg("to", latest)
        old = _int_arg("from", new - 1)
        if not 1 <= old < new:
            abort(400, "Compare an earlier version with a later one (1 <= from < to).")
        comparison = queries.compare(store(), found, old, new)
        if comparison is None:
            abort(404, f"This article has no version {new if new > latest else old}.")
        return _respond("diff.html", _comparison(comparison, latest))

    def search() -> Any:
        q = request.args.get("q", "").strip()
        page = queries.search(store(), q, page=_page(), per_page=per_page)
        data = {
            "q": q,
            "results": [
                {**_article_fields(a), "versions": a.get("versions"), "links": _links(a["_id"])}
                for a in page.items
            ],
            **_paging(page, q=q or None),
        }
        return _respond("search.html", data)

    def changes_feed() -> Response:
        source, minor = request.args.get("source") or None, _flag("minor")
        page = queries.recent_changes(
            store(), source=source, minor=minor, per_page=FEED_SIZE, with_rows=True
        )
        title = f"newscrawl: changes in {source}" if source else "newscrawl: changes"
        key = f"changes?source={source or ''}&minor={minor}"
        page_url = url_for("changes", source=source, minor=minor or None, _external=True)
        return _feed(key, title, page_url, page.items)

    def article_feed() -> Response:
        found = _article(store())
        minor = _flag("minor")
        page = queries.recent_changes(
            store(), url=found["_id"], minor=minor, per_page=FEED_SIZE, with_rows=True
        )
        title = f"newscrawl: changes to {found.get('title') or found['_id']}"
        key = f"article?url={found['_id']}&minor={minor}"
        page_url = url_for("article", url=found["_id"], _external=True)
        return _feed(key, title, page_url, page.items, fallback=found.get("first_seen"))

    # The page's own rule first: url_for builds the first rule of an endpoint.
    for rule, view in [("/", changes), ("/changes", changes), ("/article", article),
                       ("/diff", diff), ("/search", search)]:  # fmt: skip
        app.add_url_rule(rule, view.__name__, view, methods=["GET"])
    for rule, view in [("/changes", changes), ("/article", article), ("/diff", diff),
                       ("/search", search)]:  # fmt: skip
        app.add_url_rule(f"{rule}.json", f"{view.__name__}_json", view, methods=["GET"])
    for rule, view in [("/changes", changes_feed), ("/article", article_feed)]:
        for kind in ("atom", "rss"):
            endpoint = f"{rule.strip('/')}_{kind}"
            app.add_url_rule(f"{rule}.{kind}", endpoint, view, methods=["GET"])
    return app


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


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes", "on"}


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or len(value) > 9:
        abort(400, f"'{name}' must be a number.")
    return int(value)


def _page() -> int:
    number = _int_arg("page", 1)
    if number < 1:
        abort(400, "'page' starts at 1.")
    return number


def _article(store: Store) -> dict[str, Any]:
    url = request.args.get("url", "").strip()
    if not url:
        abort(400, "Give the article's address: ?url=...")
    found = queries.find_article(store, url)
    if found is None:
        abort(404, "This address is not tracked.")
    return found


# --- JSON-ready data ------------------------------------------------------------------------


def _links(url: str, **diff_args: int) -> dict[str, str]:
    return {
        "article": url_for("article", url=url),
        "diff": url_for("diff", url=url, **diff_args),
    }


def _article_fields(article: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": article["_id"],
        "source": article.get("source"),
        "title": article.get("title"),
        "status": article.get("status"),
        "first_seen": iso(article.get("first_seen")),
        "last_checked": iso(article.get("last_checked")),
        "last_changed": iso(article.get("last_changed")),
        # the version the page showed at the last check: the latest unless it flip-flopped
        "current_version": article.get("current_version") or article.get("versions"),
    }


def _change(change: dict[str, Any]) -> dict[str, Any]:
    previous = change.get("previous_fetched_at")
    return {
        "url": change["url"],
        "source": change.get("source"),
        "headline": change["headline"],
        "headline_changed": headlines_changed(change),
        "version": change["version"],
        "from_version": change["from_version"],
        "fetched_at": iso(change["fetched_at"]),
        "previous_fetched_at": iso(previous),
        "later": later(previous, change["fetched_at"]) if previous else None,
        "minor": bool(change.get("minor")),
        "revert_of": change.get("revert_of"),
        "words_added": change.get("words_added", 0),
        "words_removed": change.get("words_removed", 0),
        "added": change.get("added", []),
        "removed": change.get("removed", []),
        "links": _links(change["url"], **{"from": change["from_version"], "to": change["version"]}),
    }


def _version(url: str, version: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    number = version["version"]
    return {
        "version": number,
        "fetched_at": iso(version["fetched_at"]),
        "later": later(before["fetched_at"], version["fetched_at"]) if before else None,
        "title": version.get("title"),
        "minor": bool(version.get("minor")),
        "revert_of": version.get("revert_of"),
        "headline_changed": version["headline_changed"],
        "words_added": version["words_added"],
        "words_removed": version["words_removed"],
        "diff": url_for("diff", url=url, **{"from": number - 1, "to": number}) if before else None,
    }


def _comparison(c: queries.Comparison, latest: int) -> dict[str, Any]:
    url, old, new = c.article["_id"], c.old["version"], c.new["version"]

    def side(version: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": version["version"],
            "fetched_at": iso(version["fetched_at"]),
            "title": version["title"],
        }

    def pair(a: int, b: int) -> str | None:
        return url_for("diff", url=url, **{"from": a, "to": b}) if 1 <= a < b <= latest else None

    return {
        **_article_fields(c.article),
        "live_url": live_href(url),
        "versions": latest,
        "from": side(c.old),
        "to": side(c.new),
        "later": later(c.old["fetched_at"], c.new["fetched_at"]),
        "minor": bool(c.diff.get("minor")),
        "revert_of": c.new.get("revert_of"),
        "words_added": c.diff.get("words_added", 0),
        "words_removed": c.diff.get("words_removed", 0),
        "stored": c.stored,
        "headline": headline_row(c.diff, c.old["title"], c.new["title"]).as_json(),
        "other_headlines": [r.as_json() for r in other_headline_rows(c.diff)],
        "rows": [
            r.as_json() for r in paragraph_rows(c.diff, c.old["paragraphs"], c.new["paragraphs"])
        ],  # fmt: skip
        "links": {
            "article": url_for("article", url=url),
            "previous": pair(old - 1, old),
            "next": pair(new, new + 1),
        },
    }


def _paging(page: queries.Page, **args: Any) -> dict[str, Any]:
    """Page numbers and links to the neighbouring pages of the same route (JSON stays JSON)."""

    def link(number: int) -> str:
        return url_for(request.endpoint or "changes", **args, page=number if number > 1 else None)

    return {
        "page": page.number,
        "pages": page.pages,
        "total": page.total,
        "previous": link(page.number - 1) if page.number > 1 else None,
        "next": link(page.number + 1) if page.has_next else None,
    }


def _feed_links(endpoint: str, **args: Any) -> dict[str, str]:
    return {kind: url_for(f"{endpoint}_{kind}", **args) for kind in ("atom", "rss")}


def _page_url(endpoint: str, **args: Any) -> str:
    """Templates' link to a page of the same view with other arguments (None drops one)."""
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, False, "")})


# --- feeds ----------------------------------------------------------------------------------


def _feed(
    key: str,
    title: str,
    page_url: str,
    changes: list[dict[str, Any]],
    fallback: datetime | None = None,
) -> Response:
    """The Atom or RSS document (by the path's extension) of these stored changes."""
    entries = []
    for change in changes:
        url, number = change["url"], change["version"]
        diff_url = url_for(
            "diff", url=url, **{"from": change["from_version"], "to": number}, _external=True
        )
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
    updated = changes[0]["fetched_at"] if changes else fallback or utcnow()
    feed = feeds.Feed(feeds.stable_id(key), title, request.url, page_url, updated, entries)
    if request.path.endswith(".rss"):
        return Response(feeds.rss(feed), mimetype="application/rss+xml")
    return Response(feeds.atom(feed), mimetype="application/atom+xml")


# --- template filters -----------------------------------------------------------------------


def _when(value: str | None) -> str:
    return stamp(datetime.fromisoformat(value)) if value else ""


def live_href(url: str) -> str | None:
    """The article's address if it is safe to link (http/https only: never ``javascript:``)."""
    return url if urlsplit(url).scheme in {"http", "https"} else None
