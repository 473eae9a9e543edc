"""The batch axis (Network(batch=B)): time per sample per step, unbatched and batched, next to bare NumPy.

``--case dense``: the dense recurrent network of bench_dense.py (N = 2000), ms
per sample per step unbatched and with B = 64, and a bare ``W @ R`` of the same
shape (N x N times N x B) timed in the same process.

``--case ring``: the ring of 10 populations of 100 neurons (bench_small_populations.py),
us per sample per step unbatched and with B = 64, and a hand-written batched
NumPy step of the same ring (one (B, 100) array per population).

``--case video``: the tutorial's pipeline with a new frame every step, ms per
frame unbatched and with B = 8 and 64 (``batch_large``: 16 with ``--quick``) (each step assigns B new frames with
``image.r = frames``), then the same with uint8 frames, as a video delivers them, given with
``set_images`` (``set_image`` unbatched): ``u8_*``, then float64 frames given without a copy,
``set_images(frames, copy=False)`` (``set_image`` unbatched): ``nocopy_*``.  The line ends with the
ratio batch_large / unbatched per frame in each mode, and the no-copy batch against the default
(copying) unbatched run.

``--case learning``: a dense learning projection (Oja's rule, N = 200
neurons by default, ``--neurons``), us per sample per step unbatched and with B = 8 and 64
(each sample keeps and learns its own weights), and the same step written by hand
in NumPy (matrix-vector product, then the rule in place into preallocated
temporaries), one sample and a batch of 64 (sample by sample).
"""

from __future__ import annotations

import numpy as np

from _harness import best_time, parser, report
from bench_small_populations import handwritten as ring_by_hand

BATCH = 64


def dense(args) -> None:
    from ratenet import Network, Neuron, Uniform

    n = 500 if args.quick else 2000
    steps = 10 if args.quick else 50

    def build(batch):
        net = Network(batch=batch, seed=0)
        model = Neuron(parameters="tau = 10.0 : population\nbaseline = Uniform(0.0, 1.0)",
                       equations="tau * dr/dt + r = sum(exc) - sum(inh) + baseline : min=0.0")
        pop = net.create(n, model)
        net.connect(pop, pop, "exc").connect_all_to_all(Uniform(0.0, 1.0 / n), storage_format="dense")
        net.simulate(2.0)
        return net

    alone, batched = build(None), build(BATCH)
    unbatched = best_time(lambda: alone.simulate(float(steps)), args.repeats) / steps * 1e3
    per_sample = best_time(lambda: batched.simulate(float(steps)), args.repeats) / steps / BATCH * 1e3
    rng = np.random.default_rng(0)
    w, r, out = rng.random((n, n)), rng.random((n, BATCH)), np.empty((n, BATCH))

    def bare() -> None:
        for _ in range(steps):
            np.dot(w, r, out=out)

    blas = best_time(bare, args.repeats) / steps / BATCH * 1e3
    report("batch_dense", {"unbatched_ms_per_sample_step": unbatched, "batched_ms_per_sample_step": per_sample,
                           "bare_blas_ms_per_sample_step": blas, "speedup": unbatched / per_sample}, args,
           f"N={n}: {unbatched:.4f} ms/sample/step unbatched, {per_sample:.4f} with B={BATCH} "
           f"({unbatched / per_sample:.2f}x less), bare W @ R {blas:.4f}")


def ring(args) -> None:
    from ratenet import Network, Neuron

    steps = 200 if args.quick else 2000

    def build(batch):
        net = Network(batch=batch)
        neuron = Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = sum(exc) + 0.1")
        pops = [net.create(100, neuron) for _ in range(10)]
        for i in range(10):
            net.connect(pops[i], pops[(i + 1) % 10], "exc").connect_one_to_one(0.5)
        net.simulate(10.0)
        return net

    alone, batched = build(None), build(BATCH)
    unbatched = best_time(lambda: alone.simulate(float(steps)), args.repeats) / steps * 1e6
    per_sample = best_time(lambda: batched.simulate(float(steps)), args.repeats) / steps / BATCH * 1e6
    ring_by_hand(10, BATCH)
    by_hand = best_time(lambda: ring_by_hand(steps, BATCH), args.repeats) / steps / BATCH * 1e6
    report("batch_ring", {"unbatched_us_per_sample_step": unbatched, "batched_us_per_sample_step": per_sample,
                          "handwritten_batched_us_per_sample_step": by_hand}, args,
           f"{unbatched:.3f} us/sample/step unbatched, {per_sample:.3f} with B={BATCH}, "
           f"hand-written batched NumPy {by_hand:.3f}")


def _frames_loop(image, frames, net, n: int, mode: str = ""):
    """n steps, each giving the next frames (cycling through ``frames``) to the image population:
    ``image.r = frames`` (mode ""), ``set_image(s)`` ("u8_") or ``set_image(s)(..., copy=False)`` ("nocopy_")."""
    def run() -> None:
        for k in range(n):
            image.r = frames[k % len(frames)]
            net.step()

    feed = image.set_image if image.batch is None else image.set_images

    def run_uint8() -> None:
        for k in range(n):
            feed(frames[k % len(frames)])
            net.step()

    def run_nocopy() -> None:
        for k in range(n):
            feed(frames[k % len(frames)], copy=False)
            net.step()

    return {"": run, "u8_": run_uint8, "nocopy_": run_nocopy}[mode]


def video(args) -> None:
    from ratenet import compile, default_network
    from ratenet.demo import build_network

    large = 16 if args.quick else BATCH  # a smoke test need not hold 64 frames of 7 MB
    # Every configuration cycles through the same clip, larger than the caches: the same memory traffic
    # per frame (a clip of two frames would stay in the cache unbatched, and not batched).
    clip = np.random.default_rng(0).random(((1 if args.quick else 2) * large, 480, 640, 3))
    clip_u8 = (clip * 255.0).astype(np.uint8)
    runs = {}
    for prefix, source in (("", clip), ("u8_", clip_u8), ("nocopy_", clip)):
        for batch in (None, 8, large):
            count = 1 if batch is None else batch
            frames = [source[k] for k in range(len(source))] if batch is None else \
                [source[k:k + batch] for k in range(0, len(source), batch)]
            stages = build_network(batch=batch)
            compile()
            n = max(len(frames), (6 if args.quick else 40) // count)
            run = _frames_loop(stages["image"], frames, default_network(), n, prefix)
            run()
            name = "unbatched" if batch is None else "batch_large" if batch == large else f"batch_{batch}"
            runs[prefix + name] = (run, n * count)
    # Round-robin over the configurations, the best of each kept: a change of the machine's load (other
    # processes share its memory bandwidth) then weighs on every configuration alike, not on the ones that
    # happened to run at that moment.
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(max(1, args.repeats)):
        for name, (run, frames_run) in runs.items():
            best[name] = min(best[name], best_time(run, 1) / frames_run * 1e3)
    figures = best
    ratios = {f"{prefix or 'copy_'}ratio_batch_large_to_unbatched": figures[prefix + "batch_large"] /
              figures[prefix + "unbatched"] for prefix in ("", "u8_", "nocopy_")}
    ratios["nocopy_batch_large_to_default_unbatched"] = figures["nocopy_batch_large"] / figures["unbatched"]
    report("batch_video", {**{f"{k}_ms_per_frame": v for k, v in figures.items()}, **ratios}, args,
           ", ".join(f"{k} {v:.3f} ms/frame" for k, v in figures.items()) + f"; B={large} / unbatched: " +
           ", ".join(f"{k.split('ratio')[0].rstrip('_')} {v:.2f}x" for k, v in ratios.items()
                     if "ratio" in k) + f", nocopy B={large} / default unbatched "
           f"{ratios['nocopy_batch_large_to_default_unbatched']:.2f}x")


OJA = "dw/dt = eta * (pre.r * post.r - alpha * post.r^2 * w)"


def _oja_by_hand(n: int, batch: int, steps: int):
    """``steps`` steps of the learning network by hand: post = W @ pre, then Oja's rule in place, per sample."""
    rng = np.random.default_rng(0)
    w = rng.uniform(0.0, 0.1, (batch, n, n))
    pre = rng.random((batch, n))
    post = np.zeros((batch, n))
    eta, alpha = np.float64(0.01), np.float64(1.0)
    s0, s2, s1 = np.empty((n, n)), np.empty((n, n)), np.empty((n, 1))
    rows = [(w[b], pre[b], post[b], pre[b][None, :], post[b][:, None]) for b in range(batch)]

    def run() -> None:
        for _ in range(steps):
            for wb, x, y, _, _ in rows:
                np.dot(wb, x, out=y)
            for wb, _, _, xs, ys in rows:
                np.multiply(xs, ys, s0)
                np.multiply(ys, ys, s1)
                np.multiply(alpha, s1, s1)
                np.multiply(s1, wb, s2)
                np.subtract(s0, s2, s0)
                np.multiply(eta, s0, s0)
                np.add(wb, s0, wb)

    return run


def learning(args) -> None:
    from ratenet import Network, Neuron, Synapse, Uniform

    n = args.neurons or (50 if args.quick else 200)
    steps = 5 if args.quick else 20
    oja = Synapse(parameters="eta = 0.01 : projection\nalpha = 1.0 : projection", equations=OJA)

    def build(batch):
        net = Network(batch=batch, seed=0)
        pre = net.create(n, Neuron(parameters="r = 0.0"))
        post = net.create(n, Neuron(equations="r = sum(exc)"))
        net.connect(pre, post, "exc", oja).connect_all_to_all(Uniform(0.0, 0.1), storage_format="dense")
        pre.r = np.random.default_rng(1).random(((batch,) if batch else ()) + (n,))
        net.simulate(2.0)
        return net

    figures = {}
    for batch in (None, 8, BATCH):
        net = build(batch)
        figures["unbatched" if batch is None else f"batch_{batch}"] = \
            best_time(lambda net=net: net.simulate(float(steps)), args.repeats) / steps / (batch or 1) * 1e6
    for batch in (1, BATCH):
        run = _oja_by_hand(n, batch, steps)
        run()
        figures["handwritten" if batch == 1 else f"handwritten_batch_{batch}"] = \
            best_time(run, args.repeats) / steps / batch * 1e6
    report("batch_learning", {f"{k}_us_per_sample_step": v for k, v in figures.items()}, args,
           f"N={n}, Oja, us per sample per step: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=["dense", "ring", "video", "learning"], default="dense")
    p.add_argument("--neurons", type=int, default=None, help="--case learning: neurons per population")
    args = p.parse_args()
    {"dense": dense, "ring": ring, "video": video, "learning": learning}[args.case](args)


if __name__ == "__main__":
    main()
