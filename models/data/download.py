"""Downloading a file from the first mirror that works, safely and within bounds.

The bytes go to a temporary file beside the destination; only when the download is
complete and its MD5 matches is it renamed into place (with the ordinary permissions
of a new file). A dropped connection, a wrong checksum or Ctrl-C leave nothing behind:
never a partial file where a good one is expected.

Resources are bounded by what the file is known to be: the body may not exceed the
file's known size (or `max_bytes`), a mirror that does not answer within
`stall_timeout` seconds (to connect, or between two reads) is skipped, and the whole
file must arrive within `deadline` seconds, so a server that trickles one byte every
few seconds cannot keep the download alive forever.
"""

import errno
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from models.io.files import current_umask
from models.io.progress import progress_bar

CHUNK = 1 << 16
MAX_BYTES = 256 << 20        # when the size is not known in advance
LOCAL_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


class DownloadError(ConnectionError):
    """No mirror delivered the file. `failures` holds (url, reason) for each mirror."""

    user_error = True

    def __init__(self, message, failures=()):
        super().__init__(message)
        self.failures = list(failures)

    @property
    def offline(self):
        """True when no mirror's name could even be looked up: no network at all."""
        return bool(self.failures) and all(isinstance(reason, socket.gaierror)
                                           for _, reason in self.failures)


def download(urls, dest, md5=None, progress=True, size=None, stall_timeout=10, deadline=600,
             max_bytes=MAX_BYTES):
    """Fetch `dest` from the first of `urls` that delivers it intact; return its path."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            _fetch(url, dest, md5, progress, size, stall_timeout, deadline, max_bytes)
            return dest
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            if isinstance(e, OSError) and e.errno in LOCAL_ERRORS:
                raise                     # writing here failed: another mirror cannot help
            failures.append((url, getattr(e, "reason", None) or e))
    raise DownloadError(f"could not download {dest.name}; every mirror failed: "
                        + "; ".join(f"{url}: {reason}" for url, reason in failures), failures)


def _fetch(url, dest, md5, progress, size, stall_timeout, deadline, max_bytes):
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.fchmod(fd, 0o666 & ~current_umask())
    limit = size if size is not None else max_bytes
    ends = time.monotonic() + deadline
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(url, timeout=stall_timeout) as response:
            total = response.length
            if total is not None and total > limit:
                raise ValueError(f"the server announces {total} bytes, but the file has "
                                 f"{limit}")
            bar = progress_bar(total, f"downloading {dest.name}", "B", progress,
                               unit_scale=True)
            received = 0
            while chunk := response.read1(CHUNK):
                received += len(chunk)
                if received > limit:
                    raise ValueError(f"the server sent more than the {limit} bytes the file "
                                     f"has")
                if time.monotonic() > ends:
                    raise TimeoutError(f"the whole file did not arrive within {deadline} s "
                                       f"({received} bytes so far)")
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
            if total is not None and received < total:
                raise OSError(f"connection closed after {received} of {total} bytes")
            if size is not None and received != size:
                raise ValueError(f"received {received} bytes, but the file has {size}")
            out.flush()
            os.fsync(out.fileno())
        if md5 is not None and digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


