"""Pages the store could not take, kept on local disk until a later run writes them.

When MongoDB stays unreachable past the retries, the change-detection pipeline appends each
pending page here (one JSON line, flushed and fsynced) and stops the crawl; the next run
writes the spooled pages before it crawls anything, so an outage loses no version.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from newscrawl.tracker import Fetched


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"pending-{os.getpid()}-{datetime.now():%Y%m%d%H%M%S}.jsonl"

    @classmethod
    def from_settings(cls, settings: Any) -> Spool:
        data_dir = settings.get("NEWSCRAWL_DATA_DIR") or ".newscrawl"
        return cls(settings.get("NEWSCRAWL_SPOOL_DIR") or Path(data_dir) / "spool")

    def add(self, page: Fetched) -> None:
        record = dataclasses.asdict(page)
        record["fetched_at"] = page.fetched_at.isoformat()
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def pending(self) -> list[Path]:
        return sorted(self.directory.glob("pending-*.jsonl")) if self.directory.is_dir() else []

    def replay(self, write: Callable[[Fetched], Any]) -> int:
        """Write every spooled page, oldest file first; a file is removed once fully written.

        Writing a page twice is harmless (the second write finds the text already stored),
        so a replay interrupted midway is simply replayed again.
        """
        count = 0
        for path in self.pending():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    record["fetched_at"] = datetime.fromisoformat(record["fetched_at"])
                    write(Fetched(**record))
                    count += 1
            path.unlink()
        return count
