"""A loopback HTTP server whose pages a test can change between crawls.

Answers conditional requests (ETag / Last-Modified) like a well-behaved publisher, and logs
every request so tests can check what the crawler asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: str = field(default_factory=lambda: formatdate(time.time(), usegmt=True))
    delay: float = 0.0
    gate: threading.Event | None = None  # answer only once it is set (at most 60 s later)
    conditional: bool = True  # send validators and answer conditional requests with 304
    # Hostile servers: after ``body``, keep sending ``filler`` (no Content-Length) every
    # ``trickle`` seconds until the client hangs up or ``endless_for`` seconds have passed.
    endless: bool = False
    filler: bytes = b" " * 65536
    trickle: float = 0.0
    endless_for: float = 60.0

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class LoggedRequest:
    path: str
    headers: dict[str, str]
    status: int
    sent: int


class Site:
    """Pages keyed by path; ``put`` replaces one, effective for the next request."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.rotating: dict[str, tuple[list[Page], int]] = {}
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: bytes | str, **kwargs) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self._lock:
            self.rotating.pop(path, None)
            old = self.pages.get(path)
            page = Page(body=body, **kwargs)
            if old is not None and old.body == body and "last_modified" not in kwargs:
                page.last_modified = old.last_modified
            self.pages[path] = page

    def put_rotating(self, path: str, pages: list[Page]) -> None:
        """Serve ``pages`` in turn, one per request (a page that changes on every fetch)."""
        with self._lock:
            self.rotating[path] = (list(pages), 0)
            self.pages.pop(path, None)

    def remove(self, path: str) -> None:
        with self._lock:
            self.pages.pop(path, None)

    def requests_for(self, path: str) -> list[LoggedRequest]:
        return [r for r in self.log if r.path == path]

    def start(self) -> Site:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            with site._lock:
                page = site.pages.get(self.path)
                if page is None and self.path in site.rotating:
                    pages, turn = site.rotating[self.path]
                    page, site.rotating[self.path] = pages[turn % len(pages)], (pages, turn + 1)
            if page is None:
                self._send(404, b"not found", "text/plain", {})
                return
            if page.delay:
                time.sleep(page.delay)
            if page.gate is not None:
                page.gate.wait(60)
            headers = dict(page.headers)
            if page.conditional:
                headers.update({"ETag": page.etag, "Last-Modified": page.last_modified})
            etag_match = self.headers.get("If-None-Match") == page.etag
            date_match = self.headers.get("If-Modified-Since") == page.last_modified
            if page.conditional and page.status == 200 and (etag_match or date_match):
                self._send(304, b"", None, headers)
            elif page.endless:
                self._stream(page)
            else:
                self._send(page.status, page.body, page.content_type, headers)

        def _send(self, status: int, body: bytes, ctype: str | None, headers: dict) -> None:
            site.log.append(LoggedRequest(self.path, dict(self.headers), status, len(body)))
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                # the crawler may have given up on this response (timeout, shutdown)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        def _stream(self, page: Page) -> None:
            """Headers, the body, then filler until the client gives up (or a safety cap)."""
            site.log.append(LoggedRequest(self.path, dict(self.headers), page.status, -1))
            self.close_connection = True
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            stop = time.monotonic() + page.endless_for
            try:
                self.wfile.write(page.body)
                while time.monotonic() < stop:
                    self.wfile.write(page.filler)
                    self.wfile.flush()
                    if page.trickle:
                        time.sleep(page.trickle)
            except OSError:  # the crawler hung up: what a hostile server hopes never happens
                pass

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - silence stderr
            pass

    return Handler


def free_port() -> int:
    """A loopback port free now (the OS picks it; nothing listens on it once this returns)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss(title: str, links: list[str]) -> str:
    """A minimal RSS 2.0 document listing ``links``."""
    items = "".join(
        f"<item><title>Story {i}</title><link>{escape(link)}</link></item>"
        for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>{items}</channel></rss>"
    )


@dataclass
class Delivery:
    """One POST a ``Receiver`` got."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A loopback endpoint recording every POST (webhooks, Apprise's json:// and form://).
    ``start()`` and ``stop()`` can alternate on the same port: a receiver down for a while."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.deliveries: list[Delivery] = []
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                deliveries.append(Delivery(self.path, dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
