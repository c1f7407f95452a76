"""Imported by the extraction workers' fork server (``newscrawl.pipelines.worker_context``):
the extractor is imported and run once there, so what it builds at first use exists before
the workers fork, and they share it copy-on-write instead of building it each: trafilatura's
jusText fallback builds a tuple and a frozenset of every language's stop words (27 MB of
Python objects under tracemalloc). ``gc.freeze`` keeps the collector from writing to those
shared objects' pages. Importing it anywhere else only costs that one extraction."""

from __future__ import annotations

import gc

from newscrawl.extract import extract_article

# Short enough that trafilatura falls back to jusText, as it does on many real pages.
_PAGE = (
    "<html><head><title>A warm-up page</title></head><body><article><h1>A warm-up page</h1>"
    + "<p>This sentence is here so that every stage of the extractor runs once.</p>" * 3
    + "</article></body></html>"
)

extract_article(_PAGE, "https://example.com/warm-up")
gc.freeze()
