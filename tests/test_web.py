"""The web viewer over a store filled by real crawls (``tests.support.tracked``): every route, its
JSON, escaping of untrusted text, read-only behaviour, and the diff page in headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

import lxml.html
import pymongo
import pytest

from newscrawl.store import Store
from newscrawl.web import create_app
from newscrawl.web.humanize import duration_in_words
from newscrawl.web.pages import live_href
from tests.support.crawling import REPO
from tests.support.mockserver import rss
from tests.support.tracked import PARAGRAPH_PAYLOAD, TITLE_PAYLOAD, Tracked
from tests.support.viewer import chromium, get_html, get_json, run_chromium


def joined(side: list[list[str]] | None) -> str:
    return "".join(text for _, text in side or [])


# --- recent changes -------------------------------------------------------------------------


def test_recent_changes_are_newest_first_and_hide_minor_changes(client, store):
    changes = get_json(client, "/changes.json")["changes"]
    stored = list(store.diffs.find({"minor": {"$ne": True}}))
    assert len(changes) == len(stored) == 4
    times = [c["fetched_at"] for c in changes]
    assert times == sorted(times, reverse=True)
    assert not any(c["minor"] for c in changes)
    with_minor = get_json(client, "/changes.json", minor=1)["changes"]
    assert len(with_minor) == store.diffs.count_documents({}) == 5
    assert [c["minor"] for c in with_minor].count(True) == 1


def test_recent_changes_filter_by_source(client, tracked):
    data = get_json(client, "/changes.json", source="Other Desk")
    assert {c["url"] for c in data["changes"]} == {tracked.urls["payload"]}
    assert data["sources"] == ["Local", "Other Desk"]
    html = get_html(client, "/", source="Other Desk")
    assert tracked.urls["headline"] not in html


def test_recent_changes_are_paginated(tracked):
    client = create_app(tracked.env, per_page=3).test_client()
    first = get_json(client, "/changes.json")
    assert (first["page"], first["pages"], first["total"]) == (1, 2, 4)
    assert len(first["changes"]) == 3 and first["previous"] is None
    assert first["next"] == "/changes.json?page=2"
    second = get_json(client, first["next"])
    assert len(second["changes"]) == 1 and second["next"] is None
    seen = [(c["url"], c["version"]) for c in first["changes"] + second["changes"]]
    assert len(set(seen)) == 4
    assert 'rel="next"' in get_html(client, "/")


def test_recent_changes_page_links_each_change_to_its_diff(client, tracked):
    html = get_html(client, "/")
    tree = lxml.html.fromstring(html)
    diff_links = {a.get("href") for a in tree.cssselect("a.headline")}
    assert any(f"url={tracked.urls['headline']}" in h and "from=2&to=3" in h for h in diff_links)
    assert tree.cssselect('link[type="application/atom+xml"]')


# --- article --------------------------------------------------------------------------------


def test_article_page_shows_source_first_seen_change_count_and_versions(client, tracked, store):
    url = tracked.urls["headline"]
    data = get_json(client, "/article.json", url=url)
    assert (data["url"], data["source"], data["changes"]) == (url, "Local", 2)
    assert [v["version"] for v in data["versions"]] == [1, 2, 3]
    stored = store.history(url)
    assert [v["title"] for v in data["versions"]] == [v["title"] for v in stored]
    assert data["versions"][1]["headline_changed"] is True
    assert (
        data["versions"][2]["words_added"]
        == store.diffs.find_one({"url": url, "version": 3})["words_added"]
    )
    assert data["versions"][1]["later"] == "less than a minute later"
    html = get_html(client, "/article", url=url)
    assert "The article has changed 2 times." in html
    assert "feed of changes available" in html
    assert data["first_seen"] in html


def test_article_is_found_by_its_url_with_tracking_parameters(client, tracked):
    data = get_json(client, "/article.json", url=tracked.urls["added"] + "?utm_source=rss")
    assert data["url"] == tracked.urls["added"]


# --- diff -----------------------------------------------------------------------------------


def assert_sides_rebuild_versions(data: dict, old: dict, new: dict) -> None:
    """The page shows every paragraph of both versions, aligned, nothing invented."""
    assert [joined(r["old"]) for r in data["rows"] if r["old"] is not None] == old["paragraphs"]
    assert [joined(r["new"]) for r in data["rows"] if r["new"] is not None] == new["paragraphs"]
    assert joined(data["headline"]["old"]) == old["title"]
    assert joined(data["headline"]["new"]) == new["title"]


def test_diff_defaults_to_the_last_change_from_the_stored_diff(client, tracked, store):
    url = tracked.urls["headline"]
    data = get_json(client, "/diff.json", url=url)
    assert (data["from"]["version"], data["to"]["version"], data["stored"]) == (2, 3, True)
    v1, v2, v3 = store.history(url)
    assert_sides_rebuild_versions(data, v2, v3)
    (changed,) = [r for r in data["rows"] if r["op"] != "equal"]
    assert [t for t, _ in changed["old"] if t != "="] == ["-"]
    assert [t for t, _ in changed["new"] if t != "="] == ["+"]
    assert data["headline"]["op"] == "equal"
    assert data["links"]["previous"] is not None and data["links"]["next"] is None


def test_diff_between_any_two_versions_is_computed_from_them(client, tracked, store):
    url = tracked.urls["headline"]
    data = get_json(client, "/diff.json", url=url, **{"from": 1, "to": 3})
    assert data["stored"] is False
    v1, _, v3 = store.history(url)
    assert_sides_rebuild_versions(data, v1, v3)
    assert data["headline"]["op"] == "replace"
    assert [r["op"] for r in data["rows"]].count("replace") == 1


def test_diff_page_is_side_by_side_with_marked_words_and_time_between(client, tracked, store):
    url = tracked.urls["headline"]
    html = get_html(client, "/diff", url=url, **{"from": 1, "to": 3})
    tree = lxml.html.fromstring(html)
    header = [th.text_content() for th in tree.cssselect("table.diff th")]
    assert header[0].startswith("Version 1") and header[1].startswith("Version 3")
    assert "less than a minute later" in header[1]
    title_diff = store.diffs.find_one({"url": url, "version": 2})["title"]
    old_word = next(t for tag, t in title_diff if tag == "-")
    new_word = next(t for tag, t in title_diff if tag == "+")
    headline = tree.cssselect("tr.headline")[0]
    assert [d.text_content() for d in headline.cssselect("td.old del")] == [old_word]
    assert [i.text_content() for i in headline.cssselect("td.new ins")] == [new_word]
    rows = tree.cssselect("tbody tr")
    assert len(rows) == 1 + len(store.history(url)[2]["paragraphs"])
    assert tree.cssselect("tr.replace td.old del") and tree.cssselect("tr.replace td.new ins")
    (live,) = tree.cssselect("a.live")
    assert live.get("href") == url and "noreferrer" in live.get("rel")


def test_diff_shows_added_paragraph_on_the_new_side_only(client, tracked):
    data = get_json(client, "/diff.json", url=tracked.urls["added"], **{"from": 1, "to": 2})
    (insert,) = [r for r in data["rows"] if r["op"] == "insert"]
    assert insert["old"] is None and [t for t, _ in insert["new"]] == ["+"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"url": "http://127.0.0.1:1/never-tracked.html"}, 404),
        ({"from": "x"}, 400),
        ({"from": 3, "to": 2}, 400),
        ({"from": 1, "to": 9}, 404),
        ({"from": 1, "to": 10**30}, 400),
    ],
)
def test_diff_rejects_bad_requests_with_an_error_page_and_json(client, tracked, params, status):
    params = {"url": tracked.urls["headline"], **params} if params else params
    page = client.get("/diff", query_string=params)
    assert page.status_code == status and page.mimetype == "text/html"
    data = client.get("/diff.json", query_string=params)
    assert data.status_code == status and data.get_json()["status"] == status


# --- search, JSON ---------------------------------------------------------------------------


def test_search_by_url_part_and_by_headline_words(client, tracked, store):
    by_url = get_json(client, "/search.json", q="/desk/payload")
    assert [r["url"] for r in by_url["results"]] == [tracked.urls["payload"]]
    title = store.articles.find_one({"_id": tracked.urls["headline"]})["title"]
    words = [w for w in title.split() if len(w) > 3]
    query = f"{words[-1].upper()} {words[0].lower()}"  # any order, any case
    by_words = get_json(client, "/search.json", q=query)
    assert tracked.urls["headline"] in [r["url"] for r in by_words["results"]]
    assert get_json(client, "/search.json", q=".*")["results"] == []  # no regex from users
    assert get_json(client, "/search.json", q="(unbalanced")["total"] == 0
    assert "1 article match" in get_html(client, "/search", q="/desk/payload")
    shared = get_json(client, "/search.json", q=tracked.urls["added"] + "?utm_source=share")
    assert [r["url"] for r in shared["results"]] == [tracked.urls["added"]]


@pytest.mark.parametrize("path", ["/changes", "/article", "/diff", "/search"])
def test_accept_json_gives_the_same_data_as_the_json_route(client, tracked, path):
    params = {"url": tracked.urls["headline"], "q": "budget"}
    by_header = client.get(path, query_string=params, headers={"Accept": "application/json"})
    assert by_header.mimetype == "application/json"
    assert by_header.get_json() == get_json(client, f"{path}.json", **params)
    assert "Accept" in by_header.headers["Vary"]


# --- safety ---------------------------------------------------------------------------------


def pages_showing_payloads(tracked: Tracked) -> list[tuple[str, dict]]:
    url = tracked.urls["payload"]
    return [
        ("/", {}),
        ("/", {"source": "Other Desk"}),
        ("/article", {"url": url}),
        ("/diff", {"url": url}),
        ("/search", {"q": "script"}),
        ("/search", {"q": TITLE_PAYLOAD}),
    ]


def test_payloads_in_titles_and_paragraphs_come_out_escaped(client, tracked, store):
    stored = store.history(tracked.urls["payload"])[-1]
    assert TITLE_PAYLOAD in stored["title"]  # the crawl kept them as text
    assert any(PARAGRAPH_PAYLOAD in p for p in stored["paragraphs"])
    for path, params in pages_showing_payloads(tracked):
        html = get_html(client, path, **params)
        tree = lxml.html.fromstring(html)
        assert not tree.xpath("//script | //img | //*[@onerror]"), (path, params)
        assert "<script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html, (path, params)
    text = lxml.html.fromstring(get_html(client, "/diff", url=tracked.urls["payload"]))
    assert TITLE_PAYLOAD in text.text_content() and PARAGRAPH_PAYLOAD in text.text_content()


def test_pages_forbid_scripts_and_only_link_web_addresses(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert live_href("javascript:alert(1)") is None
    assert live_href("https://example.com/a") == "https://example.com/a"


def count_documents(store: Store) -> dict[str, int]:
    names = ("articles", "versions", "diffs", "feeds", "errors")
    return {name: store.db[name].count_documents({}) for name in names}


def test_no_route_accepts_writes_and_reading_changes_nothing(client, tracked, store):
    before = count_documents(store)
    article = store.articles.find_one({"_id": tracked.urls["headline"]})
    paths = ["/", "/changes", "/changes.json", "/article", "/article.json", "/diff",
             "/diff.json", "/search", "/search.json", "/changes.atom", "/changes.rss",
             "/article.atom", "/article.rss"]  # fmt: skip
    for path in paths:
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(path, query_string={"url": article["_id"]})
            assert response.status_code == 405, (method, path)
        assert client.get(path, query_string={"url": article["_id"], "q": "a"}).status_code == 200
    assert count_documents(store) == before
    assert store.articles.find_one({"_id": article["_id"]}) == article


def test_a_store_failure_shows_an_error_without_credentials():
    def unreachable() -> Store:
        uri = "mongodb://reader:s3cret-pw@127.0.0.1:9/?authSource=admin"
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=200, connect=False)
        return Store(client, client["newscrawl"])

    client = create_app(open_store=unreachable).test_client()
    for path in ("/", "/changes.json"):
        response = client.get(path)
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "s3cret" not in body and "reader" not in body and "mongodb://" not in body


def test_durations_read_like_a_person_says_them():
    assert duration_in_words(timedelta(seconds=20)) == "less than a minute"
    assert duration_in_words(timedelta(minutes=7)) == "7 minutes"
    assert duration_in_words(timedelta(hours=11, minutes=10)) == "about 11 hours"
    assert duration_in_words(timedelta(hours=30)) == "about a day"
    assert duration_in_words(timedelta(days=3)) == "3 days"
    assert duration_in_words(timedelta(days=400)) == "about 1 year"


# --- the served viewer, in a browser --------------------------------------------------------


def test_scrapy_serve_serves_pages_json_and_feeds(served, tracked):
    for path, kind in [("/", "text/html"), ("/changes.json", "application/json"),
                       ("/changes.atom", "application/atom+xml"),
                       ("/changes.rss", "application/rss+xml"),
                       ("/static/style.css", "text/css")]:  # fmt: skip
        with urllib.request.urlopen(served + path, timeout=10) as response:
            assert response.status == 200 and response.headers.get_content_type() == kind


def test_diff_page_in_headless_chromium_shows_both_versions_and_marked_changes(
    served, tracked, store, tmp_path
):
    binary = chromium()
    url = tracked.urls["headline"]
    page = f"{served}/diff?url={url}&from=1&to=3"
    result = run_chromium(binary, "--dump-dom", page)
    dom = lxml.html.fromstring(result.stdout)
    header = [" ".join(th.text_content().split()) for th in dom.cssselect("table.diff th")]
    assert header[0].startswith("Version 1") and header[1].startswith("Version 3"), result.stderr
    v1, _, v3 = store.history(url)
    headline = dom.cssselect("tr.headline")[0]
    assert headline.cssselect("td.old")[0].text_content().strip() == v1["title"]
    assert headline.cssselect("td.new")[0].text_content().strip() == v3["title"]
    assert headline.cssselect("del") and headline.cssselect("ins")
    changed = dom.cssselect("tr.replace:not(.headline)")[0]
    removed = "".join(d.text_content() for d in changed.cssselect("del"))
    added = "".join(i.text_content() for i in changed.cssselect("ins"))
    diff = store.diffs.find_one({"url": url, "version": 3})
    (row,) = [r for r in diff["paragraphs"] if r["op"] == "replace"]
    assert removed == "".join(t for tag, t in row["segments"] if tag == "-")
    assert added == "".join(t for tag, t in row["segments"] if tag == "+")
    shot = Path(os.environ.get("NEWSCRAWL_SCREENSHOT") or tmp_path / "diff.png")
    run_chromium(binary, f"--screenshot={shot}", "--window-size=1280,1000",
                 "--hide-scrollbars", page)  # fmt: skip
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 1000)


SOCIAL_PAGE = (
    "<html><head><title>Council delays vote | Example News</title>"
    '<meta property="og:title" content="Councillors put off housing vote after {word} row">'
    "</head><body><article><h1>Council delays vote</h1>"
    "<p>The council met on Tuesday evening to discuss the housing proposal in full.</p>"
    "<p>Residents have until the end of the month to respond to the consultation.</p>"
    "<p>A final decision on the plan is now expected at the meeting in the spring.</p>"
    "</article></body></html>"
)


def test_an_edit_of_the_social_headline_alone_is_a_change_every_reader_shows(
    site, crawl, store_env
) -> None:
    """The og:title is edited, the shown headline and body are not: a crawl stores version 2,
    and the diff page, the feed of changes and ``scrapy diff`` show the headline edit."""
    site.put("/news/a.html", SOCIAL_PAGE.format(word="funding"))
    site.put("/feed.xml", rss("Local", [site.url("/news/a.html")]))
    crawl()
    site.put("/news/a.html", SOCIAL_PAGE.format(word="giveaway"))
    crawl("-a", "recheck=all")  # held, then stored by the next check (newscrawl.holding)
    crawl("-a", "recheck=all")
    url = site.url("/news/a.html")
    client = create_app(store_env).test_client()
    data = get_json(client, "/diff.json", url=url)
    assert (data["from"]["version"], data["to"]["version"]) == (1, 2)
    assert data["headline"]["op"] == "equal"
    assert [row["op"] for row in data["other_headlines"]] == ["replace"]
    assert ["-", "funding"] in data["other_headlines"][0]["old"]
    assert ["+", "giveaway"] in data["other_headlines"][0]["new"]
    page = lxml.html.fromstring(get_html(client, "/diff", url=url))
    row = page.cssselect("tr.other-headline")[0]
    assert [e.text_content() for e in row.cssselect("del, ins")] == ["funding", "giveaway"]
    feed = client.get("/article.atom", query_string={"url": url}).get_data(as_text=True)
    assert "Other headline:" in feed and "giveaway" in feed
    env = {**os.environ, **store_env}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "diff", url], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Other headline:" in result.stdout and "giveaway" in result.stdout
    versions = get_json(client, "/article.json", url=url)["versions"]
    assert [v["headline_changed"] for v in versions] == [False, True]
    # A body edit next: versions 1 and 3 are compared on the fly, other headline included.
    site.put("/news/a.html", SOCIAL_PAGE.format(word="giveaway").replace("Tuesday", "Monday"))
    crawl("-a", "recheck=all")
    crawl("-a", "recheck=all")
    skipped = get_json(client, "/diff.json", url=url, **{"from": 1, "to": 3})
    assert [row["op"] for row in skipped["other_headlines"]] == ["replace"]
