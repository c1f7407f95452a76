"""Each publisher's record (``/source``, ``/sources``): figures and charts over a store filled
by real crawls, checked against what the stored articles, versions and diffs say; counters
kept at write time equal those rebuilt from the history; bad periods are a 400."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest

from newscrawl import events, record
from newscrawl.store import Store, as_utc
from newscrawl.web.app import create_app
from tests.support.viewer import chromium, get_html, get_json, run_chromium

DAYS = 30


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def expected(store: Store, source: str | None) -> dict:
    """The record's figures computed from the stored history, without the counters."""
    since = datetime.now(UTC).date() - timedelta(days=DAYS - 1)
    query = {"source": source} if source else {}
    cohort = [a for a in store.articles.find(query) if as_utc(a["first_seen"]).date() >= since]
    firsts, lasts, edits_of_cohort = [], [], 0
    for article in cohort:
        versions = list(store.versions.find({"url": article["_id"]}).sort("version", 1))
        edits_of_cohort += len(versions) - 1
        if len(versions) > 1:
            seen = as_utc(article["first_seen"])
            firsts.append((as_utc(versions[1]["fetched_at"]) - seen).total_seconds())
            lasts.append((as_utc(versions[-1]["fetched_at"]) - seen).total_seconds())
    diffs = [d for d in store.diffs.find(query) if as_utc(d["fetched_at"]).date() >= since]
    headline = [d for d in diffs if d.get("headline_changed") or "headline" in d["kinds"]]
    return {
        "articles": len(cohort),
        "edited": len(firsts),
        "edits_per_article": edits_of_cohort / len(cohort),
        "firsts": firsts,
        "lasts": lasts,
        "edits": len(diffs),
        "share_headline": len(headline) / len(diffs),
        "share_silent": sum("silent" in d["kinds"] for d in diffs) / len(diffs),
        "kinds": {
            kind: sum(kind in d["kinds"] for d in diffs)
            for kind in record.k.KINDS
            if kind != "headline"
        },  # fmt: skip
    }


def check_figures(data: dict, want: dict) -> None:
    assert data["articles"] == want["articles"] and data["edited"] == want["edited"]
    assert data["share_edited"] == round(want["edited"] / want["articles"], 4)
    assert data["edits_per_article"] == round(want["edits_per_article"], 4)
    assert data["edits"] == want["edits"]
    assert data["share_headline"] == round(want["share_headline"], 4)
    assert data["share_silent"] == round(want["share_silent"], 4)
    for name, values in (("time_to_first_edit", want["firsts"]), ("time_to_last_edit",
                                                                   want["lasts"])):  # fmt: skip
        for key, share in (("median", 0.5), ("p90", 0.9)):
            # Counted in buckets 10% wide: the figure is the exact percentile's bucket.
            assert record.bucket(data[name][key]) == record.bucket(nearest_rank(values, share))
    for kind, count in want["kinds"].items():
        assert data["kinds"][kind] == count, kind
    assert data["removals"] == 0


def test_a_source_record_matches_the_stored_history(client, store):
    for source in ("Local", "Other Desk"):
        data = get_json(client, "/source.json", name=source, days=DAYS)
        want = expected(store, source)
        assert want["edited"] and want["edits"]  # the crawls made edits to count
        check_figures(data, want)
        per_day = data["charts"]["edits_per_day"]["bars"]
        assert len(per_day) == DAYS and sum(b["count"] for b in per_day) == want["edits"]
        assert per_day[-1]["count"] == want["edits"]  # crawled today
        spans = data["charts"]["time_to_first_edit"]["bars"]
        assert sum(b["count"] for b in spans) == want["edited"]
        assert spans[0]["label"] == "< 1 h" and spans[0]["count"] == want["edited"]
    page = lxml.html.fromstring(get_html(client, "/source", name="Local", days=DAYS))
    want = expected(store, "Local")
    assert page.cssselect("dd.articles")[0].text_content() == str(want["articles"])
    assert page.cssselect("dd.edits")[0].text_content() == str(want["edits"])
    assert len(page.cssselect("#edits-per-day rect")) == DAYS
    assert len(page.cssselect("#kinds rect")) == len(record.k.KINDS)
    assert not page.cssselect("script")


def test_the_record_across_sources_sums_every_source(client, store):
    data = get_json(client, "/sources.json", days=DAYS)
    check_figures(data, expected(store, None))
    rows = {row["source"]: row for row in data["sources"]}
    assert sorted(rows) == ["Local", "Other Desk"]
    for source, row in rows.items():
        check_figures(row, expected(store, source))
    page = lxml.html.fromstring(get_html(client, "/sources"))
    links = [a.get("href") for a in page.cssselect("tr.publisher a")]
    assert links == ["/source?name=Local&days=30", "/source?name=Other+Desk&days=30"]
    assert page.cssselect("header nav a[href='/sources']")  # in the viewer's navigation


def test_a_one_day_period_is_today(client):
    data = get_json(client, "/source.json", name="Local", days=1)
    assert data["articles"] > 0  # crawled today
    assert len(data["charts"]["edits_per_day"]["bars"]) == 1


@pytest.mark.parametrize(
    "path, query, status",
    [("/source", {}, 400), ("/source.json", {"name": " "}, 400),
     ("/source.json", {"name": "Local", "days": "0"}, 400),
     ("/source.json", {"name": "Local", "days": "abc"}, 400),
     ("/source.json", {"name": "Local", "days": "367"}, 400),
     ("/sources.json", {"days": "-3"}, 400), ("/sources", {"days": "1e3"}, 400),
     ("/source.json", {"name": "Nobody"}, 404)],
)  # fmt: skip
def test_bad_record_params_are_refused(client, path, query, status):
    response = client.get(path, query_string=query)
    assert response.status_code == status
    if path.endswith(".json"):
        assert response.get_json()["status"] == status


def test_counters_kept_at_write_time_equal_those_rebuilt_from_the_history(store):
    days, fields = record.tally(store.db)
    stored = {d["_id"]: d for d in store.db[record.COLLECTION].find({"day": {"$exists": True}})}
    assert stored and sorted(stored) == sorted(days)

    def flat(doc: dict) -> dict:
        out = {}
        for name, value in doc.items():
            if isinstance(value, dict):
                out.update({f"{name}.{key}": n for key, n in value.items()})
            elif isinstance(value, int):
                out[name] = value
        return {name: n for name, n in out.items() if n}

    for _id, counts in days.items():
        assert flat(stored[_id]) == {name: n for name, n in counts.items() if n}, _id
    for url, mine in fields.items():
        article = store.articles.find_one({"_id": url})
        assert article["edits"] == mine["edits"] == article["versions"] - 1
        assert as_utc(article["first_edit_at"]) == mine["first_edit_at"]
        assert as_utc(article["last_edit_at"]) == mine["last_edit_at"]


def test_a_confirmed_removal_is_counted_on_its_day(tmp_path):
    env = {"NEWSCRAWL_DATA_DIR": str(tmp_path), "MONGO_URI": os.environ.get("MONGO_URI", ""),
           "MONGO_DATABASE": f"newscrawl_test_record_{os.getpid()}"}  # fmt: skip
    store = Store.from_settings(env)
    try:
        now = datetime.now(UTC)
        events.record_event(store.db, "https://e.example/a", "removed", now, "E", reason="x")
        events.record_event(store.db, "https://e.example/a", "reappeared", now, "E")
        earlier = now - timedelta(days=40)
        events.record_event(store.db, "https://e.example/b", "removed", earlier, "E", reason="x")
        client = create_app(env).test_client()
        data = get_json(client, "/source.json", name="E")
        assert data["removals"] == 1 and data["articles"] == 0 and data["share_edited"] is None
        assert get_json(client, "/source.json", name="E", days=41)["removals"] == 2
    finally:
        store.client.drop_database(env["MONGO_DATABASE"])
        store.close()


def test_record_charts_render_in_headless_chromium(served, tmp_path):  # noqa: F811
    binary = chromium()
    for path, name in (("/source?name=Local", "SOURCE"), ("/sources", "SOURCES")):
        dom = lxml.html.fromstring(run_chromium(binary, "--dump-dom", served + path).stdout)
        assert len(dom.cssselect("#edits-per-day svg rect")) == DAYS, path
        assert len(dom.cssselect("#time-to-edit svg rect")) == 8
        assert len(dom.cssselect("#kinds svg rect")) == len(record.k.KINDS)
        shot = Path(os.environ.get(f"NEWSCRAWL_{name}_SCREENSHOT") or tmp_path / "record.png")
        run_chromium(binary, f"--screenshot={shot}", "--window-size=1000,1400",
                     "--hide-scrollbars", served + path)  # fmt: skip
        assert shot.read_bytes().startswith(b"\x89PNG")
