"""A run directory: where one training run writes its checkpoints, metrics and plots.

    with RunDirectory.create("runs/a", overwrite=False) as run_dir:   # a new run
        ...
    with RunDirectory.resume("runs/a") as run_dir:                    # --resume

Rules, so that no result is ever lost or mixed up silently:
- a directory that already holds a run (any of OUTPUTS) is refused unless the user
  asked to continue it (`--resume`) or to replace it (`--overwrite`, which deletes the
  old outputs first, so nothing of the old run survives next to the new one);
- one process at a time: the directory is locked with `flock` on its `.lock` file for
  as long as the run is open. A second run into the same directory fails at once. The
  operating system releases the lock when the process ends, even on SIGKILL, so a
  killed run never leaves a stale lock behind;
- temporary files left by a killed writer (`.<name>.*.tmp`) are deleted on opening.
"""

import fcntl
import os
import shutil
from datetime import datetime
from pathlib import Path

from models.io.errors import UsageError
from models.io.files import remove_stale_temporaries

LOCK = ".lock"
OUTPUTS = ("model.npz", "last.npz", "metrics.json", "curves.png", "weights.png",
           "history.npz", "stats.npz", "stats.png", "tensorboard")     # tensorboard/: a folder


class RunDirectory:
    def __init__(self, path, lock_fd):
        self.path = Path(path)
        self._lock_fd = lock_fd

    # ---- opening ----------------------------------------------------------------------
    @classmethod
    def create(cls, path=None, overwrite=False, outputs=OUTPUTS):
        """Open a directory for a new run (default: runs/<timestamp>)."""
        path = Path(path) if path else _new_run_dir()
        if path.exists() and not path.is_dir():
            raise UsageError(f"--out {path} is a file, not a directory; choose another "
                             f"--out")
        path.mkdir(parents=True, exist_ok=True)
        run_dir = cls(path, _lock(path))
        try:
            old = [name for name in outputs if (path / name).exists()]
            if old and not overwrite:
                raise UsageError(f"{path} already holds a run ({', '.join(old)}); continue it "
                                 f"with --resume {path}, choose another --out, or pass "
                                 f"--overwrite to replace it")
            for name in old:
                if (path / name).is_dir():
                    shutil.rmtree(path / name)
                else:
                    (path / name).unlink()
            remove_stale_temporaries(path, outputs)
        except BaseException:
            run_dir.close()
            raise
        return run_dir

    @classmethod
    def resume(cls, path, outputs=OUTPUTS, checkpoint="last.npz"):
        """Open the directory of a run to continue it from its `checkpoint`."""
        path = Path(path)
        if path.is_file():
            hint = (f"--resume {path.parent}" if path.name in outputs
                    else "--resume RUN_DIR")
            raise UsageError(f"--resume takes a run directory, not a file: use {hint}")
        if not path.is_dir():
            raise UsageError(f"--resume: no run directory {path}")
        if not (path / checkpoint).is_file():
            if (path / "model.npz").is_file():
                raise UsageError(f"{path} holds model.npz but no {checkpoint}, so it cannot "
                                 f"be resumed (test it with --test {path / 'model.npz'})")
            raise UsageError(f"{path} holds no {checkpoint}: the run stopped before "
                             f"training started, so there is nothing to resume; start it "
                             f"again with the same flags and --out {path}")
        run_dir = cls(path, _lock(path))
        remove_stale_temporaries(path, outputs)
        return run_dir

    # ---- closing ----------------------------------------------------------------------
    def close(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)         # releases the flock
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __truediv__(self, name):
        return self.path / name

    def __str__(self):
        return str(self.path)


def _lock(path):
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(f"another process is writing to {path} (it holds {path / LOCK}); "
                         f"wait for it to finish or choose another --out") from None
    return fd


def _new_run_dir():
    base = Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir, k = base, 1
    while run_dir.exists():
        k += 1
        run_dir = base.with_name(f"{base.name}-{k}")
    return run_dir
