"""The viewer's query parameters, checked: anything malformed is a 400 with a clear message."""

from __future__ import annotations

import re

from flask import abort, request

# ASCII digits only: str.isdigit also accepts "²" and "١", which int() refuses or reads.
_NUMBER = re.compile(r"[0-9]{1,9}")


def flag(name: str) -> bool:
    return request.args.get(name, "").lower() in {"1", "true", "yes", "on"}


def number(name: str, default: int, minimum: int = 1) -> int:
    """A whole number of at most 9 digits, at least ``minimum``; ``default`` when absent."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if not _NUMBER.fullmatch(value):
        abort(400, f"'{name}' must be a whole number (1 to 999999999).")
    result = int(value)
    if result < minimum:
        abort(400, f"'{name}' starts at {minimum}.")
    return result


def score(name: str = "min") -> float | None:
    """A significance score (0 to 100) to filter changes on; None when absent."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        result = float(value)
    except ValueError:
        result = -1.0
    if not 0 <= result <= 100:
        abort(400, f"'{name}' must be a significance score from 0 to 100.")
    return result


def order() -> str:
    """How a list of changes is sorted: "time" (newest first) or "significance"."""
    value = request.args.get("sort", "").strip() or "time"
    if value not in ("time", "significance"):
        abort(400, "'sort' is 'time' or 'significance'.")
    return value


def days(default: int = 30, maximum: int = 366) -> int:
    """The period of a publisher's record: the last ``days`` days, 1 to ``maximum``."""
    result = number("days", default)
    if result > maximum:
        abort(400, f"'days' is at most {maximum}.")
    return result


def page() -> int:
    return number("page", 1)
