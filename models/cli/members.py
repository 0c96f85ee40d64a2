"""What a checkpoint of a model family must hold, for `load_checkpoint`'s `expected`.

A model.npz (`model_members`) holds the family's parameters; a last.npz
(`resume_members`) also the optimiser's slots, the best epoch's parameters and the
callbacks' arrays. A file of another family, or of the other kind, is refused with the
command that reads it.
"""


import numpy as np

from models.cli.flags import IMAGE_SHAPE, N_CLASSES, config_from_dict
from models.optim import SLOTS
from models.train.checkpoint import CheckpointError
from models.train.table import COLUMNS

FAMILIES = ("twolayer", "cnn")     # the commands that save checkpoints: models.<family>


def shapes_of(saved):
    input_shape = tuple(saved.get("input_shape", IMAGE_SHAPE))
    return input_shape, int(saved.get("n_classes", N_CLASSES))


def _check_kind(saved, path, family, kind):
    owner = saved.get("family", "twolayer")
    if owner not in FAMILIES:
        raise CheckpointError(f"{path} is damaged: its family is {owner!r}, not one of "
                              f"{', '.join(FAMILIES)}; retrain to write a new file")
    if owner != family.name:
        raise CheckpointError(f"{path} was saved by models.{owner}; use python -m "
                              f"models.{owner} with it")
    is_resume = "state" in saved
    if kind == "model" and is_resume:
        raise CheckpointError(f"{path} is a resume checkpoint (last.npz), not a model: "
                              f"use --test {path.parent / 'model.npz'}, or continue training "
                              f"with --resume {path.parent}")
    if kind == "resume" and not is_resume:
        raise CheckpointError(f"{path} is a model (model.npz), not a resume checkpoint: "
                              f"test it with --test {path}")


def model_members(family, path):
    """expected(saved) for load_checkpoint: a model.npz of this family."""
    def expected(saved):
        _check_kind(saved, path, family, "model")
        config = config_from_dict(saved.get("config", {}), family, path)
        input_shape, n_classes = shapes_of(saved)
        return {name: (shape, config.dtype) for name, shape in
                family.parameter_shapes(config, input_shape, n_classes).items()}
    return expected


def resume_members(family, path):
    """expected(saved) for load_checkpoint: a last.npz of this family."""
    def expected(saved):
        _check_kind(saved, path, family, "resume")
        config = config_from_dict(saved.get("config", {}), family, path)
        state = saved["state"]
        _check_state(state, path)
        input_shape, n_classes = shapes_of(saved)
        shapes = family.parameter_shapes(config, input_shape, n_classes)
        members = {f"param/{name}": (shape, config.dtype) for name, shape in shapes.items()}
        members["optim/steps"] = ((), np.dtype(int))
        if state["history"]:       # the slots exist once the optimiser has taken a step
            for slot in SLOTS[config.optimizer]:
                members.update({f"optim/{slot}.{i}": (shape, config.dtype)
                                for i, shape in enumerate(shapes.values())})
        if state["best"] is not None:
            members.update({f"best/{name}": (shape, config.dtype)
                            for name, shape in shapes.items()})
        members.update(_watch_members(state, path))
        return members
    return expected


def _watch_members(state, path):
    """The arrays the run's callbacks saved (per-step history, statistics), as listed."""
    listed = state.get("watch", {})
    try:
        return {name: (tuple(int(n) for n in shape), np.dtype(dtype))
                for name, (shape, dtype) in listed.items() if name.startswith("watch/")}
    except (TypeError, ValueError, AttributeError):
        raise CheckpointError(f"{path}: its list of monitoring arrays is damaged; it cannot "
                              f"be resumed") from None


def _check_state(state, path):
    columns = [column[0] for column in COLUMNS]
    ok = (isinstance(state, dict) and isinstance(state.get("history"), list)
          and all(isinstance(row, dict) and all(c in row for c in columns)
                  for row in state["history"])
          and isinstance(state.get("bad_epochs"), int)
          and (state.get("best") is None or isinstance(state["best"], dict)))
    if ok and state["best"] is not None:
        ok = all(k in state["best"] for k in ("epoch", "score", "val_acc", "val_loss"))
    if ok:
        ok = [row["epoch"] for row in state["history"]] == \
            list(range(1, len(state["history"]) + 1))
    if not ok:
        raise CheckpointError(f"{path}: its training state (history, best epoch) is "
                              f"damaged; it cannot be resumed")


def non_finite(arrays):
    """Names of the arrays holding NaN or inf."""
    return [name for name, a in arrays.items()
            if a.dtype.kind in "fc" and not np.isfinite(a).all()]
