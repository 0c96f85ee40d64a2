"""The pictures a training run leaves in its run directory: curves.png, stats.png and
the family's own figures (drawn by viz/, from what models/train/ recorded)."""

from pathlib import Path

from models.cli.wording import describe_setup


def curves_title(config, model):
    """curves.png's title: the data and the model, then the whole training setup."""
    return (f"{config.dataset}: {model}\n{describe_setup(config)} · {config.optimizer} "
            f"lr {config.lr:g} ({config.schedule}) · l2 {config.l2:g} · batch "
            f"{config.batch_size}")


def draw_plots(run_dir, run, config, family, monitor):
    title = curves_title(config, run.model)
    draw_monitor(monitor, run_dir.path, run, title)   # curves.png (every step), stats.png
    if family.draw_plots:
        family.draw_plots(run_dir, run.model, config)


def draw_monitor(monitor, run_dir, run, title=None):
    """curves.png (every step's loss under the epoch means) and stats.png."""
    from viz.stats_figure import plot_layer_statistics  # start-up: matplotlib loads only when a figure is drawn
    from viz.plots import plot_learning_curves  # start-up: matplotlib loads only when a figure is drawn
    run_dir = Path(run_dir)
    evaluations = monitor.evaluations.state_dict() if monitor.evaluations else None
    plot_learning_curves(run.history, path=run_dir / "curves.png", title=title,
                         iterations=run.iterations.loss,
                         steps_per_epoch=run.steps_per_epoch, evaluations=evaluations,
                         epoch_0=monitor.epoch_0())
    if monitor.stats and monitor.stats.iterations:
        plot_layer_statistics(monitor.stats.arrays(), run.steps_per_epoch,
                              path=run_dir / "stats.png", title=title)
