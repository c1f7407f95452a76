"""``scrapy`` commands run in a subprocess from the project directory, as a user types them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from tests.support.crawling import REPO


def scrapy(env: Mapping[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m scrapy ARGS`` with ``env`` over the test process's environment, colours on."""
    full = {**os.environ, **env}
    full.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO, env=full, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
