"""Fixtures: a loopback site, an isolated store, and real ``scrapy crawl`` runs against both.

With ``MONGO_URI`` set, every test gets its own database on that server (dropped afterwards);
otherwise an embedded store in a temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from newscrawl.store import Store
from newscrawl.web import create_app
from tests.support.crawling import REPO, crawl_command, serving, write_sources
from tests.support.mockserver import Site
from tests.support.tracked import Tracked, tracked_store

# Console scripts the tests start (nx-27017, scrapyd, scrapyd-deploy) live beside the
# interpreter: found even when a virtualenv's python runs pytest without being activated.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site().start()
    yield server
    server.stop()


@pytest.fixture
def store_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment selecting a fresh, isolated store for crawls and for the test itself."""
    env = {
        "NEWSCRAWL_DATA_DIR": str(tmp_path / "data"),
        "MONGO_DATABASE": f"newscrawl_test_{uuid.uuid4().hex[:12]}",
        "MONGO_URI": os.environ.get("MONGO_URI", ""),
    }
    yield env
    if env["MONGO_URI"]:
        import pymongo

        with pymongo.MongoClient(env["MONGO_URI"]) as client:
            client.drop_database(env["MONGO_DATABASE"])


@pytest.fixture
def open_store(store_env: dict[str, str]) -> Iterator[Callable[[], Store]]:
    """Opens the test's store (call it after a crawl to see what the crawl wrote)."""
    opened: list[Store] = []

    def _open() -> Store:
        store = Store.from_settings(store_env)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def crawl(
    site: Site, store_env: dict[str, str], tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess]:
    """Runs ``scrapy crawl feeds`` in a subprocess against ``site`` and the test's store."""

    def _crawl(
        *args: str,
        feeds: tuple[str, ...] = ("/feed.xml",),
        sources_extra: str = "",
        settings: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        sources = write_sources(tmp_path / "sources.toml", site, list(feeds), sources_extra)
        env = {
            **os.environ,
            **store_env,
            "NEWSCRAWL_SOURCES": str(sources),
            "NEWSCRAWL_ALLOW_PRIVATE_HOSTS": "True",
        }
        cmd = crawl_command(*args, settings={"LOG_LEVEL": "INFO", **(settings or {})})
        result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
        if check and (result.returncode != 0 or "Traceback" in result.stderr):
            raise AssertionError(f"crawl failed ({result.returncode}):\n{result.stderr[-6000:]}")
        return result

    return _crawl


# A store filled by real crawls with edits (tests/support/tracked.py), shared by the read-only
# viewer, feed and command tests: crawled once per session.
@pytest.fixture(scope="session")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracked]:
    with tracked_store(tmp_path_factory.mktemp("tracked")) as filled:
        yield filled


@pytest.fixture(scope="session")
def store(tracked: Tracked) -> Iterator[Store]:
    opened = Store.from_settings(tracked.env)
    yield opened
    opened.close()


@pytest.fixture
def client(tracked: Tracked) -> FlaskClient:
    return create_app(tracked.env).test_client()


@pytest.fixture(scope="module")
def served(tracked: Tracked) -> Iterator[str]:
    """``scrapy serve --port 0`` on the module's store; yields the base URL it prints."""
    with serving(tracked.env) as base:
        yield base
