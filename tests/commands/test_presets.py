"""`--preset reportNNN`: a report's whole recipe, printed in full, overridable flag by flag."""

import json

import pytest

from models import cnn, twolayer
from models.cli.presets import PRESETS
from tests.fake_data import write_dataset


@pytest.fixture
def data_dir(tmp_path):
    write_dataset(tmp_path / "data", "fashion-mnist")
    return tmp_path / "data"


def run(data_dir, out, *more):
    return twolayer.main(["--preset", "report001", "--data-dir", str(data_dir), "--no-download",
                          "--val-size", "100", "--epochs", "1", "--no-progress", "--no-plots",
                          "--out", str(out), *more])


def test_report001_sets_the_whole_recipe_and_prints_it_before_running(data_dir, tmp_path, capsys):
    assert run(data_dir, tmp_path / "run") == 0
    out = capsys.readouterr().out
    recipe = out.splitlines()[1]
    assert recipe.split() == ("--dataset fashion-mnist --hidden 600 400 --activation relu "
                              "--optimizer momentum_damped --lr 0.01 --momentum 0.8 --schedule "
                              "constant --l2 0 --batch-size 500 --epochs 500").split()
    assert out.index("preset report001") < out.index("run directory")
    config = json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]
    assert config["hidden"] == [600, 400] and config["optimizer"] == "momentum_damped"
    assert config["schedule"] == "constant" and config["l2"] == 0 and config["batch_size"] == 500
    assert config["lr"] == 0.01 and config["momentum"] == 0.8


def test_a_flag_given_overrides_the_preset_and_says_so(data_dir, tmp_path, capsys):
    assert run(data_dir, tmp_path / "run", "--batch-size", "100") == 0
    out = capsys.readouterr().out
    assert "--batch-size 100 given: overrides the preset's 500" in out
    assert "--epochs 1 given: overrides the preset's 500" in out
    config = json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]
    assert config["batch_size"] == 100 and config["epochs"] == 1 and config["val_size"] == 100


def test_report004_is_cs231ns_solver_recipe():
    flags = PRESETS["report004"].flags
    assert flags["hidden"] == [25] and flags["init"] == "gaussian"
    assert flags["optimizer"] == "sgd" and flags["batch_size"] == 200 and flags["epochs"] == 10
    assert flags["val_size"] == 5000 and flags["schedule"] == "constant" and flags["l2"] == 0


def test_a_preset_with_test_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        twolayer.main(["--preset", "report001", "--test", str(tmp_path / "model.npz")])
    assert exit.value.code == 2
    assert "--test and --resume read the saved one" in capsys.readouterr().err


def test_the_cnn_has_no_twolayer_preset(capsys):
    with pytest.raises(SystemExit) as exit:
        cnn.main(["--preset", "report001"])
    assert exit.value.code == 2
