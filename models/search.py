"""`python -m models.search`: hyperparameter search over the training flags, on Optuna.

    python -m models.search --grid hidden=64,128 lr=0.01,0.1 --epochs 5      # every combination
    python -m models.search --space lr=1e-4:0.1:log l2=1e-5:1e-2:log --trials 30   # TPE
    python -m models.search ... --jobs 2          # two worker processes
    python -m models.search ... --prune           # stop hopeless trials (median pruner)

Running the same command again continues the study: finished trials are kept, trials
whose process was killed run again. Trials are ranked by validation accuracy; only the
best trial sees the test set, and its model is kept at <out>/best/model.npz.
"""

import sys

from models.experiments import results
from models.experiments.cli import (UsageError, add_study_flags, build_parser, check_experiment,
                             flags_text, keep_best_model, main_guard, model_name, searchable,
                             start)
from models.experiments.searchspace import grid_size, parse_params
from models.experiments.training_commands import COMMANDS, TrainingCommand
from models.experiments.trials import Experiment, test_model

EXAMPLE = """examples:
  report 000's search, on a 5,000-image subset of Fashion-MNIST:
    python -m models.search --dataset fashion-mnist --train-size 5000 --epochs 3 \\
        --grid hidden=64,128,256,512 lr=0.001,0.005,0.01,0.05,0.1 l2=0.001,0.005,0.01,0.05,0.1
  30 trials drawn by TPE, two worker processes, hopeless trials pruned:
    python -m models.search --space lr=1e-4:0.3:log l2=1e-6:1e-2:log --trials 30 --jobs 2 --prune
"""


def parser(command):
    p = build_parser("python -m models.search",
                     "Search hyperparameters of a training command with Optuna: every\n"
                     "combination of listed values (--grid), or N trials drawn by TPE (--space).",
                     epilog=EXAMPLE)
    s = p.add_argument_group("what to search")
    s.add_argument("--grid", nargs="+", metavar="NAME=V1,V2,...",
                   help="try every combination of these values (Optuna's GridSampler); "
                        "list-valued flags take 600x400 for two layers")
    s.add_argument("--space", nargs="+", metavar="NAME=LO:HI[:log]",
                   help="draw values from these ranges (or NAME=A,B,... choices) with TPE")
    s.add_argument("--trials", type=int, metavar="N", help="how many trials --space runs")
    s.add_argument("--prune", action="store_true",
                   help="stop a trial whose validation accuracy after an epoch is below the "
                        "median of earlier trials at that epoch (Optuna's MedianPruner)")
    add_study_flags(p, "search")
    command.add_training_flags(p)
    return p


def experiment_from(args, argv, command):
    if args.grid and args.space:
        raise UsageError("give either --grid (every combination) or --space (sampled), not both")
    if not args.grid and not args.space:
        raise UsageError("nothing to search: give --grid NAME=V1,V2,... or --space "
                         "NAME=LO:HI --trials N")
    flags = searchable(command)
    if args.grid:
        if args.trials is not None:
            raise UsageError("--trials goes with --space; a --grid runs every combination")
        params = parse_params(args.grid, flags, "--grid")
        mode, trials = "grid", None
    else:
        params = parse_params(args.space, flags, "--space", allow_range=True)
        if args.trials is None or args.trials < 1:
            raise UsageError("--space needs --trials N (N ≥ 1): how many trials to draw")
        mode, trials = "sample", args.trials
    fixed = check_experiment(command, args, argv, params, "--grid" if args.grid else "--space")
    return Experiment(command, fixed, params, mode, trials, prune=args.prune,
                      keep_models=args.keep_models,
                      data={"data_dir": args.data_dir, "download": not args.no_download})


def report(study, experiment, args, codes):
    params = experiment.params
    rows = results.trial_rows(study, params)
    out = experiment.out
    print()
    print(f"all {len(rows)} trials, best validation accuracy first:")
    print(results.trials_table(rows, params))
    marginals = []
    for p in params:
        table = results.marginal_table(p, params, rows)
        marginals.append((p, table))
        print(f"\nbest validation accuracy for each value of {p.name}:")
        print(table)
    ranked = results.ranked_results(rows)
    best_lines = []
    if ranked:
        best = ranked[0]
        model = keep_best_model(experiment, best, rows)
        test = study.user_attrs.get("test")
        if not test or test.get("trial") != best["trial"]:
            loss, acc = test_model(experiment.command, model, experiment.data)
            test = {"trial": best["trial"], "loss": loss, "acc": acc}
            study.set_user_attr("test", test)
        defaults = vars(experiment.command.namespace({}))
        best_lines = [
            f"best trial {best['trial']}: {results.config_text(params, best['params'])}",
            f"validation accuracy {best['val_acc']:.4f} at epoch {best['epoch']}",
            f"test accuracy {test['acc']:.4f}  test loss {test['loss']:.4f} (the test set "
            f"is evaluated for this trial only)",
            f"model: {model} (python -m {COMMANDS[experiment.command.name]} --test {model})",
            f"train it alone: python -m {COMMANDS[experiment.command.name]} "
            f"{flags_text(experiment.fixed, best['params'], params, defaults)}"]
        print()
        print("\n".join(best_lines))
    else:
        print("\nno trial has a validation accuracy yet")
    results.write_csv(out / "results.csv", rows, params)
    md = [f"# Search {study.study_name}", "", *(f"- {line}" for line in best_lines), "",
          "## All trials", "", results.trials_table(rows, params, markdown=True)]
    for p, _ in marginals:
        md += ["", f"## Best validation accuracy for each {p.name}", "",
               results.marginal_table(p, params, rows, markdown=True)]
    results.write_text(out / "results.md", "\n".join(md) + "\n")
    if not args.no_plots and rows:
        draw(study, experiment, rows)
    print(f"\nwritten: {out / 'results.csv'}, {out / 'results.md'}"
          + ("" if args.no_plots else f", figures in {out}"))
    unfinished = [r for r in rows if r["outcome"] in ("running", "waiting")]
    if unfinished:
        print(f"{len(unfinished)} trials are still running or waiting (another worker, or "
              f"rerun this command to finish them)")
    return 0 if all(c == 0 for c in codes) else 1


def draw(study, experiment, rows):
    from viz import experiments as fig  # start-up: matplotlib loads only when a figure is drawn
    params, out = experiment.params, experiment.out
    title = f"search {study.study_name}"
    fig.plot_param_effects(rows, params, path=out / "val_acc_by_param.png",
                           title=f"Validation accuracy against each parameter ({title})")
    complete = results.ranked_results(rows)
    if sum(not p.is_range for p in params) >= 2:
        fig.plot_heatmaps(rows, params, path=out / "heatmaps.png")
    elif len(params) >= 2 and len(complete) >= 3:
        ranges = [p.name for p in params if p.is_range] + [p.name for p in params if not p.is_range]
        fig.plot_contour(study, ranges[:2], path=out / "contour.png")
    varied = [p for p in params if len({str(r["params"][p.name]) for r in complete}) > 1]
    if len(varied) > 1 and len(complete) >= 3:
        try:
            fig.plot_importances(study, path=out / "importances.png")
        except (ValueError, RuntimeError) as e:
            print(f"(no importance figure: {e})")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)

    def body(argv):
        command = TrainingCommand(model_name(argv))
        args = parser(command).parse_args(argv)
        experiment = experiment_from(args, argv, command)
        if experiment.mode == "grid" and grid_size(experiment.params) == 0:
            raise UsageError("the grid is empty")
        study, codes = start(args, experiment, "search")
        return report(study, experiment, args, codes)

    return main_guard(body, argv)


if __name__ == "__main__":
    sys.exit(main())
