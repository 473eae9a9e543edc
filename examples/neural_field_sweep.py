"""
Sweeping the neural field: stimulus speed against inhibition
============================================================

The neural field of the previous example follows a bump that circles the
centre of its input.  How fast may the bump move before the field loses it, and
how much lateral inhibition does tracking need?  :func:`ratenet.sweep` runs the
field once per pair of values of a grid, spread over worker processes, and
returns every recording as an :class:`xarray.Dataset` labelled by the swept
values.  The figure maps the tracking error over the grid.

From a terminal the script writes its figure to a PNG::

    python examples/neural_field_sweep.py [-o neural_field_sweep.png] [--duration 600]

(it needs the ``distributed`` extra: ``pip install "ratenet[distributed]"``).
"""

# %%
# Imports and the command line
# ----------------------------
import argparse

import matplotlib

matplotlib.use("Agg")  # draw into a file, even where a screen exists
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Network, Neuron, sweep

parser = argparse.ArgumentParser(description="tracking error of a neural field over stimulus speed x inhibition")
parser.add_argument("-o", "--output", default="neural_field_sweep.png")
parser.add_argument("--duration", type=float, default=600.0, help="ms per grid point")
parser.add_argument("--size", type=int, default=16, help="the field is size x size")
args = parser.parse_args()

# %%
# The network, built from its parameters
# --------------------------------------
# The stimulus now moves by itself: each input neuron knows its coordinates
# (``px``, ``py``) and computes the bump's height at its place from the time
# ``t`` and the angular ``speed``, plus fresh noise.  The field sums its input
# (20 ms late), a narrow lateral excitation, and a broad inhibition scaled by
# ``inhibition``.  Both swept values are population-level parameters, so
# ``build`` only assigns what :func:`~ratenet.sweep` hands it.
N = args.size
DELAY = 20.0
InputNeuron = Neuron(
    parameters="""
        speed = 0.0 : population
        px = 0.0
        py = 0.0
        centre = 8.0 : population
        radius = 4.0 : population
        width = 1.6 : population
    """,
    equations="r = pos(exp(-((px - centre - radius * cos(speed * t))^2 + (py - centre - radius * sin(speed * t))^2)"
              " / (2 * width^2)) + Uniform(-0.5, 0.5))",
)
FieldNeuron = Neuron(
    parameters="tau = 10.0 : population\ninhibition = 1.0 : population",
    equations="tau * dr/dt + r = sum(exc) + sum(lat) - inhibition * sum(inh) + Uniform(-0.5, 0.5) : min=0.0, max=1.0",
)


def build(net, speed, inhibition):
    """The input and the field in ``net``; ``speed`` in turns per second."""
    inp = net.create((N, N), InputNeuron, name="input")
    inp.speed = 2 * np.pi * np.asarray(speed) / 1000.0  # radians per ms
    inp.centre, inp.radius, inp.width = N / 2, N / 4, N / 10
    y, x = np.mgrid[0:N, 0:N]
    inp.px, inp.py = x, y
    field = net.create((N, N), FieldNeuron, name="field")
    field.inhibition = inhibition
    net.connect(inp, field, "exc").connect_one_to_one(weights=1.0, delays=DELAY)
    net.connect(field, field, "lat").connect_gaussian(amp=0.2, sigma=0.1, limit=0.1)
    net.connect(field, field, "inh").connect_gaussian(amp=0.1, sigma=0.7, limit=0.1)
    return {"field": field}


# %%
# One grid point first
# --------------------
# ``sweep`` calls ``build`` in worker processes, on a network it creates for
# each grid point.  Calling it here on a network of our own checks it cheaply
# before the workers start (and shows what it builds).
net = Network(seed=0)
build(net, speed=1.0, inhibition=1.0)
print(net)
net.simulate(50.0)

# %%
# The sweep
# ---------
# Four speeds times three inhibition strengths: twelve runs, one field
# recorded every 10 ms each.  Each grid point has its own seed, derived from
# ``seed=3`` and its place in the grid, so the result is the same on one
# worker or many.
grid = {"speed": [0.5, 1.0, 2.0, 4.0], "inhibition": [0.5, 1.0, 2.0]}
res = sweep(build, grid, duration=args.duration, seed=3, period=10.0)
print(res)

# %%
# The tracking error
# ------------------
# The centre of the field's bump is the centre of mass of the activity above
# half its maximum; it is compared with where the stimulus was ``DELAY`` ms
# earlier.  The error of a run is the median distance once the field has
# settled (after the first 200 ms).


def centres(rates: np.ndarray) -> np.ndarray:
    """Centre of mass (x, y) of the activity above half its maximum, for each frame of ``(..., N, N)``."""
    peak = rates.max(axis=(-2, -1), keepdims=True)
    weights = np.where((rates > 0.5 * peak) & (peak > 0), rates, 0.0)
    total = weights.sum(axis=(-2, -1))
    y, x = np.mgrid[0:N, 0:N]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([(weights * x).sum(axis=(-2, -1)) / total, (weights * y).sum(axis=(-2, -1)) / total], -1)


def stimulus_centres(speed: float, times: np.ndarray) -> np.ndarray:
    angle = 2 * np.pi * speed / 1000.0 * (times - DELAY)
    return np.stack([N / 2 + N / 4 * np.cos(angle), N / 2 + N / 4 * np.sin(angle)], -1)


times = res["time"].values
found = centres(res["field"].values)  # (speed, inhibition, time, 2)
expected = np.stack([stimulus_centres(s, times) for s in grid["speed"]])[:, None]
distance = np.linalg.norm(found - expected, axis=-1)
settled = times >= 200.0
error = np.nanmedian(np.where(np.isnan(distance[..., settled]), N, distance[..., settled]), axis=-1)

# %%
# The figure
# ----------
# Left: the median tracking error over the grid (a bump lost counts as N).
# Right: the field at the end of the run for the slowest and the fastest
# stimulus, with the strongest inhibition.
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
image = axes[0].imshow(error, cmap="magma_r", origin="lower", aspect="auto")
axes[0].set_xticks(range(len(grid["inhibition"])), [f"{v:g}" for v in grid["inhibition"]])
axes[0].set_yticks(range(len(grid["speed"])), [f"{v:g}" for v in grid["speed"]])
axes[0].set_xlabel("inhibition strength"), axes[0].set_ylabel("stimulus speed (turns per second)")
axes[0].set_title("median tracking error (neurons)")
for (i, j), value in np.ndenumerate(error):
    dark = value > (error.min() + error.max()) / 2  # the colour map is dark at high errors
    axes[0].text(j, i, f"{value:.1f}", ha="center", va="center", color="white" if dark else "black")
fig.colorbar(image, ax=axes[0])
for ax, speed in zip(axes[1:], (grid["speed"][0], grid["speed"][-1])):
    ax.imshow(res["field"].sel(speed=speed, inhibition=grid["inhibition"][-1]).isel(time=-1), vmin=0, vmax=1)
    cx, cy = stimulus_centres(speed, times[-1:])[0]
    ax.plot(cx, cy, "r+", ms=14, mew=2)
    ax.set_title(f"field at {times[-1]:.0f} ms, {speed:g} turns/s\n(+: the stimulus {DELAY:.0f} ms earlier)")
    ax.axis("off")
fig.tight_layout()
fig.savefig(args.output, dpi=70)
best = np.unravel_index(np.argmin(error), error.shape)
print(f"neural_field_sweep: {error.size} runs; tracking error from {error.min():.2f} neurons "
      f"(speed {grid['speed'][best[0]]:g}, inhibition {grid['inhibition'][best[1]]:g}) to {error.max():.2f}; "
      f"figure written to {args.output}")
