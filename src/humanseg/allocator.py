"""Keep the memory a request freed for the next one (glibc's malloc on Linux).

A 1 MP request allocates about 11 MB of short-lived arrays (photo, tensors, maps). By default
glibc hands blocks that large straight back to the kernel when they are freed, and in a server
whose requests run on worker threads its adaptive threshold did not learn otherwise: every
request then page-faulted ~2,900 fresh pages (measured with ``/proc/<pid>/stat``), costing
5–8 ms of a ~45 ms request. Raising the thresholds once per process makes such blocks come
from, and return to, malloc's own heap. Blocks over 32 MiB (a 16 MP photo) are still mapped
and unmapped, so peak memory is bounded as before.

Set any ``MALLOC_*`` or ``GLIBC_TUNABLES`` variable to tune malloc yourself: this module then
leaves it alone.

The tuning is process-wide, so it is applied where a process that serves images starts (the
server's start-up, each batch or cut worker, each Ray actor) through ``tune_process``, which
says in the log what it did; constructing a ``Pipeline`` changes nothing about the process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc's own adaptive threshold would reach
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc pairs with an adapted mmap threshold

_done = False
log = logging.getLogger(__name__)


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True if they were set."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or _user_tuned(os.environ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library symbols to call (not glibc)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _done


def tune_process(role: str) -> bool:
    """Apply ``keep_freed_memory`` at the start of a serving process and log the outcome."""
    if keep_freed_memory():
        log.info(
            "%s: malloc keeps freed blocks below %d MiB in the process "
            "(mmap threshold %d MiB, trim threshold %d MiB)",
            role,
            MMAP_THRESHOLD >> 20,
            MMAP_THRESHOLD >> 20,
            TRIM_THRESHOLD >> 20,
        )
        return True
    why = "MALLOC_* or GLIBC_TUNABLES is set" if _user_tuned(os.environ) else "not glibc"
    log.info("%s: malloc left as it is (%s)", role, why)
    return False


def _user_tuned(environ: os._Environ[str] | dict[str, str]) -> bool:
    return any(name.startswith("MALLOC_") or name == "GLIBC_TUNABLES" for name in environ)
