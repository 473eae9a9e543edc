"""
Edge detection with a bank of oriented filters
==============================================

A grey-level image goes through four oriented edge filters at once: one
:class:`~ratenet.projections.Convolution` with a *bank* of filters fills one
channel of the output population per filter.  A max-pooling projection across
the channels then keeps, at every pixel, the strongest response: an edge map
that does not depend on the edge's orientation.  Which filter won tells the
orientation.

The scene is drawn with NumPy, so the right answer is known: on the rim of the
disk, the edge's orientation at each point is that of the radius through it.
"""

# %%
# The scene
# ---------
# A soft-edged disk (bright) and a tilted rectangle (grey) on a dark ground.
# The disk has edges of every orientation; the rectangle has two.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import hsv_to_rgb

from ratenet import Network, Neuron
from ratenet.image import ImagePopulation
from ratenet.projections import Convolution, Pooling

H, W = 96, 96
y, x = np.mgrid[0:H, 0:W]
disk_centre, radius = (34.0, 40.0), 22.0
distance = np.hypot(x - disk_centre[0], y - disk_centre[1])
scene = np.clip(radius + 0.5 - distance, 0.0, 1.0)  # 1 inside, 0 outside, a one-pixel ramp between
tilt = np.radians(30.0)
along = (x - 70) * np.cos(tilt) + (y - 66) * np.sin(tilt)
across = -(x - 70) * np.sin(tilt) + (y - 66) * np.cos(tilt)
scene[(np.abs(along) < 18) & (np.abs(across) < 8)] = 0.6

# %%
# The filter bank
# ---------------
# Each filter is the derivative of a Gaussian along one direction ``theta``:
# positive on one side, negative on the other.  It answers to a change of
# brightness along ``theta``, that is to an edge running across ``theta``.
# Angles are measured from the image's x axis, clockwise as the image is
# displayed (rows go down).
sigma = 1.5
k = np.arange(-4, 5)
ky, kx = np.meshgrid(k, k, indexing="ij")
angles = np.radians([0.0, 45.0, 90.0, 135.0])
bank = []
for theta in angles:
    along_theta = kx * np.cos(theta) + ky * np.sin(theta)
    kernel = -along_theta * np.exp(-(kx ** 2 + ky ** 2) / (2 * sigma ** 2))
    bank.append(kernel / kernel[kernel > 0].sum())  # a step of height 1 gives a response of 1
bank = np.array(bank)  # shape (4, 9, 9): filter f fills channel f of the output

# %%
# The network
# -----------
# ``oriented`` has one channel per filter.  Its neurons take the absolute value
# of their input, so a dark-to-bright and a bright-to-dark edge of the same
# orientation look alike.  ``edges`` max-pools each pixel's four channels:
# the pooling extent (1, 1, 4) covers an axis that ``edges`` does not have.
net = Network()
image = net.create(ImagePopulation(geometry=(H, W)), name="image")
oriented = net.create((H, W, len(angles)), Neuron(equations="r = abs(sum(exc))"), name="oriented")
edges = net.create((H, W), Neuron(equations="r = sum(exc)"), name="edges")
net.connect(Convolution(image, oriented, "exc")).connect_filters(weights=bank)
net.connect(Pooling(oriented, edges, "exc", operation="max")).connect_pooling(extent=(1, 1, len(angles)))

image.set_image(scene)
net.simulate(3.0)  # one step per layer, and one to spare

# %%
# Checking the orientations
# -------------------------
# On the rim of the disk, the winning filter should be the one whose angle is
# closest to the radius (modulo 180 degrees): with filters 45 degrees apart,
# no pixel should be off by much more than 22.5 degrees.
preferred = np.degrees(angles)[oriented.r.argmax(axis=2)]
rim = np.abs(distance - radius) < 1.0
radius_angle = np.degrees(np.arctan2(y - disk_centre[1], x - disk_centre[0]))
error = np.abs((preferred - radius_angle + 90.0) % 180.0 - 90.0)
print(f"{rim.sum()} rim pixels; worst orientation error {error[rim].max():.1f} degrees, "
      f"{100 * np.mean(error[rim] <= 22.5):.0f}% within 22.5 degrees")

# %%
# The figure
# ----------
# Top row: the four filters.  Middle row: their responses.  Bottom: the
# scene, the edge map, and the orientation of the winning filter as a colour
# whose brightness is the edge strength.
fig, axes = plt.subplots(3, 4, figsize=(10, 8))
for f, theta in enumerate(np.degrees(angles)):
    axes[0, f].imshow(bank[f], cmap="RdBu_r", vmin=-np.abs(bank).max(), vmax=np.abs(bank).max())
    axes[0, f].set_title(f"filter {f}: {theta:.0f} degrees")
    axes[1, f].imshow(oriented.r[:, :, f], cmap="gray", vmin=0.0, vmax=1.0)
    axes[1, f].set_title(f"response of filter {f}")
axes[2, 0].imshow(scene, cmap="gray", vmin=0.0, vmax=1.0)
axes[2, 0].set_title("scene")
axes[2, 1].imshow(edges.r, cmap="gray", vmin=0.0, vmax=1.0)
axes[2, 1].set_title("edges (max over filters)")
hsv = np.stack([preferred / 180.0, np.ones_like(preferred), np.clip(edges.r, 0.0, 1.0)], axis=-1)
axes[2, 2].imshow(hsv_to_rgb(hsv))
axes[2, 2].set_title("orientation of the winner")
axes[2, 3].plot(radius_angle[rim] % 180.0, preferred[rim], ".", ms=4)
axes[2, 3].plot([0, 180], [0, 180], "k:", lw=1)
axes[2, 3].set_xlabel("angle of the radius (mod 180)")
axes[2, 3].set_ylabel("winning filter")
axes[2, 3].set_title(f"rim of the disk: worst\nerror {error[rim].max():.0f} degrees", fontsize=10)
for ax in axes.flat[:-1]:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()
