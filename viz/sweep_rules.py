"""Each op's gradient rule as the course writes it, for the sweep page's side panel.

Δ is the adjoint arriving at the op's output (∂L/∂out); `{0}`, `{1}`, … are the
inputs' names and `{out}` the output's, so `linear(v2, W2, b2)` reads

    dv2 = Δ·W2ᵀ      dW2 = v2ᵀ·Δ      db2 = Σ_rows Δ

The rules themselves live beside each op in tape/; this is their text only.
"""

RULES = {
    "add": ("d{0} = Δ", "d{1} = Δ"),
    "subtract": ("d{0} = Δ", "d{1} = −Δ"),
    "multiply": ("d{0} = Δ ⊙ {1}", "d{1} = Δ ⊙ {0}"),
    "divide": ("d{0} = Δ / {1}", "d{1} = −Δ ⊙ {0} / {1}²"),
    "negative": ("d{0} = −Δ",),
    "power": ("d{0} = Δ ⊙ {1}·{0}^({1}−1)", "d{1} = Δ ⊙ ln({0})·{out}"),
    "absolute": ("d{0} = Δ ⊙ sign({0})",),
    "matmul": ("d{0} = Δ·{1}ᵀ", "d{1} = {0}ᵀ·Δ"),
    "linear": ("d{0} = Δ·{1}ᵀ", "d{1} = {0}ᵀ·Δ", "d{2} = Σ_rows Δ"),
    "exp": ("d{0} = Δ ⊙ {out}   (d eˣ = eˣ dx)",),
    "log": ("d{0} = Δ / {0}",),
    "sqrt": ("d{0} = Δ / (2·{out})",),
    "tanh": ("d{0} = Δ ⊙ (1 − {out}²)",),
    "sigmoid": ("d{0} = Δ ⊙ {out}·(1 − {out})",),
    "relu": ("d{0} = Δ ⊙ 1[{0} > 0]",),
    "leaky_relu": ("d{0} = Δ ⊙ (1 where {0} > 0, else slope)",),
    "hardtanh": ("d{0} = Δ ⊙ 1[min < {0} < max]",),
    "maximum": ("d{0} = Δ ⊙ 1[{0} > {1}]   (a tie shares Δ)", "d{1} = Δ ⊙ 1[{1} > {0}]"),
    "where": (None, "d{1} = Δ where the condition holds, else 0",
              "d{2} = Δ where it does not, else 0"),
    "sum": ("d{0} = Δ copied along the summed axes",),
    "mean": ("d{0} = Δ / n, copied along the averaged axes",),
    "max": ("d{0} = Δ at the maximum, 0 elsewhere",),
    "reshape": ("d{0} = Δ reshaped to {0}'s shape",),
    "transpose": ("d{0} = Δᵀ   (the inverse permutation)",),
    "broadcast_to": ("d{0} = Δ summed over the broadcast axes",),
    "sum_to": ("d{0} = Δ copied back along the summed axes",),
    "getitem": ("d{0} = zeros with Δ added at the index",),
    "scatter_add": ("d{0} = Δ read at the index",),
    "concatenate": ("d{0} = Δ's slice for this input",),
    "cast": ("d{0} = Δ cast back to {0}'s dtype",),
    "softmax": ("d{0} = {out} ⊙ (Δ − Σ Δ⊙{out})",),
    "log_softmax": ("d{0} = Δ − softmax({0})·ΣΔ",),
    "cross_entropy": ("d{0} = Δ·(a − y)/N,   a = softmax({0}), y one-hot", None),
    "conv2d": ("d{0} = conv_transpose(Δ, {1})", "d{1} = Δ ⋆ {0}   (Δ·X̂ᵀ)", "d{2} = Σ Δ"),
    "max_pool2d": ("d{0} = Δ at each window's maximum, 0 elsewhere",),
    "avg_pool2d": ("d{0} = Δ / k², spread over each window",),
}


def rule_text(op, argnum, names, out):
    """The formula for input `argnum` of `op` with the values' names filled in, or None
    when the op has no rule for that input (a label, an index) or is not in the table."""
    rules = RULES.get(op)
    if rules is None:
        return None
    if op == "concatenate":                 # one rule for every input: {0} is this one
        rule, names = rules[0], [names[argnum]]
    else:
        rule = rules[argnum] if argnum < len(rules) else None
    if rule is None:
        return None
    return rule.format(*names, out=out)
