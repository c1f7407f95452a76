"""How the viewer's views answer, whichever blueprint they are in.

Each page's data is built once as a JSON-ready dict: ``/x.json`` (or ``Accept:
application/json``) returns it, ``/x`` renders it with an autoescaping Jinja template, so the
two never disagree; errors answer the same way. A view's store queries are held to the
request's time limit (``timed``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, jsonify, render_template, request

from newscrawl import queries
from newscrawl.store import Store
from newscrawl.web import timelimit

TIME_LIMIT = "NEWSCRAWL_VIEWER_TIME_LIMIT"  # the app's config key: seconds, for ``timed``


def wants_json() -> bool:
    if request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def respond(template: str, data: dict[str, Any]) -> Any:
    """The page's data as JSON, or rendered by ``template``."""
    if wants_json():
        return jsonify(data)
    return render_template(template, data=data)


def error(status: int, message: str) -> tuple[Any, int]:
    if wants_json():
        return jsonify({"error": message, "status": status}), status
    return render_template("error.html", status=status, message=message), status


def asked_article(store: Store) -> dict[str, Any]:
    """The tracked article ``?url=`` names (400 without one, 404 when it is not tracked)."""
    url = request.args.get("url", "").strip()
    if not url:
        abort(400, "Give the article's address: ?url=...")
    found = queries.find_article(store, url)
    if found is None:
        abort(404, "This address is not tracked.")
    return found


def timed(view: Callable[[], Any]) -> Callable[[], Any]:
    """The view with its store queries held to the app's time limit."""

    @functools.wraps(view)
    def within_limit() -> Any:
        with timelimit.deadline(current_app.config[TIME_LIMIT]):
            return view()

    return within_limit
