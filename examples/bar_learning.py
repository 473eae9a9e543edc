"""
Learning oriented bars (Foldiak's experiment)
=============================================

An 8 x 8 input shows random horizontal and vertical bars, several at a time.
32 leaky neurons receive it through plastic weights, which Oja's rule keeps
bounded, and inhibit each other through anti-Hebbian lateral weights: two
neurons that are often active together come to inhibit each other more, which
pushes them towards different features.  After training most neurons respond
to a single bar, and every bar has a neuron (Foldiak, 1990).

This is the longest example: 10 000 trials of 50 ms, half a million steps,
take about half a minute.  From a terminal the script writes its figure to a
PNG::

    python examples/bar_learning.py [-o bar_learning.png] [--trials 10000] [--tau 2000]
"""

# %%
# Imports and the command line
# ----------------------------
import argparse

import matplotlib

matplotlib.use("Agg")  # draw into a file, even where a screen exists
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Neuron, Population, Projection, Synapse, Uniform, clear, setup, simulate

parser = argparse.ArgumentParser(description="Hebbian learning of oriented bars")
parser.add_argument("-o", "--output", default="bar_learning.png")
parser.add_argument("--trials", type=int, default=10000)
parser.add_argument("--tau", type=float, default=2000.0, help="time constant of learning (ms)")
args = parser.parse_args()

# %%
# The models
# ----------
# The input neurons have no equations: their rates are set from Python.  The
# learning rules are ODEs over the weight ``w``; the ``postsynaptic`` flag
# gives a parameter one value per post-synaptic neuron instead of one per
# synapse, and ``min=`` bounds the weights.
clear()
setup(seed=1)
InputNeuron = Neuron(parameters="r = 0.0")
LeakyNeuron = Neuron(
    parameters="tau = 10.0 : population",
    equations="tau * dr/dt + r = sum(exc) - sum(inh) : min=0.0",
)
# Oja's rule: Hebbian growth, decay proportional to post.r^2 * w.  The feedforward
# weights may turn negative, so a neuron learns to ignore the pixels off its bar.
OjaRule = Synapse(
    parameters=f"""
        tau = {args.tau} : postsynaptic
        alpha = 8.0 : postsynaptic
        min_w = -10.0 : postsynaptic
    """,
    equations="tau * dw/dt = pre.r * post.r - alpha * post.r^2 * w : min=min_w",
)
# The same form between feature neurons: co-active neurons inhibit each other more.
AntiHebb = Synapse(
    parameters=f"""
        tau = {args.tau} : postsynaptic
        alpha = 0.3 : postsynaptic
    """,
    equations="tau * dw/dt = pre.r * post.r - alpha * post.r^2 * w : min=0.0",
)

# %%
# The network
# -----------
inp = Population(geometry=(8, 8), neuron=InputNeuron, name="Input")
feature = Population(geometry=(4, 8), neuron=LeakyNeuron, name="Feature")
ff = Projection(pre=inp, post=feature, target="exc", synapse=OjaRule)
ff.connect_all_to_all(weights=Uniform(-0.5, 0.5))
lateral = Projection(pre=feature, post=feature, target="inh", synapse=AntiHebb)
lateral.connect_all_to_all(weights=Uniform(0.0, 1.0))

# %%
# Training
# --------
# Each trial lights every row and every column with probability 1/8, then
# lets the network settle and learn for 50 ms.
rng = np.random.default_rng(2)


def present_bars(inp: Population, rng: np.random.Generator) -> None:
    """Each row and each column lights up with probability 1/8."""
    rates = np.zeros(inp.geometry)
    rows, cols = inp.geometry
    rates[rng.random(rows) < 1.0 / rows, :] = 1.0
    rates[:, rng.random(cols) < 1.0 / cols] = 1.0
    inp.r = rates


for _ in range(args.trials):
    present_bars(inp, rng)
    simulate(50.0)

# %%
# What was learned
# ----------------
# A receptive field "is" a bar when that bar's mean weight is clearly the
# largest: more than twice any other bar's.


def learned_bars(ff: Projection) -> tuple[int, int]:
    """(distinct bars that dominate some receptive field, fields dominated by one bar)."""
    fields = np.maximum(np.asarray(ff.w), 0.0).reshape(-1, 8, 8)
    # mean weight along each of the 16 bars: 8 rows then 8 columns
    bars = np.concatenate([fields.mean(axis=2), fields.mean(axis=1)], axis=1)
    best = bars.argmax(axis=1)
    strong = bars > 0.5 * bars.max(axis=1, keepdims=True)
    return len(set(best.tolist())), int((strong.sum(axis=1) == 1).sum())


bars, single = learned_bars(ff)

# %%
# The figure
# ----------
# ``receptive_fields()`` tiles the 32 weight vectors, each in the input's
# 8 x 8 geometry, in the 4 x 8 arrangement of the feature population.
fig = plt.figure(figsize=(10, 5.5))
fields = ff.receptive_fields()
plt.imshow(fields, cmap="hot", interpolation="nearest", vmin=0.0, vmax=fields.max())
for k in range(1, 8):  # grid between the 4 x 8 receptive fields
    plt.axvline(8 * k - 0.5, color="gray", lw=0.5)
for k in range(1, 4):
    plt.axhline(8 * k - 0.5, color="gray", lw=0.5)
plt.title(f"Feedforward weights of the 32 feature neurons after {args.trials} trials\n"
          f"{bars} of the 16 bars learned; {single} neurons respond to exactly one bar")
plt.axis("off")
fig.savefig(args.output, dpi=80, bbox_inches="tight")
print(f"bar_learning: {bars}/16 bars learned, {single}/32 neurons tuned to exactly one bar; "
      f"figure written to {args.output}")
