"""Publishers to follow, read from a TOML file of ``[[source]]`` tables.

Each source has a ``name`` and at least one of ``feeds``, ``sitemaps`` (sitemap or sitemap
index URLs, or ``"robots"``: the ``Sitemap:`` lines of the robots.txt of the source's pages'
hosts, else of its domains) and ``pages`` (home or section pages whose ``<link
rel="alternate">`` feeds are found, see ``newscrawl.discovery``); optionally ``domains`` (hosts
whose articles are followed, default: the hosts of those URLs without
``www.``/``feeds.``/``rss.``), ``skip`` and ``only``
(URL regular expressions), ``extraction`` (overrides for ``newscrawl.extract``) and
``revisit`` (``initial``, ``factor``, ``max``, ``stop_after`` in seconds), and what counts
as a change in the feeds of changes and notifications (``headline_only``,
``min_change_words``: see ``newscrawl.filters``; never what is stored).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from newscrawl.urls import host_of, on_domains

_FEED_HOST_PREFIXES = ("www.", "feeds.", "rss.", "feed.")
_REVISIT_KEYS = {"initial", "factor", "max", "stop_after"}
ROBOTS = "robots"
FILE_TABLES = ("source", "webhook", "notify")  # what a sources file may hold
# The overrides newscrawl.extract reads from a source's ``extraction`` table, and their types.
EXTRACTION_KEYS: dict[str, type] = {"body_css": str, "title_css": str, "drop_css": list}
_KEYS = {"name", "feeds", "sitemaps", "pages", "domains", "skip", "only", "extraction", "revisit",
         "headline_only", "min_change_words"}  # fmt: skip


class SourcesError(ValueError):
    """The sources file is missing or malformed; the message says where."""


@dataclass(frozen=True)
class Source:
    name: str
    feeds: tuple[str, ...]
    domains: tuple[str, ...]
    sitemaps: tuple[str, ...] = ()
    sitemaps_from_robots: bool = False  # ``sitemaps = "robots"``
    pages: tuple[str, ...] = ()
    skip: tuple[re.Pattern[str], ...] = ()
    only: tuple[re.Pattern[str], ...] = ()
    extraction: dict[str, Any] = field(default_factory=dict)
    revisit: dict[str, float] = field(default_factory=dict)
    headline_only: bool = False  # newscrawl.filters: only headline changes count
    min_change_words: int = 0  # newscrawl.filters: smaller changes do not count

    def follows(self, url: str) -> bool:
        """Whether an article URL belongs to this source and passes its URL filters."""
        if not on_domains(url, self.domains):
            return False
        if any(p.search(url) for p in self.skip):
            return False
        return not self.only or any(p.search(url) for p in self.only)

    def robots_urls(self) -> list[str]:
        """Where ``sitemaps = "robots"`` looks: the robots.txt of each page's host, else of
        each domain (https)."""
        if not self.sitemaps_from_robots:
            return []
        roots = [urljoin(page, "/") for page in self.pages]
        roots = roots or [f"https://{domain}/" for domain in self.domains]
        return list(dict.fromkeys(root + "robots.txt" for root in roots))


def default_sources_path() -> Path:
    return Path(str(resources.files("newscrawl") / "sources.toml"))


def checked_table(value: Any, where: str, keys: Collection[str]) -> dict[str, Any]:
    """``value`` if it is a table of only ``keys``; else SourcesError naming the others."""
    if not isinstance(value, dict):
        raise SourcesError(f"{where}: must be a table")
    if unknown := sorted(set(value) - set(keys)):
        raise SourcesError(f"{where}: unknown keys {unknown} (known: {sorted(keys)})")
    return value


def _extraction(table: dict, where: str) -> dict[str, Any]:
    """The ``extraction`` overrides, checked: known keys, CSS selectors that parse."""
    from cssselect import GenericTranslator, SelectorError

    where = f"{where}: 'extraction'"
    overrides = checked_table(table.get("extraction", {}), where, EXTRACTION_KEYS)
    for key, value in overrides.items():
        if EXTRACTION_KEYS[key] is str:
            selectors = [value] if isinstance(value, str) and value.strip() else []
            wanted = "a CSS selector"
        else:
            selectors = value if isinstance(value, list) else []
            wanted = "a list of CSS selectors"
        if not selectors or not all(isinstance(v, str) and v.strip() for v in selectors):
            raise SourcesError(f"{where}: '{key}' must be {wanted}")
        for selector in selectors:
            try:
                GenericTranslator().css_to_xpath(selector)
            except SelectorError as exc:
                raise SourcesError(f"{where}: '{key}' = {selector!r} is not CSS: {exc}") from exc
    return overrides


def _strings(table: dict, key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SourcesError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(value)


def _patterns(table: dict, key: str, where: str) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p) for p in _strings(table, key, where))
    except re.error as exc:
        raise SourcesError(f"{where}: bad regular expression in '{key}': {exc}") from exc


def _urls(table: dict, key: str, where: str) -> tuple[str, ...]:
    urls = _strings(table, key, where)
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise SourcesError(f"{where}: {key} must be http(s) URLs, got {bad}")
    return urls


def _feed_domain(feed: str) -> str:
    host = host_of(feed)
    for prefix in _FEED_HOST_PREFIXES:
        host = host.removeprefix(prefix)
    return host


def _source(table: Any, index: int) -> Source:
    where = f"source #{index + 1}"
    if not isinstance(table, dict):
        raise SourcesError(f"{where}: must be a table")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourcesError(f"{where}: 'name' is required")
    where = f"source {name!r}"
    checked_table(table, where, _KEYS)
    feeds, pages = _urls(table, "feeds", where), _urls(table, "pages", where)
    robots = table.get("sitemaps") == ROBOTS
    sitemaps = () if robots else _urls(table, "sitemaps", where)
    if not (feeds or sitemaps or pages or robots):
        raise SourcesError(f"{where}: give at least one of 'feeds', 'sitemaps' or 'pages'")
    domains = _strings(table, "domains", where) or tuple(
        dict.fromkeys(map(_feed_domain, feeds + sitemaps + pages))
    )
    if robots and not domains:
        raise SourcesError(f"{where}: sitemaps = \"robots\" needs 'pages' or 'domains'")
    revisit = checked_table(table.get("revisit", {}), f"{where}: 'revisit'", _REVISIT_KEYS)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in revisit.values()):
        raise SourcesError(f"{where}: 'revisit' values are numbers of seconds (factor: a ratio)")
    extraction = _extraction(table, where)
    headline_only = table.get("headline_only", False)
    if not isinstance(headline_only, bool):
        raise SourcesError(f"{where}: 'headline_only' must be true or false")
    min_words = table.get("min_change_words", 0)
    if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
        raise SourcesError(f"{where}: 'min_change_words' must be a whole number >= 0")
    return Source(
        name=name.strip(),
        feeds=feeds,
        domains=tuple(d.lower() for d in domains),
        sitemaps=sitemaps,
        sitemaps_from_robots=robots,
        pages=pages,
        skip=_patterns(table, "skip", where),
        only=_patterns(table, "only", where),
        extraction=extraction,
        revisit={k: float(v) for k, v in revisit.items()},
        headline_only=headline_only,
        min_change_words=min_words,
    )


def read_sources_file(path: str | Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The sources file at ``path`` (default: the shipped sources.toml) parsed: at least one
    ``[[source]]`` table, and no tables but those and the ``[[webhook]]``/``[[notify]]``
    that ``newscrawl.endpoints`` reads; SourcesError when it is not so or cannot be read."""
    path = Path(path) if path else default_sources_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path} is not valid TOML: {exc}") from exc
    tables = data.get("source", [])
    if not isinstance(tables, list) or not tables:
        raise SourcesError(f"{path}: no [[source]] tables")
    return path, checked_table(data, str(path), FILE_TABLES)


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Sources from ``path`` (default: the shipped sources.toml); SourcesError when invalid."""
    path, data = read_sources_file(path)
    sources = [_source(table, i) for i, table in enumerate(data["source"])]
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SourcesError(f"{path}: duplicate source names {duplicated}")
    return sources
