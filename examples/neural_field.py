"""
A neural field tracks a moving bump
===================================

A 20 x 20 input shows a Gaussian bump that circles the centre once a second,
buried in noise.  A field of the same size receives it one-to-one, with a
20 ms delay, and its neurons excite their near neighbours and inhibit the far
ones: lateral weights shaped as a difference of Gaussians.  The competition
leaves a single clean bump, which follows the stimulus.

From a terminal the script writes its figure to a PNG::

    python examples/neural_field.py [-o neural_field.png] [--duration 2000]
"""

# %%
# Imports and the command line
# ----------------------------
import argparse

import matplotlib

matplotlib.use("Agg")  # draw into a file, even where a screen exists
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Monitor, Neuron, Population, Projection, clear, setup, simulate

parser = argparse.ArgumentParser(description="a dynamic neural field tracking a moving, noisy bump")
parser.add_argument("-o", "--output", default="neural_field.png")
parser.add_argument("--duration", type=float, default=2000.0, help="ms")
args = parser.parse_args()

# %%
# The network
# -----------
# The input neurons draw fresh noise at every step (``Uniform(-0.5, 0.5)``
# inside an equation is a new value per neuron and per step) around a
# ``baseline`` that the script moves.  The field integrates its inputs and
# some noise of its own, clipped to [0, 1].  ``connect_dog`` computes each
# lateral weight from the distance between the two neurons' normalised
# coordinates; weights weaker than ``limit`` times the peak are left out.
N = 20
clear()
setup(seed=3)
InputNeuron = Neuron(
    parameters="baseline = 0.0",
    equations="r = pos(baseline + Uniform(-0.5, 0.5))",
)
FieldNeuron = Neuron(
    parameters="tau = 10.0 : population",
    equations="tau * dr/dt + r = sum(exc) + sum(inh) + Uniform(-0.5, 0.5) : min=0.0, max=1.0",
)
inp = Population(geometry=(N, N), neuron=InputNeuron, name="Input")
field = Population(geometry=(N, N), neuron=FieldNeuron, name="Field")
Projection(inp, field, "exc").connect_one_to_one(weights=1.0, delays=20.0)
Projection(field, field, "inh").connect_dog(amp_pos=0.2, sigma_pos=0.1, amp_neg=0.1, sigma_neg=0.7, limit=0.1)


def bump(angle: float) -> np.ndarray:
    """A Gaussian bump of height 1 on a circle of radius N/4 around the centre."""
    cx = N / 2 + N / 4 * np.cos(angle)
    cy = N / 2 + N / 4 * np.sin(angle)
    y, x = np.mgrid[0:N, 0:N]
    return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (N / 10) ** 2))


# %%
# Running it
# ----------
# Every 10 ms the script moves the stimulus a little further round.  The
# monitors keep one sample per 10 ms; ``reshape=True`` returns them shaped
# like the populations.
record = Monitor(field, "r", period=10.0)
record_inp = Monitor(inp, "r", period=10.0)
angular_speed = 2 * np.pi / 1000.0  # one turn per second
steps = int(args.duration / 10.0)
for k in range(steps):
    inp.baseline = bump(angular_speed * 10.0 * k)
    simulate(10.0)
fields = record.get("r", reshape=True)
inputs = record_inp.get("r", reshape=True)

# %%
# How well it follows
# -------------------
# The centre of each bump is the centre of mass of the activity above half
# its maximum.  The field sees the stimulus 20 ms late (the delay), so it is
# compared with where the stimulus was 20 ms earlier.


def centre(rates: np.ndarray) -> tuple[float, float]:
    """Centre of mass of the activity above half its maximum."""
    weights = np.where(rates > 0.5 * rates.max(), rates, 0.0)
    y, x = np.mgrid[0:N, 0:N]
    total = weights.sum()
    return (float((x * weights).sum() / total), float((y * weights).sum() / total)) if total else (np.nan, np.nan)


times = np.arange(steps) * 10.0
stim = np.array([centre(bump(angular_speed * (t - 20.0))) for t in times])
found = np.array([centre(f) for f in fields])
error = np.linalg.norm(found - stim, axis=1)
settled = error[steps // 4:]

# %%
# The figure
# ----------
# Top rows: input and field at four times.  Bottom: the path of both centres,
# and the distance between them.
fig, axes = plt.subplots(3, 4, figsize=(13, 10))
for col, k in enumerate(np.linspace(steps // 4, steps - 1, 4).astype(int)):
    axes[0, col].imshow(inputs[k], cmap="viridis", vmin=0, vmax=1.5)
    axes[0, col].set_title(f"input, t = {times[k]:.0f} ms")
    axes[1, col].imshow(fields[k], cmap="viridis", vmin=0, vmax=1)
    axes[1, col].set_title(f"field, t = {times[k]:.0f} ms")
    for ax in axes[:2, col]:
        ax.axis("off")
for ax in axes[2, :]:
    ax.remove()
path = fig.add_subplot(3, 2, 5)
path.plot(stim[:, 0], stim[:, 1], "k--", label="stimulus centre (20 ms earlier)")
path.plot(found[:, 0], found[:, 1], "r.", ms=3, label="field bump centre")
path.set_xlim(0, N - 1), path.set_ylim(N - 1, 0), path.set_aspect("equal"), path.legend(fontsize=8)
dist = fig.add_subplot(3, 2, 6)
dist.plot(times, error)
dist.set_xlabel("time (ms)"), dist.set_ylabel("distance (neurons)")
dist.set_title(f"median distance after settling: {np.nanmedian(settled):.2f} neurons")
fig.tight_layout()
fig.savefig(args.output, dpi=70)
print(f"neural_field: the field's bump stays {np.nanmedian(settled):.2f} neurons (median) from the moving "
      f"stimulus; figure written to {args.output}")
