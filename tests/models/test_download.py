"""The downloader and MNIST's first-use download, against a real HTTP server on 127.0.0.1.

The server serves small generated IDX files; it can also send a wrong file, fail with
404, or hang up halfway through a file. Nothing here talks to any other address.
"""

import hashlib
import http.server
import os
import socket
import stat
import threading
import time

import numpy as np
import pytest

from models.data import datasets
from models.data.download import DownloadError, download
from models.data.idx import write_idx


class Handler(http.server.BaseHTTPRequestHandler):
    files = {}           # path -> bytes
    truncate = set()     # paths whose body is cut short after the headers promise more
    unannounced = set()  # paths sent without a Content-Length
    trickle = set()      # paths sent one byte every 0.2 s

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if self.path not in self.unannounced:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path in self.trickle:
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:          # the client gave up: as it should
                pass
            self.close_connection = True
            return
        if self.path in self.unannounced:
            self.wfile.write(body)
            self.close_connection = True
            return
        if self.path in self.truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.files, Handler.truncate = {}, set()
    Handler.unannounced, Handler.trickle = set(), set()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", Handler
    httpd.shutdown()
    httpd.server_close()


def md5(data):
    return hashlib.md5(data).hexdigest()


def test_downloads_and_checks_the_md5(server, tmp_path):
    url, handler = server
    handler.files["/a.bin"] = b"x" * 200_000
    path = download([url + "/a.bin"], tmp_path / "a.bin", md5(b"x" * 200_000), progress=False)
    assert path.read_bytes() == b"x" * 200_000
    assert os.listdir(tmp_path) == ["a.bin"]


def test_checksum_mismatch_leaves_nothing_in_the_cache(server, tmp_path):
    url, handler = server
    handler.files["/a.bin"] = b"not what we wanted"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download([url + "/a.bin"], tmp_path / "a.bin", md5(b"the real file"), progress=False)
    assert os.listdir(tmp_path) == []


def test_server_dying_mid_file_leaves_nothing_partial(server, tmp_path):
    url, handler = server
    handler.files["/a.bin"] = os.urandom(100_000)
    handler.truncate.add("/a.bin")
    with pytest.raises(DownloadError, match="a.bin"):
        download([url + "/a.bin"], tmp_path / "a.bin", None, progress=False)
    assert os.listdir(tmp_path) == []


def test_second_mirror_is_used_when_the_first_fails(server, tmp_path):
    url, handler = server
    handler.files["/good/a.bin"] = b"payload"
    refused = "http://127.0.0.1:9/a.bin"            # nothing listens on the discard port
    path = download([url + "/missing/a.bin", refused, url + "/good/a.bin"],
                    tmp_path / "a.bin", md5(b"payload"), progress=False)
    assert path.read_bytes() == b"payload"


def test_every_mirror_failing_lists_each_url_and_why(server, tmp_path):
    url, _ = server
    with pytest.raises(DownloadError) as error:
        download([url + "/x.bin", url + "/y.bin"], tmp_path / "x.bin", None, progress=False)
    assert "/x.bin" in str(error.value) and "/y.bin" in str(error.value)
    assert "Not Found" in str(error.value)


def test_mnist_is_downloaded_on_first_use_and_then_read_from_the_cache(server, tmp_path, monkeypatch):
    url, handler = server
    rng = np.random.default_rng(0)
    sums, sizes = {}, {}
    for key, name, n in [("train_images", datasets.FILES["train_images"], 60),
                         ("train_labels", datasets.FILES["train_labels"], 60),
                         ("test_images", datasets.FILES["test_images"], 20),
                         ("test_labels", datasets.FILES["test_labels"], 20)]:
        shape = (n, 28, 28) if "images" in key else (n,)
        high = 256 if "images" in key else 10
        write_idx(tmp_path / "src" / name, rng.integers(0, high, shape, dtype=np.uint8))
        data = (tmp_path / "src" / name).read_bytes()
        handler.files[f"/mirror/{name}"] = data
        sums[key] = md5(data)
        sizes[key] = len(data)
    monkeypatch.setitem(datasets.MD5, "mnist", sums)
    monkeypatch.setitem(datasets.SIZES, "mnist", sizes)
    splits = datasets.load_dataset("mnist", data_dir=tmp_path / "cache", val_size=10,
                                   mirrors=[url + "/broken/", url + "/mirror/"])
    assert splits.x_train.shape == (50, 784) and splits.x_val.shape == (10, 784)
    assert splits.x_test.shape == (20, 784)
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(datasets.FILES.values())
    handler.files.clear()                       # the second load never asks the server
    again = datasets.load_dataset("mnist", data_dir=tmp_path / "cache", val_size=10,
                                  download=False)
    np.testing.assert_array_equal(again.x_train, splits.x_train)


def test_a_body_larger_than_the_known_size_is_refused(server, tmp_path):
    url, handler = server
    handler.files["/big.bin"] = b"x" * 5000
    with pytest.raises(DownloadError, match="announces 5000 bytes, but the file has 1000"):
        download([url + "/big.bin"], tmp_path / "a.bin", size=1000, progress=False)
    handler.unannounced.add("/big.bin")
    with pytest.raises(DownloadError, match="sent more than the 1000 bytes the file has"):
        download([url + "/big.bin"], tmp_path / "a.bin", size=1000, progress=False)
    assert os.listdir(tmp_path) == []


def test_a_trickling_server_is_cut_off_by_the_whole_file_deadline(server, tmp_path):
    url, handler = server
    handler.files["/slow.bin"] = b"y" * 100           # 20 s at one byte every 0.2 s
    handler.trickle.add("/slow.bin")
    started = time.monotonic()
    with pytest.raises(DownloadError, match="did not arrive within 1 s"):
        download([url + "/slow.bin"], tmp_path / "a.bin", size=100, deadline=1,
                 progress=False)
    assert time.monotonic() - started < 5
    assert os.listdir(tmp_path) == []


def test_mirrors_that_never_answer_cost_only_the_stall_timeout(tmp_path):
    silent = socket.socket()                 # accepts connections (backlog), never replies
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/a.bin"
    started = time.monotonic()
    try:
        with pytest.raises(DownloadError, match="timed out"):
            download([url, url, url], tmp_path / "a.bin", stall_timeout=0.5, progress=False)
    finally:
        silent.close()
    assert time.monotonic() - started < 4


def test_a_downloaded_file_gets_ordinary_permissions(server, tmp_path):
    url, handler = server
    handler.files["/a.bin"] = b"data"
    old = os.umask(0o022)
    try:
        download([url + "/a.bin"], tmp_path / "a.bin", md5(b"data"), progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == 0o644
