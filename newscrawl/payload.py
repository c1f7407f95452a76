"""What a notification says: the JSON payload of a webhook and the text of an Apprise message.

A ``changed`` event (a new version, version 2 on) is described from its stored version and
diff; ``removed``, ``reappeared`` and ``moved`` events (``newscrawl.events``) carry their own
fields. Times are RFC 3339 UTC, as in the viewer's JSON.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from newscrawl.store import Store, as_utc

SUMMARY_CHARS = 1000  # each of ``added``/``removed`` is cut to this many characters
PAYLOAD_VERSION = 1


def event_id(event: dict[str, Any]) -> str:
    """A permanent id for the event: for a new version the same UUID as its entry in the
    viewer's feeds, so a receiver can match the two; the same on every node and retry."""
    if event["event"] == "changed":
        key = f"{event['url']}#version={event['version']}"
    else:
        key = f"{event['url']}#{event['event']}={iso(event['at'])}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "newscrawl:" + key))


def iso(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def _side(segments: list | None, skip: str) -> str:
    return "".join(text for tag, text in segments or () if tag != skip)


def _summary(texts: list[str] | str | None) -> str:
    text = texts if isinstance(texts, str) else " … ".join(texts or ())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def diff_link(public_url: str, url: str, old: int | None, new: int) -> str | None:
    if not public_url or old is None:
        return None
    return f"{public_url.rstrip('/')}/diff?{urlencode({'url': url, 'from': old, 'to': new})}"


def build_payload(store: Store, event: dict[str, Any], public_url: str = "") -> dict[str, Any]:
    """The JSON body sent for ``event`` (an outbox event, see ``newscrawl.outbox``)."""
    kind = event["event"]
    payload: dict[str, Any] = {
        "payload_version": PAYLOAD_VERSION,
        "id": event_id(event),
        "event": kind,
        "url": event["url"],
        "source": event.get("source", ""),
        "title": event.get("title"),
        "at": iso(event["at"]),
        "fetched_at": iso(event.get("fetched_at") or event["at"]),
    }
    if kind != "changed":
        extra = {k: v for k, v in event.items() if k not in payload and k not in ("_id", "kind")}
        payload.update({k: iso(v) if isinstance(v, datetime) else v for k, v in extra.items()})
        if not payload["title"]:
            article = store.articles.find_one({"_id": event["url"]}, {"title": 1})
            payload["title"] = article.get("title") if article else None
        return payload
    number = int(event["version"])
    version = store.versions.find_one(
        {"url": event["url"], "version": number},
        {"title": 1, "fetched_at": 1, "minor": 1, "revert_of": 1, "source": 1},
    )
    diff = store.diffs.find_one({"url": event["url"], "version": number}) or {}
    version = version or {}
    old = diff.get("from_version")
    headline = None
    if diff.get("title"):
        headline = {"old": _side(diff["title"], "+"), "new": _side(diff["title"], "-")}
    payload.update(
        title=version.get("title", payload["title"]),
        version=number,
        from_version=old,
        fetched_at=iso(version.get("fetched_at") or event["at"]),
        previous_fetched_at=iso(diff.get("previous_fetched_at")),
        headline=headline,
        other_headlines_changed=bool(diff.get("other_headlines")),
        added=_summary(diff.get("added")),
        removed=_summary(diff.get("removed")),
        words_added=int(diff.get("words_added") or 0),
        words_removed=int(diff.get("words_removed") or 0),
        minor=bool(version.get("minor", diff.get("minor"))),
        revert_of=version.get("revert_of"),
        diff_url=diff_link(public_url, event["url"], old, number),
    )
    return payload


def message(payload: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of the short text an Apprise notification carries."""
    title = payload.get("title") or payload["url"]
    link = payload.get("diff_url") or payload["url"]
    kind = payload["event"]
    source = f" ({payload['source']})" if payload.get("source") else ""
    if kind != "changed":
        what = {"removed": "was removed", "reappeared": "is back", "moved": "moved"}.get(kind, kind)
        return f"{title}{source}", f"The article {what}.\n{link}"
    if payload.get("headline"):
        what = f"Headline changed from “{payload['headline']['old']}”."
    elif payload.get("revert_of"):
        what = f"Back to the text of version {payload['revert_of']}."
    else:
        what = "The text changed"
        if payload.get("minor"):
            what += " (punctuation or spacing only)"
        what += "."
    counts = f" {payload['words_added']} words added, {payload['words_removed']} removed."
    head = f"Version {payload['version']}{source}: {what}{counts}"
    return title, f"{head}\n{link}"
