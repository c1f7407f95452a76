"""The feeds of changes: ``/changes.atom|rss`` (every source, or ``?source=``) and
``/article.atom|rss?url=`` (one article), the newest FEED_SIZE new versions and lifecycle
events, counted under their source's filters (``newscrawl.filters``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request

from newscrawl import filters, queries
from newscrawl.sources import Source
from newscrawl.store import Store, utcnow
from newscrawl.web import links, pages, params, syndication
from newscrawl.web.humanize import as_utc, moment
from newscrawl.web.respond import asked_article, timed
from newscrawl.web.sidebyside import changed_rows

FEED_SIZE = 50


def blueprint(store: Callable[[], Store], sources: Mapping[str, Source]) -> Blueprint:
    """The feed routes, reading through ``store`` (the app's per-thread store); ``sources``
    by name, for their filters of what counts."""
    changefeeds = Blueprint("changefeeds", __name__)

    def feed_changes(**query: Any) -> list[dict[str, Any]]:
        """The newest changes for a feed: those that count under their source's filters,
        all of them when no source filters any."""
        if not any(map(filters.filters_anything, sources.values())):
            page = queries.recent_changes(store(), per_page=FEED_SIZE, with_rows=True, **query)
            return page.items

        def keep(change: dict[str, Any]) -> bool:
            return filters.counts(sources.get(change.get("source") or ""), change)

        return queries.counted_changes(store(), keep, limit=FEED_SIZE, **query)

    @timed
    def changes_feed() -> Response:
        source, minor = request.args.get("source") or None, params.flag("minor")
        min_score = params.score()
        changes = feed_changes(source=source, minor=minor, min_score=min_score)
        recent = queries.latest_events(store(), source, FEED_SIZE)
        title = f"newscrawl: changes in {source}" if source else "newscrawl: changes"
        key = f"changes?source={source or ''}&minor={minor}&min={min_score or ''}"
        page_url = links.external(
            "browse.changes", source=source, minor=minor or None, min=min_score
        )
        return _feed(key, title, page_url, changes, recent)

    @timed
    def article_feed() -> Response:
        found = asked_article(store())
        minor, min_score = params.flag("minor"), params.score()
        changes = feed_changes(url=found["_id"], minor=minor, min_score=min_score)
        happened = queries.events_of(store(), found["_id"])[-FEED_SIZE:]
        for event in happened:
            event["headline"] = found.get("title") or ""
        title = f"newscrawl: changes to {found.get('title') or found['_id']}"
        key = f"article?url={found['_id']}&minor={minor}&min={min_score or ''}"
        page_url = links.external("browse.article", url=found["_id"])
        return _feed(key, title, page_url, changes, happened, found["_id"],
                     fallback=found.get("first_seen"))  # fmt: skip

    for rule, view in [("/changes", changes_feed), ("/article", article_feed)]:
        for kind in ("atom", "rss"):
            endpoint = f"{rule.strip('/')}_{kind}"
            changefeeds.add_url_rule(f"{rule}.{kind}", endpoint, view, methods=["GET"])
    return changefeeds


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
        diff_url = links.external(
            "browse.diff", url=url, **{"from": change["from_version"], "to": number}
        )
        html = render_template(
            "feed_entry.html", change=change, rows=changed_rows(change), diff_url=diff_url
        )
        entries.append(
            syndication.Entry(
                id=syndication.stable_id(f"{url}#version={number}"),
                title=f"{change['headline']} (version {number})",
                updated=change["fetched_at"],
                link=diff_url,
                related=pages.live_href(url) or diff_url,
                category=change.get("source") or "",
                summary=f"+{change.get('words_added', 0)} / -{change.get('words_removed', 0)} "
                "words",
                html=html,
            )
        )
    entries = sorted(entries, key=lambda e: as_utc(e.updated), reverse=True)[:FEED_SIZE]
    updated = entries[0].updated if entries else fallback or utcnow()
    feed = syndication.Feed(
        syndication.stable_id(key), title, links.this_request(), page_url, updated, entries
    )
    if request.path.endswith(".rss"):
        return Response(syndication.rss(feed), mimetype="application/rss+xml")
    return Response(syndication.atom(feed), mimetype="application/atom+xml")


def _event_entry(event: dict[str, Any], url: str | None) -> syndication.Entry:
    """A feed entry for a lifecycle event (``newscrawl.events``), whatever its kind."""
    fields = pages.event_fields(event, url)
    article = links.external("browse.article", url=event["url"])
    html = render_template("feed_event.html", event=fields, article_url=article)
    return syndication.Entry(
        id=syndication.stable_id(f"{event['url']}#event={event['_id']}"),
        title=f"{event.get('headline') or event['url']}: {fields['summary']}",
        updated=moment(event["at"]) or utcnow(),
        link=article,
        related=pages.live_href(event["url"]) or article,
        category=event.get("source") or "",
        summary=fields["summary"],
        html=html,
    )
