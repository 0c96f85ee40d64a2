"""Checkpoints: plain arrays plus a JSON config in one `.npz` file, never pickle.

A pickle can run arbitrary code when it is loaded, so checkpoints are read with
`allow_pickle=False` and a file holding pickled objects is refused. Files are written
to a temporary name in the same folder and renamed into place, so a crash mid-write
never leaves a corrupt file where a good one was.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

CONFIG_KEY = "__config__"


class CheckpointError(ValueError):
    """The file is not a checkpoint this project can load."""


def atomic_write(path, write):
    """Call write(file) on a temporary file, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path, arrays, config):
    """Write {name: ndarray} and a JSON-serialisable config to `path` atomically."""
    if CONFIG_KEY in arrays:
        raise ValueError(f"{CONFIG_KEY!r} is reserved for the config")
    for name, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise TypeError(f"save_checkpoint: {name} is an object array; only numeric "
                            f"arrays can be saved without pickle")
    payload = {name: np.asarray(a) for name, a in arrays.items()}
    payload[CONFIG_KEY] = np.array(json.dumps(config))
    atomic_write(path, lambda f: np.savez(f, **payload))


def load_checkpoint(path):
    """Read a checkpoint: returns ({name: ndarray}, config dict)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise CheckpointError(f"{path} is not a .npz checkpoint (it does not start "
                                  f"like a zip archive); it may be truncated or another file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise CheckpointError(
                f"{path} contains pickled Python objects; refusing to load it, since "
                f"unpickling can run arbitrary code. Checkpoints of this project hold "
                f"only numeric arrays and a JSON config.") from None
        raise CheckpointError(f"{path} is not a valid checkpoint: {e}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CheckpointError(f"{path} is not a valid .npz checkpoint ({e}); it may be "
                              f"truncated or not a checkpoint at all") from None
    if CONFIG_KEY not in arrays:
        raise CheckpointError(f"{path} has no config: it was not written by save_checkpoint")
    config = json.loads(str(arrays.pop(CONFIG_KEY)))
    return arrays, config
