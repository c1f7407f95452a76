"""Where change notifications go: webhooks and Apprise URLs, each with its filters.

From the settings (``NEWSCRAWL_WEBHOOK_URL`` + ``NEWSCRAWL_WEBHOOK_SECRET``: one webhook;
``NEWSCRAWL_NOTIFY_URLS``: Apprise URLs), and from ``[[webhook]]`` and ``[[notify]]`` tables
in the sources file::

    [[webhook]]
    url = "https://hooks.example.org/newscrawl"
    secret_env = "HOOK_SECRET"        # or secret = "..." (the environment keeps it out of files)
    sources = ["BBC News"]            # default: every source
    events = ["changed", "removed"]   # default: every kind in EVENT_KINDS
    min_words = 5                     # changes of fewer words added + removed are not sent
    headline_only = false             # only changes of the headline
    minor = true                      # punctuation/whitespace-only changes too

    [[notify]]
    urls = ["ntfy://ntfy.sh/my-topic", "mailto://user:pass@example.org"]
    # same filters

An endpoint whose host is internal (loopback, private, ...) is refused, checked before each
delivery, unless ``NEWSCRAWL_NOTIFY_ALLOW_PRIVATE_HOSTS`` (or ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS``).
Apprise URLs name a service (``slack://``, ``mailto://``): only those whose host is chosen by
the user (``json://``, ``form://``, ``xml://``, ``ntfy://`` and their ``s`` forms) are checked.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from newscrawl.netguard import non_public_addresses
from newscrawl.sources import SourcesError, checked_table, read_sources_file

WEBHOOK, APPRISE = "webhook", "apprise"
EVENT_KINDS = ("changed", "removed", "reappeared", "moved")
# Apprise schemes whose host is whatever the user wrote: the private-host rules apply.
USER_HOST_SCHEMES = frozenset(
    {"json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys", "http", "https"}
)
_FILTER_KEYS = {"sources", "events", "min_words", "headline_only", "minor"}
_WEBHOOK_KEYS = {"url", "secret", "secret_env", *_FILTER_KEYS}
_NOTIFY_KEYS = {"urls", *_FILTER_KEYS}


@dataclass(frozen=True)
class Filters:
    """Which events an endpoint gets (see the module docstring)."""

    sources: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset(EVENT_KINDS)
    min_words: int = 0
    headline_only: bool = False
    minor: bool = True

    def accepts(self, payload: dict[str, Any]) -> bool:
        if self.sources and payload.get("source") not in self.sources:
            return False
        if payload["event"] not in self.events:
            return False
        if payload["event"] != "changed":  # the size filters are about changes
            return True
        if not self.minor and payload.get("minor"):
            return False
        if self.headline_only and not payload.get("headline"):
            return False
        words = int(payload.get("words_added") or 0) + int(payload.get("words_removed") or 0)
        return words >= self.min_words


@dataclass(frozen=True)
class Endpoint:
    kind: str  # WEBHOOK or APPRISE
    url: str
    secret: str = field(default="", repr=False)
    filters: Filters = Filters()

    @property
    def key(self) -> str:
        """Stable id of the endpoint in the store (its URL may hold credentials: not stored)."""
        return hashlib.sha256(f"{self.kind} {self.url}".encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """The URL for logs and ``scrapy status``, without what may be a credential: user,
        password, query, and any path beyond a short first segment (webhook URLs such as
        Slack's carry their token in the path; Apprise URLs carry tokens anywhere)."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        segments = [s for s in parts.path.split("/") if s]
        shown = segments[:1] if self.kind == WEBHOOK and segments and len(segments[0]) <= 20 else []
        path = "".join(f"/{s}" for s in shown) + ("/…" if len(segments) > len(shown) else "")
        return f"{parts.scheme}://{host}{port}{path}"

    def problem(self, allow_private: bool) -> str | None:
        """Why the endpoint must not be sent to now (None: it may)."""
        parts = urlsplit(self.url)
        if self.kind == WEBHOOK and (parts.scheme not in ("http", "https") or not parts.hostname):
            return "a webhook must be an http(s) URL"
        if allow_private or (self.kind == APPRISE and parts.scheme not in USER_HOST_SCHEMES):
            return None
        if not parts.hostname:
            return None
        try:
            private = non_public_addresses(self.url)
        except OSError as exc:
            return f"cannot resolve {parts.hostname}: {exc}"
        if private:
            return (
                f"{parts.hostname} resolves to non-public {', '.join(private)}; set "
                "NEWSCRAWL_NOTIFY_ALLOW_PRIVATE_HOSTS to allow it"
            )
        return None


def _split(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v for v in re.split(r"[\s,]+", str(value or "")) if v]


def _filters(table: dict, where: str, source_names: set[str]) -> Filters:
    def strings(key: str) -> frozenset[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise SourcesError(f"{where}: '{key}' must be a list of non-empty strings")
        return frozenset(value)

    sources, events = strings("sources"), strings("events") or frozenset(EVENT_KINDS)
    if unknown := sorted(sources - source_names):
        raise SourcesError(f"{where}: 'sources' names unknown sources {unknown}")
    if unknown := sorted(events - set(EVENT_KINDS)):
        raise SourcesError(f"{where}: 'events' accepts only {list(EVENT_KINDS)}, not {unknown}")
    min_words = table.get("min_words", 0)
    if not isinstance(min_words, int) or isinstance(min_words, bool) or min_words < 0:
        raise SourcesError(f"{where}: 'min_words' must be a whole number >= 0")
    for key in ("headline_only", "minor"):
        if not isinstance(table.get(key, False), bool):
            raise SourcesError(f"{where}: '{key}' must be true or false")
    return Filters(
        sources, events, min_words, table.get("headline_only", False), table.get("minor", True)
    )


def _webhook(table: Any, index: int, source_names: set[str]) -> Endpoint:
    where = f"webhook #{index + 1}"
    table = checked_table(table, where, _WEBHOOK_KEYS)
    url = table.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SourcesError(f"{where}: 'url' must be an http(s) URL")
    secret = table.get("secret", "")
    if "secret_env" in table:
        name = table["secret_env"]
        if not isinstance(name, str) or not os.environ.get(name):
            raise SourcesError(f"{where}: 'secret_env' names no set environment variable")
        secret = os.environ[name]
    if not isinstance(secret, str) or not secret:
        raise SourcesError(f"{where}: 'secret' (or 'secret_env') is required")
    return Endpoint(WEBHOOK, url, secret, _filters(table, where, source_names))


def _notify(table: Any, index: int, source_names: set[str]) -> list[Endpoint]:
    where = f"notify #{index + 1}"
    table = checked_table(table, where, _NOTIFY_KEYS)
    urls = table.get("urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise SourcesError(f"{where}: 'urls' must list Apprise URLs")
    filters = _filters(table, where, source_names)
    for url in urls:
        check_apprise_url(url, where)
    return [Endpoint(APPRISE, url, filters=filters) for url in urls]


def check_apprise_url(url: str, where: str) -> None:
    import apprise

    if apprise.Apprise.instantiate(url) is None:
        raise SourcesError(f"{where}: Apprise does not understand {urlsplit(url).scheme}:// URL")


def load_endpoints(settings: Any) -> list[Endpoint]:
    """Every configured endpoint; SourcesError (naming the table and key) when one is bad."""
    found: list[Endpoint] = []
    url, secret = settings.get("NEWSCRAWL_WEBHOOK_URL") or "", settings.get(
        "NEWSCRAWL_WEBHOOK_SECRET"
    ) or ""  # fmt: skip
    if url:
        if not secret:
            raise SourcesError("NEWSCRAWL_WEBHOOK_URL is set but NEWSCRAWL_WEBHOOK_SECRET is not")
        found.append(Endpoint(WEBHOOK, url, secret))
    for notify_url in _split(settings.get("NEWSCRAWL_NOTIFY_URLS")):
        check_apprise_url(notify_url, "NEWSCRAWL_NOTIFY_URLS")
        found.append(Endpoint(APPRISE, notify_url))
    path, data = read_sources_file(settings.get("NEWSCRAWL_SOURCES") or None)
    names = {str(t.get("name")) for t in data.get("source", []) if isinstance(t, dict)}
    for key, parse in (("webhook", _webhook), ("notify", _notify)):
        tables = data.get(key, [])
        if not isinstance(tables, list):
            raise SourcesError(f"{path}: '{key}' must be [[{key}]] tables")
        for i, table in enumerate(tables):
            made = parse(table, i, names)
            found.extend(made if isinstance(made, list) else [made])
    return list({e.key: e for e in found}.values())


def allow_private(settings: Any) -> bool:
    return settings.getbool("NEWSCRAWL_NOTIFY_ALLOW_PRIVATE_HOSTS") or settings.getbool(
        "NEWSCRAWL_ALLOW_PRIVATE_HOSTS"
    )
