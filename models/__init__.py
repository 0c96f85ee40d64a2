"""Models, layers, optimisers, data and training built on tape.

Read in this order: `nn.py` (layers, MLP), `optim.py`, `schedules.py`, `training.py`
(the loop), `twolayer.py` (the command). Experiments of many runs: `searchspace.py`
(what varies), `trials.py` (one trial, a worker), `studies.py` (storage, processes),
`results.py` (tables), then the commands `search.py` and `compare.py`.
"""
