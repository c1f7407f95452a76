"""Atom and RSS feeds of changes over a store filled by real crawls (``tests.support.tracked``):
global, per source and per article; Atom's rules on ids, times and links; escaping; and
well-formed XML whatever the text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import feedparser
import lxml.html
from flask.testing import FlaskClient
from lxml import etree

from newscrawl.web import syndication
from newscrawl.web.humanize import iso
from tests.support.tracked import PARAGRAPH_PAYLOAD, TITLE_PAYLOAD

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def fetch(client: FlaskClient, path: str, **params: str) -> bytes:
    response = client.get(path, query_string=params or None)
    assert response.status_code == 200, response.get_data(as_text=True)
    kind = "application/atom+xml" if path.endswith(".atom") else "application/rss+xml"
    assert response.mimetype == kind
    return response.get_data()


def assert_valid_atom(document: bytes) -> etree._Element:
    """RFC 4287's rules that feed readers rely on: one id (an absolute IRI), title and
    updated (RFC 3339) per feed and entry, a self link, an author, an alternate link per
    entry, unique entry ids, html content."""
    root = etree.fromstring(document)
    assert root.tag == f"{A}feed"

    def one(parent: etree._Element, tag: str) -> str:
        found = parent.findall(f"{A}{tag}")
        assert len(found) == 1, f"{len(found)} <{tag}> in <{etree.QName(parent).localname}>"
        return found[0].text or ""

    def links(parent: etree._Element, rel: str) -> list[str]:
        return [link.get("href") for link in parent.findall(f"{A}link") if link.get("rel") == rel]

    def absolute_iri(value: str) -> bool:
        return bool(re.match(r"^[a-z][a-z0-9+.-]*:\S+$", value))

    assert absolute_iri(one(root, "id")) and one(root, "title")
    assert RFC3339.match(one(root, "updated"))
    assert len(links(root, "self")) == 1 and absolute_iri(links(root, "self")[0])
    assert root.findall(f"{A}author/{A}name")
    ids = []
    for entry in root.findall(f"{A}entry"):
        ids.append(one(entry, "id"))
        assert absolute_iri(ids[-1]) and one(entry, "title")
        assert RFC3339.match(one(entry, "updated"))
        assert len(links(entry, "alternate")) == 1
        assert all(
            absolute_iri(h) for link in entry.findall(f"{A}link") for h in [link.get("href")]
        )
        (content,) = entry.findall(f"{A}content")
        assert content.get("type") == "html" and content.text
    assert len(ids) == len(set(ids))
    return root


def test_global_feed_has_one_entry_per_new_version_with_its_diff(client, store):
    document = fetch(client, "/changes.atom")
    assert_valid_atom(document)
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    stored = list(store.diffs.find({"minor": {"$ne": True}}).sort("fetched_at", -1))
    assert len(parsed.entries) == len(stored) == 4
    for entry in parsed.entries:
        diff = next(d for d in stored if entry.link.endswith(f"&to={d['version']}")
                    and d["url"] in entry.link)  # fmt: skip
        assert entry.updated == iso(diff["fetched_at"])
        fragment = lxml.html.fragment_fromstring(entry.content[0].value, create_parent="div")
        segments = [*(diff["title"] or []), *(s for r in diff["paragraphs"]
                                              for s in r.get("segments", []))]  # fmt: skip
        assert [i.text_content() for i in fragment.iter("ins")] == [
            text for tag, text in segments if tag == "+"
        ]
        assert [d.text_content() for d in fragment.iter("del")] == [
            text for tag, text in segments if tag == "-"
        ]
        assert entry.tags[0].term == diff["source"]
        assert any(link.rel == "related" and link.href == diff["url"] for link in entry.links)


def test_entry_ids_are_stable_and_say_which_version(client, tracked):
    first = feedparser.parse(fetch(client, "/changes.atom"))
    again = feedparser.parse(fetch(client, "/changes.atom", source="Local"))
    ids = {e.link: e.id for e in first.entries}
    assert all(ids[e.link] == e.id for e in again.entries)
    article = feedparser.parse(fetch(client, "/article.atom", url=tracked.urls["headline"]))
    assert {e.id for e in article.entries} <= set(ids.values())


def test_source_and_article_feeds_hold_only_their_changes(client, tracked, store):
    desk = feedparser.parse(fetch(client, "/changes.atom", source="Other Desk"))
    assert [e.link.split("url=")[1].split("&")[0] for e in desk.entries] == [
        tracked.urls["payload"]
    ]
    assert "Other Desk" in desk.feed.title
    for key, url in tracked.urls.items():
        parsed = feedparser.parse(fetch(client, "/article.atom", url=url))
        expected = store.diffs.count_documents({"url": url, "minor": {"$ne": True}})
        assert len(parsed.entries) == expected, key
        everything = feedparser.parse(fetch(client, "/article.atom", url=url, minor="1"))
        assert len(everything.entries) == store.diffs.count_documents({"url": url}), key


def test_rss_feed_carries_the_same_entries(client, tracked):
    atom = feedparser.parse(fetch(client, "/changes.atom", minor="1"))
    rss = feedparser.parse(fetch(client, "/changes.rss", minor="1"))
    assert not rss.bozo and rss.version == "rss20"
    assert [e.id for e in rss.entries] == [e.id for e in atom.entries]
    assert [e.link for e in rss.entries] == [e.link for e in atom.entries]
    article = feedparser.parse(fetch(client, "/article.rss", url=tracked.urls["added"]))
    assert not article.bozo and len(article.entries) == 1
    assert "<ins>" in article.entries[0].description


def test_payloads_stay_text_in_feeds(client, tracked):
    for path in ("/changes.atom", "/changes.rss"):
        root = etree.fromstring(fetch(client, path, source="Other Desk"))
        (title,) = root.xpath("//*[local-name()='entry' or local-name()='item']/*[local-name()="
                              "'title']/text()")  # fmt: skip
        assert TITLE_PAYLOAD in title  # text in the XML, escaped by the serializer
        (html,) = root.xpath(
            "//a:content/text() | //item/description/text()", namespaces={"a": A[1:-1]}
        )
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
        assert not fragment.xpath(".//script | .//img | .//*[@onerror]")
        assert TITLE_PAYLOAD in fragment.text_content()
        assert PARAGRAPH_PAYLOAD in fragment.text_content()


def test_feeds_come_from_stored_diffs_without_diffing_again(client, monkeypatch):
    def no_diffing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a feed recomputed a diff")

    monkeypatch.setattr("newscrawl.queries.diff_versions", no_diffing)
    monkeypatch.setattr("newscrawl.diff.diff_article", no_diffing)
    assert_valid_atom(fetch(client, "/changes.atom", minor="1"))
    fetch(client, "/changes.rss")


def test_unknown_article_has_no_feed(client):
    assert (
        client.get("/article.atom", query_string={"url": "http://nowhere.invalid/"}).status_code
        == 404
    )
    assert client.get("/article.rss").status_code == 400


def test_feeds_are_well_formed_whatever_the_text():
    hostile = "a\x00b\x0bc\x1fd\ud800e\udfff f\ufffe\uffff g\u2028 <script>&amp; ]]> 😀"
    entry = syndication.Entry(
        id=syndication.stable_id("x#version=2"), title=hostile,
        updated=datetime(2024, 5, 2, tzinfo=UTC),
        link="http://viewer/diff?url=x&from=1&to=2", related="http://x/\x01", category=hostile,
        summary=hostile, html=f"<p>{hostile}</p>",
    )  # fmt: skip
    feed = syndication.Feed(syndication.stable_id("k"), hostile,
                            "http://viewer/changes.atom?a=1&b=2", "http://viewer/",
                            datetime(2024, 5, 2, tzinfo=UTC), [entry])  # fmt: skip
    for document in (syndication.atom(feed), syndication.rss(feed)):
        etree.fromstring(document)  # strict XML parser: raises on anything ill-formed
        parsed = feedparser.parse(document)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.entries[0].title == "abcde f g\u2028 <script>&amp; ]]> 😀"
    assert_valid_atom(syndication.atom(feed))
