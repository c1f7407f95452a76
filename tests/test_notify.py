"""Notifications: real crawls through an edit timeline deliver signed webhooks and Apprise
messages to loopback receivers, one per new version, in order, once, whatever the receiver's
outages; filters, endpoint checks and the outbox's bookkeeping."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from datetime import timedelta
from functools import partial
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.settings import Settings

from newscrawl.endpoints import APPRISE, WEBHOOK, Endpoint, Filters, load_endpoints
from newscrawl.outbox import (
    OUTBOX,
    Outbox,
    Policy,
    Result,
    endpoint_states,
    enqueue,
    enqueue_version,
)
from newscrawl.payload import build_payload, event_id, message
from newscrawl.schedule import RevisitPolicy
from newscrawl.senders import EVENT_ID, SIGNATURE, Senders, verify
from newscrawl.sources import SourcesError
from newscrawl.store import Store, utcnow
from newscrawl.tracker import Tracker
from tests.support.crawling import REPO
from tests.support.fetched import page
from tests.support.mockserver import Receiver
from tests.support.mutations import edit_variants
from tests.support.pages import PAGES, serve
from tests.support.processes import run_together

SECRET = "s3cret-for-tests"
IN_PROCESS = {"NEWSCRAWL_EXTRACT_WORKERS": "0"}  # one page a crawl: no worker pool to start


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def _edited(page) -> str:
    (_, edited, *_), *_ = edit_variants(page.html, page.record, random.Random(3))
    return edited


def _hooks(receiver: Receiver, path: str = "/hook") -> list:
    return [d for d in receiver.deliveries if d.path == path]


def test_crawls_send_one_signed_webhook_per_new_version_and_none_for_unchanged_or_flip_flops(
    site, crawl, receiver
):
    page = PAGES[0]
    (url,) = serve(site, [page.html])
    settings = {
        "NEWSCRAWL_WEBHOOK_URL": receiver.url("/hook"),
        "NEWSCRAWL_WEBHOOK_SECRET": SECRET,
        "NEWSCRAWL_NOTIFY_URLS": receiver.url("/apprise").replace("http://", "json://"),
        "NEWSCRAWL_PUBLIC_URL": "https://news.example.org/tracker",
        **IN_PROCESS,
    }
    edited = _edited(page)
    # first sight, edit (held, then v2), unchanged, revert (held, then v3), then back and
    # forth, each side seen twice: flip-flops
    timeline = [(page.html, 0), (edited, 0), (edited, 1), (edited, 0), (page.html, 0),
                (page.html, 1), (edited, 0), (edited, 0), (page.html, 0),
                (page.html, 0)]  # fmt: skip
    expected = 0
    for html, new_versions in timeline:
        site.put("/news/0.html", html)
        crawl("-a", "recheck=all", settings=settings)
        expected += new_versions
        assert len(_hooks(receiver)) == expected, [d.body for d in _hooks(receiver)]
    hooks = _hooks(receiver)
    payloads = [json.loads(d.body) for d in hooks]
    assert [p["version"] for p in payloads] == [2, 3]
    assert [p["from_version"] for p in payloads] == [1, 2]
    assert payloads[1]["revert_of"] == 1
    for delivery, payload in zip(hooks, payloads, strict=True):
        assert verify(SECRET, delivery.body, delivery.headers[SIGNATURE])
        assert not verify("wrong secret", delivery.body, delivery.headers[SIGNATURE])
        assert not verify(SECRET, delivery.body + b" ", delivery.headers[SIGNATURE])
        assert delivery.headers[EVENT_ID] == payload["id"]
        assert delivery.headers["Content-Type"].startswith("application/json")
        assert payload["event"] == "changed" and payload["url"] == url
        assert payload["source"] == "Local" and payload["title"]
        assert payload["words_added"] + payload["words_removed"] > 0
        assert payload["added"] or payload["removed"] or payload["headline"]
        link = urlsplit(payload["diff_url"])
        assert link.netloc == "news.example.org" and link.path == "/tracker/diff"
        assert parse_qs(link.query) == {
            "url": [url], "from": [str(payload["from_version"])], "to": [str(payload["version"])]
        }  # fmt: skip
    assert payloads[0]["id"] != payloads[1]["id"]
    # Apprise's json:// target got a short text message per new version, too
    messages = [json.loads(d.body) for d in _hooks(receiver, "/apprise")]
    assert len(messages) == 2
    assert messages[0]["title"] == payloads[0]["title"]
    assert "Version 2" in messages[0]["message"]
    assert payloads[0]["diff_url"] in messages[0]["message"]


def test_receiver_down_for_runs_gets_every_event_later_in_order_once(
    site, crawl, open_store, store_env, tmp_path
):
    receiver = Receiver()  # not listening yet
    page = PAGES[1]
    serve(site, [page.html])
    extra = f'[[webhook]]\nurl = "{receiver.url()}"\nsecret_env = "HOOK_SECRET"\n'
    # each edit stored at the check that sees it, so each run below tries the outbox once
    settings = {"NEWSCRAWL_NOTIFY_BACKOFF": "0", "NEWSCRAWL_HOLD_CHANGES": "False", **IN_PROCESS}
    run = dict(sources_extra=extra, settings=settings)
    os.environ["HOOK_SECRET"] = SECRET  # the crawls inherit it
    try:
        crawl(**run)
        edited = _edited(page)
        for html in (edited, page.html):  # versions 2 and 3, while the receiver is down
            site.put("/news/0.html", html)
            result = crawl("-a", "recheck=all", **run)
            assert "notifications: 0 sent, 1 failed, 0 filtered out, 0 given up" in result.stderr
        status = subprocess.run(
            [sys.executable, "-m", "scrapy", "status"], cwd=REPO, capture_output=True,
            text=True, env={**os.environ, **store_env, "NEWSCRAWL_SOURCES": str(tmp_path /
                            "sources.toml")}, check=True,
        )  # fmt: skip
        assert f"http://127.0.0.1:{receiver.port}/hook: failing" in status.stdout, status.stdout
        assert "2 pending" in status.stdout
        receiver.start()
        crawl("-a", "recheck=all", **run)  # nothing new: the backlog goes out, once
    finally:
        receiver.stop()
        del os.environ["HOOK_SECRET"]
    payloads = [json.loads(d.body) for d in receiver.deliveries]
    assert [p["version"] for p in payloads] == [2, 3]
    assert all(verify(SECRET, d.body, d.headers[SIGNATURE]) for d in receiver.deliveries)
    store = open_store()
    (state,) = endpoint_states(store.db)
    assert state["failures"] == 0 and state["pending"] == 0 and state["sent"] == 2
    entries = list(store.db[OUTBOX].find())
    assert all(e["finished_at"] for e in entries)
    # version 2 failed at the close of runs 2 and 3; version 3 waited behind it, never tried
    attempts = {e["event"]["version"]: [a["ok"] for a in e["attempts"]] for e in entries}
    assert attempts == {2: [False, False, True], 3: [True]}


def test_malformed_webhook_table_stops_the_crawl_at_start(site, crawl):
    serve(site, [PAGES[0].html])
    result = crawl(sources_extra='[[webhook]]\nurl = "ftp://x"\nsecret = "k"\n', check=False)
    assert result.returncode == 1
    assert "webhook #1: 'url' must be an http(s) URL" in result.stderr


# --- without a crawl ----------------------------------------------------------------------


@pytest.fixture
def store(open_store):
    return open_store()


def _event(url: str, kind: str = "removed", **extra) -> dict:
    return {"kind": kind, "url": url, "at": utcnow(), "source": "Local", **extra}


def test_enqueue_takes_events_records_once_and_skips_kinds_not_notified(store):
    event = _event("https://example.org/a", status=410)
    assert enqueue(store.db, event)
    assert not enqueue(store.db, dict(event))  # same event again: de-duplicated
    assert not enqueue(store.db, _event("https://example.org/a", kind="headline-variant"))
    (entry,) = store.db[OUTBOX].find()
    payload = build_payload(store, entry["event"])
    assert payload["event"] == "removed" and payload["status"] == 410
    assert payload["id"] == event_id(entry["event"])
    assert message(payload)[1].startswith("The article was removed.")


def test_outbox_keeps_order_across_failures_and_gives_up_on_refusals(store):
    hook = Endpoint(WEBHOOK, "http://127.0.0.1:9/hook", SECRET)
    outbox = Outbox(store, [hook], None, Policy(backoff=0), allow_private=True)
    outbox.register()  # an endpoint gets the events enqueued once it is configured
    for i in range(3):
        enqueue(store.db, _event(f"https://example.org/{i}", at=utcnow() + timedelta(seconds=i)))
    answers = iter([Result(True), Result(False, 503, "HTTP 503"), Result(True), Result(True)])
    seen: list[str] = []

    def send(endpoint, payload):
        seen.append(payload["url"][-1])
        return next(answers)

    outbox.send = send
    # the 2nd event fails: the 3rd waits behind it; the next round sends both, in order
    assert outbox.deliver()["sent"] == 1 and seen == ["0", "1"]
    assert outbox.deliver()["sent"] == 2 and seen == ["0", "1", "1", "2"]
    assert outbox.deliver()["sent"] == 0

    enqueue(store.db, _event("https://example.org/refused"))
    outbox.send = lambda endpoint, payload: Result(False, 400, "HTTP 400", retry=False)
    assert outbox.deliver()["given_up"] == 1
    (state,) = endpoint_states(store.db)
    assert state["given_up"] == 1 and state["pending"] == 0


def test_filters_choose_sources_sizes_headlines_and_minor_changes():
    change = {"event": "changed", "source": "A", "minor": False, "headline": None,
              "words_added": 2, "words_removed": 1}  # fmt: skip
    assert Filters().accepts(change)
    assert not Filters(sources=frozenset({"B"})).accepts(change)
    assert not Filters(min_words=4).accepts(change) and Filters(min_words=3).accepts(change)
    assert not Filters(headline_only=True).accepts(change)
    assert Filters(headline_only=True).accepts({**change, "headline": {"old": "a", "new": "b"}})
    assert not Filters(minor=False).accepts({**change, "minor": True})
    assert not Filters(events=frozenset({"removed"})).accepts(change)
    removal = {"event": "removed", "source": "A"}
    assert Filters(min_words=100, headline_only=True).accepts(removal)


def test_endpoints_from_settings_and_sources_file(tmp_path, monkeypatch):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
        '[[webhook]]\nurl = "https://hooks.example/x"\nsecret_env = "HOOK_KEY"\n'
        'sources = ["A"]\nmin_words = 3\nminor = false\n'
        '[[notify]]\nurls = ["json://hooks.example/y", "ntfy://ntfy.example/topic"]\n'
        "headline_only = true\n"
    )
    monkeypatch.setenv("HOOK_KEY", "k")
    settings = Settings({"NEWSCRAWL_SOURCES": str(sources), "NEWSCRAWL_WEBHOOK_URL":
                         "https://one.example/", "NEWSCRAWL_WEBHOOK_SECRET": "one"})  # fmt: skip
    one, hook, json_target, ntfy = load_endpoints(settings)
    assert (one.kind, one.secret) == (WEBHOOK, "one")
    assert hook.secret == "k" and hook.filters == Filters(frozenset({"A"}), min_words=3,
                                                          minor=False)  # fmt: skip
    assert json_target.kind == APPRISE and json_target.filters.headline_only
    assert ntfy.label == "ntfy://ntfy.example/…"  # no topic or credentials in logs
    slack = Endpoint(WEBHOOK, "https://hooks.slack.com/services/T0/B0/TOKEN")
    assert slack.label == "https://hooks.slack.com/services/…"
    for bad, error in [
        ('[[webhook]]\nurl = "https://h.example"\n', "'secret' (or 'secret_env') is required"),
        ('[[webhook]]\nurl = "https://h.example"\nsecret = "k"\nsources = ["Z"]\n',
         "unknown sources ['Z']"),
        ('[[notify]]\nurls = ["nosuchscheme://x"]\n', "Apprise does not understand"),
        ('[[notify]]\nurls = ["json://h.example"]\nevents = ["born"]\n', "'events' accepts"),
        ('[[webhook]]\nurl = "https://h.example"\nsecret = "k"\nretries = 3\n',
         "webhook #1: unknown keys ['retries']"),
        ('[[notify]]\nurls = ["json://h.example"]\nminwords = 3\n',
         "notify #1: unknown keys ['minwords']"),
        ('[[webhooks]]\nurl = "https://h.example"\n', "unknown keys ['webhooks']"),
    ]:  # fmt: skip
        sources.write_text('[[source]]\nname = "A"\nfeeds = ["https://a.example/rss"]\n' + bad)
        with pytest.raises(SourcesError, match=re.escape(error)):
            load_endpoints(Settings({"NEWSCRAWL_SOURCES": str(sources)}))


def test_internal_endpoints_are_refused_unless_allowed(store):
    hook = Endpoint(WEBHOOK, "http://127.0.0.1:9/hook", SECRET)
    assert "non-public 127.0.0.1" in hook.problem(allow_private=False)
    assert hook.problem(allow_private=True) is None
    assert Endpoint(APPRISE, "json://10.0.0.1/x").problem(False)
    assert Endpoint(APPRISE, "slack://T1/B2/C3").problem(False) is None  # a fixed service
    sent = []
    outbox = Outbox(store, [hook], lambda e, p: sent.append(p) or Result(True))
    outbox.register()
    enqueue(store.db, _event("https://example.org/a"))
    assert outbox.deliver()["failed"] == 1 and not sent
    (state,) = endpoint_states(store.db)
    assert "non-public" in state["last_error"] and state["pending"] == 1


def test_apprise_form_target_posts_the_message(store, receiver):
    target = Endpoint(APPRISE, receiver.url("/form").replace("http://", "form://"))
    outbox = Outbox(store, [target], Senders(), allow_private=True)
    outbox.register()
    enqueue(store.db, _event("https://example.org/a", kind="reappeared", title="Headline"))
    assert outbox.deliver()["sent"] == 1
    (delivery,) = receiver.deliveries
    form = parse_qs(delivery.body.decode())
    assert form["title"] == ["Headline (Local)"]
    assert form["message"][0].startswith("The article is back.")


def test_a_run_killed_before_its_event_was_queued_queues_it_at_the_next_check(store):
    def killed(version: dict) -> None:
        raise SystemExit("kill -9 between the diff and the event")

    tracker = Tracker(store, RevisitPolicy(), on_version=partial(enqueue_version, store.db))
    tracker.record(page("Title", ["One.", "Two."]))
    edited = page("Title", ["One.", "Two, changed."], at=utcnow())
    dying = Tracker(store, RevisitPolicy(), on_version=killed)
    with pytest.raises(SystemExit):
        dying.record(edited)
    assert store.db[OUTBOX].count_documents({}) == 0
    tracker.record(edited)  # the next check finds version 2 stored, its article not updated
    tracker.record(edited)  # and a later one enqueues nothing more
    (entry,) = store.db[OUTBOX].find()
    assert (entry["event"]["event"], entry["event"]["version"]) == ("changed", 2)


def test_scrapy_notify_sends_the_queue_now(store, store_env, receiver):
    hook = {"NEWSCRAWL_WEBHOOK_URL": receiver.url(), "NEWSCRAWL_WEBHOOK_SECRET": SECRET,
            "NEWSCRAWL_NOTIFY_ALLOW_PRIVATE_HOSTS": "1"}  # fmt: skip
    env = {**os.environ, **store_env, **hook}

    def notify() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "scrapy", "notify"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    assert notify().returncode == 0  # the endpoint is new: it gets what is queued from now on
    enqueue(store.db, _event("https://example.org/a"))
    result = notify()
    assert result.returncode == 0 and "notifications: 1 sent, 0 failed" in result.stdout
    (delivery,) = receiver.deliveries
    assert json.loads(delivery.body)["event"] == "removed"
    receiver.stop()
    enqueue(store.db, _event("https://example.org/b"))
    result = notify()
    assert result.returncode == 1 and "0 sent, 1 failed" in result.stdout


def _deliverer(settings: dict[str, str], out: str, start) -> None:
    """One node's delivery round, started with the others; what it sends goes to ``out``."""
    store = Store.from_settings(settings)
    hook = Endpoint(WEBHOOK, "http://127.0.0.1:9/hook", SECRET)

    def send(endpoint, payload):
        with open(out, "a") as sent:
            sent.write(payload["url"] + "\n")
        return Result(True)

    outbox = Outbox(store, [hook], send, Policy(backoff=0), allow_private=True)
    start.wait()
    outbox.deliver()
    store.close()


def test_nodes_delivering_at_once_send_each_event_once(store, store_env, tmp_path):
    """Four processes deliver the same endpoint's events at the same moment, eight times: the
    endpoint's lease lets one of them send each event (on the embedded store, whose updates
    read then write, the lease is taken under the store's process lock)."""
    Outbox(store, [Endpoint(WEBHOOK, "http://127.0.0.1:9/hook", SECRET)], None).register()
    sent = tmp_path / "sent"
    for race in range(8):
        urls = [f"https://example.org/{race}/{i}" for i in range(3)]
        for url in urls:
            enqueue(store.db, _event(url))
        run_together(_deliverer, (store_env, str(sent)), 4, timeout=60)
        lines = sent.read_text().splitlines()
        assert sorted(u for u in lines if f"/{race}/" in u) == urls, f"race {race}: {lines}"
