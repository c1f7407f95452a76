"""Sending one notification: a signed webhook POST, or an Apprise message.

Webhooks are signed the way GitHub signs its own: ``X-Newscrawl-Signature: sha256=<hex
HMAC-SHA256 of the raw body, keyed with the endpoint's secret>``; ``X-Newscrawl-Event-Id``
is the event's permanent id (the same on every retry, for de-duplication) and
``X-Newscrawl-Event`` its kind. Redirects are not followed (a webhook answers, it does not
move).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from newscrawl.endpoints import APPRISE, Endpoint
from newscrawl.outbox import Result
from newscrawl.payload import message

SIGNATURE = "X-Newscrawl-Signature"
EVENT_ID = "X-Newscrawl-Event-Id"
EVENT = "X-Newscrawl-Event"


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return header is not None and hmac.compare_digest(signature(secret, body), header)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Senders:
    """Sends to either kind of endpoint (the outbox's ``send``)."""

    def __init__(self, user_agent: str = "", timeout: float = 10.0) -> None:
        self.user_agent, self.timeout = user_agent, timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __call__(self, endpoint: Endpoint, payload: dict[str, Any]) -> Result:
        if endpoint.kind == APPRISE:
            return self.apprise(endpoint, payload)
        return self.webhook(endpoint, payload)

    def webhook(self, endpoint: Endpoint, payload: dict[str, Any]) -> Result:
        body = body_of(payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self.user_agent or "newscrawl",
            SIGNATURE: signature(endpoint.secret, body),
            EVENT_ID: payload["id"],
            EVENT: payload["event"],
        }
        request = urllib.request.Request(endpoint.url, body, headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (OSError, http.client.HTTPException) as exc:  # refused, timeout, reset
            return Result(False, error=f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Result(True, status)
        retry = status >= 500 or status in (408, 429) or 300 <= status < 400
        return Result(False, status, f"HTTP {status}", retry=retry)

    def apprise(self, endpoint: Endpoint, payload: dict[str, Any]) -> Result:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(endpoint.url):
            return Result(False, error="Apprise does not understand this URL", retry=False)
        title, body = message(payload)
        # Apprise returns only True or False; why it failed is in its log, captured here.
        with apprise.LogCapture(level=apprise.logging.WARNING) as log:
            sent = notifier.notify(body=body, title=title)
        if sent:
            return Result(True)
        why = " ".join(log.getvalue().split())[-300:] or "Apprise could not deliver"
        return Result(False, error=why)
