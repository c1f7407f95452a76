"""What the spider sends and reads in HTTP exchanges: conditional requests from stored
validators, a response header's value, a failed request's reason."""

from __future__ import annotations

from typing import Any

from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

# Exception class names (Twisted's and Scrapy 2.19's) -> reason recorded in ``errors``.
FAILURE_REASONS = {
    "PrivateHostBlocked": "blocked-host",
    "TimeoutError": "timeout",
    "DownloadTimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DNSLookupError": "dns",
    "CannotResolveHostError": "dns",
    "ConnectionRefusedError": "connection-refused",
    "DownloadConnectionRefusedError": "connection-refused",
    "DownloadCancelledError": "too-large",
    "ResponseNeverReceived": "no-response",
    "ResponseFailed": "no-response",
}


def conditional_headers(validators: dict[str, Any]) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from a stored ETag / Last-Modified."""
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def conditional_request(url: str, validators: dict[str, Any], **kwargs: Any) -> Request:
    """A GET asked conditionally from stored validators. Not filtered: the spider dedupes
    its URLs itself (``requested``, ``polled``), and Scrapy's filter would silently drop the
    second hop of a redirect loop instead of failing it."""
    return Request(url, headers=conditional_headers(validators), dont_filter=True, **kwargs)


def header(response: Response, name: bytes) -> str | None:
    """A response header's value as text, None when absent or empty."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def failure_reason(failure: Failure) -> str:
    """Short machine-readable cause: http-500, timeout, dns, blocked-host, too-large, ..."""
    if failure.check(HttpError):
        return f"http-{failure.value.response.status}"
    name = type(failure.value).__name__
    if name == "IgnoreRequest":
        message = str(failure.value)
        if "redirections" in message:
            return "too-many-redirects"
        if "DOWNLOAD_MAXSIZE" in message:
            return "too-large"
        if "robots.txt" in message:
            return "robots-txt"
        return "ignored"
    return FAILURE_REASONS.get(name, name)
