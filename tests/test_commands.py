"""``scrapy history`` and ``scrapy diff`` as subprocesses over a store filled by real crawls
(``tests.support.tracked``). (``scrapy serve`` is run by tests/test_web.py.)"""

from __future__ import annotations

import pytest

from tests.support.commands import scrapy
from tests.support.tracked import PARAGRAPH_PAYLOAD, TITLE_PAYLOAD


def marks(segments: list[list[str]]) -> str:
    """The plain-output form of a segment list: [-deleted-]{+inserted+}."""
    parts = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return "".join(parts[tag].format(text) for tag, text in segments)


def test_history_lists_versions_with_times_and_change_sizes(tracked, store):
    url = tracked.urls["headline"]
    result = scrapy(tracked.env, "history", url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == url
    assert "source Local" in lines[2] and "has changed 2 times" in lines[2]
    rows = lines[5:]
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]
    assert "first seen" in rows[0]
    assert "[headline changed]" in rows[1] and "less than a minute later" in rows[1]
    v3 = store.diffs.find_one({"url": url, "version": 3})
    assert f"+{v3['words_added']} -{v3['words_removed']} words" in rows[2]
    for row, version in zip(rows, store.history(url), strict=True):
        assert row.endswith(version["title"])


def test_history_marks_minor_changes_and_finds_urls_with_tracking_parameters(tracked):
    result = scrapy(tracked.env, "history", tracked.urls["added"] + "?utm_source=rss&utm_medium=x")
    assert result.returncode == 0, result.stderr
    assert "[minor]" in result.stdout.splitlines()[-1]


def test_diff_defaults_to_the_last_change_with_plain_marks_when_piped(tracked, store):
    url = tracked.urls["headline"]
    result = scrapy(tracked.env, "diff", url)
    assert result.returncode == 0, result.stderr
    assert "version 2 (" in result.stdout and "-> version 3 (" in result.stdout
    assert "less than a minute later" in result.stdout
    (row,) = [r for r in store.diffs.find_one({"url": url, "version": 3})["paragraphs"]
              if r["op"] != "equal"]  # fmt: skip
    assert f"Paragraph {row['new'] + 1}:\n  {marks(row['segments'])}\n" in result.stdout
    assert f"... {row['old']} unchanged paragraphs ..." in result.stdout
    assert "\x1b[" not in result.stdout and "Headline:" not in result.stdout


def test_diff_between_given_versions_shows_the_headline_change(tracked, store):
    url = tracked.urls["headline"]
    result = scrapy(tracked.env, "diff", url, "1", "3")
    assert result.returncode == 0, result.stderr
    title = store.diffs.find_one({"url": url, "version": 2})["title"]
    assert f"Headline:\n  {marks(title)}\n" in result.stdout
    v3 = store.diffs.find_one({"url": url, "version": 3})
    (row,) = [r for r in v3["paragraphs"] if r["op"] != "equal"]
    assert marks(row["segments"]) in result.stdout  # the later word change too


def test_diff_colours_changes_for_terminals_and_keeps_payloads_as_text(tracked):
    result = scrapy(tracked.env, "diff", tracked.urls["payload"], "--color", "always")
    assert result.returncode == 0, result.stderr
    assert "\x1b[32m" in result.stdout and "\x1b[31;9m" in result.stdout
    assert "[-" not in result.stdout
    assert TITLE_PAYLOAD in result.stdout and PARAGRAPH_PAYLOAD in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("history", "http://127.0.0.1:1/never-tracked.html"),
        ("diff", "http://127.0.0.1:1/never-tracked.html"),
    ],
)
def test_untracked_url_is_reported_with_a_failing_exit_code(tracked, args):
    result = scrapy(tracked.env, *args)
    assert result.returncode == 1
    assert "not tracked: http://127.0.0.1:1/never-tracked.html" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("versions", "message"),
    [(("3", "2"), "FROM < TO"), (("1", "9"), "versions 1 to 3")],
)
def test_diff_explains_impossible_version_pairs(tracked, versions, message):
    result = scrapy(tracked.env, "diff", tracked.urls["headline"], *versions)
    assert result.returncode == 1 and message in result.stderr


def test_diff_rejects_versions_that_are_not_numbers(tracked):
    result = scrapy(tracked.env, "diff", tracked.urls["headline"], "one")
    assert result.returncode == 2 and "versions are numbers" in result.stderr
