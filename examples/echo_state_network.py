"""
An echo-state network predicts a chaotic series
===============================================

An echo-state network (Jaeger, 2001) is a fixed, random recurrent network -
the *reservoir* - driven by an input signal.  Its neurons are never trained:
their activity is a rich, fading memory of the recent input.  Only a linear
*readout* is learned, by ridge regression from the recorded activity.

The task: watch the Mackey-Glass series, a standard chaotic signal, and say
what it will be 20 steps later.  The readout is trained on the first 3000
steps and tested on the next 800, which it has never seen.
"""

# %%
# The signal
# ----------
# The Mackey-Glass equation ``dx/dt = 0.2 x(t - 17) / (1 + x(t - 17)^10) -
# 0.1 x(t)`` is integrated with steps of 0.1 and sampled once per time unit;
# each sample becomes one simulation step (1 ms).  It is centred and scaled to
# unit variance.
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Network, Neuron, TimedArray, Uniform


def mackey_glass(n: int, delay: float = 17.0, step: float = 0.1) -> np.ndarray:
    lag, every = round(delay / step), round(1.0 / step)
    x = np.full(lag + n * every + 1, 1.2)
    for k in range(lag, lag + n * every):
        past = x[k - lag]
        x[k + 1] = x[k] + step * (0.2 * past / (1.0 + past ** 10) - 0.1 * x[k])
    return x[lag::every][:n]


steps, horizon = 4000, 20
series = mackey_glass(steps + 500)[500:]  # drop the start, still shaped by the constant history
signal = (series - series.mean()) / series.std()

# %%
# The reservoir
# -------------
# 300 leaky tanh neurons.  The recurrent weights are random and sparse (10% of
# the pairs), scaled so that the largest eigenvalue of the weight matrix has a
# modulus of 0.95: the activity then echoes the input for a while and forgets
# it slowly, instead of dying at once or running on by itself.  A
# :class:`~ratenet.TimedArray` replays the signal, one value per step.
rng = np.random.default_rng(1)
size = 300
recurrent = rng.normal(0.0, 1.0, (size, size)) * (rng.random((size, size)) < 0.1)
recurrent *= 0.95 / np.abs(np.linalg.eigvals(recurrent)).max()

Reservoir = Neuron(
    parameters="""
        tau = 2.0 : population
        bias = 0.0
    """,
    equations="""
        tau * dx/dt + x = sum(input) + sum(rec) + bias
        r = tanh(x)
    """,
)
net = Network(dt=1.0, seed=2)
source = TimedArray(signal[:, None], network=net, name="signal")
reservoir = net.create(size, Reservoir, name="reservoir")
reservoir.bias = rng.uniform(-0.2, 0.2, size)
net.connect(source, reservoir, "input").connect_all_to_all(weights=Uniform(-0.5, 0.5))
net.connect(reservoir, reservoir, "rec").connect_from_matrix(recurrent)
record = net.monitor(reservoir, "r")

net.simulate(float(steps))
states = record.get("r")  # (steps, 300): the state at the end of every step

# %%
# The readout
# -----------
# At step ``n`` the reservoir has seen the signal up to step ``n - 1``: a
# projection reads the rates its source had at the end of the previous step.
# The readout maps the state at step ``n`` (and a constant 1) to the signal
# ``horizon`` steps later.  Ridge regression: ``W = (X'X + lambda I)^-1 X'y``.
# The first 200 steps are left out, while the reservoir forgets its start.
washout, split = 200, 3000
train = np.arange(washout, split)
test = np.arange(split, steps - horizon)


def features(rows: np.ndarray) -> np.ndarray:
    return np.hstack([states[rows], np.ones((len(rows), 1))])


X = features(train)
readout = np.linalg.solve(X.T @ X + 1e-6 * np.eye(X.shape[1]), X.T @ signal[train + horizon])
prediction = features(test) @ readout
target = signal[test + horizon]
nrmse = np.sqrt(np.mean((prediction - target) ** 2)) / target.std()

# A baseline: the best linear guess from the current value alone.
B = np.c_[signal[train], np.ones(len(train))]
guess = np.linalg.lstsq(B, signal[train + horizon], rcond=None)[0]
baseline = np.sqrt(np.mean((np.c_[signal[test], np.ones(len(test))] @ guess - target) ** 2)) / target.std()
print(f"normalised error on unseen data: reservoir {nrmse:.4f}, linear guess from the current value {baseline:.3f}")

# %%
# Further ahead
# -------------
# The same reservoir, with one readout per horizon: how far ahead can it see?
horizons = np.array([1, 5, 10, 20, 40, 60, 80, 100])
errors, baselines = [], []
for h in horizons:
    rows = np.arange(split, steps - h)
    w_h = np.linalg.solve(X.T @ X + 1e-6 * np.eye(X.shape[1]), X.T @ signal[train + h])
    errors.append(np.sqrt(np.mean((features(rows) @ w_h - signal[rows + h]) ** 2)) / signal[rows + h].std())
    g_h = np.linalg.lstsq(B, signal[train + h], rcond=None)[0]
    guess_h = np.c_[signal[rows], np.ones(len(rows))] @ g_h
    baselines.append(np.sqrt(np.mean((guess_h - signal[rows + h]) ** 2)) / signal[rows + h].std())

# %%
# The figure
# ----------
fig = plt.figure(figsize=(11, 7))
top = fig.add_subplot(2, 1, 1)
time = test + horizon
top.plot(time, target, "k", lw=2, label="target: the signal")
top.plot(time, prediction, "tab:orange", lw=1, label=f"prediction made {horizon} steps earlier")
top.set(xlabel="step", ylabel="signal (scaled)",
        title=f"unseen data: normalised error {nrmse:.4f} (linear guess from the current value: {baseline:.2f})")
top.legend(loc="upper right")
neurons = fig.add_subplot(2, 2, 3)
neurons.plot(np.arange(1, 601), states[:600, :5], lw=0.8)
neurons.plot(np.arange(1, 601), signal[:600], "k", lw=1.5, label="input signal")
neurons.set(xlabel="step", ylabel="r", title="five of the 300 reservoir neurons")
neurons.legend(loc="lower right", fontsize=8)
ahead = fig.add_subplot(2, 2, 4)
ahead.semilogy(horizons, errors, "o-", label="reservoir + trained readout")
ahead.semilogy(horizons, baselines, "s--", label="linear guess from the current value")
ahead.set(xlabel="horizon (steps)", ylabel="normalised error on unseen data", title="how far ahead")
ahead.legend(fontsize=8)
fig.tight_layout()
plt.show()
