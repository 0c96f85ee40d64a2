"""`python -m viz.redraw RUN_DIR`: a saved run's figures drawn again — each layer's
weights as images, weight histograms and heatmaps from model.npz, and for a run
directory curves.png and stats.png from metrics.json, history.npz and stats.npz."""

import argparse
import json
from pathlib import Path

from models.data.datasets import CLASS_NAMES
from models.io.errors import UsageError, run_command
from models.train.checkpoint import load_checkpoint
from models.train.monitor import load_arrays
from viz.plots import draw_model_figures, plot_learning_curves
from viz.stats_figure import plot_layer_statistics


def parser():
    p = argparse.ArgumentParser(
        prog="python -m viz.redraw",
        description="Draw a saved model's weights: each layer's weights as images (class "
                    "names on the last layer), weight and bias histograms, heatmaps of "
                    "each weight matrix; for a run directory also curves.png and stats.png.")
    p.add_argument("source", metavar="RUN_DIR_OR_MODEL.npz",
                   help="a run directory of models.twolayer (its model.npz) or a model .npz")
    p.add_argument("--out", metavar="DIR",
                   help="where to write the PNGs (default: the run directory, or the "
                        "model file's folder)")
    return p


def main(argv=None):
    """Exit code: 0, or 2 with one line on stderr for a missing or unreadable input."""
    args = parser().parse_args(argv)

    def draw(_):
        source = Path(args.source)
        run_dir = source if source.is_dir() else None
        model_path = source / "model.npz" if run_dir else source
        if not source.exists():
            raise UsageError(f"no such file or directory: {source} (give a run directory "
                             f"or a model .npz saved by models.twolayer)")
        if run_dir and not model_path.is_file():
            raise UsageError(f"{run_dir} holds no model.npz: is it a run directory of "
                             f"models.twolayer?")
        params, saved = load_checkpoint(model_path)
        dataset = saved.get("config", {}).get("dataset")
        out = Path(args.out) if args.out else model_path.parent
        try:
            written = draw_model_figures(params, out, CLASS_NAMES.get(dataset))
            if run_dir:
                written += _draw_run_figures(run_dir, out)
        except (ValueError, KeyError) as e:
            raise UsageError(f"{model_path}: cannot draw it: {e}") from None
        for path in written:
            print(path)
        return 0

    return run_command(draw)


def _draw_run_figures(run_dir, out):
    """curves.png and stats.png again, from metrics.json, history.npz and stats.npz."""
    written = []
    if not (run_dir / "metrics.json").is_file():
        return written
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = metrics.get("config", {})
    title = f"{config.get('dataset', '')}: hidden {config.get('hidden', '')}"
    history_file = run_dir / "history.npz"
    if history_file.is_file():
        history = load_arrays(history_file)
        steps = int(history["steps_per_epoch"])
        evaluations = {k.split("/", 1)[1]: v for k, v in history.items() if k.startswith("eval/")}
        plot_learning_curves(metrics["history"], path=out / "curves.png", title=title,
                             iterations=history["loss"], steps_per_epoch=steps,
                             evaluations=evaluations or None)
        written.append(out / "curves.png")
        if (run_dir / "stats.npz").is_file():
            plot_layer_statistics(load_arrays(run_dir / "stats.npz"), steps,
                                  path=out / "stats.png", title=title)
            written.append(out / "stats.png")
    return written


if __name__ == "__main__":
    raise SystemExit(main())
