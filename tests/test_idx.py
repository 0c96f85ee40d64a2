"""The IDX reader: raw and gzipped files, and every way a file can be malformed."""

import gzip

import numpy as np
import pytest

from models.idx import IDXError, read_idx, write_idx


@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz"])
def test_write_then_read_gives_back_the_array(tmp_path, name):
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / name, images)
    back = read_idx(tmp_path / name)
    np.testing.assert_array_equal(back, images)
    assert back.dtype == np.uint8


def test_gzip_is_recognised_by_content_not_by_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "labels.raw", labels, compress=True)
    assert (tmp_path / "labels.raw").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.raw"), labels)


def test_wider_types_round_trip(tmp_path):
    a = np.linspace(-1, 1, 12).reshape(3, 4)
    write_idx(tmp_path / "f.idx", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), a)


def test_wrong_magic_number_is_named(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(IDXError, match=r"bad\.idx: not an IDX file \(wrong magic number 12 34 08 01"):
        read_idx(tmp_path / "bad.idx")


def test_unsupported_type_code(tmp_path):
    (tmp_path / "t.idx").write_bytes(b"\x00\x00\x07\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(IDXError, match="unsupported IDX data type code 0x07"):
        read_idx(tmp_path / "t.idx")


def test_truncated_file_says_how_much_is_missing(tmp_path):
    write_idx(tmp_path / "full.idx", np.zeros((5, 28, 28), np.uint8))
    data = (tmp_path / "full.idx").read_bytes()
    (tmp_path / "cut.idx").write_bytes(data[:-100])
    with pytest.raises(IDXError, match=r"cut\.idx: truncated: the header promises shape \(5, 28, 28\)"):
        read_idx(tmp_path / "cut.idx")
    (tmp_path / "head.idx").write_bytes(data[:9])
    with pytest.raises(IDXError, match="truncated header"):
        read_idx(tmp_path / "head.idx")


def test_trailing_garbage_is_refused(tmp_path):
    write_idx(tmp_path / "x.idx", np.zeros(4, np.uint8))
    (tmp_path / "x.idx").write_bytes((tmp_path / "x.idx").read_bytes() + b"junk")
    with pytest.raises(IDXError, match="4 unexpected bytes"):
        read_idx(tmp_path / "x.idx")


def test_corrupt_gzip_stream(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01" + (100).to_bytes(4, "big") + bytes(100))
    (tmp_path / "c.gz").write_bytes(good[:20] + b"\xff" * 10 + good[30:])
    with pytest.raises(IDXError, match=r"c\.gz: corrupt gzip stream"):
        read_idx(tmp_path / "c.gz")
