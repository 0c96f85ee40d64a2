"""Two workers of one study on a real PostgreSQL server (a throwaway cluster on 127.0.0.1),
as two machines would share a study: `--storage postgresql://...` on each."""

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from models.experiments.studies import open_storage
from tests.fake_data import write_data_dir

ROOT = Path(__file__).resolve().parents[2]
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
needs_postgres = pytest.mark.skipif(
    not BIN, reason="PostgreSQL is not installed (apt-get install postgresql): its "
                    "initdb and pg_ctl start a throwaway server for this test")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres_user(args, **kw):
    """PostgreSQL refuses to run as root: run its tools as `nobody` when we are root."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "nobody", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


@pytest.fixture
def postgres():
    bin_dir = Path(BIN[-1]).parent
    home = Path(tempfile.mkdtemp(prefix="tape-pg-"))
    data, sockets = home / "data", home / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(home, "nobody")
        shutil.chown(sockets, "nobody")
    os.chmod(home, 0o755)
    port = free_port()
    as_postgres_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                      "--auth=trust", "--no-sync"])
    as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w",
                      "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 "
                            f"-c fsync=off", "start"])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                          "stop"])
        shutil.rmtree(home, ignore_errors=True)


@needs_postgres
def test_two_workers_on_two_commands_share_one_study_on_postgresql(postgres, tmp_path):
    data_dir = write_data_dir(tmp_path / "data")
    args = ["--data-dir", str(data_dir), "--no-download", "--val-size", "100",
            "--hidden", "16", "--epochs", "5", "--no-progress", "--no-plots",
            "--grid", "lr=0.05,0.1,0.2", "l2=0,0.001", "--study", "shared",
            "--storage", postgres]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # two commands, two folders: as if on two machines sharing only the database
    workers = [subprocess.Popen([sys.executable, "-m", "models.search", *args,
                                 "--out", str(tmp_path / f"machine{k}")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for k in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for w, (out, err) in zip(workers, outputs):
        assert w.returncode == 0, err

    study = optuna.load_study(study_name="shared", storage=open_storage(postgres))
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    configurations = sorted({(t.params["lr"], t.params["l2"]) for t in done})
    assert configurations == [(lr, l2) for lr in (0.05, 0.1, 0.2) for l2 in (0, 0.001)]
    # Every grid point is done. Two machines share only the database, and Optuna's
    # GridSampler does not lock across processes: two workers asking at the same instant
    # can both take one point (the claim lock covers one machine's workers only), so a
    # point may be run twice, never skipped.
    assert len(study.trials) >= 6
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert len({t.user_attrs["worker"]["pid"] for t in done}) == 2
    # both commands report every trial of the shared study
    for out, _ in outputs:
        assert re.search(r"all \d+ trials", out)
