"""
Pooling, smoothing and a colour-opponent filter bank
=====================================================

The tutorial ratenet was built around, and its main job.  A colour photograph
becomes the rates of an input population; three layers of linear neurons then
process it, each reading the one before:

1. **pooling** averages every 10 x 10 block of pixels (480 x 640 -> 48 x 64),
2. **smoothing** convolves each colour channel with a 3 x 3 box filter,
3. a **filter bank** of three 1 x 1 filters turns (R, G, B) into
   colour-opponent channels: "red minus the rest", "green minus the rest" and
   "blue minus the rest".

The network code is the ANNarchy tutorial's, with only the import lines changed.
From a terminal the script writes its figure to a PNG::

    python examples/image_filters.py [image] [-o ratenet-image-filters.png]

The image defaults to ``grace_hopper.jpg``, which ships with matplotlib.
"""

# %%
# Imports and the command line
# ----------------------------
# The layers are ordinary populations; the image input and the two kinds of
# image projections live in the submodules ``ratenet.image`` and
# ``ratenet.projections``.
import argparse
import os

import matplotlib

matplotlib.use("Agg")  # draw into a file, even where a screen exists
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Neuron, Population, clear, compile, simulate
from ratenet.image import ImagePopulation
from ratenet.projections import Convolution, Pooling

parser = argparse.ArgumentParser(description="ratenet's convolution-and-pooling tutorial")
parser.add_argument("image", nargs="?", default=None, help="image file (default: grace_hopper.jpg)")
parser.add_argument("-o", "--output", default="ratenet-image-filters.png", help="PNG file to write")
args = parser.parse_args()
path = args.image or os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")

# %%
# The network
# -----------
# ``r = sum(exc) : min=0.0`` is a linear neuron with a rectified output: it
# shows its summed input, never below zero.  Every population holds its rates
# as an array shaped like its geometry (height, width, channel).
clear()
image = ImagePopulation(geometry=(480, 640, 3))

# Simple ANN
LinearNeuron = Neuron(equations="r=sum(exc): min=0.0")

# Subsampling population
pooled = Population(geometry=(48, 64, 3), neuron=LinearNeuron)

# Mean-pooling projection
pool_proj = Pooling(pre=image, post=pooled, target='exc', operation='mean')
pool_proj.connect_pooling()

# Smoothing population
smoothed = Population(geometry=(48, 64, 3), neuron=LinearNeuron)

# Box filter projection
box_filter = np.ones((3, 3, 1)) / 9.
smooth_proj = Convolution(pre=pooled, post=smoothed, target='exc')
smooth_proj.connect_filter(weights=box_filter)

# Convolution population
filtered = Population(geometry=(48, 64, 3), neuron=LinearNeuron)

# Red/Green/Blue filter bank
filter_bank = np.array([
    [[[2.0, -1.0, -1.0]]],  # Red filter
    [[[-1.0, 2.0, -1.0]]],  # Green filter
    [[[-1.0, -1.0, 2.0]]],  # Blue filter
])
filter_proj = Convolution(pre=smoothed, post=filtered, target='exc')
filter_proj.connect_filters(weights=filter_bank)

# %%
# A few things to notice.  The pooling extent (10, 10, 1) is deduced from the
# two geometries.  The box filter has shape (3, 3, 1): with as many dimensions
# as the populations, it smooths each channel separately.  The bank holds
# three filters of shape (1, 1, 3): each spans all three channels of one
# pixel, and filter ``f`` fills channel ``f`` of ``filtered``.
#
# Running it
# ----------
# ``compile()`` checks the network and plans the step; no compiler is
# involved, so it returns at once (and ``simulate`` would do it anyway).
# Each layer reads the rates its input had at the end of the previous step,
# so the result needs one step per layer: after three steps every layer shows
# the image.  The fourth changes nothing.
compile()
image.set_image(path)
simulate(4.0)

# %%
# The figure
# ----------
# Top: the photograph.  Below, one row per stage and one column per channel.
# The opponent channels light up where one colour dominates the other two:
# the skin and the red stripes of the flag in the red channel, the blue
# background in the blue one.  Almost nothing in the photograph is green.
fig = plt.figure(figsize=(9, 13))
plt.subplot(5, 3, 2)
plt.imshow(image.r)
plt.title("Original")
plt.axis("off")
stages = {"image": image, "pooled": pooled, "smoothed": smoothed, "filtered": filtered}
for row, (name, population) in enumerate(stages.items(), start=1):
    for channel, colour in enumerate("RGB"):
        plt.subplot(5, 3, 3 * row + channel + 1)
        plt.imshow(population.r[:, :, channel], cmap="gray", interpolation="nearest", vmin=0.0, vmax=1.0)
        plt.title(f"{name} {colour}")
        plt.axis("off")
fig.tight_layout()
fig.savefig(args.output, dpi=60)
print(f"ratenet: filtered {os.path.basename(path)} through pooling, smoothing and a colour filter bank; "
      f"figure written to {os.path.abspath(args.output)}")
