"""Which addresses the crawler may connect to, and a DNS resolver that enforces it.

``PrivateHostMiddleware`` refuses a request early with a clear error; ``GuardedResolver``
(Scrapy's ``TWISTED_DNS_RESOLVER``) is what the downloader resolves every host with, so the
address checked is the address connected to: a name that answers public to the middleware
and 127.0.0.1 to the downloader (DNS rebinding) still cannot reach an internal service.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import BaseSettings
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.misc import load_object
from twisted.internet.error import DNSLookupError

from newscrawl.urls import host_of

logger = logging.getLogger(__name__)

_IPv4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# RFC 8215 local-use NAT64: operator-defined embedding, so nothing can be said about it.
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a packet to ``ip`` may really reach (IPv4-compatible, NAT64, 6to4,
    Teredo server and client); IPv4-mapped addresses are unwrapped before this."""
    if ip in _IPv4_COMPATIBLE or ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def is_public_address(address: str) -> bool:
    """True for a global unicast address, also when an IPv6 form embeds an internal IPv4
    address (``::ffff:127.0.0.1``, ``::127.0.0.1``, ``64:ff9b::a9fe:a9fe``, ``2002:7f00:1::``)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return is_public_address(str(ip.ipv4_mapped))
        if ip.is_site_local or ip in _NAT64_LOCAL:
            return False
        if not all(is_public_address(str(v4)) for v4 in _embedded_ipv4(ip)):
            return False
    return ip.is_global and not ip.is_multicast


def non_public_addresses(url: str) -> list[str]:
    """The internal addresses the host of ``url`` resolves to (none: safe to connect to);
    OSError when it does not resolve. For endpoints the crawl's own code sends to (Save Page
    Now, webhooks): checked before each use, the way the downloader's resolver checks."""
    parts = urlsplit(url)
    infos = socket.getaddrinfo(parts.hostname, parts.port, type=socket.SOCK_STREAM)
    return sorted({str(i[4][0]) for i in infos if not is_public_address(str(i[4][0]))})


def environment_proxies() -> dict[str, str]:
    """``http``/``https`` proxy URLs from the environment, as Scrapy's HttpProxyMiddleware
    reads them (``http_proxy``, ``HTTPS_PROXY``, ...)."""
    return {k: v for k, v in getproxies().items() if k in ("http", "https")}


def proxy_for(request: Request, env_proxies: dict[str, str]) -> str | None:
    """The proxy ``request`` will go through: ``meta['proxy']`` (``None`` meaning none),
    else the environment's proxy for its scheme unless ``no_proxy`` bypasses its host."""
    if "proxy" in request.meta:
        return request.meta["proxy"]
    parts = urlsplit(request.url)
    proxy = env_proxies.get(parts.scheme)
    if proxy and parts.hostname and not proxy_bypass(parts.hostname):
        return proxy
    return None


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing every non-public answer unless
    ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS``. The environment's proxies are exempt (the crawler
    connects to them on purpose; a proxy given only in ``meta['proxy']`` is not, so one on
    a private address needs the environment). A refusal fails the lookup, so the downloader
    never connects; ``refused`` keeps the reason for ``PrivateHostMiddleware``'s error."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = False
        self.exempt: frozenset[str] = frozenset()
        self.refused: LocalCache[str, str] = LocalCache(1000)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("NEWSCRAWL_ALLOW_PRIVATE_HOSTS")
        if crawler.settings.getbool("HTTPPROXY_ENABLED"):
            resolver.exempt = frozenset(host_of(url) for url in environment_proxies().values())
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:  # noqa: N802 - Twisted's
        lookup = super().getHostByName(name, timeout)
        if not self.allow_private and name.lower().rstrip(".") not in self.exempt:
            lookup.addCallback(self._refuse_non_public, name)
        return lookup

    def _refuse_non_public(self, address: str, name: str) -> str:
        if is_public_address(address):
            return address
        message = (
            f"refusing {name}: it resolves to non-public address {address} "
            "(set NEWSCRAWL_ALLOW_PRIVATE_HOSTS=True to allow)"
        )
        logger.warning(message)
        self.refused[name.lower().rstrip(".")] = message
        raise DNSLookupError(message)


def unguarded_connections(settings: BaseSettings) -> str | None:
    """Why the downloader could connect to an address ``GuardedResolver`` never saw (no
    Twisted reactor, another ``TWISTED_DNS_RESOLVER``, or an http(s) handler resolving by
    itself, as Scrapy's aiohttp and httpx ones do), or None."""
    if not settings.getbool("TWISTED_REACTOR_ENABLED"):
        return "TWISTED_REACTOR_ENABLED is False, so no Twisted resolver is used"
    if not issubclass(load_object(settings["TWISTED_DNS_RESOLVER"]), GuardedResolver):
        return f"TWISTED_DNS_RESOLVER is {settings['TWISTED_DNS_RESOLVER']}"
    handlers = settings.getwithbase("DOWNLOAD_HANDLERS")
    for scheme in ("http", "https"):
        handler = handlers.get(scheme)
        cls = load_object(handler) if isinstance(handler, str) else handler
        if cls is None or issubclass(cls, HTTP11DownloadHandler):
            continue
        if cls.__module__ != "scrapy.core.downloader.handlers.http2":  # Twisted's too
            return f"the {scheme} download handler {cls.__name__} resolves hosts by itself"
    return None
