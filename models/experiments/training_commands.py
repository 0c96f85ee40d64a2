"""The training commands an experiment can run trials of (`--model NAME`).

Each is a model family of the shared command (`models/cli/command.py`): its module holds
`FAMILY`, and the trials use the command's own functions — its flags, its checks of a
config, its data loading, the model it builds, its model.npz — called directly, not as
a subprocess of the command line. Adding a family is one line in COMMANDS.
"""

import importlib
from argparse import Namespace
from pathlib import Path

from models.cli import command
from models.cli import flags as command_flags
from models.cli import members
from models.train.checkpoint import load_checkpoint
from models.train.loop import Run

COMMANDS = {
    "twolayer": "models.twolayer",
    "cnn": "models.cnn",
}

TRAINING_GROUPS = ("data", "model", "optimisation")


class CommandError(ValueError):
    """A value the training command itself refuses (the message is one line)."""

    user_error = True


class TrainingCommand:
    def __init__(self, name):
        if name not in COMMANDS:
            raise CommandError(f"unknown model {name!r}: choose one of {', '.join(COMMANDS)}")
        self.name = name
        self.family = importlib.import_module(COMMANDS[name]).FAMILY
        self.prog = self.family.prog

    def _groups(self):
        return [g for g in command_flags.parser(self.family)._action_groups
                if g.title in TRAINING_GROUPS]

    def training_actions(self):
        """The argparse actions of the command's training flags, in its order."""
        return [a for g in self._groups() for a in g._group_actions]

    def add_training_flags(self, parser):
        """Copy the command's training flags (with their groups and help) into `parser`."""
        for group in self._groups():
            target = parser.add_argument_group(f"training ({group.title}), fixed for every "
                                               f"trial unless varied")
            for action in group._group_actions:
                target._add_action(action)

    def namespace(self, fixed, overrides=None):
        """The command's arguments: its defaults, then the fixed flags, then the varied."""
        args = command_flags.parser(self.family).parse_args([])
        for key, value in {**fixed, **(overrides or {})}.items():
            setattr(args, key, value)
        return args

    def config(self, fixed, overrides=None):
        return command_flags.config_from(self.namespace(fixed, overrides), self.family)

    def check(self, fixed, overrides=None):
        """Raise CommandError if the command would refuse these values."""
        problems = command_flags.check_config(self.config(fixed, overrides), self.family)
        if problems:
            raise CommandError(problems[0])

    # ---- what a trial does with it ---------------------------------------------------

    def load_data(self, config, data):
        args = Namespace(data_dir=data.get("data_dir"), no_download=not data.get("download", True))
        return command.load_data(config, args, self.family)

    def new_run(self, config, callbacks=()):
        model = self.family.build_model(config, command_flags.IMAGE_SHAPE, command_flags.N_CLASSES)
        return Run(config, model=model, callbacks=list(callbacks))

    def meta(self):
        return {"family": self.family.name, "input_shape": list(command_flags.IMAGE_SHAPE),
                "n_classes": command_flags.N_CLASSES}

    def save_model(self, path, run, config, data=None, **extra):
        """The best epoch's model.npz, as the command saves it (so --test loads it, from
        the data folder recorded in it)."""
        folder = (data or {}).get("data_dir")
        meta = {**self.meta(), "data_dir": str(Path(folder).resolve()) if folder else None}
        command.save_model(path, run, config, {**meta, **extra})

    def load_model(self, path):
        """(model, config, saved metadata) of a model.npz of this family."""
        params, saved = load_checkpoint(path, members.model_members(self.family, path))
        config = command_flags.config_from_dict(saved["config"], self.family, path)
        model = self.family.build_model(config, command_flags.IMAGE_SHAPE, command_flags.N_CLASSES)
        model.load_state_dict(params)
        return model, config, saved
