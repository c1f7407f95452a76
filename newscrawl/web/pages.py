"""The JSON-ready data of the viewer's pages (the same dict renders the HTML and is the JSON),
and the links and filters the templates use."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import request, url_for

from newscrawl import queries
from newscrawl.diff import headlines_changed
from newscrawl.events import describe
from newscrawl.significance import explain, score_fields, significance
from newscrawl.web.humanize import iso, later, moment, stamp
from newscrawl.web.sidebyside import headline_row, other_headline_rows, paragraph_rows


def links(url: str, **diff_args: Any) -> dict[str, str]:
    return {
        "article": url_for("browse.article", url=url),
        "diff": url_for("browse.diff", url=url, **diff_args),
    }


def article_fields(article: dict[str, Any]) -> dict[str, Any]:
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
        # lifecycle (newscrawl.lifecycle): gone and being confirmed, removed, moved
        "gone_since": iso(moment((article.get("gone") or {}).get("since"))),
        "removed_at": iso(moment(article.get("removed_at"))),
        "moved_to": article.get("moved_to"),
        "moved_from": list(article.get("moved_from") or []),
    }


def _plain(value: Any) -> Any:
    """An event's data as JSON: times in RFC 3339, anything unusual as text."""
    if isinstance(value, datetime):
        return iso(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def event_fields(event: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """An event as the viewer and the feeds show it, whatever its kind: its data, its time,
    one line saying what happened (seen from the article at ``url``) and its articles."""
    data = {key: _plain(value) for key, value in event.items() if key != "_id"}
    links = {"article": url_for("browse.article", url=event["url"])}
    if isinstance(event.get("to"), str):
        links["to"] = url_for("browse.article", url=event["to"])
    return {**data, "at": iso(moment(event["at"])), "summary": describe(event, url),
            "links": links}  # fmt: skip


def change_fields(change: dict[str, Any]) -> dict[str, Any]:
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
        **legible_fields(change),
        "links": links(change["url"], **{"from": change["from_version"], "to": change["version"]}),
    }


def legible_fields(diff: dict[str, Any]) -> dict[str, Any]:
    """A change's kinds of edit, numbers changed, score and one-line explanation (a diff
    stored before kinds existed is scored on what it has: see ``newscrawl.significance``)."""
    score = diff.get("significance")
    return {
        "kinds": diff.get("kinds"),
        "numbers": diff.get("numbers", []),
        "significance": significance(diff) if score is None else score,
        "explanation": explain(diff),
    }


def version_fields(
    url: str, version: dict[str, Any], before: dict[str, Any] | None
) -> dict[str, Any]:
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
        "kinds": version.get("kinds"),
        "diff": url_for("browse.diff", url=url, **{"from": number - 1, "to": number})
        if before
        else None,
        "archive_url": version.get("archive_url"),
    }


def comparison_fields(c: queries.Comparison, latest: int) -> dict[str, Any]:
    url, old, new = c.article["_id"], c.old["version"], c.new["version"]

    def side(version: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": version["version"],
            "fetched_at": iso(version["fetched_at"]),
            "title": version["title"],
            "archive_url": version.get("archive_url"),  # its Internet Archive capture
        }

    def pair(a: int, b: int) -> str | None:
        versions: dict[str, Any] = {"from": a, "to": b}
        return url_for("browse.diff", url=url, **versions) if 1 <= a < b <= latest else None

    return {
        **article_fields(c.article),
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
        # kinds of a diff computed for this request (or stored before kinds existed): now
        **legible_fields(
            c.diff if "kinds" in c.diff else {**c.diff, **score_fields(c.diff, c.old, c.new)}
        ),
        "coarse": bool(c.diff.get("coarse")),  # paragraph level only (too long, or no time)
        "truncated": bool(c.diff.get("truncated")),  # stored in compact form (too large)
        "headline": headline_row(c.diff, c.old["title"], c.new["title"]).as_json(),
        "other_headlines": [r.as_json() for r in other_headline_rows(c.diff)],
        "rows": [
            r.as_json() for r in paragraph_rows(c.diff, c.old["paragraphs"], c.new["paragraphs"])
        ],  # fmt: skip
        "links": {
            "article": url_for("browse.article", url=url),
            "previous": pair(old - 1, old),
            "next": pair(new, new + 1),
        },
    }


def paging(page: queries.Page, **args: Any) -> dict[str, Any]:
    """Page numbers and links to the neighbouring pages of the same route (JSON stays JSON)."""

    def link(number: int) -> str:
        return url_for(
            request.endpoint or "browse.changes", **args, page=number if number > 1 else None
        )

    return {
        "page": page.number,
        "pages": page.pages,
        "total": page.total,
        "previous": link(page.number - 1) if page.number > 1 else None,
        "next": link(page.number + 1) if page.has_next else None,
    }


def feed_links(endpoint: str, **args: Any) -> dict[str, str]:
    return {kind: url_for(f"changefeeds.{endpoint}_{kind}", **args) for kind in ("atom", "rss")}


def page_url(endpoint: str, **args: Any) -> str:
    """Templates' link to a page of the same view with other arguments (None drops one)."""
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, False, "")})


def when(value: str | None) -> str:
    return stamp(datetime.fromisoformat(value)) if value else ""


def live_href(url: str) -> str | None:
    """The article's address if it is safe to link (http/https only: never ``javascript:``)."""
    return url if urlsplit(url).scheme in {"http", "https"} else None
