"""Hand freed page buffers back to the system (glibc's ``mallopt``).

A crawl allocates and frees a few hundred KB per page: bodies, decoded text, parse trees.
glibc's malloc raises its mmap threshold each time such a block is freed, so later pages of
that size come from the heap, and a heap freed in the middle is kept: a process's RSS stays
at its high-water mark. Fixing the mmap threshold at 128 KB and the trim threshold at 256 KB
returns them instead, as ``MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=262144``
would, without asking the deployment to set them (README "Performance": a first crawl of
1,000 articles peaked at 384 MB summed RSS instead of 426, taking about 5% longer).
``ExtractPipeline`` sets them in the crawl process and in each extraction worker as it
starts; ``NEWSCRAWL_RETURN_FREED_MEMORY = False`` leaves malloc as it is; off glibc (musl,
macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
TRIM_THRESHOLD = 256 * 1024


def return_freed_memory() -> bool:
    """Set this process's malloc thresholds; False where malloc is not glibc's."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    # gnu_get_libc_version exists only in glibc, whose mallopt takes these parameters
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
