"""ratenet's main job: the convolution-and-pooling tutorial, end to end.

An image is loaded into a population, mean-pooled by 10, smoothed with a 3x3
box filter, then passed through a colour-opponent bank of three 1x1 filters.
After four steps every stage holds its result; the figure shows them all.

Run it with ``ratenet-demo`` (installed with the package) or
``python examples/image_filters.py``::

    ratenet-demo                      # matplotlib's grace_hopper.jpg
    ratenet-demo my_photo.png -o out.png
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

import numpy as np

from .api import clear, compile, setup, simulate
from .image import ImagePopulation
from .neurons import Neuron
from .population import Population
from .projections import Convolution, Pooling

__all__ = ["default_image", "build_network", "plot_stages", "main"]


def default_image() -> str:
    """Path of ``grace_hopper.jpg``, which ships with matplotlib.

    Found without importing matplotlib (which takes longer than the whole
    simulation): its data directory sits inside the package.
    """
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = os.path.join(folder, "mpl-data", "sample_data", "grace_hopper.jpg")
        if os.path.exists(candidate):
            return candidate
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")


def build_network(batch: int | None = None) -> dict[str, Any]:
    """Build the tutorial's network in the default network (after ``clear()``).

    The code is the tutorial's, with only the imports changed; ``batch``
    runs that many images at once (``setup(batch=batch)``).

    Returns
    -------
    dict
        The populations, by name: image, pooled, smoothed, filtered.

    Examples
    --------
    >>> stages = build_network()
    >>> stages["filtered"].geometry
    (48, 64, 3)
    """
    clear()
    if batch is not None:
        setup(batch=batch)
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

    return {"image": image, "pooled": pooled, "smoothed": smoothed, "filtered": filtered}


def plot_stages(stages: dict[str, Any], path: str) -> str:
    """Draw the tutorial's 5x3 figure of every stage and save it to ``path``.

    Returns
    -------
    str
        The absolute path written.
    """
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # no window: the figure goes to a file
    import matplotlib.pyplot as plt

    image = stages["image"]
    fig = plt.figure(figsize=(20.0, 20.0))
    plt.subplot(532)
    plt.imshow(image.r)
    plt.title('Original')
    rows = [("image", 4), ("pooled", 7), ("smoothed", 10), ("filtered", 13)]
    for name, first in rows:
        rates = stages[name].r
        for channel, colour in enumerate("RGB"):
            plt.subplot(5, 3, first + channel)
            plt.imshow(rates[:, :, channel], cmap='gray', interpolation='nearest', vmin=0.0, vmax=1.0)
            plt.title(f'{name} {colour}')
    fig.savefig(path, dpi=60, bbox_inches="tight")
    plt.close(fig)
    return os.path.abspath(path)


def main(argv: Sequence[str] | None = None) -> str:
    """Run the tutorial's pipeline on an image and write the figure.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments: ``[image] [-o OUTPUT]``.

    Returns
    -------
    str
        Where the figure was written.
    """
    parser = argparse.ArgumentParser(prog="ratenet-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("image", nargs="?", default=None,
                        help="image file (default: grace_hopper.jpg shipped with matplotlib)")
    parser.add_argument("-o", "--output", default="ratenet-image-filters.png", help="PNG file to write")
    args = parser.parse_args(argv)
    path = args.image or default_image()

    stages = build_network()
    compile()
    stages["image"].set_image(path)
    # Step 1: pooled subsamples the image; 2: smoothed filters it; 3: the bank; 4: all settled.
    simulate(4.0)
    written = plot_stages(stages, args.output)
    print(f"ratenet: filtered {os.path.basename(path)} through pooling, smoothing and a colour filter bank; "
          f"figure written to {written}")
    return written


if __name__ == "__main__":  # pragma: no cover
    main()
