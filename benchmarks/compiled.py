"""`python -m benchmarks.compiled`: tape.compile's replay against hand-written numpy.

Three training steps, each contestant timed in turn in this one process (short blocks of
steps, interleaved, round after round; the ratio of two contestants is taken within a
round and the median over rounds reported, so that both see the same machine):

1. make_moons (benchmarks/moons.py: 2-16-16-1, full batch of 100, float64, SGD): the
   hand-written numpy step, the compiled tape, the eager tape, PyTorch on one thread.
2. The two-layer net 784-256-10 at batch 128 (benchmarks/backends.py: float32, SGD with
   momentum): models/manual/formulas.py's hand-written step, the compiled tape, the eager tape,
   and JAX's jit of the whole step if JAX is installed (it is not a dependency).
3. The CNN (report 003's net, benchmarks/cnn.py's, batch 64, Adam): compiled against eager.

Also: the tracing cost (the first call: trace, generate, check against the tape) of the
moons and two-layer steps, and how often each compiled step traced.
"""

import argparse
import os
import time

import numpy as np

import tape
from models.io.errors import OneLineParser
from models.io.files import write_json
from models.nn import CNN, MLP
from models.optim import SGD, Adam

from . import backends, moons


def interleaved(contestants, baseline, rounds=15, block=None):
    """{name: median over rounds of (seconds per step) / (baseline's seconds per step)}
    and {name: median seconds per step}, every contestant run for `block` steps per round."""
    if block is None:                     # about 20 ms of the baseline per block
        started, n = time.perf_counter(), 0
        while time.perf_counter() - started < 0.02:
            contestants[baseline]()
            n += 1
        block = max(1, n)
    times = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, step in contestants.items():
            started = time.perf_counter()
            for _ in range(block):
                step()
            times[name].append((time.perf_counter() - started) / block)
    ratios = {name: float(np.median([t / b for t, b in zip(ts, times[baseline])]))
              for name, ts in times.items()}
    return ratios, {name: float(np.median(ts)) for name, ts in times.items()}


# ---- 1. make_moons ------------------------------------------------------------------------

def moons_loss(params):
    """The moons loss of benchmarks/moons.py, as a function of the data (the parameters are
    a Module-like list: tape.compile(loss, parameters=params))."""
    W1, b1, W2, b2, W3, b3 = params

    def loss(X, ys):
        h = tape.relu(tape.linear(X, W1, b1))
        h = tape.relu(tape.linear(h, W2, b2))
        s = tape.linear(h, W3, b3)
        return tape.relu(1 - ys * s).mean() + moons.ALPHA * sum((p * p).sum() for p in params)
    return loss


def replaying(loss, parameters, optimizer):
    """A training step that replays the compiled loss: zero_grad, the replay (which adds
    the gradients into p.grad), the optimiser's update; it returns the loss."""
    compiled = tape.compile(loss, parameters=parameters)

    def step(*batch):
        optimizer.zero_grad()
        value = compiled(*batch)
        optimizer.step()
        return float(value)
    step.compiled = compiled
    return step


def moons_compiled_step(init, X, ys):
    names = ("W1", "b1", "W2", "b2", "W3", "b3")
    params = [tape.tensor(p.copy(), requires_grad=True, name=n) for p, n in zip(init, names)]
    step = replaying(moons_loss(params), params, SGD(params, lr=moons.LR))

    def on_the_data():
        return step(X, ys)
    on_the_data.compiled = step.compiled
    return on_the_data


def torch_one_thread_step(init, X, ys):
    import torch                           # only for this comparison, never a dependency
    torch.set_num_threads(1)
    return moons.torch_step(init, X, ys)


def moons_benchmark(rounds):
    X, ys = moons.moons_data()
    init = moons.initial_params()
    steps = {"numpy": moons.numpy_step(init, X, ys),
             "compiled": moons_compiled_step(init, X, ys),
             "tape": moons.tape_step(init, X, ys)}
    if moons.installed("pytorch"):
        steps["pytorch (1 thread)"] = torch_one_thread_step(init, X, ys)
    losses = {name: [step() for _ in range(3)] for name, step in steps.items()}
    compiled = steps["compiled"].compiled
    ratios, seconds = interleaved(steps, "numpy", rounds)
    return {"ratios": ratios, "ms_per_step": {k: v * 1e3 for k, v in seconds.items()},
            "first_losses": losses, "trace_ms": compiled.trace_seconds[0] * 1e3,
            "traces": compiled.traces}


# ---- 2. the two-layer net --------------------------------------------------------------------

def mlp_batches(batch_size, count=8, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random((batch_size, 784), dtype=np.float32), rng.integers(0, 10, batch_size))
            for _ in range(count)]


def mlp_compiled(params):
    model = MLP([784, 256, 10])
    model.load_state_dict(params)
    optimizer = SGD(model.parameters(), lr=backends.LR, momentum=backends.MOMENTUM)
    return replaying(lambda x, y: tape.cross_entropy(model(x), y), model, optimizer)


def jax_mlp_step(params):
    """The whole step, forward, gradient and momentum update, under one jax.jit."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax                             # only for this comparison, never a dependency
    import jax.numpy as jnp

    def loss(p, x, y):
        z = jnp.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
        return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(len(y)), y])

    @jax.jit
    def update(p, v, x, y):
        value, g = jax.value_and_grad(loss)(p, x, y)
        v = {k: backends.MOMENTUM * v[k] - backends.LR * g[k] for k in p}
        return {k: p[k] + v[k] for k in p}, v, value

    state = {"p": {k: jnp.asarray(a) for k, a in params.items()},
             "v": {k: jnp.zeros_like(jnp.asarray(a)) for k, a in params.items()}}

    def step(x, y):
        state["p"], state["v"], value = update(state["p"], state["v"], x, y)
        return float(value.block_until_ready())
    return step


def mlp_benchmark(batch_size, rounds, with_jax):
    params = backends.initial_params()
    data = mlp_batches(batch_size)
    numpy_net = backends.NumpyBackend(params)
    eager = backends.TapeBackend(params)
    compiled = mlp_compiled(params)
    makers = {"numpy": numpy_net.step, "compiled": compiled, "tape": eager.step}
    if with_jax:
        makers["jax.jit"] = jax_mlp_step(params)
    losses = {name: [step(*data[i]) for i in range(3)] for name, step in makers.items()}
    counters = {name: 0 for name in makers}

    def cycling(name, step):
        def one():
            counters[name] += 1
            return step(*data[counters[name] % len(data)])
        return one
    steps = {name: cycling(name, step) for name, step in makers.items()}
    ratios, seconds = interleaved(steps, "numpy", rounds)
    return {"ratios": ratios, "ms_per_step": {k: v * 1e3 for k, v in seconds.items()},
            "first_losses": losses, "trace_ms": compiled.compiled.trace_seconds[0] * 1e3,
            "traces": compiled.compiled.traces}


# ---- 3. the CNN ---------------------------------------------------------------------------------

def cnn_benchmark(batch_size, rounds):
    rng = np.random.default_rng(0)
    data = [(rng.random((batch_size, 1, 28, 28), dtype=np.float32),
             rng.integers(0, 10, batch_size)) for _ in range(2)]
    state = CNN().state_dict()
    nets = {}
    for name in ("eager", "compiled"):
        model = CNN()
        model.load_state_dict(state)
        optimizer = Adam(model.parameters(), lr=1e-3)
        loss_fn = lambda x, y, model=model: tape.cross_entropy(model(x), y)
        compiled = tape.compile(loss_fn, parameters=model) if name == "compiled" else None

        def step(i=[0], model=model, optimizer=optimizer, loss_fn=loss_fn, compiled=compiled):
            i[0] += 1
            x, y = data[i[0] % 2]
            optimizer.zero_grad()
            if compiled is None:
                loss = loss_fn(x, y)
                loss.backward()
                value = float(loss.data)
            else:
                value = float(compiled(x, y))
            optimizer.step()
            return value
        nets[name] = step
    losses = {name: [step() for _ in range(2)] for name, step in nets.items()}
    ratios, seconds = interleaved(nets, "eager", rounds, block=1)
    return {"ratios": ratios, "ms_per_step": {k: v * 1e3 for k, v in seconds.items()},
            "first_losses": losses}


# ---- the command ------------------------------------------------------------------------------------

def parser():
    p = OneLineParser(prog="python -m benchmarks.compiled", description=__doc__,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=15, help="interleaved rounds per benchmark")
    p.add_argument("--cnn-rounds", type=int, default=7, help="rounds (one step each) of the CNN")
    p.add_argument("--skip", nargs="*", default=[], choices=("moons", "mlp", "cnn"),
                   help="benchmarks to leave out")
    p.add_argument("--no-jax", action="store_true", help="leave JAX out even if installed")
    p.add_argument("--json", help="also write the results to this file")
    return p


def _has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def table(title, result, baseline):
    lines = [title, f"  {'':24} {'ms/step':>9} {'× ' + baseline:>11}"]
    for name, ratio in result["ratios"].items():
        lines.append(f"  {name:24} {result['ms_per_step'][name]:9.3f} {ratio:11.2f}")
    if "trace_ms" in result:
        lines.append(f"  tracing (first call: trace, generate, check): {result['trace_ms']:.1f} ms; "
                     f"traces: {result['traces']}")
    return "\n".join(lines)


def main(argv=None):
    args = parser().parse_args(argv)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; medians over rounds, "
          f"ratios within a round")
    results = {"load": load}
    if "moons" not in args.skip:
        results["moons"] = moons_benchmark(args.rounds)
        print(table("make_moons step (2-16-16-1, batch 100, float64, SGD)", results["moons"],
                    "numpy"))
    if "mlp" not in args.skip:
        results["mlp"] = mlp_benchmark(128, args.rounds,
                                       with_jax=not args.no_jax and _has("jax"))
        print(table("two-layer step (784-256-10, batch 128, float32, SGD momentum)",
                    results["mlp"], "numpy"))
    if "cnn" not in args.skip:
        results["cnn"] = cnn_benchmark(64, args.cnn_rounds)
        print(table("CNN step (report 003's net, batch 64, Adam)", results["cnn"], "eager"))
    if args.json:
        write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
