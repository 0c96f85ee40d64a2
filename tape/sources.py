"""An op's generated form: how `tape.compile` writes the op out as numpy source.

    tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))
    defsource(tanh, lambda c, x: f"np.tanh({x})",
              lambda c, g, ans, x: f"{g} * (1 - {ans} * {ans})")

Beside each gradient rule in the op files; what a form receives and returns is said in
tape/compiler/program.py. Kept apart from the mechanism (primitive.py), which does not
need it.
"""


def defsource(op, forward, *vjps, name=None):
    """Give `op` its generated form: the source of its forward and of each rule (`name`:
    what its outputs are called, z1, h1 ...)."""
    op.source = (forward, vjps, name)
    return op
