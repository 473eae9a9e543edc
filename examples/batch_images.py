"""
A folder of images through the tutorial's pipeline, as one batch
=================================================================

The tutorial's network (pooling, smoothing, a colour-opponent filter bank; see
the image filters example) run over every image of a folder at once.
``setup(batch=B)`` gives every population a leading axis of B samples:
``image.r`` has shape (B, 480, 640, 3), and ``set_images`` puts image ``b`` into
sample ``b``.  The network code is unchanged: the same populations and
projections process all the images in each step, with the weights shared.

From a terminal the script writes its figure to a PNG::

    python examples/batch_images.py [folder] [-o ratenet-batch-images.png]

The folder defaults to matplotlib's sample images (a photograph, a logo and a
drawing); any folder of ``.png``/``.jpg`` files works, images of other sizes
are resized to 480 x 640.
"""

# %%
# The images and the network
# --------------------------
# One call of ``setup(batch=...)`` before the populations are created is all
# that changes.  The rest is the tutorial's code.
import argparse
import glob
import os

import matplotlib

matplotlib.use("Agg")  # draw into a file, even where a screen exists
import matplotlib.pyplot as plt
import numpy as np

from ratenet import Neuron, Population, clear, compile, setup, simulate
from ratenet.image import ImagePopulation
from ratenet.projections import Convolution, Pooling

parser = argparse.ArgumentParser(description="the tutorial's pipeline over a folder of images, as one batch")
parser.add_argument("folder", nargs="?", default=None, help="folder of .png/.jpg images (default: matplotlib's)")
parser.add_argument("-o", "--output", default="ratenet-batch-images.png", help="PNG file to write")
args = parser.parse_args()
folder = args.folder or os.path.join(matplotlib.get_data_path(), "sample_data")
paths = sorted(p for pattern in ("*.png", "*.jpg", "*.jpeg") for p in glob.glob(os.path.join(folder, pattern)))
if not paths:
    raise SystemExit(f"no .png or .jpg image in {folder}")

clear()
setup(batch=len(paths))
image = ImagePopulation(geometry=(480, 640, 3))
LinearNeuron = Neuron(equations="r=sum(exc): min=0.0")
pooled = Population(geometry=(48, 64, 3), neuron=LinearNeuron)
Pooling(pre=image, post=pooled, target='exc', operation='mean').connect_pooling()
smoothed = Population(geometry=(48, 64, 3), neuron=LinearNeuron)
Convolution(pre=pooled, post=smoothed, target='exc').connect_filter(weights=np.ones((3, 3, 1)) / 9.)
filtered = Population(geometry=(48, 64, 3), neuron=LinearNeuron)
filter_bank = np.array([
    [[[2.0, -1.0, -1.0]]],  # Red filter
    [[[-1.0, 2.0, -1.0]]],  # Green filter
    [[[-1.0, -1.0, 2.0]]],  # Blue filter
])
Convolution(pre=smoothed, post=filtered, target='exc').connect_filters(weights=filter_bank)

# %%
# Running it
# ----------
# Four steps, as for one image: every layer then holds its result, for every
# sample.  ``filtered.r`` has shape (B, 48, 64, 3).
compile()
image.set_images(paths)
simulate(4.0)

# %%
# The figure
# ----------
# One row per image: the image as the network sees it (resized to 480 x 640),
# then the three opponent channels of the filter bank.  Each sample is
# exactly what a network run on that image alone gives.
rows = len(paths)
fig, axes = plt.subplots(rows, 4, figsize=(10, 2.2 * rows), squeeze=False)
for b, path in enumerate(paths):
    axes[b, 0].imshow(image.r[b])
    axes[b, 0].set_title(os.path.basename(path), fontsize=8)
    for channel, colour in enumerate(("red", "green", "blue")):
        axes[b, channel + 1].imshow(filtered.r[b, :, :, channel], cmap="gray", vmin=0.0, vmax=1.0,
                                    interpolation="nearest")
        axes[b, channel + 1].set_title(f"{colour} minus the rest", fontsize=8)
for ax in axes.ravel():
    ax.axis("off")
fig.tight_layout()
fig.savefig(args.output, dpi=60)
print(f"ratenet: {rows} images through pooling, smoothing and a colour filter bank in one batch; "
      f"figure written to {os.path.abspath(args.output)}")
