"""How parameters move once their gradients are known.

Read `optimizers.py` (SGD with momentum and Nesterov, Adagrad, RMSProp, Adam, chosen by name
with `make_optimizer`), then `schedules.py` (the learning rate per epoch).
"""

from .optimizers import (Optimizer, SGD, Adagrad, RMSProp, Adam, OPTIMIZERS,
                         DEFAULT_LR, SLOTS, make_optimizer)
from .schedules import (SCHEDULES, learning_rate)
