"""
Oja's rule finds the first principal component
==============================================

A linear neuron ``y = w . x`` that learns with Oja's rule::

    dw/dt = eta * y * (x - y * w)

ends up with a weight vector of length 1 pointing along the direction in which
its inputs vary most: the eigenvector of the input covariance with the largest
eigenvalue (Oja, 1982).  The first term is Hebbian; the second makes the
weights decay in proportion to ``y^2``, which keeps their length at 1 without
any explicit normalisation.

Here the inputs are points of a two-dimensional Gaussian cloud, one per step.
The learned vector is compared with the eigenvector that NumPy computes from
the same samples.
"""

# %%
# The inputs
# ----------
# Zero-mean samples whose long axis is tilted by 30 degrees; the standard
# deviations along the two axes are 1 and 0.3.
import matplotlib.pyplot as plt
import numpy as np

from ratenet import InputArray, Network, Neuron, Synapse

rng = np.random.default_rng(0)
tilt = np.radians(30.0)
rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
covariance = rotation @ np.diag([1.0, 0.3 ** 2]) @ rotation.T
samples = rng.multivariate_normal([0.0, 0.0], covariance, size=3000)

# %%
# The network
# -----------
# The rule is written out as a synapse model.  (ratenet's built-in
# :class:`~ratenet.Oja` is the same rule with a factor ``alpha`` and weights
# kept non-negative, which would forbid the negative component an
# eigenvector may have.)  The output neuron is linear: ``r = sum(exc)``.
OjaRule = Synapse(
    parameters="eta = 0.005 : projection",
    equations="dw/dt = eta * post.r * (pre.r - post.r * w)",
)
net = Network(dt=1.0)
inputs = InputArray(2, network=net)
output = net.create(1, Neuron(equations="r = sum(exc)"))
learning = net.connect(inputs, output, "exc", OjaRule).connect_from_matrix([[0.1, -0.5]])
weights = net.monitor(learning, "w")

# %%
# Learning
# --------
# One sample per step.  A value assigned from Python before a step is what the
# projection reads during that step, so in each step the neuron's output and
# the learning rule both see the sample just assigned.
for x in samples:
    inputs.r = x
    net.step()

# %%
# The check
# ---------
# The eigenvector of the largest eigenvalue (``eigh`` sorts them in ascending
# order) is defined up to its sign, so the angle is taken between the two lines.
w = np.asarray(learning.w).ravel()
eigenvalues, eigenvectors = np.linalg.eigh(np.cov(samples.T))
first = eigenvectors[:, -1]
angle = np.degrees(np.arccos(min(1.0, abs(w @ first) / np.linalg.norm(w))))
print(f"learned w = {w.round(3)}, |w| = {np.linalg.norm(w):.3f}; first principal component "
      f"{first.round(3)}; angle {angle:.2f} degrees")

# %%
# The figure
# ----------
# Left: the samples, the path of the weight vector during learning, and the
# two directions.  Right: the angle to the principal component and the length
# of ``w`` as learning proceeds.
history = weights.get("w").reshape(len(samples), 2)
fig, (plane, progress) = plt.subplots(1, 2, figsize=(11, 4.8))
plane.plot(samples[:, 0], samples[:, 1], ".", color="0.8", ms=3, label="inputs")
plane.plot(history[:, 0], history[:, 1], color="tab:orange", lw=1, label="w during learning")
scale = 2 * np.sqrt(eigenvalues[-1])
plane.plot([-scale * first[0], scale * first[0]], [-scale * first[1], scale * first[1]], "k--", lw=1,
           label="first principal component (eigh)")
plane.annotate("", xy=w, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 2})
plane.plot([], [], color="tab:red", lw=2, label="learned w")
plane.set(aspect="equal", xlabel="x1", ylabel="x2", title=f"angle between w and the component: {angle:.1f} degrees")
plane.legend(loc="lower right", fontsize=8)

cosine = np.abs(history @ first) / np.linalg.norm(history, axis=1)
progress.plot(np.degrees(np.arccos(np.clip(cosine, 0.0, 1.0))), label="angle to the component (degrees)")
progress.set(xlabel="samples", ylabel="degrees", yscale="log", ylim=(0.1, 100))
length = progress.twinx()
length.plot(np.linalg.norm(history, axis=1), color="tab:green", label="|w|")
length.set(ylabel="|w|", ylim=(0, 1.3))
progress.legend(loc="upper center", fontsize=8)
length.legend(loc="center right", fontsize=8)
progress.set_title("convergence")
fig.tight_layout()
plt.show()
