"""Training one model: the configuration, the loop, what watches it, what it saves.

Read `loop.py` first (`Config`, `Run.fit`, `train_epoch`: the loop on one screen), then
`callbacks.py` (the hooks the loop calls), `monitor.py` (log lines, periodic evaluation,
from the flags), `layer_statistics.py` (each parameter's statistics), `tensorboard.py`
(an optional extra), `checkpoint.py` (arrays and a JSON config, never pickle) and
`allocator.py` (freed memory kept for the next step), `compiled.py` (`--compile`: the
step traced once by tape.compile and replayed as numpy).
"""
