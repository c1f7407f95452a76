"""Test helpers that the tests and the benchmarks share: the corpora, page mutations (noise
and edits), a loopback site, real ``scrapy crawl`` runs, a MongoDB wire server, the viewer in a
browser. Public names only: ``bench/`` imports them too."""
