"""Without a network, asking for MNIST says in one line what to do instead."""

import pytest

from models.data import datasets
from models.data.download import DownloadError

# RFC 2606: names under .invalid never resolve, so these mirrors fail as a machine without
# a network does (a failed name lookup), and nothing is ever downloaded
UNRESOLVABLE = ["http://mnist-mirror-one.invalid/", "http://mnist-mirror-two.invalid/"]


def test_offline_mnist_is_one_line_naming_fashion_mnist_and_the_folder(tmp_path):
    with pytest.raises(DownloadError) as error:
        datasets.load_dataset("mnist", data_dir=tmp_path, mirrors=UNRESOLVABLE)
    message = str(error.value)
    assert "\n" not in message and error.value.offline
    assert message.startswith("could not download mnist: no network")
    assert "--dataset fashion-mnist" in message
    assert str(tmp_path / "mnist") in message and "t10k-labels-idx1-ubyte.gz" in message
    assert ".invalid" not in message                      # no per-mirror lookup errors
    assert len(error.value.failures) == 2


def test_the_training_command_prints_that_line_alone_and_exits_2(tmp_path, monkeypatch, capsys):
    from models import twolayer
    monkeypatch.setitem(datasets.MIRRORS, "mnist", UNRESOLVABLE)
    code = twolayer.main(["--data-dir", str(tmp_path), "--epochs", "1", "--no-progress",
                          "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: could not download mnist: no network")
    assert "--dataset fashion-mnist" in captured.err
