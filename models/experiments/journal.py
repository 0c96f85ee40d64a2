"""The study journal (Optuna's JournalStorage file), checked before it is opened.

The journal is an append-only log, one JSON record a line, each append made under a file
lock. A process killed in the middle of an append leaves its last line cut; appending to
it then would glue the next record onto the torn half, and from then on the file could not
be read. So before a study is opened its journal is checked:

    ends with a torn line (no newline)   the torn tail is dropped, the whole file is kept
                                         as <journal>.bak first, and one line says so;
                                         what is left is the log as it was before that
                                         append: a state the study really was in
    a damaged line before the end        refused (StudyError, one line) with the fix named;
    (garbage, binary junk, not JSON)     the file is not touched

The check and the repair take the journal's own lock, so a worker's append in progress
is never mistaken for a torn line.
"""

import json
import os
import shutil
from pathlib import Path


class JournalDamaged(ValueError):
    """The journal has a damaged line before its end (one line, with the fix)."""

    user_error = True


def _first_bad_line(lines):
    """The index of the first line that is not a journal record, or None."""
    for i, line in enumerate(lines):
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return i
        if not isinstance(record, dict) or "op_code" not in record:
            return i
    return None


def problem(path):
    """None if the journal at path is whole (or absent); else "torn" or "damaged"."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    *lines, tail = data.split(b"\n")
    if _first_bad_line(lines) is not None:
        return "damaged"
    return "torn" if tail else None


def check(path, lock, say=print):
    """Repair a torn last line (keeping a backup) or refuse a damaged journal; see above.
    `lock` is the journal's Optuna lock object; `say` prints the one line of a repair."""
    if problem(path) is None:          # the usual case, read without the lock
        return
    lock.acquire()
    try:
        data = Path(path).read_bytes()
        *lines, tail = data.split(b"\n")
        bad = _first_bad_line(lines)
        if bad is not None:
            keep = (f"keep its first {bad} lines (head -n {bad} {path} > {path}.fixed && "
                    f"mv {path}.fixed {path}) to continue from the trials before it, or "
                    if bad else "")
            raise JournalDamaged(
                f"the study journal {path} is damaged at line {bad + 1} of {len(lines) + 1} "
                f"(not a journal record); it was not changed: {keep}move it aside "
                f"(mv {path} {path}.damaged) to start the study afresh")
        if not tail:
            return
        backup = Path(f"{path}.bak")
        shutil.copyfile(path, backup)
        with open(path, "r+b") as f:
            f.truncate(len(data) - len(tail))
            f.flush()
            os.fsync(f.fileno())
        say(f"repaired the study journal {path}: its last line was cut (a process killed "
            f"while writing it); dropped those {len(tail)} bytes, the whole file is kept "
            f"as {backup}")
    finally:
        lock.release()
