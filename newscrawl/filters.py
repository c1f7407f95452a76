"""Per-source filters of what counts as a change for readers: the feeds of changes and
notifications show only the changes that count; everything is stored all the same.

Keys of a ``[[source]]`` table (validated in ``newscrawl.sources``):

* ``headline_only = true``: only a change of the headline (or another wording of it) counts;
* ``min_change_words = N``: a change counts when it adds and removes at least N words in
  all, or changes the headline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from newscrawl.diff import headlines_changed


def _option(source_config: Any, name: str, default: Any) -> Any:
    if isinstance(source_config, Mapping):
        return source_config.get(name, default)
    return getattr(source_config, name, default)


def filters_anything(source_config: Any) -> bool:
    """Whether the source's configuration leaves some change out."""
    return source_config is not None and bool(
        _option(source_config, "headline_only", False)
        or _option(source_config, "min_change_words", 0)
    )


def counts(source_config: Any, diff_doc: Mapping[str, Any]) -> bool:
    """Whether the stored diff ``diff_doc`` counts for readers under ``source_config`` (a
    ``newscrawl.sources.Source`` or a mapping with its keys; None: every change counts)."""
    if source_config is None:
        return True
    headline = headlines_changed(dict(diff_doc))
    if _option(source_config, "headline_only", False):
        return headline
    words = int(diff_doc.get("words_added") or 0) + int(diff_doc.get("words_removed") or 0)
    return headline or words >= int(_option(source_config, "min_change_words", 0) or 0)
