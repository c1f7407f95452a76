"""What every crawl pays before its first page: imports and the store's opening."""

from __future__ import annotations

import subprocess
import sys

from newscrawl.search import FIELD
from newscrawl.store import Store, open_database
from tests.support.crawling import REPO


def test_the_crawl_process_imports_neither_the_extractor_nor_the_viewer_until_needed():
    """Scrapy imports every command module at start; the crawl's own modules are loaded too.
    trafilatura (extraction, in the workers), Flask (``scrapy serve``), Pillow (``scrapy
    card``) and aiohttp (Scrapy's remote-control extension, off) stay out."""
    code = (
        "import sys, scrapy.cmdline\n"
        "from scrapy.utils.misc import walk_modules_iter\n"
        "list(walk_modules_iter('newscrawl.commands'))\n"
        "import newscrawl.pipelines, newscrawl.spiders.feeds, newscrawl.extensions\n"
        "from newscrawl import settings\n"
        "from scrapy.settings import Settings\n"
        "from scrapy.utils.conf import build_component_list\n"
        "from scrapy.utils.misc import load_object\n"
        "s = Settings(); s.setmodule(settings)  # every extension a crawl loads\n"
        "[load_object(c) for c in build_component_list(s.getwithbase('EXTENSIONS'))]\n"
        "heavy = ('trafilatura', 'flask', 'waitress', 'PIL', 'aiohttp')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_reopening_a_store_creates_no_index_and_backfills_nothing(tmp_path, monkeypatch):
    env = {"NEWSCRAWL_DATA_DIR": str(tmp_path / "data"), "MONGO_DATABASE": "startup"}
    Store.from_settings(env).close()
    store = Store(*open_database(env))
    calls: list[str] = []
    collection_type = type(store.articles)
    real_find = collection_type.find

    def find(self, query=None, *args, **kwargs):
        if query and FIELD in query:
            calls.append(f"backfill query on {self.name}")
        return real_find(self, query, *args, **kwargs)

    monkeypatch.setattr(
        collection_type, "create_index", lambda self, *a, **k: calls.append(self.name)
    )
    monkeypatch.setattr(collection_type, "find", find)
    store.ensure_indexes()
    store.close()
    # events.ensure_indexes still asks for its two indexes at every open (a small collection)
    assert [call for call in calls if call != "events"] == []
