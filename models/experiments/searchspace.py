"""What an experiment varies, written on the command line and checked before any trial runs.

    --grid  lr=0.001,0.01,0.1     every listed value (a grid: every combination is a trial)
    --space lr=0.0001:0.1:log     a range that a sampler draws from (log: uniform in log lr)
    --space activation=relu,tanh  a choice among values, drawn by the sampler
    --vary  hidden=600,600x400    as --grid; list-valued flags take 600x400 for two layers
    --config activation=relu,optimizer=adam   one chosen configuration (repeatable): the
                                  list is one parameter, `config`, whose values are these

NAME is any training flag of the command (`lr`, `batch-size` or `batch_size`, `hidden`,
...); values are converted and checked by that flag's own type and choices, so a search
cannot ask for a value the training command would refuse.
"""

import itertools
import math
from dataclasses import dataclass


class SpaceError(ValueError):
    """A parameter or value the search cannot use (the message is one line)."""

    user_error = True


@dataclass(frozen=True)
class Param:
    """One varied training flag: listed values (grid or choice) or a numeric range."""
    name: str                   # the flag's destination, e.g. "batch_size" (also Optuna's name)
    flag: str                   # as typed on the command line, e.g. "--batch-size"
    kind: str                   # "int", "float", "choice", "layers" (a list such as hidden)
                                # or "config" (values are chosen configurations, NAME=V,...)
    values: tuple = None        # listed values, as Optuna stores them (str, int or float)
    low: float = None           # a range [low, high], with log-uniform sampling if log
    high: float = None
    log: bool = False
    types: tuple = ()           # "config": (name, "layers"|"int"|"float"|"str") of each flag set

    @property
    def is_range(self):
        return self.values is None

    def suggest(self, trial):
        """Ask Optuna's trial for this parameter's value (stored form)."""
        if not self.is_range:
            return trial.suggest_categorical(self.name, list(self.values))
        if self.kind in ("int", "layers"):
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def to_flag_value(self, value):
        """The stored value as the training flag wants it: "600x400" → [600, 400]."""
        if self.kind == "layers":
            return [int(n) for n in str(value).split("x")]
        if self.kind == "config":
            return config_overrides(value, dict(self.types))
        return value

    def overrides(self, value):
        """{flag dest: value} that this parameter's stored value sets."""
        return self.to_flag_value(value) if self.kind == "config" else \
            {self.name: self.to_flag_value(value)}

    def show(self, value):
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    def to_dict(self):
        return {"name": self.name, "flag": self.flag, "kind": self.kind,
                "values": None if self.values is None else list(self.values),
                "low": self.low, "high": self.high, "log": self.log,
                "types": [list(t) for t in self.types]}

    @classmethod
    def from_dict(cls, d):
        values = d["values"]
        return cls(d["name"], d["flag"], d["kind"], None if values is None else tuple(values),
                   d["low"], d["high"], d["log"], tuple(tuple(t) for t in d.get("types", ())))


def searchable_flags(actions):
    """{dest: argparse action} of the training flags that take a value to vary."""
    found = {}
    for action in actions:
        if not action.option_strings or action.nargs == 0:
            continue                                     # switches such as --no-download
        if action.choices or action.type in (int, float):
            found[action.dest] = action
    return found


def _kind(action):
    if action.nargs in ("+", "*"):
        return "layers"
    if action.choices:
        return "choice"
    return "int" if action.type is int else "float"


def _convert(action, text, where):
    kind = _kind(action)
    try:
        if kind == "layers":
            sizes = [action.type(part) for part in text.split("x")]
            return "x".join(str(n) for n in sizes)
        value = action.type(text) if action.type else text
    except ValueError:
        what = {"layers": "layer sizes such as 600x400", "int": "an integer",
                "float": "a number"}.get(kind, "a value")
        raise SpaceError(f"{where}: {text!r} is not {what}") from None
    if action.choices and value not in action.choices:
        raise SpaceError(f"{where}: {text!r} is not a choice of {action.option_strings[-1]}; "
                         f"choose from {', '.join(map(str, action.choices))}")
    if kind == "float" and not math.isfinite(value):
        raise SpaceError(f"{where}: {text!r} is not a finite number")
    return value


def parse_param(text, flags, option, allow_range):
    """One NAME=V1,V2,... (or NAME=LO:HI[:log] if allow_range) into a Param."""
    name, sep, spec = text.partition("=")
    name = name.strip().lstrip("-").replace("-", "_")
    where = f"{option} {text}"
    if not sep or not name:
        raise SpaceError(f"{where}: write NAME=V1,V2,... (e.g. {option} lr=0.01,0.1)")
    if name not in flags:
        raise SpaceError(f"{where}: unknown parameter {name!r}; the training flags that can "
                         f"vary are {', '.join(sorted(flags))}")
    action = flags[name]
    flag, kind = action.option_strings[-1], _kind(action)
    spec = spec.strip()
    if not spec:
        raise SpaceError(f"{where}: no values given; write {name}=V1,V2,...")
    if ":" in spec:
        if not allow_range:
            raise SpaceError(f"{where}: ranges LO:HI belong to --space; here list the values "
                             f"V1,V2,...")
        return _parse_range(name, flag, kind, action, spec, where)
    texts = [v.strip() for v in spec.split(",")]
    if "" in texts:
        raise SpaceError(f"{where}: an empty value between commas")
    values = tuple(_convert(action, v, where) for v in texts)
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise SpaceError(f"{where}: {', '.join(repeated)} listed more than once")
    return Param(name, flag, kind if kind != "choice" else "choice", values)


def _parse_range(name, flag, kind, action, spec, where):
    parts = spec.split(":")
    log = len(parts) == 3 and parts[2].strip() == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise SpaceError(f"{where}: a range is LO:HI or LO:HI:log")
    if kind == "choice":
        raise SpaceError(f"{where}: {flag} takes one of {', '.join(action.choices)}; list "
                         f"them as {name}=A,B instead of a range")
    convert = int if kind in ("int", "layers") else float
    try:
        low, high = (convert(p.strip()) for p in parts[:2])
    except ValueError:
        raise SpaceError(f"{where}: LO and HI must be {'integers' if convert is int else 'numbers'}") from None
    if not low < high:
        raise SpaceError(f"{where}: LO must be less than HI")
    if log and low <= 0:
        raise SpaceError(f"{where}: a log range needs LO > 0")
    return Param(name, flag, kind, None, low, high, log)


def parse_params(texts, flags, option, allow_range=False):
    params = [parse_param(t, flags, option, allow_range) for t in texts]
    names = [p.name for p in params]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SpaceError(f"{option}: {', '.join(twice)} given more than once")
    return params


# ---- chosen configurations (--config) ------------------------------------------------------

CONVERT = {"layers": lambda v: [int(n) for n in v.split("x")], "int": int, "float": float,
           "str": str}


def config_overrides(text, types):
    """"activation=relu,hidden=600x400" → {"activation": "relu", "hidden": [600, 400]}."""
    pairs = (part.split("=", 1) for part in text.split(","))
    return {name: CONVERT[types[name]](value) for name, value in pairs}


def _value_type(action):
    kind = _kind(action)
    if kind == "choice":
        return {int: "int", float: "float"}.get(action.type, "str")
    return kind


def parse_config(text, flags, option="--config"):
    """One chosen configuration NAME=V,NAME=V,... → (its canonical text, {name: type}).
    Each value is converted and checked by its flag's own type and choices; a list flag
    takes 600x400 (a comma separates flags, so it cannot separate layer sizes)."""
    where = f"{option} {text}"
    parts, types = [], {}
    for piece in text.split(","):
        name, sep, value = piece.partition("=")
        name = name.strip().lstrip("-").replace("-", "_")
        value = value.strip()
        if not sep or not name or not value:
            raise SpaceError(f"{where}: write NAME=VALUE pairs separated by commas (e.g. "
                             f"{option} activation=relu,optimizer=adam)")
        if name not in flags:
            raise SpaceError(f"{where}: unknown parameter {name!r}; the training flags that "
                             f"can be set are {', '.join(sorted(flags))}")
        if name in types:
            raise SpaceError(f"{where}: {name} is set twice")
        converted = _convert(flags[name], value, where)
        parts.append(f"{name}={converted}")
        types[name] = _value_type(flags[name])
    return ",".join(parts), types


def config_lines(path, option="--config-file"):
    """The configurations of a file: one per line; blank lines and # comments skipped."""
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        raise SpaceError(f"{option} {path}: cannot read it ({e.strerror})") from None
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise SpaceError(f"{option} {path}: no configuration in it (write one per line, "
                         f"e.g. activation=relu,optimizer=adam)")
    return lines


def config_param(texts, flags, option="--config"):
    """The chosen configurations as one listed parameter `config` (a grid of one axis)."""
    values, types = [], {}
    for text in texts:
        canonical, these = parse_config(text, flags, option)
        if canonical in values:
            raise SpaceError(f"{option} {text}: this configuration is given twice")
        values.append(canonical)
        types.update(these)
    return Param("config", option, "config", tuple(values),
                 types=tuple(sorted(types.items())))


def grid_size(params):
    return math.prod(len(p.values) for p in params)


def corner_values(params):
    """Every combination to check against the training command: each grid, and each
    range's two ends (the inside of a range is as valid as its ends)."""
    choices = [p.values if not p.is_range else (p.low, p.high) for p in params]
    for combo in itertools.product(*choices):
        yield overrides_of(params, combo)


def varied_names(params):
    """The flag dests the parameters set (a `config` parameter sets several)."""
    return {name for p in params
            for name in (dict(p.types) if p.kind == "config" else (p.name,))}


def overrides_of(params, values):
    """{flag dest: value} of one configuration: `values` is a sequence in the order of
    `params`, or a {param name: stored value} dict."""
    if isinstance(values, dict):
        values = [values[p.name] for p in params]
    out = {}
    for p, v in zip(params, values):
        out.update(p.overrides(v))
    return out
