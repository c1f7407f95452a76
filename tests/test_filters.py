"""Per-source filters of what counts (``newscrawl.filters``): validated in the sources file,
applied to the feeds of changes over a store filled by real crawls
(``tests.support.tracked``), never to what is stored or to the pages of changes."""

from __future__ import annotations

import re

import feedparser
import pytest

from newscrawl.filters import counts
from newscrawl.sources import SourcesError, load_sources
from newscrawl.web import create_app

HEADLINE = {"title": [["-", "Old"], ["+", "New"]], "other_headlines": None,
            "words_added": 1, "words_removed": 1}  # fmt: skip
SMALL = {"title": None, "other_headlines": None, "words_added": 2, "words_removed": 1}
OTHER_HEADLINE = {"title": None, "other_headlines": [[["-", "a"], ["+", "b"]]],
                  "words_added": 0, "words_removed": 0}  # fmt: skip


def test_counts_follows_the_source_filters():
    assert all(counts(None, d) for d in (HEADLINE, SMALL, OTHER_HEADLINE))
    only = {"headline_only": True}
    assert counts(only, HEADLINE) and counts(only, OTHER_HEADLINE) and not counts(only, SMALL)
    assert counts({"min_change_words": 3}, SMALL) and not counts({"min_change_words": 4}, SMALL)
    assert counts({"min_change_words": 100}, HEADLINE)  # a headline change always counts


def sources_file(tmp_path, local: str = "", other: str = "") -> str:
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "Local"\nfeeds = ["http://127.0.0.1/feed.xml"]\n{local}\n'
        f'[[source]]\nname = "Other Desk"\nfeeds = ["http://127.0.0.1/other.xml"]\n{other}\n'
    )
    return str(path)


def test_filter_keys_are_read_and_bad_values_get_a_clear_error(tmp_path):
    local, other = load_sources(sources_file(tmp_path, "headline_only = true",
                                             "min_change_words = 12"))  # fmt: skip
    assert (local.headline_only, local.min_change_words) == (True, 0)
    assert (other.headline_only, other.min_change_words) == (False, 12)
    whole = "'min_change_words' must be a whole number"
    for bad, message in [("headline_only = 1", "'headline_only' must be true or false"),
                         ("min_change_words = -1", whole), ("min_change_words = 2.5", whole),
                         ("min_change_words = true", whole)]:  # fmt: skip
        with pytest.raises(SourcesError, match=re.escape(f"source 'Local': {message}")):
            load_sources(sources_file(tmp_path, bad))


def feed_versions(client, path: str, **params: str) -> set[tuple[str, int]]:
    """(article key, version) of every change entry of a feed."""
    parsed = feedparser.parse(client.get(path, query_string=params or None).get_data())
    found = set()
    for entry in parsed.entries:
        match = re.search(r"url=([^&]+).*&to=(\d+)", entry.link)
        found.add((match.group(1).rsplit("%2F", 1)[-1], int(match.group(2))))
    return found


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("", 4),  # no filter: every non-minor change
        ("headline_only = true", 2),  # Local's headline change, and Other Desk's change
        ("min_change_words = 100000", 2),  # only the headline change counts
        ("min_change_words = 1", 4),
    ],
)
def test_feeds_of_changes_show_only_changes_that_count_and_everything_stays_stored(
    tmp_path, tracked, store, local, expected
):
    env = {**tracked.env, "NEWSCRAWL_SOURCES": sources_file(tmp_path, local)}
    client = create_app(env).test_client()
    for path in ("/changes.atom", "/changes.rss"):
        assert len(feed_versions(client, path)) == expected
    local_feed = feed_versions(client, "/changes.atom", source="Local")
    assert len(local_feed) == expected - 1
    added = feed_versions(client, "/article.atom", url=tracked.urls["added"])
    assert len(added) == (0 if expected == 2 else 1)  # paragraph added: no headline change
    headline = feed_versions(client, "/article.rss", url=tracked.urls["headline"])
    assert {version for _, version in headline} == ({2} if expected == 2 else {2, 3})
    # the page of changes and the store are not filtered
    assert client.get("/changes.json").get_json()["total"] == 4
    assert store.diffs.count_documents({}) == 5
