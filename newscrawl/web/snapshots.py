"""``/snapshot?url=URL&version=N``: a version's raw page, exactly as the publisher served it.

The publisher's markup must never run in the viewer's origin: the page is served with
``Content-Security-Policy: sandbox`` (an opaque origin: no scripts, no forms, no access to the
viewer's cookies or storage) and ``default-src 'none'`` (no script, frame or object, and no
request to the publisher: images and stylesheets are not loaded, only inline styles apply).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, request
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App

from newscrawl import queries
from newscrawl.snapshots import Snapshots
from newscrawl.store import Store

SANDBOX = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def blueprint(store: Callable[[], Store]) -> Blueprint:
    """The snapshot route, reading through ``store`` (the app's per-thread store)."""
    snapshots = Blueprint("snapshots", __name__)

    @snapshots.get("/snapshot")
    def page() -> Response:
        article = queries.find_article(store(), request.args.get("url", ""))
        if article is None:
            abort(404, "This article is not tracked.")
        kept = Snapshots(store())
        version = request.args.get("version", type=int)
        doc = kept.get(article["_id"], version) if version else None
        if doc is None:
            abort(404, "No page was kept for this version.")
        response = Response(kept.body(doc), content_type=doc.get("content_type") or "text/html")
        name = _UNSAFE_NAME.sub("-", article["_id"].split("://", 1)[-1])[:80]
        response.headers["Content-Disposition"] = f'inline; filename="{name}-v{version}.html"'
        return response

    @snapshots.record_once
    def sandbox_last(state: BlueprintSetupState) -> None:
        # After-request hooks run last-registered first; the app's sets its own CSP, so
        # this one goes to the front of the list to run after it.
        _run_last(state.app, _sandbox)

    return snapshots


def _run_last(app: App, hook: Callable[[Response], Response]) -> None:
    app.after_request_funcs.setdefault(None, []).insert(0, hook)


def _sandbox(response: Response) -> Any:
    if request.endpoint == "snapshots.page" and response.status_code == 200:
        response.headers["Content-Security-Policy"] = SANDBOX
    return response
