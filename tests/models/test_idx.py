"""The IDX reader: raw and gzipped files, and every way a file can be malformed."""

import gzip

import numpy as np
import pytest

from models.data.idx import IDXError, read_idx, write_idx


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


def _gzip_stream(*parts):
    """gzip of the concatenated parts, each part (bytes, repeat) compressed chunk by chunk."""
    import zlib
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    for data, repeat in parts:
        for _ in range(repeat):
            out.append(deflate.compress(data))
    out.append(deflate.flush())
    return b"".join(out)


def test_a_gzip_bomb_is_refused_after_reading_little_more_than_the_header_promises(tmp_path):
    import tracemalloc
    # 10 labels promised, then 256 MiB of zeros that compress to a quarter of a megabyte
    bomb = _gzip_stream((b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(10), 1),
                        (bytes(1 << 20), 256))
    (tmp_path / "bomb.gz").write_bytes(bomb)
    assert len(bomb) < 1 << 20
    tracemalloc.start()
    with pytest.raises(IDXError, match="unexpected bytes after the data of shape \\(10,\\)"):
        read_idx(tmp_path / "bomb.gz")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20, f"{peak / 2 ** 20:.0f} MiB"


def test_dimensions_whose_product_overflows_are_refused_without_allocating(tmp_path):
    header = b"\x00\x00\x08\x03" + (0xFFFFFFFF).to_bytes(4, "big") * 3
    (tmp_path / "huge.idx").write_bytes(header + bytes(100))
    with pytest.raises(IDXError, match=r"claims shape \(4294967295, 4294967295, 4294967295\)"):
        read_idx(tmp_path / "huge.idx")


@pytest.mark.parametrize("ndim", [0, 9, 255])
def test_an_absurd_number_of_dimensions_is_named(tmp_path, ndim):
    (tmp_path / "d.idx").write_bytes(bytes([0, 0, 8, ndim]) + bytes(64))
    with pytest.raises(IDXError, match=f"the header claims {ndim} dimensions"):
        read_idx(tmp_path / "d.idx")


def test_a_gzip_stream_cut_short_is_refused(tmp_path):
    write_idx(tmp_path / "x.gz", np.random.default_rng(0).integers(0, 256, (50, 28, 28),
                                                                     dtype=np.uint8))
    data = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(data[:-30])
    with pytest.raises(IDXError, match=r"cut\.gz: (corrupt gzip stream|truncated)"):
        read_idx(tmp_path / "cut.gz")


def test_concatenated_gzip_members_are_read_as_one_file(tmp_path):
    payload = b"\x00\x00\x08\x01" + (6).to_bytes(4, "big") + bytes(range(6))
    (tmp_path / "two.gz").write_bytes(gzip.compress(payload[:7]) + gzip.compress(payload[7:]))
    np.testing.assert_array_equal(read_idx(tmp_path / "two.gz"), np.arange(6))
