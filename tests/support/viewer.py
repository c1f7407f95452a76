"""The viewer as a test sees it: JSON and HTML through Flask's test client, ``scrapy serve``
on a real port, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any

import pytest
from flask.testing import FlaskClient


def get_json(client: FlaskClient, path: str, **params: Any) -> Any:
    response = client.get(path, query_string=params or None)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def get_html(client: FlaskClient, path: str, **params: Any) -> str:
    response = client.get(path, query_string=params or None)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


def run_chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", *args]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, timeout=90)
