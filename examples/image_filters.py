"""The convolution-and-pooling tutorial on ratenet: ratenet's main job.

Loads an image (by default ``grace_hopper.jpg``, which ships with matplotlib),
mean-pools it, smooths it with a box filter, applies a colour-opponent filter
bank, and writes a 5x3 figure of every stage to a PNG::

    python examples/image_filters.py [image] [-o figure.png]

The network is built in :func:`ratenet.demo.build_network`, with the
tutorial's code unchanged apart from its imports.
"""

from ratenet.demo import main

if __name__ == "__main__":
    main()
