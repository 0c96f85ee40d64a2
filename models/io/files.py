"""Writing output files so that a crash never leaves a corrupt one under its real name.

    atomic_write(path, lambda f: f.write(data))     # any bytes
    write_json(path, obj)                           # strict JSON: NaN and inf become null
    save_figure(fig, "curves.png")                  # a matplotlib Figure

Each writes a temporary file in the destination's folder, flushes it to disk, then
renames it over the destination with `os.replace`, which is atomic on POSIX: a reader
(or a run killed half-way) sees either the old file or the new one, never half of
one. The file gets the ordinary permissions of a new file (0666 minus the umask), not
the 0600 of `tempfile.mkstemp`. A temporary file left by a killed process starts with
`.<name>.` and ends in `.tmp`; `remove_stale_temporaries` cleans them up.
"""

import json
import math
import os
import tempfile
import threading
import time
from pathlib import Path

from models.io.errors import UsageError

TEMP_SUFFIX = ".tmp"
_umask_lock = threading.Lock()


def current_umask():
    """The process umask (os.umask can only be read by setting it, so set it back)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def atomic_write(path, write, mode=None):
    """Call write(file) on a temporary file beside `path`, then rename it to `path`.

    mode: the permission bits of the result (default 0666 minus the umask, like open()).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, (0o666 & ~current_umask()) if mode is None else mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno and e.filename is None:
            # a failed write (e.g. a full disk) names no file: name the one being written
            raise type(e)(e.errno, e.strerror, str(path)) from None
        raise
    return path


def strict(value):
    """`value` with every non-finite float replaced by None, so JSON gets null, not NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:   # a numpy scalar
        return strict(value.item())
    return value


def write_json(path, obj, indent=2):
    """Write obj as strict JSON (allow_nan=False: NaN and ±inf are written as null)."""
    text = json.dumps(strict(obj), indent=indent, allow_nan=False) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()))


def save_figure(fig, path, dpi=110, **savefig_kwargs):
    """fig.savefig(path) atomically; the format follows the extension (.png by default)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    return atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=dpi, **savefig_kwargs))


def remove_stale_temporaries(folder, names, older_than=0):
    """Delete the temporary files that a killed writer of any of `names` left in folder.

    older_than: seconds; younger files may belong to a writer still at work (in a folder
    that is not locked, such as the dataset cache) and are left alone.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if any(entry.name.startswith(f".{name}.") for name in names) and \
                entry.name.endswith((TEMP_SUFFIX, ".part")):
            try:
                if older_than and time.time() - entry.stat().st_mtime < older_than:
                    continue
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


def check_writable_dir(folder):
    """Raise OSError now, not after an hour of training, if files cannot be made in folder.

    Tries what the real write will do: create (and delete) a temporary file in the
    folder, or in its nearest existing ancestor if the folder is still to be created.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        if probe == folder:
            raise UsageError(f"{folder} is a file, not a directory; choose another output "
                             f"path")
        raise UsageError(f"{probe} is a file, so the folder {folder} cannot be made there; "
                         f"choose another output path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".write-test.", suffix=TEMP_SUFFIX, dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise UsageError(f"cannot write into {probe} ({e.strerror or e}); choose a folder "
                         f"you can write to") from None
