"""Which worker process is alive, read from /proc: a worker is recorded as (host, pid,
start time), so a new process that was given the same pid is not taken for it."""

import os
import socket
import sys
from pathlib import Path


def boot_id():
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "?"


HOST = f"{socket.gethostname()}/{boot_id()}"


def process_start(pid):
    """The start time of process pid (clock ticks since boot), None if it is gone or a
    zombie; it tells a live worker from a new process that was given the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if sys.platform.startswith("linux"):
            return None
        try:
            os.kill(pid, 0)
            return "alive"
        except OSError:
            return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):        # killed, not yet collected by its parent
        return None
    return fields[19]


def this_worker():
    return {"host": HOST, "pid": os.getpid(), "start": process_start(os.getpid())}


def is_dead(worker):
    """True if the worker ran on this machine and its process is gone."""
    if not worker or worker.get("host") != HOST:
        return False        # another machine's worker: the RDB heartbeat watches those
    start = process_start(worker["pid"])
    return start is None or (start != "alive" and start != worker.get("start"))
