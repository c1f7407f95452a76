"""The viewer's pages, each as HTML and as JSON (``/x.json``): recent changes, an article's
history, a side-by-side diff, search, the publishers' record, and a change as a card to post.

Every route is GET-only and only reads the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, request

from newscrawl import card, queries
from newscrawl.store import Store
from newscrawl.web import links, pages, params, publishers
from newscrawl.web.diffcache import DiffCache
from newscrawl.web.respond import asked_article, respond, timed
from newscrawl.web.timeline import timeline

RECENT_EVENTS = 10  # lifecycle events on the first page of recent changes
LEGACY_RECHECK = 60.0  # seconds between looks for articles still without search words


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


def blueprint(store: Callable[[], Store], per_page: int = queries.PER_PAGE) -> Blueprint:
    """The pages, reading through ``store`` (the app's per-thread store), ``per_page``
    changes or results a page."""
    browse = Blueprint("browse", __name__)
    diff_cache = DiffCache()
    legacy = LegacyArticles()

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
        return respond("changes.html", data)

    @timed
    def article() -> Any:
        found = asked_article(store())
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
        return respond("article.html", data)

    def comparison() -> tuple[queries.Comparison, int]:
        """The versions ``?url=…[&from=N&to=M]`` asks for (default: the latest change)."""
        found = asked_article(store())
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
        return respond("diff.html", pages.comparison_fields(*comparison()))

    def change_card() -> card.Card:
        compared = comparison()[0]
        old, new = compared.old["version"], compared.new["version"]
        link = links.external(
            "browse.diff", url=compared.article["_id"], **{"from": old, "to": new}
        )
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
        return respond("search.html", data)

    @timed
    def source() -> Any:
        name, days = request.args.get("name", "").strip(), params.days()
        if not name:
            abort(400, "Give the source's name: ?name=...")
        data = publishers.source_record(store(), name, days)
        if data is None:
            abort(404, "No articles of this source are tracked.")
        return respond("source.html", data)

    @timed
    def sources() -> Any:
        return respond("sources.html", publishers.sources_record(store(), params.days()))

    # The page's own rule first: url_for builds the first rule of an endpoint.
    for rule, view in [("/", changes), ("/changes", changes), ("/article", article),
                       ("/diff", diff), ("/search", search), ("/card.png", card_png),
                       ("/card.txt", card_txt), ("/source", source),
                       ("/sources", sources)]:  # fmt: skip
        browse.add_url_rule(rule, view.__name__, view, methods=["GET"])
    for rule, view in [("/changes", changes), ("/article", article), ("/diff", diff),
                       ("/search", search), ("/source", source),
                       ("/sources", sources)]:  # fmt: skip
        browse.add_url_rule(f"{rule}.json", f"{view.__name__}_json", view, methods=["GET"])
    return browse
