"""The tutorial's network on grace_hopper.jpg: ms per step over simulate(1000).

image (480, 640, 3) -> mean pooling -> (48, 64, 3) -> 3x3x1 box filter ->
colour filter bank -> (48, 64, 3), every layer ``r = sum(exc) : min=0.0``.
Also times ratenet with the skipping of unchanged work turned off (every
projection recomputed every step), and a hand-written NumPy/SciPy step of the
same network for comparison.
"""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, report


class Handwritten:
    """The same network written by hand: preallocated buffers, every projection every step."""

    def __init__(self) -> None:
        self.pooled, self.smoothed, self.filtered = (np.zeros((48, 64, 3)) for _ in range(3))
        self.s1, self.s2, self.s3 = (np.empty((48, 64, 3)) for _ in range(3))
        self.rows = np.empty((48, 640, 3))
        self.columns = self.rows.reshape(48, 64, 10, 3)
        self.box = np.ones((3, 3, 1)) / 9.0
        self.bank = np.array([[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]])

    def step(self, image: np.ndarray) -> None:
        from scipy.ndimage import correlate

        s1, s2, s3 = self.s1, self.s2, self.s3
        # contiguous rows first, then the 10 columns of each window as strided slices
        np.add.reduce(image.reshape(48, 10, 640, 3), axis=1, out=self.rows)
        np.copyto(s1, self.columns[:, :, 0])
        for k in range(1, 10):
            np.add(s1, self.columns[:, :, k], out=s1)
        s1 *= 0.01
        correlate(self.pooled, self.box, output=s2, mode="constant")
        np.dot(self.smoothed.reshape(-1, 3), self.bank.T, out=s3.reshape(-1, 3))
        np.maximum(s1, 0.0, out=self.pooled)
        np.maximum(s2, 0.0, out=self.smoothed)
        np.maximum(s3, 0.0, out=self.filtered)


def handwritten(image: np.ndarray, steps: int) -> None:
    network = Handwritten()
    for _ in range(steps):
        network.step(image)


def main() -> None:
    args = parser(__doc__.split("\n\n")[0]).parse_args()
    from ratenet import compile, simulate, default_network
    from ratenet.demo import build_network, default_image

    steps = 100 if args.quick else 1000
    stages = build_network()
    compile()
    stages["image"].set_image(default_image())
    simulate(4.0)
    per_step = best_time(lambda: simulate(float(steps)), args.repeats) / steps * 1e3

    default_network().skip_unchanged = False
    simulate(4.0)
    every_step = best_time(lambda: simulate(float(steps)), args.repeats) / steps * 1e3

    image = np.ascontiguousarray(stages["image"].r)
    by_hand = best_time(lambda: handwritten(image, steps), args.repeats) / steps * 1e3
    report("tutorial", {"ms_per_step": per_step, "ms_per_step_recomputing": every_step,
                        "handwritten_ms_per_step": by_hand}, args,
           f"{per_step:.4f} ms/step ({every_step:.4f} recomputing every projection; "
           f"hand-written NumPy {by_hand:.4f})")


if __name__ == "__main__":
    main()
