"""The address checked is the address connected to: DNS rebinding and proxies.

Real ``scrapy crawl`` runs against the loopback site, with ``tests.support.fake_dns.FakeDNS``
answering every name in the crawl's process (nothing is asked of the system resolver or sent
off the machine) and the site standing in for a public host (``public_site_settings``).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.settings import Settings

from newscrawl.middlewares import PrivateHostBlocked, PrivateHostMiddleware
from newscrawl.netguard import unguarded_connections
from tests.support.corpus import load_pages
from tests.support.hostile_site import good_page, public_site_settings
from tests.support.mockserver import Site, rss

EXTENSIONS = json.dumps(
    {"newscrawl.crawlstore.CrawlStore": 100, "newscrawl.extensions.RunRecorder": 500,
     "tests.support.fake_dns.FakeDNS": 0}
)  # fmt: skip
PUBLIC = "93.184.216.34"  # answered to the guard only: nothing ever connects to it


def internal_page() -> bytes:
    """Another extractable corpus page: tracked if the crawler ever reads it."""
    good = good_page()
    return next(p for p in load_pages() if p.url != good.url and len(p.raw) > 2000).raw


def fake_dns_settings(tmp_path: Path, answers: dict[str, dict[str, str | None]]) -> dict:
    return {
        "EXTENSIONS": EXTENSIONS,
        "NEWSCRAWL_TEST_DNS": json.dumps(answers),
        "NEWSCRAWL_TEST_DNS_LOG": str(tmp_path / "dns.jsonl"),
    }


def lookups(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "dns.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def serve_redirect_to(site: Site, location: str) -> tuple[str, str]:
    """A feed with a good article and one redirecting to ``location``; returns both URLs."""
    good, moved = site.url("/news/good.html"), site.url("/news/moved.html")
    site.put("/news/good.html", good_page().raw)
    site.put("/news/internal.html", internal_page())
    site.put("/news/moved.html", b"", status=302, headers={"Location": location})
    site.put("/feed.xml", rss("f", [good, moved]))
    return good, moved


def assert_internal_page_not_read(store: Any, site: Site, good: str, moved: str) -> None:
    assert store.articles.find_one({"_id": good}) is not None
    assert [a["_id"] for a in store.articles.find()] == [good]
    assert not site.requests_for("/news/internal.html")
    reasons = [e["reason"] for e in store.errors.find({"url": moved})]
    assert reasons and set(reasons) == {"blocked-host"}, reasons


def test_a_name_rebinding_to_loopback_after_the_check_is_never_connected_to(
    site, crawl, open_store, tmp_path
):
    """``rebind.test`` answers the guard's lookup with a public address and the downloader's
    with 127.0.0.1: the downloader's resolver refuses the answer, nothing connects."""
    port = site.base.rsplit(":", 1)[1]
    good, moved = serve_redirect_to(site, f"http://rebind.test:{port}/news/internal.html")
    answers = {"rebind.test": {"getaddrinfo": PUBLIC, "gethostbyname": "127.0.0.1"}}
    settings = {**public_site_settings(site.base), **fake_dns_settings(tmp_path, answers)}
    result = crawl(settings=settings)
    assert_internal_page_not_read(open_store(), site, good, moved)
    assert "rebind.test: it resolves to non-public address 127.0.0.1" in result.stderr
    assert "retrying" not in result.stderr.lower()  # a refusal is final, not a DNS hiccup
    # the fake answered both lookups, and nothing else was looked up by name
    seen = {(q["name"], q["api"], q["answer"]) for q in lookups(tmp_path)}
    assert seen == {
        ("rebind.test", "getaddrinfo", PUBLIC),
        ("rebind.test", "gethostbyname", "127.0.0.1"),
    }


class Proxy:
    """A loopback HTTP proxy: every request, whatever its host, is answered by ``site`` (so
    ``intranet.invalid`` stands in for a host only the proxy can reach)."""

    def __init__(self, site: Site) -> None:
        self.site_port = int(site.base.rsplit(":", 1)[1])
        self.log: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                target = urlsplit(self.path)
                proxy.log.append((target.hostname or "", target.path))
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.site_port, timeout=10)
                upstream.request("GET", target.path, headers={"Host": target.netloc})
                response = upstream.getresponse()
                body = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                upstream.close()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def proxy(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    """The loopback proxy, configured for the crawl as ``http_proxy`` (no ``no_proxy``)."""
    server = Proxy(site)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", server.url)
    yield server
    server.stop()


def test_through_a_proxy_a_name_that_does_not_resolve_here_is_refused(
    site, crawl, open_store, tmp_path, proxy
):
    """The article redirects to ``intranet.invalid``, unknown to the crawler's DNS but
    reachable by the proxy: refused, the proxy never asked for it; the rest goes through."""
    good, moved = serve_redirect_to(site, "http://intranet.invalid/news/internal.html")
    settings = {
        **public_site_settings(site.base),
        "TWISTED_DNS_RESOLVER": "newscrawl.netguard.GuardedResolver",  # proxy exempt
        **fake_dns_settings(tmp_path, {"intranet.invalid": {}}),
    }
    result = crawl(settings=settings)
    assert_internal_page_not_read(open_store(), site, good, moved)
    assert ("127.0.0.1", "/news/good.html") in proxy.log  # the crawl did use the proxy
    assert not [entry for entry in proxy.log if entry[0] == "intranet.invalid"]
    assert "intranet.invalid does not resolve here and would be resolved by proxy" in (
        result.stderr
    )
    assert {(q["name"], q["answer"]) for q in lookups(tmp_path)} == {("intranet.invalid", None)}


# the middleware alone, in process --------------------------------------------------------
@pytest.fixture
def unknown_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``socket.getaddrinfo`` answering "not found" for every name (no real lookup)."""
    asked: list[str] = []

    def not_found(host: str, *args: Any, **kwargs: Any) -> list:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", not_found)
    return asked


def refused(request: Request, proxies: dict[str, str], allow_private: bool = False) -> bool:
    middleware = PrivateHostMiddleware(allow_private, proxies)
    try:
        asyncio.run(middleware.process_request(request))
    except PrivateHostBlocked:
        return True
    return False


ENV_PROXY = {"http": "http://proxy.test:3128"}


@pytest.mark.parametrize(
    "request_, proxies",
    [(Request("http://intranet.invalid/"), ENV_PROXY),
     (Request("http://intranet.invalid/", meta={"proxy": "http://proxy.test:3128"}), {})],
    ids=["environment-proxy", "meta-proxy"],
)  # fmt: skip
def test_with_a_proxy_unresolvable_names_are_refused_unless_allowed(
    request_, proxies, unknown_names
):
    assert refused(request_, proxies)
    assert unknown_names == ["intranet.invalid"]
    assert not refused(request_, proxies, allow_private=True)


@pytest.mark.parametrize(
    "request_, proxies",
    [(Request("http://intranet.invalid/"), {}),
     (Request("http://intranet.invalid/", meta={"proxy": None}), ENV_PROXY),
     (Request("https://intranet.invalid/"), ENV_PROXY)],
    ids=["no-proxy", "meta-proxy-none", "proxy-for-another-scheme"],
)  # fmt: skip
def test_without_a_proxy_unresolvable_names_are_left_to_the_downloader(
    request_, proxies, unknown_names
):
    assert not refused(request_, proxies)
    assert unknown_names == ["intranet.invalid"]


# a downloader that would bypass the guarded resolver is reported at start -----------------
class SelfResolvingHandler(BaseDownloadHandler):
    """Stands in for a handler resolving hosts itself (Scrapy's aiohttp and httpx ones)."""

    async def download_request(self, request: Request) -> Any:
        raise NotImplementedError


def project_settings(**overrides: Any) -> Settings:
    settings = Settings()
    settings.setmodule("newscrawl.settings", priority="project")
    settings.update(overrides)
    return settings


@pytest.mark.parametrize(
    "overrides, named",
    [({"TWISTED_DNS_RESOLVER": "scrapy.resolver.CachingThreadedResolver"},
      "TWISTED_DNS_RESOLVER is scrapy.resolver.CachingThreadedResolver"),
     ({"TWISTED_REACTOR_ENABLED": False}, "TWISTED_REACTOR_ENABLED is False"),
     ({"DOWNLOAD_HANDLERS": {"https": "tests.test_netguard.SelfResolvingHandler"}},
      "the https download handler SelfResolvingHandler")],
)  # fmt: skip
def test_a_downloader_that_bypasses_the_guarded_resolver_is_warned_about(overrides, named, caplog):
    crawler = SimpleNamespace(settings=project_settings(**overrides))
    PrivateHostMiddleware.from_crawler(crawler)
    assert f"DNS rebinding is not guarded against: {named}" in caplog.text
    caplog.clear()
    crawler.settings.set("NEWSCRAWL_ALLOW_PRIVATE_HOSTS", True)
    PrivateHostMiddleware.from_crawler(crawler)
    assert "DNS rebinding" not in caplog.text


def test_the_project_settings_guard_every_connection(caplog):
    assert unguarded_connections(project_settings()) is None
    PrivateHostMiddleware.from_crawler(SimpleNamespace(settings=project_settings()))
    assert "DNS rebinding" not in caplog.text
