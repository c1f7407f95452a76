"""Downloader middleware refusing internal addresses, so a hostile feed cannot make the
crawler read loopback, private, link-local or cloud-metadata services."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.utils.reactor import is_reactor_installed
from twisted.internet.error import DNSLookupError

from newscrawl.netguard import (
    environment_proxies,
    is_public_address,
    proxy_for,
    unguarded_connections,
)
from newscrawl.urls import host_of

logger = logging.getLogger(__name__)


class PrivateHostBlocked(IgnoreRequest):
    """The request's host resolves to an address the crawler must not reach."""


async def resolve(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class PrivateHostMiddleware:
    """Every request, redirects included, must resolve only to public addresses.

    Disabled by ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS`` (tests, intranets). A host that does not
    resolve is left to the downloader, which reports the DNS error as usual, unless the
    request goes through a proxy: the proxy resolves it, maybe to an intranet host, so it
    is refused. The downloader's own lookups go through ``netguard.GuardedResolver``, whose
    refusals ``RefusedLookupMiddleware`` reports as ``PrivateHostBlocked`` too.
    """

    def __init__(self, allow_private: bool, proxies: dict[str, str] | None = None) -> None:
        self.allow_private = allow_private
        self.proxies = proxies or {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateHostMiddleware:
        settings = crawler.settings
        allow_private = settings.getbool("NEWSCRAWL_ALLOW_PRIVATE_HOSTS")
        unguarded = None if allow_private else unguarded_connections(settings)
        if unguarded:
            logger.warning(
                "DNS rebinding is not guarded against: %s; a host may answer this middleware "
                "with a public address and the downloader with an internal one",
                unguarded,
            )
        proxies = environment_proxies() if settings.getbool("HTTPPROXY_ENABLED") else {}
        return cls(allow_private, proxies)

    async def process_request(self, request: Request) -> None:
        if self.allow_private:
            return
        host = host_of(request.url)
        try:
            addresses = await resolve(host)
        except OSError:
            proxy = proxy_for(request, self.proxies)
            if proxy:
                raise PrivateHostBlocked(
                    f"refusing {request.url}: {host} does not resolve here and would be "
                    f"resolved by proxy {host_of(proxy)}, maybe to an internal host "
                    "(set NEWSCRAWL_ALLOW_PRIVATE_HOSTS=True to allow)"
                ) from None
            return
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked:
            raise PrivateHostBlocked(
                f"refusing {request.url}: {host} resolves to non-public address {blocked[0]} "
                "(set NEWSCRAWL_ALLOW_PRIVATE_HOSTS=True to allow)"
            )


class RefusedLookupMiddleware:
    """Reports a lookup ``netguard.GuardedResolver`` refused (a DNS error to the downloader)
    as ``PrivateHostBlocked``, ahead of ``RetryMiddleware``, which would retry it."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RefusedLookupMiddleware:
        return cls(crawler.settings.getbool("NEWSCRAWL_ALLOW_PRIVATE_HOSTS"))

    def process_exception(self, request: Request, exception: Exception) -> None:
        if self.allow_private or not isinstance(
            exception, (DNSLookupError, CannotResolveHostError)
        ):
            return
        if not is_reactor_installed():  # reactorless: no GuardedResolver (warned at start)
            return
        from twisted.internet import reactor

        refusals = getattr(reactor.resolver, "refused", {})
        # the resolver saw the proxy's name, if any, else the URL's
        for url in (request.meta.get("proxy"), request.url):
            refused = refusals.get(host_of(url)) if url else None
            if refused:
                raise PrivateHostBlocked(f"refusing {request.url}: {refused}") from exception
