"""
Winner-take-all: a network that decides
=======================================

Eight neurons each receive a constant input; each excites itself and inhibits
all the others.  Activity starts at zero, grows fastest where the input is
largest, and that neuron's inhibition silences the rest: the network picks the
largest input and holds the choice.  The closer the two best inputs, the
longer the decision takes.

Each neuron is a rectified leaky integrator::

    tau dr/dt + r = I + alpha r - beta (sum of the other neurons' r),  r >= 0

With ``alpha = 0.5`` and ``beta = 1`` the winner settles at ``I / (1 - alpha)``
= twice its input, and two neurons cannot stay active together: the
difference between them grows at the rate ``(alpha + beta - 1) / tau``.
"""

# %%
# The network
# -----------
# Self-excitation is a one-to-one projection of the population onto itself;
# inhibition is all-to-all (a projection from a population onto itself leaves
# out the self-connections unless asked).  The input ``I`` is a parameter with
# one value per neuron.
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Network, Neuron

Competing = Neuron(
    parameters="""
        tau = 10.0 : population
        I = 0.0
    """,
    equations="tau * dr/dt + r = I + sum(exc) - sum(inh) : min=0.0",
)

net = Network(dt=1.0)
choices = net.create(8, Competing, name="choices")
net.connect(choices, choices, "exc").connect_one_to_one(weights=0.5)
net.connect(choices, choices, "inh").connect_all_to_all(weights=1.0)
record = net.monitor(choices, "r")

# %%
# One decision
# ------------
rng = np.random.default_rng(4)
inputs = rng.uniform(0.5, 1.0, 8)
choices.I = inputs
net.simulate(200.0)
rates = record.get("r")
final = choices.r
winner = int(np.argmax(final))
print(f"largest input: neuron {np.argmax(inputs)}; winner: neuron {winner} at r = {final[winner]:.3f}")

# %%
# Close calls take longer
# -----------------------
# Two candidates, 1.0 and ``1 - difference``, against six weaker ones (0.8).
# ``reset()`` returns to time 0 with every rate at 0; the decision time is
# when the runner-up falls silent.
differences = np.array([0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002])
decision_time = []
for difference in differences:
    net.reset()
    choices.I = np.r_[1.0, 1.0 - difference, np.full(6, 0.8)]
    net.simulate(300.0)
    trial = record.get("r")
    silent = np.flatnonzero(trial[:, 1:].max(axis=1) == 0.0)
    decision_time.append((silent[0] + 1) * net.dt if len(silent) else np.nan)
decision_time = np.array(decision_time)

# %%
# The figure
# ----------
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
axes[0].bar(np.arange(8) - 0.2, inputs, width=0.4, label="input I")
axes[0].bar(np.arange(8) + 0.2, final, width=0.4, label="rate r after 200 ms")
axes[0].set(xlabel="neuron", title=f"neuron {winner} wins")
axes[0].legend()
time = (np.arange(len(rates)) + 1) * net.dt
for k in range(8):
    axes[1].plot(time, rates[:, k], lw=2 if k == winner else 1, label=f"{k}: I = {inputs[k]:.2f}")
axes[1].set(xlabel="time (ms)", ylabel="r", title="the competition")
axes[1].legend(fontsize=7, ncol=2)
axes[2].semilogx(differences, decision_time, "o-")
axes[2].set(xlabel="difference between the two best inputs", ylabel="decision time (ms)",
            title="close calls take longer")
fig.tight_layout()
plt.show()
