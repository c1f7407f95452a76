"""``diff_article`` (and ``compact_diff``) on edit pairs made from the corpus, as JSON: a
refactor of diffing is behaviour-preserving when the dump before and after is byte-identical.

    python -m bench.diff_dump OUT.json [--corpus DIR] [--intl DIR]

Pairs per corpus page: the expected text against each edit of ``tests/mutations.py`` (a
word, a number, the headline, a paragraph added or removed) and back, the extraction of the
page against the extraction of each edited page (with other headlines), and the page against
the next page of the corpus (nothing in common). Each pair is diffed without a time limit
(the result does not depend on the machine's speed), again with tiny alignment and word-diff
budgets (patched wherever ``newscrawl.diff`` reads them), and compacted to a third of its
size. Compare two dumps with ``cmp``.
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from bench.extract_dump import run
from newscrawl.diff import compact_diff, diff_article
from newscrawl.extract import extract_article
from tests.corpus import load_pages
from tests.mutations import edit_variants

Text = tuple[str, list[str], list[str]]  # title, paragraphs, other headlines
# The budgets of the bounded run: every alignment is cut at anchors, long pairs shown whole.
TINY = {"MAX_CELLS": 4, "WORD_DIFF_CHARS": 40}


def pairs(directories: list[Path]) -> Iterator[tuple[str, Text, Text]]:
    """(name, old, new) edit pairs of the corpus pages."""
    pages = [page for directory in directories for page in load_pages(directory)]
    for index, page in enumerate(pages):
        record = page.record
        expected: Text = (record["title"], record["paragraphs"], [])
        original = extract_article(page.html, page.url)
        for kind, html, title, paragraphs in edit_variants(
            page.html, record, random.Random(page.name)
        ):
            edited: Text = (title, paragraphs, [])
            yield f"{page.name}/{kind}", expected, edited
            yield f"{page.name}/{kind}/back", edited, expected
            extracted = extract_article(html, page.url)
            if original is not None and extracted is not None:
                yield f"{page.name}/{kind}/extracted", original.text(), extracted.text()
        following = pages[(index + 1) % len(pages)].record
        yield f"{page.name}/next", expected, (following["title"], following["paragraphs"], [])


def _diff(old: Text, new: Text) -> dict[str, Any]:
    return diff_article(
        old[0],
        old[1],
        new[0],
        new[1],
        old_other_headlines=old[2],
        new_other_headlines=new[2],
        time_limit=math.inf,
    )


def _fits(size: int, diff: dict[str, Any]) -> bool:
    """Under a third of ``size`` characters as JSON."""
    return 3 * len(json.dumps(diff)) < size


def _tiny_budgets() -> ExitStack:
    """TINY patched into every module of newscrawl.diff that holds the constant."""
    stack = ExitStack()
    for name, module in list(sys.modules.items()):
        if name == "newscrawl.diff" or name.startswith("newscrawl.diff."):
            for constant, value in TINY.items():
                if hasattr(module, constant):
                    stack.enter_context(mock.patch.object(module, constant, value))
    return stack


def dump(directories: list[Path]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name, old, new in pairs(directories):
        diff = _diff(old, new)
        size = len(json.dumps(diff))
        with _tiny_budgets():
            bounded = _diff(old, new)
        result[name] = {
            "diff": diff,
            "bounded": bounded,
            "compact": compact_diff(diff, partial(_fits, size)),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    return run(dump, __doc__, "pairs", argv)


if __name__ == "__main__":
    sys.exit(main())
