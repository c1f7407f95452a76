"""Processes started together on one store, as several crawlers or notification nodes are."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def run_together(target: Callable[..., None], args: tuple[Any, ...], count: int,
                 timeout: float = 120.0) -> None:  # fmt: skip
    """Run ``target(*args, start)`` in ``count`` spawned processes, released at once (each
    waits on the ``start`` event), and check that every one exits 0."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=target, args=(*args, start)) for _ in range(count)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout)
        assert worker.exitcode == 0
