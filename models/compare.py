"""`python -m models.compare`: the same training with one or two things varied, side by side.

    python -m models.compare --vary activation=relu,sigmoid,tanh,hardtanh --epochs 10
    python -m models.compare --vary hidden=600,600x400,600x400x200,600x400x200x100
    python -m models.compare --vary optimizer=adam,adagrad --vary activation=relu,tanh

Every configuration is trained and tested (the course reports' tables show test loss
and accuracy per row); the learning curves of all of them are drawn in one figure.
It runs on the same trial runner as `models.search`: same storage, resumable, --jobs.
"""

import itertools
import sys

from models.experiments import results
from models.experiments.cli import (UsageError, add_study_flags, build_parser, check_experiment,
                             main_guard, model_name, searchable, start)
from models.experiments.searchspace import parse_params
from models.experiments.training_commands import TrainingCommand
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
    add_study_flags(p, "compare")
    command.add_training_flags(p)
    return p


def experiment_from(args, argv, command):
    if not args.vary:
        raise UsageError("nothing to compare: give --vary NAME=V1,V2,... (once or twice)")
    if len(args.vary) > 2:
        raise UsageError(f"--vary is given {len(args.vary)} times; compare one or two "
                         f"things at once (use models.search for more)")
    params = parse_params(args.vary, searchable(command), "--vary")
    fixed = check_experiment(command, args, argv, params, "--vary")
    return Experiment(command, fixed, params, "grid", test_each=True,
                      keep_models=args.keep_models,
                      data={"data_dir": args.data_dir, "download": not args.no_download})


def in_given_order(rows, params):
    """The configurations in the order the values were listed (then by trial number)."""
    order = {combo: k for k, combo in enumerate(itertools.product(*(p.values for p in params)))}
    def key(row):
        combo = tuple(row["params"][p.name] for p in params)
        return (order.get(combo, len(order)), row["trial"])
    return sorted(rows, key=key)


def report(study, experiment, args, codes):
    from viz.experiments import plot_curves_overlay  # start-up: matplotlib loads only when a figure is drawn
    params, out = experiment.params, experiment.out
    rows = in_given_order(results.trial_rows(study, params), params)
    table = results.compare_table(rows, params)
    print()
    print(table)
    results.write_csv(out / "results.csv", rows, params)
    results.write_text(out / "results.md",
                       f"# Compare {study.study_name}\n\n"
                       + results.compare_table(rows, params, markdown=True) + "\n")
    if not args.no_plots:
        runs = [(results.config_text(params, r["params"]), r["history"]) for r in rows
                if r["history"]]
        fixed = experiment.fixed
        if runs:
            plot_curves_overlay(runs, path=out / "curves.png",
                                title=f"{fixed.get('dataset')}: learning curves by "
                                      f"{' and '.join(p.name for p in params)}")
    print(f"\nwritten: {out / 'results.md'}, {out / 'results.csv'}"
          + ("" if args.no_plots else f", {out / 'curves.png'}"))
    return 0 if all(c == 0 for c in codes) else 1


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
