"""A MongoDB wire-protocol server on loopback (nx-27017) that a test can kill and restart."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pymongo
import pytest

from tests.support.mockserver import free_port


class WireServer:
    """An nx-27017 process on a fixed port and data directory, so it can die and come back."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> WireServer:
        server = shutil.which("nx-27017")
        if server is None:
            pytest.fail("nx-27017 is not installed (pip install -r requirements-dev.txt)")
        self.data.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [server, "--data-dir", str(self.data), "-p", str(self.port),
             "--log-file", str(self.data / "log"), "--pid-file", str(self.data / "pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                with pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500) as client:
                    client.admin.command("ping")
                return self
            except pymongo.errors.PyMongoError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise
                time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
