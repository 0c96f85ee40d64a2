"""`python -m viz.redraw RUN_DIR`: a saved run's figures drawn again — each layer's
weights as images, weight histograms and heatmaps from model.npz, and for a run
directory curves.png and stats.png from metrics.json, history.npz and stats.npz."""

import json
from pathlib import Path

from models.data.datasets import CLASS_NAMES
from models.io.errors import OneLineParser, UsageError, one_line, run_command
from models.train.config import Config, build_model as build_mlp
from models.train.checkpoint import load_checkpoint
from models.train.monitor import load_arrays
from viz.plots import draw_model_figures, plot_learning_curves
from viz.stats_figure import plot_layer_statistics


def parser():
    p = OneLineParser(
        prog="python -m viz.redraw",
        description="Draw a saved model's weights: each layer's weights as images (class "
                    "names on the last layer), weight and bias histograms, heatmaps of "
                    "each weight matrix; for a run directory also curves.png and stats.png.")
    p.add_argument("source", metavar="RUN_DIR_OR_MODEL.npz",
                   help="a run directory of models.twolayer (its model.npz) or a model .npz")
    p.add_argument("--out", metavar="DIR",
                   help="where to write the PNGs (default: a folder 'redraw' beside the "
                        "model, so the run's own curves.png and stats.png are never "
                        "overwritten)")
    p.add_argument("--units", type=int, default=32, metavar="N",
                   help="how many first-layer units to draw as images (0: all of them, in "
                        "order)")
    p.add_argument("--minus-initial", action="store_true",
                   help="draw the first layer as W − W₀, what training changed (W₀ rebuilt "
                        "from the saved config's seed), instead of the raw weights")
    return p


def main(argv=None):
    """Exit code: 0, or 2 with one line on stderr for a missing or unreadable input."""
    p = parser()
    args = p.parse_args(argv)
    if args.units < 0:
        p.error(f"--units must be a number of units ≥ 0 (0: all), got {args.units}")

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
        config = saved.get("config")
        dataset = config.get("dataset") if isinstance(config, dict) else None
        out = Path(args.out) if args.out else model_path.parent / "redraw"
        initial = initial_parameters(model_path, params, saved) if args.minus_initial else None
        try:
            written = draw_model_figures(params, out, CLASS_NAMES.get(dataset)
                                         if isinstance(dataset, str) else None,
                                         units=args.units, initial=initial)
        except (ValueError, KeyError) as e:
            raise UsageError(f"{model_path}: cannot draw it: {e}") from None
        if run_dir:
            written += _draw_run_figures(run_dir, out)
        for path in written:
            print(path)
        return 0

    return run_command(draw)


def initial_parameters(model_path, params, saved):
    """The first layer's matrix at initialisation: the MLP built again from the saved
    config, whose seed drew the initial weights (models.twolayer's model)."""
    try:
        config = Config(**saved["config"])
        n_inputs, n_classes = params["W1"].shape[0], params[f"W{len(config.hidden) + 1}"].shape[1]
    except (KeyError, TypeError):
        raise UsageError(f"{model_path}: --minus-initial needs a model saved by "
                         f"models.twolayer (its config rebuilds W1 at initialisation)") from None
    return {"W1": build_mlp(config, n_inputs, n_classes).layers[0].W.data}


def _draw_run_figures(run_dir, out):
    """curves.png and stats.png again, from metrics.json, history.npz and stats.npz."""
    written = []
    if not (run_dir / "metrics.json").is_file():
        return written
    metrics = _read_metrics(run_dir / "metrics.json")
    config = metrics.get("config") if isinstance(metrics.get("config"), dict) else {}
    title = f"{config.get('dataset', '')}: hidden {config.get('hidden', '')}"
    history_file = run_dir / "history.npz"
    if history_file.is_file():
        history = _damaged_if(history_file, load_arrays, "steps_per_epoch", "loss")
        steps = int(history["steps_per_epoch"])
        evaluations = {k.split("/", 1)[1]: v for k, v in history.items() if k.startswith("eval/")}
        plot_learning_curves(metrics["history"], path=out / "curves.png", title=title,
                             iterations=history["loss"], steps_per_epoch=steps,
                             evaluations=evaluations or None,
                             epoch_0=metrics.get("epoch_0"))
        written.append(out / "curves.png")
        if (run_dir / "stats.npz").is_file():
            plot_layer_statistics(_damaged_if(run_dir / "stats.npz", load_arrays), steps,
                                  path=out / "stats.png", title=title)
            written.append(out / "stats.png")
    return written


FIX = "delete it to draw the other figures without it, or train the run again to rewrite it"


def _damaged_if(path, read, *needed):
    """read(path), refused in one line naming the file and the fix if it is damaged."""
    try:
        content = read(path)
    except ValueError as e:           # DamagedFile, or JSON that does not parse
        raise UsageError(f"{one_line(e) if path.name in str(e) else f'{path} is damaged ({one_line(e)})'}; "
                         f"{FIX}") from None
    missing = [name for name in needed if name not in content]
    if missing:
        raise UsageError(f"{path} is damaged (it lacks {', '.join(missing)}); {FIX}")
    return content


def _read_metrics(path):
    metrics = _damaged_if(path, lambda p: json.loads(p.read_text()))
    if not isinstance(metrics, dict) or not isinstance(metrics.get("history"), list):
        raise UsageError(f"{path} is damaged (it holds no per-epoch history); "
                         f"{FIX}")
    return metrics


if __name__ == "__main__":
    raise SystemExit(main())
