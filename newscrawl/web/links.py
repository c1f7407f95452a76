"""Absolute links (feeds), from the configured public address rather than the request.

With ``NEWSCRAWL_PUBLIC_URL`` set, a feed's links and self link are built on it, whatever
``Host`` a request carries, so a cache can never keep a feed pointing at a forged host.
Without it they follow the request's host, and ``X-Forwarded-Proto/Host/Port/Prefix`` are
believed only from ``NEWSCRAWL_TRUSTED_PROXIES`` reverse proxies (Werkzeug's ``ProxyFix``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import get_current_url

PUBLIC_URL = "NEWSCRAWL_PUBLIC_URL"


def public_url(value: str) -> str:
    """The setting checked: an http(s) address without query or fragment, no trailing slash."""
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"{PUBLIC_URL} must be an http(s) address such as https://news.example.org/ "
            f"(no query or fragment), not {value!r}"
        )
    return value.rstrip("/")


def trust_proxies(app: Flask, count: int) -> None:
    """Believe the X-Forwarded-* headers set by ``count`` reverse proxies (none: ignore them)."""
    if count < 0:
        raise ValueError(f"NEWSCRAWL_TRUSTED_PROXIES must be 0 or more, not {count}")
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count, x_prefix=count
        )


def external(endpoint: str, **args: Any) -> str:
    """The absolute address of a view."""
    base = current_app.config.get(PUBLIC_URL)
    if not base:
        return url_for(endpoint, **args, _external=True)
    return base + url_for(endpoint, **args)[len(request.script_root) :]


def this_request() -> str:
    """The absolute address of the current request (a feed's self link)."""
    base = current_app.config.get(PUBLIC_URL)
    if not base:
        return request.url
    parts = urlsplit(base)
    return get_current_url(parts.scheme, parts.netloc, parts.path, request.path,
                           request.query_string)  # fmt: skip
