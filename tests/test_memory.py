"""Memory of the crawl process and its extraction workers: freed page-sized buffers go back
to the system; the workers share what the extractor builds at first use."""

from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawl.pipelines import ExtractPipeline

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's")

BLOCK, BLOCKS = 300_000, 300  # a page-sized buffer, 90 MB of them
PIN = 20_000  # larger than any hole a fresh heap has, so it lands after its block


def _rss_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))


def freed_kb() -> int:
    """KB of RSS given back when 90 MB of page-sized blocks are freed, each followed by a
    smaller block still in use (as a crawl's heap is: its pages interleaved with objects
    that outlive them)."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(libc.malloc(BLOCK))  # as after the first page: glibc raises its mmap threshold
    blocks, live = [], []
    for _ in range(BLOCKS):
        block = libc.malloc(BLOCK)
        ctypes.memset(block, 1, BLOCK)
        blocks.append(block)
        live.append(libc.malloc(PIN))
    before = _rss_kb()
    for block in blocks:
        libc.free(block)
    return before - _rss_kb()


PROBE = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from tests.test_memory import freed_kb
if sys.argv[1] == "on":
    from newscrawl.memory import return_freed_memory
    assert return_freed_memory()
print(freed_kb())
"""


def _freed_in_new_process(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, check=True)
    return int(out.stdout)


@glibc
def test_a_process_gives_freed_page_buffers_back_to_the_system() -> None:
    total = BLOCK * BLOCKS // 1024
    assert _freed_in_new_process("on") > 0.8 * total
    # without it glibc keeps them: the probe measures what the thresholds change
    assert _freed_in_new_process("off") < 0.2 * total


@glibc
def test_extraction_workers_start_with_the_thresholds_set() -> None:
    total = BLOCK * BLOCKS // 1024
    for setting in (True, False):
        # the pool alone: no page is extracted, so no crawl store is needed
        pipeline = ExtractPipeline(None, 1, 60.0, return_freed=setting)  # type: ignore[arg-type]
        pipeline.open_spider()
        try:
            assert pipeline.pool is not None
            freed = pipeline.pool.submit(freed_kb).result(timeout=60)
        finally:
            pipeline.close_spider()
        assert (freed > 0.8 * total) is setting, (setting, freed)


def stop_words_built() -> bool:
    """Whether trafilatura's jusText fallback has its stop words of every language."""
    import trafilatura.external

    return trafilatura.external.JT_STOPLIST is not None


WORKERS_PROBE = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from newscrawl.pipelines import ExtractPipeline
from tests.test_memory import stop_words_built
print(stop_words_built())  # in this process: only imported, not run
pipeline = ExtractPipeline(None, 2, 60.0)
pipeline.open_spider()
built = [pipeline.pool.submit(stop_words_built) for _ in range(2)]
print([future.result(timeout=60) for future in built])
pipeline.close_spider()
"""


def test_extraction_workers_start_with_the_extractors_tables_built(tmp_path: Path) -> None:
    """Built once in the fork server, before the workers fork, so they share them; also
    when the crawl runs from a directory newscrawl cannot be imported from (scrapyd)."""
    out = subprocess.run(
        [sys.executable, "-c", WORKERS_PROBE], cwd=tmp_path, capture_output=True, text=True,
        check=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    assert out.stdout.split("\n")[:2] == ["False", "[True, True]"], out.stderr
