"""Freed memory is kept for the next training step instead of given back to the system.

A training step makes and drops the same large arrays every time: the CNN's activations,
its gradients, the blocks of X̂ (a few MiB each), Adam's temporaries. glibc's malloc
serves a request above a threshold with fresh pages from the operating system (mmap)
and hands them back on free, and it trims the top of its heap when a lot is free there.
Fresh pages are not free: the first write to each 4 KiB page is a page fault, a trip
into the kernel to find and zero it, thousands of them per CNN step (benchmarks/cnn.py
counts them with `getrusage` before and after a step).

keep_freed_memory() raises both thresholds, so that everything freed stays in malloc's
heap and the next step's arrays reuse it: no page faults after the first steps. The
price is that the process's memory does not shrink after its peak; a training run's
memory is at its peak most of the time anyway (docs/cnn.md, "Memory").

The engine's convolution reuses its own scratch buffers whatever this setting
(tape/workspace.py); this covers everything else a step makes and drops.

The training commands call it as they start (models.twolayer, models.cnn, and the
trials of models.search and models.compare), and so does benchmarks/cnn.py, to time the
tape as it trains. It changes no number, only where memory comes from, and does
nothing where the C library is not glibc (macOS, musl).
"""

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1    # mallopt's parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
KEEP = 2 ** 30           # 1 GiB: any array a course network makes, and free space up to this


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse; True if it agreed."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):     # no C library found, or not glibc's
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP))
