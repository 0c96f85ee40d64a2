"""Models, layers, optimisers, data and training built on tape.

The packages, each importing only the ones above it (tests/docs/test_layering.py checks):

    io/           errors in one line, files written atomically
    nn/           Module, layers, MLP, CNN              optim/   optimisers, schedules
    manual/       the cs231n-style hand backward         data/    MNIST, IDX, download
    train/        the loop, callbacks, monitoring, checkpoints
    (viz/, outside models: the figures)
    cli/          the training command all model families share
    experiments/  search spaces, trials, workers, studies, results
    twolayer.py, cnn.py, toy.py, search.py, compare.py: the commands (`python -m models.X`)

Read in this order: `nn`, `optim`, `train/loop.py`, `twolayer.py`, then `cli`; for many
runs, `experiments` and `search.py`.
"""
