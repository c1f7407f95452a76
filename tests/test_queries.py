"""The store's read queries (``newscrawl.queries``) that the viewer and the commands share,
on the test's store (embedded, or MongoDB with ``MONGO_URI``)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from newscrawl import queries

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_export_reads_every_article_first_seen_first(open_store, monkeypatch):
    store = open_store()
    order = [5, 0, 3, 1, 4, 2]  # inserted out of order
    store.articles.insert_many([
        {"_id": f"https://e.example/{n}", "source": "A" if n % 2 else "B",
         "first_seen": T0 + timedelta(hours=n)} for n in order
    ])  # fmt: skip
    monkeypatch.setattr(queries, "EXPORT_BATCH", 2)
    found = [a["_id"][-1] for a in queries.articles_oldest_first(store)]
    assert found == ["0", "1", "2", "3", "4", "5"]
    assert [a["_id"][-1] for a in queries.articles_oldest_first(store, "A")] == ["1", "3", "5"]


def test_the_query_module_imports_no_web_framework():
    code = "import sys, newscrawl.queries, newscrawl.commands.export, newscrawl.commands.history;"
    code += "print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
