"""Pages the store could not take, kept on local disk until a later run writes them.

When the store stays unavailable past the retries, the change-detection pipeline appends each
pending page here (one JSON line, fsynced) and stops the crawl; the next run writes the
spooled pages before it crawls anything, so an outage loses no version.

What cannot be replayed is set aside in ``quarantine.jsonl`` beside the pending files, one
JSON line per entry (``at``, ``reason``, ``file``, ``entry``), for someone to look at: a
damaged line (cut off by a crash during ``add``; ``entry`` is its text) and a page the store
refused for good (``entry`` is the page). ``scrapy status`` shows how many there are.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newscrawl.tracker import Fetched

logger = logging.getLogger(__name__)

QUARANTINE = "quarantine.jsonl"


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"pending-{os.getpid()}-{datetime.now():%Y%m%d%H%M%S}.jsonl"
        self.quarantine = self.directory / QUARANTINE

    @classmethod
    def from_settings(cls, settings: Any) -> Spool:
        data_dir = settings.get("NEWSCRAWL_DATA_DIR") or ".newscrawl"
        return cls(settings.get("NEWSCRAWL_SPOOL_DIR") or Path(data_dir) / "spool")

    def add(self, page: Fetched) -> None:
        self._append(self.path, [_record(page)])

    def set_aside(self, page: Fetched, reason: str) -> None:
        """Quarantine a page that can never be written (the store refuses it)."""
        self._append(self.quarantine, [_entry(reason, self.path.name, _record(page))])

    def pending(self) -> list[Path]:
        return sorted(self.directory.glob("pending-*.jsonl")) if self.directory.is_dir() else []

    def replay(self, write: Callable[[Fetched], Any]) -> tuple[int, int]:
        """Write every spooled page, oldest file first; a file is removed once fully written.
        Returns (pages written, damaged entries quarantined).

        Damaged lines are quarantined (and dropped from their file) before anything is
        written. Writing a page twice is harmless (the second write finds the text already
        stored), so a replay interrupted midway, by an error ``write`` raises, is simply
        replayed again.
        """
        written = quarantined = 0
        for path in self.pending():
            try:
                lines = [line for line in path.read_bytes().splitlines() if line.strip()]
            except FileNotFoundError:  # replayed meanwhile by another crawl on this node
                continue
            pages, good, damaged = [], [], []
            for line in lines:
                try:
                    pages.append(_page(line))
                except (ValueError, TypeError, KeyError) as exc:
                    text = line.decode("utf-8", "replace")
                    damaged.append(_entry(f"{type(exc).__name__}: {exc}", path.name, text))
                else:
                    good.append(line)
            if damaged:
                self._quarantine_lines(path, damaged, good)
                quarantined += len(damaged)
            for page in pages:
                write(page)
                written += 1
            path.unlink(missing_ok=True)
        return written, quarantined

    def summary(self) -> dict[str, Any]:
        """What ``scrapy status`` shows: pages waiting to be written and entries set aside."""
        pending = self.pending()
        return {
            "directory": str(self.directory),
            "pending_files": len(pending),
            "pending_pages": sum(_count_lines(path) for path in pending),
            "quarantined": _count_lines(self.quarantine),
            "quarantine": str(self.quarantine),
        }

    def _quarantine_lines(
        self, path: Path, damaged: list[dict[str, Any]], good: list[bytes]
    ) -> None:
        self._append(self.quarantine, damaged)
        for entry in damaged:
            logger.error(
                "spool: set aside a damaged entry of %s (%s) in %s",
                path.name, entry["reason"], self.quarantine,
            )  # fmt: skip
        # The file keeps only the good lines, so a replay interrupted later does not
        # quarantine the same entries twice.
        temporary = path.with_suffix(".rewrite")
        with temporary.open("wb") as out:
            out.write(b"".join(line + b"\n" for line in good))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)

    def _append(self, path: Path, records: list[dict[str, Any]]) -> None:
        """Append JSON lines, fsynced; a failed write (full disk) is cut back off, so the
        file never ends in a partial line."""
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)


def _record(page: Fetched) -> dict[str, Any]:
    record = dataclasses.asdict(page)
    record["fetched_at"] = page.fetched_at.isoformat()
    return record


def _page(line: bytes) -> Fetched:
    record = json.loads(line.decode("utf-8"))
    record["fetched_at"] = datetime.fromisoformat(record["fetched_at"])
    return Fetched(**record)


def _entry(reason: str, file: str, entry: Any) -> dict[str, Any]:
    return {"at": datetime.now(UTC).isoformat(), "reason": reason, "file": file, "entry": entry}


def _count_lines(path: Path) -> int:
    try:
        return sum(1 for line in path.read_bytes().splitlines() if line.strip())
    except FileNotFoundError:
        return 0
