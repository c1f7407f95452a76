"""Runs every atheris harness for a bounded time, seeded with real inputs; exit 1 on a crash.

    python -m fuzz.run --seconds 60      # split evenly between the harnesses

Seeds: the feed samples of ``tests/support/feed_samples.py`` and hostile feeds, and pages of the
article corpus (``../shared/corpus``). A crash leaves its input as ``crash-*`` in the
working directory (``--artifacts``), printed by libFuzzer with the traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


def feed_seeds() -> list[bytes | str]:
    from tests.support import feed_samples
    from tests.support.hostile_site import big_feed, billion_laughs
    from tests.support.mockserver import rss

    samples = [feed_samples.RSS, feed_samples.ATOM, feed_samples.RDF, feed_samples.RSS091]
    return [*samples, rss("t", ["https://ex.com/a", "https://ex.com/b?x=1&amp;y=2"]),
            billion_laughs(3), big_feed(20, "https://ex.com/{}")]  # fmt: skip


def page_seeds(limit: int = 12) -> list[bytes]:
    from tests.support.corpus import load_pages

    pages = load_pages()
    step = max(1, len(pages) // limit)
    return [page.raw for page in pages[::step][:limit]] + [
        b"<html><head><title>T</title></head><body><article><h1>T</h1><p>Body.</p></article>"
        b"</body></html>",
        b'<script type="application/ld+json">{"@type":"NewsArticle","headline":"H"}</script>',
    ]


HARNESSES = {"fuzz_feeds.py": feed_seeds, "fuzz_extract.py": page_seeds}


def run(
    harness: str, seeds: list[bytes | str], seconds: int, artifacts: Path, random_seed: int
) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as work:
        seed_dir, corpus_dir = Path(work, "seeds"), Path(work, "corpus")
        seed_dir.mkdir()
        corpus_dir.mkdir()
        for i, seed in enumerate(seeds):
            data = seed.encode("utf-8") if isinstance(seed, str) else seed
            (seed_dir / f"seed-{i}").write_bytes(data)
        cmd = [sys.executable, str(HERE / harness), f"-max_total_time={seconds}",
               f"-seed={random_seed}", "-timeout=20", "-rss_limit_mb=3072", "-max_len=2000000",
               "-print_final_stats=1",
               f"-artifact_prefix={artifacts}/", str(corpus_dir), str(seed_dir)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
        output = result.stdout + result.stderr
        return result.returncode == 0, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="total, split between harnesses")
    parser.add_argument("--artifacts", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument(
        "--seed", type=int, default=1, help="libFuzzer's random seed (fixed: CI runs repeat)"
    )
    args = parser.parse_args()
    each = max(1, args.seconds // len(HARNESSES))
    failed = False
    for harness, seeds in HARNESSES.items():
        ok, output = run(harness, seeds(), each, args.artifacts, args.seed)
        runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", output)
        status = "ok" if ok else "CRASH"
        print(f"{harness}: {status}, {runs[-1] if runs else '?'} inputs in {each} s")
        if not ok:
            failed = True
            print(output[-8000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
