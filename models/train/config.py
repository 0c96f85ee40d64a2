"""What defines a training run: `Config` (saved in every checkpoint) and the MLP it builds."""

from dataclasses import asdict, dataclass, field

import numpy as np

from models.nn import MLP


@dataclass
class Config:
    """Everything that defines a training run (saved in every checkpoint)."""
    dataset: str = "mnist"
    hidden: list = field(default_factory=lambda: [1024])
    activation: str = "relu"
    init: str = "he"
    weight_scale: float = 1e-3     # the standard deviation of init "gaussian"
    loss: str = "cross_entropy"
    optimizer: str = "momentum"
    lr: float = 0.05
    momentum: float = 0.9
    l2: float = 1e-4
    schedule: str = "cosine"
    gamma: float = 0.5
    step_size: int = 10
    decay: float = 0.01
    epochs: int = 40
    batch_size: int = 128
    patience: int = 0          # 0: no early stopping
    seed: int = 0
    val_size: int = 5000
    train_size: int = 0        # 0: the whole training split; else a seeded subset
    dtype: str = "float32"

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def build_model(config, n_inputs=784, n_classes=10):
    init = config.init
    return MLP([n_inputs, *config.hidden, n_classes], config.activation, init,
               seed=config.seed, dtype=np.dtype(config.dtype), weight_scale=config.weight_scale)
