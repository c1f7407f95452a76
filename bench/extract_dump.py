"""Every field of ``extract_article`` on every corpus page, as JSON: a refactor of extraction
is behaviour-preserving when the dump before and after is byte-identical.

    python -m bench.extract_dump OUT.json [--corpus DIR] [--intl DIR]

Each page is extracted three ways: from its bytes (the crawl's input), from its decoded text,
and with the ``body_css``/``title_css`` overrides, so that every path of
``newscrawl.extract`` is covered. Compare two dumps with ``cmp``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newscrawl.extract import extract_article
from tests.corpus import corpus_dir, intl_corpus_dir, load_pages

OVERRIDES = {"body_css": "article", "title_css": "h1"}


def dump(directories: list[Path]) -> dict[str, Any]:
    """Per page name, the article (all fields, or None) of each extraction path."""
    result: dict[str, Any] = {}
    for directory in directories:
        for page in load_pages(directory):
            runs = {
                "raw": extract_article(page.raw, page.url),
                "html": extract_article(page.html, page.url),
                "overrides": extract_article(page.raw, page.url, OVERRIDES),
            }
            result[f"{directory.name}/{page.name}"] = {
                kind: dataclasses.asdict(article) if article is not None else None
                for kind, article in runs.items()
            }
    return result


def run(
    dump: Callable[[list[Path]], dict[str, Any]], doc: str, what: str, argv: list[str] | None
) -> int:
    """The command line of a dump: ``dump`` of the two corpora written to OUT as JSON."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--corpus", type=Path, default=corpus_dir())
    parser.add_argument("--intl", type=Path, default=intl_corpus_dir())
    args = parser.parse_args(argv)
    result = dump([args.corpus, args.intl])
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"{len(result)} {what} -> {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(dump, __doc__, "pages (each extracted 3 ways)", argv)


if __name__ == "__main__":
    sys.exit(main())
