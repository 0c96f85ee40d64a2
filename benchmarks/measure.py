"""How the benchmarks measure: medians of repeated timings, and memory as the kernel counts it.

The machines are shared, so a single timing means little: every number is a median of
several, and comparisons are ratios of timings taken close together.
"""

import os
import resource
import time

import numpy as np


def median_time(fn, repeat=7, number=None):
    """Median seconds per call of fn over `repeat` timings of `number` calls each.

    Without `number`, as many calls as take about 50 ms (doubling until they do).
    """
    if number is None:
        number, elapsed = 1, 0.0
        while elapsed < 0.05:
            number *= 2
            started = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - started) / number)
    return float(np.median(times))


def paired_ratio(fn, baseline, pairs=15):
    """Median over `pairs` of (seconds of one fn() call) / (seconds of one baseline() call),
    the two called in turn, so that each ratio's two timings see the same machine."""
    ratios = []
    for _ in range(pairs):
        started = time.perf_counter()
        fn()
        middle = time.perf_counter()
        baseline()
        ratios.append((middle - started) / (time.perf_counter() - middle))
    return float(np.median(ratios))


def current_rss_mb():
    """The resident set size now, in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def reset_peak_rss():
    """Start counting the peak resident set size afresh (Linux: clear_refs 5).

    Loading the data peaks higher than training ever does, so without this the
    lifetime peak would say nothing about training. Returns False where the kernel
    does not allow it; the peak then covers the whole process.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """The peak resident set size since the last reset (VmHWM), in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
