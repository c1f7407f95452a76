"""The viewer's link from each version to its raw page, and how that page is served: in a
sandbox, so a publisher's scripts never run in the viewer's origin (checked in Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from html import unescape

import pytest
from werkzeug.serving import make_server

from newscrawl.snapshots import RawPage, Snapshots
from newscrawl.store import Store
from newscrawl.web import create_app
from newscrawl.web.snapshots import SANDBOX
from tests.support.mockserver import Site


def test_article_page_links_every_version_to_the_page_as_served(client, tracked, store):
    url = tracked.urls["headline"]
    html = client.get("/article", query_string={"url": url}).get_data(as_text=True)
    links = [unescape(h) for h in re.findall(r'href="(/snapshot\?[^"]+)"', html)]
    assert len(links) == 3
    kept = Snapshots(store)
    for number, link in enumerate(links, start=1):
        response = client.get(link)
        assert response.status_code == 200
        assert response.data == kept.body(kept.get(url, number))
        assert response.headers["Content-Security-Policy"] == SANDBOX
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "text/html"


def test_a_version_without_a_kept_page_is_a_404_page_of_the_viewer(client, tracked):
    response = client.get("/snapshot", query_string={"url": tracked.urls["headline"], "version": 9})
    assert response.status_code == 404
    assert "No page was kept" in response.get_data(as_text=True)
    assert not response.headers["Content-Security-Policy"].startswith("sandbox")


HOSTILE = b"""<!doctype html><html><head><title>Story</title>
<script>document.documentElement.setAttribute('data-ran', 'head-script')</script></head>
<body onload="document.body.setAttribute('data-onload', 'ran')">
<h1>Story</h1><p>Paragraph.</p>
<img src="data:," onerror="document.body.setAttribute('data-onerror', 'ran')">
<script>document.write('<p id=pwned>PWNED ' + document.cookie + '</p>')</script>
</body></html>"""
# What the DOM shows only once the page's scripts and handlers have run.
MARKERS = ('<p id="pwned">', 'data-ran="head-script"', 'data-onload="ran"', 'data-onerror="ran"')


def _dump_dom(chromium: str, url: str) -> str:
    """The DOM after load in headless Chromium; every host but loopback fails to resolve."""
    result = subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-domain-reliability",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=3000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_hostile_stored_page_runs_no_script_in_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    url = "https://news.example/story"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    settings = {"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}
    store = Store.from_settings(settings)
    store.articles.insert_one({"_id": url, "source": "Local", "title": "Story", "versions": 1})
    snapshots = Snapshots(store)
    snapshots.ensure_indexes()
    snapshots.keep(url, "Local", 1, RawPage(HOSTILE, url, at, content_type="text/html"))
    store.close()

    # The control: the same bytes served plainly do run their scripts in this Chromium.
    site = Site().start()
    try:
        site.put("/story", HOSTILE)
        plain = _dump_dom(chromium, site.url("/story"))
    finally:
        site.stop()
    assert all(marker in plain for marker in MARKERS), plain

    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        viewed = _dump_dom(chromium, f"http://127.0.0.1:{server.port}/snapshot?url={url}&version=1")
    finally:
        server.shutdown()
    assert "<h1>Story</h1>" in viewed
    assert not any(marker in viewed for marker in MARKERS), viewed
