"""Checkpoints: arrays + JSON, atomic, and never unpickled."""

import os

import numpy as np
import pytest

from models.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_save_then_load_gives_back_arrays_and_config(tmp_path):
    arrays = {"W1": np.arange(6, dtype=np.float32).reshape(2, 3), "b1": np.zeros(3)}
    save_checkpoint(tmp_path / "m.npz", arrays, {"hidden": [3], "lr": 0.1})
    loaded, config = load_checkpoint(tmp_path / "m.npz")
    assert config == {"hidden": [3], "lr": 0.1}
    for k in arrays:
        np.testing.assert_array_equal(loaded[k], arrays[k])
        assert loaded[k].dtype == arrays[k].dtype


def test_checkpoint_with_a_pickled_object_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, W1=np.array([{"payload": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled"):
        load_checkpoint(path)


def test_truncated_or_foreign_files_get_a_clear_error(tmp_path):
    good = tmp_path / "m.npz"
    save_checkpoint(good, {"W1": np.ones((50, 50))}, {})
    truncated = tmp_path / "t.npz"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="not a valid"):
        load_checkpoint(truncated)
    other = tmp_path / "notes.npz"
    other.write_text("hello")
    with pytest.raises(CheckpointError, match="not a .npz checkpoint"):
        load_checkpoint(other)
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(CheckpointError, match="not a .npz checkpoint"):
        load_checkpoint(tmp_path / "single.npy")


def test_a_crash_mid_write_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_checkpoint(path, {"W1": np.ones(3)}, {"version": 1})

    def crash_halfway(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"W1": np.zeros(3)}, {"version": 2})
    monkeypatch.undo()
    loaded, config = load_checkpoint(path)
    assert config == {"version": 1} and loaded["W1"].sum() == 3
    assert os.listdir(tmp_path) == ["m.npz"]


def test_object_arrays_are_not_saved(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        save_checkpoint(tmp_path / "m.npz", {"x": np.array([None])}, {})
