"""`python -m models.compare`: the same training with one or two things varied, side by side.

    python -m models.compare --vary activation=relu,sigmoid,tanh,hardtanh --epochs 10
    python -m models.compare --vary hidden=600,600x400,600x400x200,600x400x200x100
    python -m models.compare --vary optimizer=adam,adagrad --vary activation=relu,tanh
    python -m models.compare --model cnn --config activation=relu,optimizer=adam \
        --config activation=tanh,optimizer=adagrad --eval-every 100 --eval-test --tensorboard

--vary runs every combination; --config (repeatable, or --config-file with one per line)
runs the chosen configurations only. The watching flags of the training commands
(--log-every, --eval-every, --eval-test, --stats-every, --tensorboard) apply to every
configuration: each trial folder keeps its history.npz and stats.npz, the TensorBoard
runs sit side by side in <out>/tensorboard/, and watched.png and layers.png compare them.
Every configuration is trained and tested (the course reports' tables show test loss
and accuracy per row); the learning curves of all of them are drawn in one figure.
It runs on the same trial runner as `models.search`: same storage, resumable, --jobs.
"""

import itertools
import sys
from dataclasses import fields

from models.cli.flags import add_monitoring_flags, check_monitoring_flags, monitoring_from
from models.experiments import results
from models.experiments.cli import (UsageError, add_study_flags, build_parser, check_experiment,
                                    keep_best_model, main_guard, model_name, searchable, start)
from models.experiments.searchspace import config_lines, config_param, parse_params
from models.train.monitor import Monitoring, load_arrays
from models.experiments.training_commands import COMMANDS, TrainingCommand
from models.experiments.trials import Experiment


def parser(command):
    p = build_parser("python -m models.compare",
                     "Train one configuration per value (or pair of values) of one or two\n"
                     "training flags, test each, and compare them in one table and one\n"
                     "figure of learning curves.",
                     epilog="example (report 001's activation table):\n  python -m "
                            "models.compare --dataset fashion-mnist --hidden 600 400 "
                            "--vary activation=relu,sigmoid,tanh,hardtanh")
    v = p.add_argument_group("what to compare")
    v.add_argument("--vary", action="append", metavar="NAME=V1,V2,...",
                   help="a training flag and the values to compare; give --vary twice for "
                        "every combination of two flags")
    v.add_argument("--config", action="append", metavar="NAME=V,NAME=V,...",
                   help="one chosen configuration (repeat it for each one to compare), "
                        "e.g. activation=relu,optimizer=adam; list flags as 600x400")
    v.add_argument("--config-file", metavar="FILE",
                   help="chosen configurations, one per line as for --config (# comments)")
    add_study_flags(p, "compare")
    command.add_training_flags(p)
    add_monitoring_flags(p)
    return p


def chosen_params(args, command):
    """The varied parameters: --vary's one or two flags, or the --config list as one."""
    configs = list(args.config or [])
    if args.config_file:
        configs += config_lines(args.config_file)
    if configs and args.vary:
        raise UsageError("--vary compares every combination and --config chosen ones; "
                         "give one of them")
    if configs:
        return [config_param(configs, searchable(command))], "--config"
    if not args.vary:
        raise UsageError("nothing to compare: give --vary NAME=V1,V2,... (once or twice) or "
                         "--config NAME=V,NAME=V,... (once per configuration)")
    if len(args.vary) > 2:
        raise UsageError(f"--vary is given {len(args.vary)} times; compare one or two "
                         f"things at once (use models.search for more)")
    return parse_params(args.vary, searchable(command), "--vary"), "--vary"


def watching(args):
    """The watching flags as Monitoring fields, or None when none is given."""
    settings = monitoring_from(args)
    if settings == Monitoring():
        return None
    return {f.name: getattr(settings, f.name) for f in fields(Monitoring)}


def refuse(message):
    raise UsageError(message)


def experiment_from(args, argv, command):
    params, option = chosen_params(args, command)
    check_monitoring_flags(args, refuse)
    fixed = check_experiment(command, args, argv, params, option)
    return Experiment(command, fixed, params, "grid", test_each=True,
                      keep_models=args.keep_models,
                      data={"data_dir": args.data_dir, "download": not args.no_download},
                      monitoring=watching(args))


def in_given_order(rows, params):
    """The configurations in the order the values were listed (then by trial number)."""
    order = {combo: k for k, combo in enumerate(itertools.product(*(p.values for p in params)))}
    def key(row):
        combo = tuple(row["params"][p.name] for p in params)
        return (order.get(combo, len(order)), row["trial"])
    return sorted(rows, key=key)


def report(study, experiment, args, codes):
    params, out = experiment.params, experiment.out
    rows = in_given_order(results.trial_rows(study, params), params)
    folder = lambda r: experiment.trial_dir(r["trial"]).relative_to(out)   # noqa: E731
    table = results.compare_table(rows, params, folder=folder)
    print()
    print(table)
    results.write_csv(out / "results.csv", rows, params)
    results.write_text(out / "results.md",
                       f"# Compare {study.study_name}\n\n"
                       + results.compare_table(rows, params, markdown=True, folder=folder)
                       + "\n")
    written = [out / "results.md", out / "results.csv"]
    ranked = results.rank(results.ranked_results(rows))
    if ranked:
        best = ranked[0]
        model = keep_best_model(experiment, best, rows)
        print(f"\nbest validation accuracy: trial {best['trial']} "
              f"({results.config_text(params, best['params'])}); its model: {model}\n"
              f"test it: python -m {COMMANDS[experiment.command.name]} --test {model}")
        if experiment.keep_models:
            print(f"every configuration's best epoch: {out / 'trials'}/NNNN/model.npz")
    if not args.no_plots:
        written += draw(experiment, rows, params, out)
    print(f"\nwritten: {', '.join(map(str, written))}")
    if experiment.monitoring and experiment.monitoring.get("tensorboard"):
        print(f"side by side in TensorBoard: tensorboard --logdir {out / 'tensorboard'}")
    return 0 if all(c == 0 for c in codes) else 1


def draw(experiment, rows, params, out):
    """curves.png (per epoch), and with watching flags watched.png and layers.png."""
    from viz.comparison import WatchedRun, plot_layer_comparison, plot_watched_runs  # start-up: matplotlib loads only when a figure is drawn
    from viz.experiments import plot_curves_overlay  # start-up: as above
    what = ("the chosen configurations" if params[0].kind == "config"
            else " and ".join(p.name for p in params))
    title = f"{experiment.fixed.get('dataset')}, {experiment.command.name}: {what} compared"
    runs = [(results.config_text(params, r["params"]), r["history"]) for r in rows
            if r["history"]]
    written = []
    if runs:
        plot_curves_overlay(runs, path=out / "curves.png", title=title)
        written.append(out / "curves.png")
    if not experiment.monitoring:
        return written
    watched, missing = [], []
    for r in rows:
        folder = experiment.trial_dir(r["trial"])
        if not r["history"] or not (folder / "history.npz").is_file():
            missing.append(f"trial {r['trial']}: {results.config_text(params, r['params'])}: "
                           f"{r['outcome']}, nothing to draw")
            continue
        stats = load_arrays(folder / "stats.npz") if (folder / "stats.npz").is_file() else {}
        label = f"trial {r['trial']}: {results.config_text(params, r['params'])}"
        watched.append(WatchedRun(label, r["history"], load_arrays(folder / "history.npz"),
                                  stats))
    if watched:
        plot_watched_runs(watched, path=out / "watched.png", title=title, missing=missing)
        written.append(out / "watched.png")
        if any(len(w.stats.get("iteration", ())) for w in watched):
            plot_layer_comparison(watched, path=out / "layers.png",
                                  title=f"{title}: layer statistics")
            written.append(out / "layers.png")
    return written


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)

    def body(argv):
        command = TrainingCommand(model_name(argv))
        args = parser(command).parse_args(argv)
        experiment = experiment_from(args, argv, command)
        study, codes = start(args, experiment, "compare")
        return report(study, experiment, args, codes)

    return main_guard(body, argv)


if __name__ == "__main__":
    sys.exit(main())
