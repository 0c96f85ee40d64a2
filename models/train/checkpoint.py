"""Checkpoints: plain arrays plus a JSON config in one `.npz` file, never pickle.

A pickle can run arbitrary code when it is loaded, so checkpoints hold only numeric
arrays and a JSON config, and a file holding pickled objects is refused. Files are
written to a temporary name in the same folder and renamed into place
(`models.io.files.atomic_write`), so a crash mid-write never leaves a corrupt file where a
good one was.

Reading is bounded by what the file should be: the config is read first (and may be
checked by the caller), then each expected member's `.npy` header (shape, dtype) is
compared with what the config implies *before* its data is read. A missing member, an
extra one, a wrong shape or dtype is an error naming the member, and nothing larger
than the expected arrays is ever allocated.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from models.io.files import atomic_write  # noqa: F401  (re-exported: older code imports it from here)

CONFIG_KEY = "__config__"
MAX_CONFIG_CHARS = 1 << 20          # a saved config is a few kB; refuse to read a huge one


class CheckpointError(ValueError):
    """The file is not a checkpoint this project can load."""

    user_error = True


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


def load_checkpoint(path, expected=None):
    """Read a checkpoint: returns ({name: ndarray}, config dict).

    expected: None to read every member, or a function config -> {name: (shape, dtype)}
    naming exactly the arrays the file must hold (it may raise CheckpointError to refuse
    the config itself). Then nothing else is read.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "no such file", str(path))
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise CheckpointError(f"{path} is not a .npz checkpoint (it does not start "
                                  f"like a zip archive); it may be truncated or another file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive, path)
            if CONFIG_KEY not in members:
                for name, info in members.items():      # say "pickle" if that is the reason
                    with archive.open(info) as f:
                        if _header(f, path, name)[1].hasobject:
                            _refuse_pickle(path, name)
                raise CheckpointError(f"{path} has no config: it was not written by "
                                      f"save_checkpoint")
            config = _read_config(archive, members[CONFIG_KEY], path)
            if expected is None:
                wanted = {name: None for name in members if name != CONFIG_KEY}
            else:
                wanted = expected(config)
                _same_names(path, set(wanted), set(members) - {CONFIG_KEY})
            arrays = {name: _read_array(archive, members[name], path, name, spec)
                      for name, spec in wanted.items()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, UnicodeDecodeError) as e:
        if isinstance(e, CheckpointError) or (isinstance(e, OSError) and e.errno is not None):
            raise
        raise CheckpointError(f"{path} is not a valid .npz checkpoint ({_short(e)}); it may "
                              f"be truncated or not a checkpoint at all") from None
    return arrays, config


def _members(archive, path):
    members = {}
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        members[name] = info
    return members


def _same_names(path, wanted, present):
    missing, extra = sorted(wanted - present), sorted(present - wanted)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise CheckpointError(f"{path} does not match its config: {'; '.join(parts)} "
                              f"(was it edited, or written by another program?)")


def _header(f, path, name):
    """(shape, dtype) from a .npy header, without reading the data."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise CheckpointError(f"{path}: member {name} uses .npy format version "
                              f"{version}, which this loader does not read")
    return shape, dtype


def _read_array(archive, info, path, name, spec):
    with archive.open(info) as f:
        shape, dtype = _header(f, path, name)
    if dtype.hasobject:
        _refuse_pickle(path, name)
    if spec is not None:
        want_shape, want_dtype = tuple(spec[0]), np.dtype(spec[1])
        if tuple(shape) != want_shape or dtype != want_dtype:
            raise CheckpointError(f"{path}: {name} is {dtype} of shape {tuple(shape)} but its "
                                  f"config implies {want_dtype} of shape {want_shape}")
    expected_bytes = int(np.prod(shape, dtype=object) or 0) * dtype.itemsize
    if info.file_size < expected_bytes:
        raise CheckpointError(f"{path}: {name} is truncated ({info.file_size} bytes for "
                              f"shape {tuple(shape)} {dtype})")
    with archive.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _refuse_pickle(path, name):
    raise CheckpointError(
        f"{path} contains pickled Python objects ({name}); refusing to load it, since "
        f"unpickling can run arbitrary code. Checkpoints of this project hold only "
        f"numeric arrays and a JSON config.")


def _read_config(archive, info, path):
    if info.file_size > MAX_CONFIG_CHARS * 4 + 256:
        raise CheckpointError(f"{path}: its config is {info.file_size} bytes, far more than "
                              f"a config needs; refusing to read it")
    with archive.open(info) as f:
        shape, dtype = _header(f, path, CONFIG_KEY)
    if shape != () or dtype.kind != "U":
        raise CheckpointError(f"{path}: its config should be one JSON string, found "
                              f"{dtype} of shape {shape}")
    with archive.open(info) as f:
        text = str(np.lib.format.read_array(f, allow_pickle=False))
    try:
        config = json.loads(text)
    except ValueError as e:
        raise CheckpointError(f"{path}: its config is not valid JSON ({_short(e)})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: its config should be a JSON object, found "
                              f"{type(config).__name__}")
    return config


def _short(error):
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
