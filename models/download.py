"""Downloading a file from the first mirror that works, safely.

The bytes go to a temporary file beside the destination; only when the download is
complete and its MD5 matches is it renamed into place. A dropped connection, a wrong
checksum or Ctrl-C leave nothing behind: never a partial file where a good one is
expected.
"""

import hashlib
import http.client
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

CHUNK = 1 << 16


class DownloadError(ConnectionError):
    """No mirror delivered the file. `failures` holds (url, reason) for each mirror."""

    def __init__(self, message, failures=()):
        super().__init__(message)
        self.failures = list(failures)

    @property
    def offline(self):
        """True when no mirror's name could even be looked up: no network at all."""
        return bool(self.failures) and all(isinstance(reason, socket.gaierror)
                                           for _, reason in self.failures)


def download(urls, dest, md5=None, progress=True, timeout=30):
    """Fetch `dest` from the first of `urls` that delivers it intact; return its path."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            _fetch(url, dest, md5, progress, timeout)
            return dest
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            failures.append((url, getattr(e, "reason", None) or e))
    raise DownloadError(f"could not download {dest.name}; every mirror failed:\n"
                        + "\n".join(f"  {url}: {reason}" for url, reason in failures),
                        failures)


def _fetch(url, dest, md5, progress, timeout):
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.length
            bar = _bar(total, dest.name, progress)
            received = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
            if total is not None and received < total:
                raise OSError(f"connection closed after {received} of {total} bytes")
        if md5 is not None and digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _bar(total, name, enabled):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=f"downloading {name}", unit="B", unit_scale=True,
                leave=False, disable=None)
