"""Speed benchmarks: the tape against hand-written numpy, PyTorch, HIPS autograd, micrograd.

Run `python -m benchmarks.run`; not part of the test suite (timings on shared machines
are noisy, so results are ratios measured in one run, medians over repetitions).
"""
