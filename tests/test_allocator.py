"""The allocator tuning that keeps a request's freed arrays for the next one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from humanseg import allocator

# In a fresh process: tune (or not), then count the page faults of allocating and freeing
# a 1 MP request's worth of arrays on a worker thread, as a server does.
_PROBE = textwrap.dedent(
    """
    import resource, sys, threading
    import numpy as np
    from humanseg.allocator import keep_freed_memory

    tuned = keep_freed_memory()
    def work(out):
        for _ in range(3):  # the first rounds may fault: the heap grows once
            np.ones((1000, 1000, 3), np.uint8).astype(np.float32)
        start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            np.ones((1000, 1000, 3), np.uint8).astype(np.float32)
        out.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) / 20)
    faults = []
    thread = threading.Thread(target=work, args=(faults,))
    thread.start()
    thread.join()
    print(tuned, faults[0])
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
def test_freed_arrays_are_reused_without_page_faults() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    )
    tuned, faults = result.stdout.split()
    assert tuned == "True"
    # 15 MB of arrays per round: 3,700 fresh pages if they went back to the kernel each time
    assert float(faults) < 100


def test_users_own_malloc_settings_win() -> None:
    assert allocator._user_tuned({"MALLOC_ARENA_MAX": "2"})
    assert allocator._user_tuned({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"})
    assert not allocator._user_tuned({"HOME": "/root"})
