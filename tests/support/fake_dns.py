"""An in-process DNS for crawl tests, so no lookup of a test leaves the machine.

``FakeDNS`` is a Scrapy extension (``EXTENSIONS``) replacing ``socket.getaddrinfo`` (what
``PrivateHostMiddleware`` resolves with) and ``socket.gethostbyname`` (what the downloader's
resolver runs in its threads) in the crawl's process. ``NEWSCRAWL_TEST_DNS`` (JSON) gives
each name one answer per function, ``null`` meaning "not found":
``{"rebind.test": {"getaddrinfo": "93.184.216.34", "gethostbyname": "127.0.0.1"}}`` is a
rebinding name whose owner answers the guard's lookup with a public address and the
connection's with loopback. Address literals and ``localhost`` are answered without a query;
every other name is "not found". Each lookup is appended to ``NEWSCRAWL_TEST_DNS_LOG``
(JSON lines), so a test can assert the fake answered.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from typing import Any

from scrapy.crawler import Crawler

_real_getaddrinfo = socket.getaddrinfo


def _literal(host: str) -> str | None:
    if host == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


class FakeDNS:
    def __init__(self, answers: dict[str, dict[str, str | None]], log_path: str) -> None:
        self.answers = answers
        self.log_path = log_path
        self._lock = threading.Lock()
        socket.getaddrinfo = self.getaddrinfo
        socket.gethostbyname = self.gethostbyname

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FakeDNS:
        answers = json.loads(crawler.settings.get("NEWSCRAWL_TEST_DNS") or "{}")
        return cls(answers, crawler.settings.get("NEWSCRAWL_TEST_DNS_LOG"))

    def _answer(self, api: str, host: str | bytes | None) -> str:
        name = (host.decode() if isinstance(host, bytes) else host or "").lower().rstrip(".")
        address = _literal(name)
        if address is None:
            address = self.answers.get(name, {}).get(api)
            with self._lock, open(self.log_path, "a") as log:
                log.write(json.dumps({"api": api, "name": name, "answer": address}) + "\n")
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return address

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list:
        address = self._answer("getaddrinfo", host)
        # a numeric host: the real function answers it without any query
        return _real_getaddrinfo(address, port, *args, **kwargs)

    def gethostbyname(self, host: str) -> str:
        address = self._answer("gethostbyname", host)
        if ":" in address:  # IPv4 only, as the real one
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return address
