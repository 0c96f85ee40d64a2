"""The training commands an experiment can run trials of, and what it needs from each.

`python -m models.search --model NAME` accepts every training flag of the command NAME
and trains each trial by calling its functions (no subprocess of the command line).
A command module provides:

    parser()                  its argparse parser; the groups "data", "model" and
                              "optimisation" hold the training flags
    validate(args, parser)    rejects bad values through parser.error(message)
    config_from(args)         the Config of a run
    load_data(dataset, args, val_size, seed, dtype) and subset(splits, config)
    Run, evaluate, build_model  (models.training's contract)

Adding a command is one line in COMMANDS.
"""

import argparse
import importlib

COMMANDS = {
    "twolayer": "models.twolayer",
}

TRAINING_GROUPS = ("data", "model", "optimisation")


class CommandError(ValueError):
    """A value the training command itself refuses (the message is one line)."""


class _Refusing(argparse.ArgumentParser):
    """The command's parser, raising instead of printing usage and exiting."""

    def error(self, message):
        raise CommandError(message)


class TrainingCommand:
    def __init__(self, name):
        if name not in COMMANDS:
            raise CommandError(f"unknown model {name!r}: choose one of {', '.join(COMMANDS)}")
        self.name = name
        self.module = importlib.import_module(COMMANDS[name])

    def training_actions(self):
        """The argparse actions of the command's training flags, in its order."""
        p = self.module.parser()
        return [a for g in p._action_groups if g.title in TRAINING_GROUPS
                for a in g._group_actions]

    def add_training_flags(self, parser):
        """Copy the command's training flags (with their groups and help) into `parser`."""
        source = self.module.parser()
        for group in source._action_groups:
            if group.title in TRAINING_GROUPS:
                target = parser.add_argument_group(f"training ({group.title}), fixed for "
                                                   f"every trial")
                for action in group._group_actions:
                    target._add_action(action)

    def namespace(self, fixed, overrides=None):
        """The command's full argument namespace: its defaults, the fixed flags, then
        the varied ones."""
        args = self.module.parser().parse_args([])
        for key, value in {**fixed, **(overrides or {})}.items():
            setattr(args, key, value)
        return args

    def check(self, fixed, overrides=None):
        """Raise CommandError if the command would refuse these values."""
        args = self.namespace(fixed, overrides)
        p = _Refusing(prog=f"python -m {COMMANDS[self.name]}")
        self.module.validate(args, p)

    def config(self, fixed, overrides=None):
        return self.module.config_from(self.namespace(fixed, overrides))

    def config_class(self):
        return self.module.Config
