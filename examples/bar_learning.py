"""Hebbian learning of oriented bars (Foldiak's classic experiment).

An 8x8 input shows random horizontal and vertical bars.  32 leaky neurons
receive it through plastic weights (Oja's rule keeps them bounded) and inhibit
each other through anti-Hebbian lateral weights, which pushes each neuron
towards a different feature.  After training, most receptive fields are single
bars; the figure shows them all::

    python examples/bar_learning.py [-o bar_learning.png] [--trials 3000]
"""

from __future__ import annotations

import argparse

import numpy as np

from ratenet import Neuron, Population, Projection, Synapse, Uniform, clear, setup, simulate


def build(seed: int = 1, tau: float = 2000.0):
    clear()
    setup(seed=seed)
    InputNeuron = Neuron(parameters="r = 0.0")
    LeakyNeuron = Neuron(
        parameters="tau = 10.0 : population",
        equations="tau * dr/dt + r = sum(exc) - sum(inh) : min=0.0",
    )
    # Oja's rule: Hebbian growth, decay proportional to post.r^2 * w.  The feedforward
    # weights may turn negative, so a neuron learns to ignore the pixels off its bar.
    OjaRule = Synapse(
        parameters=f"""
            tau = {tau} : postsynaptic
            alpha = 8.0 : postsynaptic
            min_w = -10.0 : postsynaptic
        """,
        equations="tau * dw/dt = pre.r * post.r - alpha * post.r^2 * w : min=min_w",
    )
    # The same form between feature neurons: co-active neurons inhibit each other more.
    AntiHebb = Synapse(
        parameters=f"""
            tau = {tau} : postsynaptic
            alpha = 0.3 : postsynaptic
        """,
        equations="tau * dw/dt = pre.r * post.r - alpha * post.r^2 * w : min=0.0",
    )
    inp = Population(geometry=(8, 8), neuron=InputNeuron, name="Input")
    feature = Population(geometry=(4, 8), neuron=LeakyNeuron, name="Feature")
    ff = Projection(pre=inp, post=feature, target="exc", synapse=OjaRule)
    ff.connect_all_to_all(weights=Uniform(-0.5, 0.5))
    lateral = Projection(pre=feature, post=feature, target="inh", synapse=AntiHebb)
    lateral.connect_all_to_all(weights=Uniform(0.0, 1.0))
    return inp, feature, ff


def present_bars(inp: Population, rng: np.random.Generator) -> None:
    """Each row and each column lights up with probability 1/8."""
    rates = np.zeros(inp.geometry)
    rows, cols = inp.geometry
    rates[rng.random(rows) < 1.0 / rows, :] = 1.0
    rates[:, rng.random(cols) < 1.0 / cols] = 1.0
    inp.r = rates


def learned_bars(ff: Projection) -> tuple[int, int]:
    """(distinct bars that dominate some receptive field, fields dominated by one bar)."""
    fields = np.maximum(np.asarray(ff.w), 0.0).reshape(-1, 8, 8)
    # mean weight along each of the 16 bars: 8 rows then 8 columns
    bars = np.concatenate([fields.mean(axis=2), fields.mean(axis=1)], axis=1)
    best = bars.argmax(axis=1)
    strong = bars > 0.5 * bars.max(axis=1, keepdims=True)
    return len(set(best.tolist())), int((strong.sum(axis=1) == 1).sum())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="bar_learning.png")
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--tau", type=float, default=2000.0, help="time constant of learning (ms)")
    args = parser.parse_args(argv)

    inp, feature, ff = build(tau=args.tau)
    rng = np.random.default_rng(2)
    for trial in range(args.trials):
        present_bars(inp, rng)
        simulate(50.0)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars, single = learned_bars(ff)
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


if __name__ == "__main__":
    main()
