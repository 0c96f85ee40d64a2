"""Experiments of many training runs: `python -m models.search` and `models.compare`.

Read `searchspace.py` (what an experiment varies), `training_commands.py` (the commands a
trial can run), `trials.py` (one trial, its outcomes), `claims.py` (the grid queued once, trials
claimed, dead workers' trials queued again; the worker loop), `processes.py` (which worker
process is alive, from /proc), `studies.py` (where a study lives, the `--jobs N`
workers), `worker.py` (one worker process), `results.py` (the tables), then `cli.py`
(what search and compare share).
"""
