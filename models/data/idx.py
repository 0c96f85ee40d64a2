"""The IDX file format of MNIST and Fashion-MNIST.

    magic:  0x00 0x00 <dtype code> <number of dimensions>
    sizes:  one big-endian uint32 per dimension
    data:   the values, big-endian, row-major

A file may be gzip-compressed; that is recognised by its first two bytes (1f 8b),
not by its name.
"""

import gzip
import math
import zlib

import numpy as np

from models.io.files import atomic_write

DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"
MAX_NDIM = 8                 # MNIST uses 1 (labels) and 3 (images)
MAX_BYTES = 4 << 30          # 4 GiB: far more than any dataset this reader is meant for
CHUNK = 1 << 20


class IDXError(ValueError):
    """The file is not a well-formed IDX file."""

    user_error = True


def _raw_chunks(path):
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def _gunzip_chunks(path, raw):
    """Decompress gzip members one chunk at a time (never the whole file at once)."""
    inflate = zlib.decompressobj(wbits=31)
    pending = b""
    for chunk in raw:
        data = pending + chunk
        pending = b""
        while data:
            try:
                out = inflate.decompress(data, CHUNK)
            except zlib.error as e:
                raise IDXError(f"{path}: corrupt gzip stream ({e}); delete the file and get "
                               f"it again") from None
            if out:
                yield out
            data = inflate.unconsumed_tail
            if inflate.eof:
                rest = inflate.unused_data + data
                if rest.strip(b"\x00") == b"":    # padding after the last member
                    data = b""
                    break
                inflate = zlib.decompressobj(wbits=31)   # another gzip member follows
                data = rest
            elif not data:
                break
    if not inflate.eof:
        raise IDXError(f"{path}: corrupt gzip stream (it ends before its end marker: the "
                       f"file is truncated); delete the file and get it again")


def _content(path):
    """The file's content in chunks, decompressed if it is gzipped (by its first bytes)."""
    raw = _raw_chunks(path)
    first = next(raw, b"")
    def replay():
        if first:
            yield first
        yield from raw
    if first[:2] == GZIP_MAGIC:
        return _gunzip_chunks(path, replay())
    return replay()


def read_bytes(path, limit=MAX_BYTES):
    """The file's content, decompressed if it is gzipped, refusing more than `limit` bytes."""
    out = bytearray()
    for chunk in _content(path):
        out += chunk
        if len(out) > limit:
            raise IDXError(f"{path}: more than {limit} bytes of content; not a file this "
                           f"reader accepts")
    return bytes(out)


def read_idx(path):
    """Read an IDX file (raw or gzipped) into an ndarray of its native shape.

    Memory stays bounded by what the header promises: decompression stops as soon as
    more bytes arrive than the header's shape accounts for (a small gzip "bomb" that
    inflates to gigabytes is refused after reading one chunk too many).
    """
    chunks = _content(path)
    data = bytearray()
    for chunk in chunks:                  # enough for the header
        data += chunk
        if len(data) >= 4 + 4 * MAX_NDIM:
            break
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IDXError(f"{path}: not an IDX file (wrong magic number "
                       f"{bytes(data[:4]).hex(' ') or 'empty file'}; expected 00 00 <type> "
                       f"<ndim>)")
    code, ndim = data[2], data[3]
    if code not in DTYPES:
        raise IDXError(f"{path}: unsupported IDX data type code 0x{code:02x}")
    if not 1 <= ndim <= MAX_NDIM:
        raise IDXError(f"{path}: the header claims {ndim} dimensions; an IDX file of this "
                       f"kind has 1 to {MAX_NDIM}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{path}: truncated header ({len(data)} bytes for {ndim} dimensions)")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = DTYPES[code]
    size = math.prod(shape) * dtype.itemsize        # Python ints: no overflow
    if size > MAX_BYTES:
        raise IDXError(f"{path}: the header claims shape {shape}, {size:,} bytes of data, "
                       f"more than the {MAX_BYTES:,} this reader accepts; the file is "
                       f"damaged or not a dataset")
    expected = header + size
    for chunk in chunks:
        data += chunk
        if len(data) > expected:
            break                         # stop decompressing: too much already
    if len(data) < expected:
        raise IDXError(f"{path}: truncated: the header promises shape {shape} "
                       f"({expected} bytes) but the file has {len(data)} bytes")
    if len(data) > expected:
        raise IDXError(f"{path}: at least {len(data) - expected} unexpected bytes after "
                       f"the data of shape {shape} (the header promises {expected} bytes)")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array, compress=None):
    """Write an ndarray as IDX (gzipped if compress, or if the name ends in .gz)."""

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
