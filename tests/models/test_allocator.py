"""keep_freed_memory: memory freed by one step is reused by the next, with no page faults."""

import ctypes
import subprocess
import sys

import pytest

from models.train import allocator

# a fresh process allocates 64 MiB, frees it, and counts the minor page faults (first
# touches of fresh pages) that allocating and filling it once more costs
FAULTS = """
import resource, sys
import numpy as np
from models.train.allocator import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
np.ones(2 ** 24, np.float32)              # 64 MiB, made and dropped
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(2 ** 24, np.float32)
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode):
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_memory_is_reused_without_page_faults():
    kept, with_keep = faults("keep")
    _, without = faults("plain")
    assert kept == "True"
    # fresh memory faults once per page: 16,384 4-KiB pages, or 32 huge pages of 2 MiB
    assert without >= 32, without
    assert with_keep < 16, (with_keep, without)


def test_without_glibc_it_does_nothing(monkeypatch):
    def no_library(name):
        raise OSError(f"{name}: cannot open shared object file")
    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert allocator.keep_freed_memory() is False
