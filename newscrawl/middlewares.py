"""Downloader middleware refusing internal addresses, so a hostile feed cannot make the
crawler read loopback, private, link-local or cloud-metadata services."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from newscrawl.urls import host_of

logger = logging.getLogger(__name__)


class PrivateHostBlocked(IgnoreRequest):
    """The request's host resolves to an address the crawler must not reach."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


class PrivateHostMiddleware:
    """Every request, redirects included, must resolve only to public addresses.

    Disabled by ``NEWSCRAWL_ALLOW_PRIVATE_HOSTS`` (tests, intranets). A host that does not
    resolve is left to the downloader, which reports the DNS error as usual.
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateHostMiddleware:
        return cls(crawler.settings.getbool("NEWSCRAWL_ALLOW_PRIVATE_HOSTS"))

    async def process_request(self, request: Request) -> None:
        if self.allow_private:
            return
        host = host_of(request.url)
        try:
            addresses = await resolve(host)
        except OSError:
            return
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked:
            raise PrivateHostBlocked(
                f"refusing {request.url}: {host} resolves to non-public address {blocked[0]} "
                "(set NEWSCRAWL_ALLOW_PRIVATE_HOSTS=True to allow)"
            )
