"""
A Wilson-Cowan oscillator
=========================

Wilson and Cowan (1972) described a local circuit by the mean activities of
its excitatory (E) and inhibitory (I) cells::

    tau dE/dt = -E + (1 - E) S_E(c1 E - c2 I + P)
    tau dI/dt = -I + (1 - I) S_I(c3 E - c4 I + Q)

where ``S(x) = 1 / (1 + exp(-a (x - theta))) - 1 / (1 + exp(a theta))`` is a
sigmoid shifted to pass through 0.  With their parameters (c1 = 16, c2 = 12,
c3 = 15, c4 = 3; a = 1.3, theta = 4 for E and a = 2, theta = 3.7 for I) a
constant drive ``P`` to the excitatory cells gives a *limit cycle* in a band of
values of ``P``: below it the activity settles at a low steady state, above it
at a high one, and within it the frequency rises with ``P``.

Each oscillator here is one neuron with two variables, ``E`` and ``I``, and
one population holds 51 of them side by side, one per value of ``P``: a
single simulation sweeps the whole band.
"""

# %%
# The model
# ---------
# The sigmoid is a function of the model, so the equations read as in the
# paper.  The two ODEs follow each other, so they form one block: each step
# computes both derivatives from the same old values, and the ``rk4`` flag
# integrates the pair with the classical fourth-order Runge-Kutta method.
#
# Why not two populations, E and I, joined by projections?  That works too, but
# a projection carries the rates of the previous step, so the coupling between
# E and I is always advanced like explicit Euler, whatever the method: with
# tau = 10 ms and dt = 0.1 ms the period comes out about 5% too long.  For a
# pair of variables this tightly coupled, one neuron with both is exact to
# 4th order, and a step of 0.5 ms is enough.
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Network, Neuron

WilsonCowan = Neuron(
    parameters="""
        tau = 10.0 : population
        c1 = 16.0 : population
        c2 = 12.0 : population
        c3 = 15.0 : population
        c4 = 3.0 : population
        a_E = 1.3 : population
        theta_E = 4.0 : population
        a_I = 2.0 : population
        theta_I = 3.7 : population
        P = 0.0
        Q = 0.0 : population
    """,
    equations="""
        tau * dE/dt = -E + (1 - E) * S(c1 * E - c2 * I + P, a_E, theta_E) : rk4
        tau * dI/dt = -I + (1 - I) * S(c3 * E - c4 * I + Q, a_I, theta_I) : rk4
        r = E
    """,
    functions="S(x, a, theta) = 1 / (1 + exp(-a * (x - theta))) - 1 / (1 + exp(a * theta))",
)

# %%
# The network
# -----------
# Time is in ms.  Every unit starts at E = I = 0.
P_values = np.round(np.linspace(0.0, 2.5, 51), 3)
net = Network(dt=0.5)
units = net.create(len(P_values), WilsonCowan, name="units")
units.P = P_values
record = net.monitor(units, ["E", "I"])

net.simulate(2000.0)
t = (np.arange(4000) + 1) * net.dt  # a sample at the end of every step
recorded = record.get()
e, i = recorded["E"], recorded["I"]

# %%
# Period and amplitude
# --------------------
# The second half of the run measures each unit.  The period is the mean time
# between upward crossings of the mean; a unit counts as oscillating when its
# E activity still swings by more than 0.01.
late = t > 1000.0
amplitude = e[late].max(axis=0) - e[late].min(axis=0)
period = np.full(len(P_values), np.nan)
for k in np.flatnonzero(amplitude > 0.01):
    trace = e[late, k] - e[late, k].mean()
    crossings = t[late][1:][(trace[:-1] < 0) & (trace[1:] >= 0)]
    period[k] = np.diff(crossings).mean()
oscillating = P_values[amplitude > 0.01]
shown = int(np.argmin(np.abs(P_values - 1.25)))
print(f"oscillations for P from {oscillating.min():.2f} to {oscillating.max():.2f}; "
      f"period at P = 1.25: {period[shown]:.1f} ms")

# %%
# The phase plane
# ---------------
# The nullclines are where dE/dt = 0 and where dI/dt = 0.  The model's
# function is callable from Python (``units.S``), so they are drawn from the
# very function the simulation uses.  Their crossing, the fixed point, is unstable
# at P = 1.25: the trajectory spirals away from it onto the limit cycle.
grid_E, grid_I = np.meshgrid(np.linspace(0.0, 0.5, 201), np.linspace(0.0, 0.5, 201))
P = P_values[shown]
c1, c2, c3, c4 = units.c1, units.c2, units.c3, units.c4
dE = -grid_E + (1 - grid_E) * units.S(c1 * grid_E - c2 * grid_I + P, units.a_E, units.theta_E)
dI = -grid_I + (1 - grid_I) * units.S(c3 * grid_E - c4 * grid_I + units.Q, units.a_I, units.theta_I)

fig = plt.figure(figsize=(11, 7.5))
phase = fig.add_subplot(2, 2, 1)
step = 12
phase.quiver(grid_E[::step, ::step], grid_I[::step, ::step], dE[::step, ::step], dI[::step, ::step],
             color="0.7", angles="xy")
phase.contour(grid_E, grid_I, dE, levels=[0.0], colors="tab:red")
phase.contour(grid_E, grid_I, dI, levels=[0.0], colors="tab:blue")
phase.plot(e[:, shown], i[:, shown], "k", lw=0.8)
phase.plot([], [], color="tab:red", label="dE/dt = 0")
phase.plot([], [], color="tab:blue", label="dI/dt = 0")
phase.plot([], [], "k", lw=0.8, label="trajectory from (0, 0)")
phase.set(xlabel="E", ylabel="I", xlim=(0, 0.5), ylim=(0, 0.5), title=f"phase plane, P = {P}")
phase.legend(loc="upper left", fontsize=8)

traces = fig.add_subplot(2, 2, 2)
traces.plot(t, e[:, shown], color="tab:red", label="E")
traces.plot(t, i[:, shown], color="tab:blue", label="I")
traces.set(xlim=(0, 300), xlabel="time (ms)", ylabel="activity",
           title=f"P = {P}: period {period[shown]:.1f} ms")
traces.legend()

sweep = fig.add_subplot(2, 2, 3)
sweep.plot(P_values, amplitude, "o-", ms=3)
sweep.set(xlabel="drive P", ylabel="peak-to-peak E, 1 to 2 s", title="where it oscillates")

frequency = fig.add_subplot(2, 2, 4)
frequency.plot(P_values, 1000.0 / period, "o-", ms=3)
frequency.set(xlabel="drive P", ylabel="frequency (Hz)", xlim=sweep.get_xlim(),
              title="the frequency rises with the drive")
fig.tight_layout()
plt.show()

# %%
# What the sweep shows
# --------------------
# Below P of about 1.1 the circuit rests at low activity; at the lower edge
# the period grows very long, because the cycle is born where a stable and an
# unstable fixed point meet and vanish.  At the upper edge, near P = 1.9, the
# fixed point turns stable again (a Hopf bifurcation) and the cycle shrinks to
# nothing: close to that point oscillations die out slowly, so a short run
# would still show some.  In between, the frequency rises with the drive, as
# in Wilson and Cowan's paper.  The test of this example compares the periods
# with an independent integration by SciPy.
