"""The training command every model family shares (`python -m models.twolayer`, `models.cnn`).

Read `command.py` (`main`: parse, check, train or test; a model family is a `Family`),
then `flags.py` (the flags and their validation), `members.py` (what a checkpoint must
hold), `figures.py` (the pictures a run draws) and `rundir.py` (where a run writes).
"""
