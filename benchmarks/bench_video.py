"""A new frame every step through the tutorial's pipeline: ms per frame.

Every step assigns the next frame of a short clip of random (480, 640, 3) images
to the image population (``image.r = frame``) and runs one step, so no work can
be skipped.  The hand-written NumPy reference does the same in the same process:
it copies the frame into its own input array, then runs its pipeline once.
"""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, report
from bench_tutorial import Handwritten


def main() -> None:
    args = parser(__doc__.split("\n\n")[0]).parse_args()
    from ratenet import compile, default_network
    from ratenet.demo import build_network

    frames_in_clip = 4 if args.quick else 8
    steps = 50 if args.quick else 500
    clip = np.random.default_rng(0).random((frames_in_clip, 480, 640, 3))
    stages = build_network()
    compile()
    image = stages["image"]
    net = default_network()

    def run() -> None:
        for k in range(steps):
            image.r = clip[k % frames_in_clip]
            net.step()

    run()
    per_frame = best_time(run, args.repeats) / steps * 1e3

    network = Handwritten()
    buffer = np.empty((480, 640, 3))

    def by_hand() -> None:
        for k in range(steps):
            np.copyto(buffer, clip[k % frames_in_clip])
            network.step(buffer)

    by_hand()
    reference = best_time(by_hand, args.repeats) / steps * 1e3
    report("video", {"ms_per_frame": per_frame, "handwritten_ms_per_frame": reference}, args,
           f"{per_frame:.3f} ms per frame (hand-written NumPy {reference:.3f})")


if __name__ == "__main__":
    main()
