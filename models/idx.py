"""The IDX file format of MNIST and Fashion-MNIST.

    magic:  0x00 0x00 <dtype code> <number of dimensions>
    sizes:  one big-endian uint32 per dimension
    data:   the values, big-endian, row-major

A file may be gzip-compressed; that is recognised by its first two bytes (1f 8b),
not by its name.
"""

import gzip
import zlib
from pathlib import Path

import numpy as np

DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """The file is not a well-formed IDX file."""


def read_bytes(path):
    """The file's content, decompressed if it is gzipped."""
    raw = Path(path).read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise IDXError(f"{path}: corrupt gzip stream ({e}); delete the file and get it "
                       f"again") from None


def read_idx(path):
    """Read an IDX file (raw or gzipped) into an ndarray of its native shape."""
    data = read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IDXError(f"{path}: not an IDX file (wrong magic number "
                       f"{data[:4].hex(' ') or 'empty file'}; expected 00 00 <type> <ndim>)")
    code, ndim = data[2], data[3]
    if code not in DTYPES:
        raise IDXError(f"{path}: unsupported IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{path}: truncated header ({len(data)} bytes for {ndim} dimensions)")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = DTYPES[code]
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) < expected:
        raise IDXError(f"{path}: truncated: the header promises shape {shape} "
                       f"({expected} bytes) but the file has {len(data)} bytes")
    if len(data) > expected:
        raise IDXError(f"{path}: {len(data) - expected} unexpected bytes after the data "
                       f"of shape {shape}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array, compress=None):
    """Write an ndarray as IDX (gzipped if compress, or if the name ends in .gz)."""
    from .checkpoint import atomic_write
    array = np.asarray(array)
    codes = {v.newbyteorder("="): k for k, v in DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise IDXError(f"cannot write dtype {array.dtype} as IDX")
    payload = (bytes([0, 0, codes[native], array.ndim])
               + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
               + array.astype(DTYPES[codes[native]], copy=False).tobytes())
    if compress is None:
        compress = str(path).endswith(".gz")
    if compress:
        payload = gzip.compress(payload, compresslevel=6)
    atomic_write(path, lambda f: f.write(payload))
