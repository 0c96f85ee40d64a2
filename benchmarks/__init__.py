"""Speed benchmarks: the tape against hand-written numpy, PyTorch, HIPS autograd, micrograd.

Run `python -m benchmarks.run`; not part of the test suite (timings on shared machines
are noisy, so results are ratios measured in one run, medians over repetitions).

- `backends.py`   the same training step for each backend
- `trainer.py`    some backends trained in one process, interleaved, every step timed
- `flops.py`      the machine's peak matmul speed and the FLOP bound of an epoch
- `per_op.py`     the tape's cost per recorded operation
- `lean.py`       a lean eager tape with no checks: the measuring stick of `engine.py`
- `engine.py`     what the tape's bookkeeping costs: one op, a long chain, make_moons, the two-layer step
- `moons.py`      the make_moons step, micrograd's demo, on every backend
- `measure.py`    median timings, peak memory
- `run.py`        all of it, in rounds: one table, one JSON file
- `cnn.py`        the CNN of models.cnn against PyTorch; each convolution alone; memory
- `search_jobs.py` trials per hour of `models.search --jobs 2` against `--jobs 1`
"""
