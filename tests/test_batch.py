"""The batch axis: Network(batch=B), per-sample values, inputs, outputs and errors.

Sample-by-sample equality with separate runs over random networks lives in
tests/differential/test_batch.py; here each feature against a value computed
by hand or a separate unbatched run.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from ratenet import Hebb, InputArray, Network, Neuron, RatenetError, Synapse, TimedArray, ValidationError, clear, setup
from ratenet import default_network
from ratenet.image import ImagePopulation, VideoPopulation

LEAKY = Neuron(parameters="tau = 10.0 : population\nb = 0.0", equations="tau * dr/dt + r = sum(exc) + b")


def test_without_batch_nothing_changes():
    net = Network()
    pop = net.create((2, 3), LEAKY)
    assert net.batch is None and pop.batch is None
    assert pop.r.shape == (2, 3) and isinstance(pop.tau, float)


def test_shapes_and_setup():
    clear()
    setup(batch=4)
    pop = default_network().create((2, 3), LEAKY)
    assert pop.r.shape == (4, 2, 3) and pop.b.shape == (4, 2, 3) and pop.tau.shape == (4,)
    assert pop.sum("exc").shape == (4, 2, 3)
    clear()
    assert default_network().batch is None


def test_assignments_every_sample_and_each_sample():
    net = Network(batch=3)
    pop = net.create((2, 2), LEAKY)
    pop.b = np.arange(4.0).reshape(2, 2)  # the geometry: every sample
    assert np.array_equal(pop.b, np.broadcast_to(np.arange(4.0).reshape(2, 2), (3, 2, 2)))
    each = np.arange(12.0).reshape(3, 2, 2)
    pop.b = each
    assert np.array_equal(pop.b, each)
    pop.b = np.arange(12.0).reshape(3, 4)  # (B, size)
    assert np.array_equal(pop.b, each)
    pop.tau = np.linspace(5, 50, 3)
    assert pop.tau.tolist() == [5.0, 27.5, 50.0]
    pop.tau = 2.0
    assert pop.tau.tolist() == [2.0, 2.0, 2.0]
    pop[1:3].b = [[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]]  # a view, one row per sample
    assert pop.b.reshape(3, 4)[:, 1:3].tolist() == [[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]]
    pop.neuron(3).b = [7.0, 8.0, 9.0]
    assert pop.neuron(3).b.tolist() == [7.0, 8.0, 9.0]
    assert pop[0:2].b.shape == (3, 2)


def test_bad_shapes_are_clear_errors():
    net = Network(batch=3)
    pop = net.create((2, 2), LEAKY, name="p")
    with pytest.raises(ValidationError, match=r"Population 'p'\.b: expected a number, an array of shape \(2, 2\) "
                                              r"or \(4,\) \(every sample\) or \(3, 2, 2\) or \(3, 4\) \(one per "
                                              r"sample\) \(got shape \(2, 3\)\)"):
        pop.b = np.zeros((2, 3))
    with pytest.raises(ValidationError, match=r"Population 'p'\.tau: is one value per sample: expected a number "
                                              r"or an array of shape \(3,\) \(got shape \(2,\)\)"):
        pop.tau = np.zeros(2)
    with pytest.raises(ValidationError, match=r"Network\.batch: must be a positive integer"):
        Network(batch=0)
    with pytest.raises(ValidationError, match=r"Network\.batch: cannot change once populations exist"):
        net.setup(batch=2)


def test_population_level_sweep_equals_separate_runs():
    """pop.tau = np.linspace(...): one run, sample b equals a run with that tau alone."""
    taus = np.linspace(5.0, 50.0, 4)
    net = Network(batch=4, dt=0.5)
    inp = net.create(3, Neuron(parameters="r = 0.0"))
    inp.r = [0.2, 0.5, 1.0]
    pop = net.create(3, LEAKY)
    pop.tau = taus
    net.connect(inp, pop, "exc").connect_all_to_all(0.3, storage_format="dense")
    m = net.monitor(pop, ["r", "tau"])
    net.simulate(20.0)
    for b, tau in enumerate(taus):
        alone = Network(dt=0.5)
        i2 = alone.create(3, Neuron(parameters="r = 0.0"))
        i2.r = [0.2, 0.5, 1.0]
        p2 = alone.create(3, LEAKY)
        p2.tau = tau
        alone.connect(i2, p2, "exc").connect_all_to_all(0.3, storage_format="dense")
        alone.simulate(20.0)
        np.testing.assert_allclose(pop.r[b], p2.r, rtol=1e-14)
    recorded = m.get(reshape=False)
    assert recorded["r"].shape == (40, 4, 3) and recorded["tau"].shape == (40, 4)
    assert np.array_equal(recorded["r"][-1], pop.r)


def test_global_operations_per_sample():
    net = Network(batch=2)
    pop = net.create(3, Neuron(parameters="b = 0.0", equations="r = b + 0.0 * t\ns = mean(r) : population"))
    pop.b = [[1.0, 2.0, 3.0], [10.0, 20.0, 60.0]]
    net.simulate(2.0)
    assert pop.s.tolist() == [2.0, 30.0]


def test_monitor_views_reshape_and_neuron():
    net = Network(batch=2)
    pop = net.create((2, 2), Neuron(equations="r = t"))
    whole, view = net.monitor(pop, "r"), net.monitor(pop[1:3], "r")
    net.simulate(3.0)
    assert whole.get("r", keep=True, reshape=False).shape == (3, 2, 4)
    assert whole.get("r", reshape=True).shape == (3, 2, 2, 2)  # net.monitor reshapes by default (ANNarchy 5)
    assert view.get("r", reshape=False).shape == (3, 2, 2)


def test_delays_batched():
    """A delay of 3 steps reads each sample's own past."""
    net = Network(batch=2)
    inp = InputArray(2, network=net)
    out = net.create(2, Neuron(equations="r = sum(exc)"))
    net.connect(inp, out, "exc").connect_one_to_one(1.0, delays=3.0)
    m = net.monitor(out, "r")
    net.compile()  # (steps, B, 2)
    inp.r = [[1.0, 2.0], [3.0, 4.0]]  # seen 3 - 1 steps later than without a delay (DESIGN section 5)
    net.simulate(5.0)
    got = m.get("r")
    assert got[:2].sum() == 0.0 and got[2].tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_timed_array_one_sequence_per_sample_and_shared():
    net = Network(batch=2)
    rates = np.array([[[1.0], [2.0]], [[3.0], [4.0]]])  # (steps, B, 1)
    timed = TimedArray(rates, network=net)
    shared = TimedArray(np.array([[5.0], [6.0]]), network=net)
    assert timed.geometry == (1,) and shared.geometry == (1,)
    net.simulate(2.0)
    assert timed.r.tolist() == [[3.0], [4.0]] and shared.r.tolist() == [[6.0], [6.0]]
    with pytest.raises(ValidationError, match=r"rates: must have shape \(steps, 1\) or \(steps, 2, 1\)"):
        TimedArray(np.zeros((3, 5, 2)), geometry=1, network=net)


def test_check_finite_names_the_sample():
    net = Network(batch=3)
    pop = net.create(2, Neuron(parameters="k = 1.0", equations="r = 1.0 / k"), name="p")
    pop.k = [[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
    net.check_finite = True
    with np.errstate(divide="ignore"), pytest.raises(RatenetError, match=r"Population 'p'\.r: sample 2, neuron 1 "
                                                                          r"is inf after step 0"):
        net.step()


def _learning_net(batch, fmt="dense", rates=None):
    net = Network(batch=batch)
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    syn = Synapse(parameters="eta = 0.1 : projection", equations="dw/dt = eta * pre.r * post.r")
    proj = net.connect(a, b, "exc", syn, name="hebb").connect_all_to_all(0.5, storage_format=fmt)
    if rates is not None:
        a.r = rates
    return net, a, b, proj


def test_learning_keeps_one_weight_set_per_sample():
    rates = np.array([[1.0, 0.0, 0.5], [0.2, 0.4, 0.6]])
    net, a, b, proj = _learning_net(2, rates=rates)
    assert proj.w.shape == (2, 2, 3) and proj.eta.tolist() == [0.1, 0.1]
    net.simulate(3.0)
    # a plain loop: w += dt * eta * pre.r * post.r, post.r = w @ pre.r of the step before (the same order)
    for s in range(2):
        w, post = np.full((2, 3), 0.5), np.zeros(2)
        for _ in range(3):
            post = w @ rates[s]
            w = w + 0.1 * np.outer(post, rates[s])
        assert np.allclose(proj.w[s], w, rtol=1e-14) and np.allclose(b.r[s], post, rtol=1e-14)
    assert not np.array_equal(proj.w[0], proj.w[1])
    assert proj.dendrite(1).w.shape == (2, 3)


def test_learning_weights_assignments_save_and_reset():
    net, a, b, proj = _learning_net(2, fmt="csr")
    proj.w = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]  # one sample's matrix: every sample
    assert [np.concatenate(rows).tolist() for rows in proj.w] == [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]] * 2
    proj.eta = [0.0, 0.5]  # one value per sample
    proj.dendrite(0).w = [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    assert proj.dendrite(0).w.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    net.simulate(2.0)
    before = [np.concatenate(rows) for rows in proj.w]
    assert np.array_equal(before[0], [1.0, 1.0, 1.0, 4.0, 5.0, 6.0])  # eta = 0: sample 0 does not learn
    path = os.path.join(str(pytest.importorskip("tempfile").mkdtemp()), "learn.npz")
    net.save(path)
    net.simulate(2.0)
    net.load(path)
    assert all(np.array_equal(np.concatenate(r), x) for r, x in zip(proj.w, before))
    net.reset(projections=True)  # back to the values at compile time (the first simulate)
    assert proj.eta.tolist() == [0.0, 0.5] and proj.dendrite(0).w.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]


def test_learning_monitor_and_check_finite_name_the_sample():
    net, a, b, proj = _learning_net(3, rates=np.full((3, 3), 10.0))
    m = net.monitor(proj, "w")
    proj.eta = [0.1, 0.1, 1e308]  # sample 2 overflows
    net.check_finite = True
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
            RatenetError, match=r"Projection 'hebb' \(synapse 'Synapse'\)\.w: sample 2, synapse \(post 0, pre 0\) "
                                r"is inf after step 0"):
        net.step()
    assert m.get("w").shape[1:] == (3, 2, 3)


def test_learning_in_a_batch_refuses_what_cannot_fit():
    # small population arrays (3000 x 3000 values each), synaptic values far beyond any machine's memory
    net = Network(batch=3000)
    a, b = net.create(3000, Neuron(parameters="r = 1.0")), net.create(3000, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b, "exc", Hebb(), name="big")
    with pytest.raises(ValidationError, match=r"Projection 'big'\.synapse: its synaptic values, one set per sample "
                                              r"of the batch \(3000 x 2 arrays of 9000000 synapses\) would take "
                                              r"[0-9.]+ GB, more than this machine's memory"):
        proj.connect_all_to_all(0.5, storage_format="dense")


def test_learning_in_a_batch_refuses_structural_plasticity():
    net = Network(batch=2)
    net.setup(structural_plasticity=True)
    pop = net.create(2, Neuron(equations="r = 1.0"))
    syn = Synapse(equations="dw/dt = -w", pruning="w < 0.5 : proba=1.0")
    proj = net.connect(pop, pop, "exc", syn, name="pp").connect_all_to_all(0.1)
    with pytest.raises(ValidationError, match=r"Projection 'pp'\.start_pruning: a learning synapse in a batched "
                                              r"network \(batch=2\) keeps one weight set per sample"):
        proj.start_pruning()


def test_save_load_reset():
    net = Network(batch=2)
    pop = net.create(2, LEAKY)
    pop.b = [[1.0, 2.0], [3.0, 4.0]]
    pop.tau = [2.0, 4.0]
    net.simulate(3.0)
    path = os.path.join(str(pytest.importorskip("tempfile").mkdtemp()), "state.npz")
    net.save(path)
    saved = pop.r
    net.simulate(3.0)
    net.load(path)
    assert np.array_equal(pop.r, saved)
    net.reset()
    assert pop.r.sum() == 0.0 and pop.tau.tolist() == [2.0, 4.0]


def test_set_images_and_set_image(tmp_path):
    cv2 = pytest.importorskip("cv2")
    net = Network(batch=2)
    image = ImagePopulation((2, 2, 3), network=net)
    paths = []
    for level in (0, 255):
        path = str(tmp_path / f"{level}.png")
        cv2.imwrite(path, np.full((4, 4, 3), level, np.uint8))
        paths.append(path)
    image.set_images(paths)
    assert image.r.reshape(2, -1).mean(axis=1).tolist() == [0.0, 1.0]
    image.set_image(np.stack([np.full((2, 2, 3), 0.25), np.full((2, 2, 3), 0.5)]))
    assert image.r.reshape(2, -1).mean(axis=1).tolist() == [0.25, 0.5]
    image.set_image(paths[1])  # one image: every sample
    assert image.r.min() == 1.0
    with pytest.raises(ValidationError, match=r"images: needs exactly 2 image\(s\) for the batch of 2 samples "
                                              r"\(got 3 images\)"):
        image.set_images(paths + paths[:1])
    with pytest.raises(ValidationError, match=r"needs exactly 1 image\(s\) for an unbatched network"):
        ImagePopulation((2, 2, 3), network=Network()).set_images(paths)


def test_video_feeds_consecutive_frames(tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (8, 6))
    for level in (0, 128, 255):
        writer.write(np.full((6, 8, 3), level, np.uint8))
    writer.release()
    video = VideoPopulation((6, 8), network=Network(batch=2))
    video.open_video(path)
    video.grab_image()
    means = video.r.reshape(2, -1).mean(axis=1)
    assert means[0] < 0.1 and 0.4 < means[1] < 0.6
    with pytest.raises(EOFError, match=r"1 frame\(s\) left for a batch of 2"):
        video.grab_image()
    video.release()


def test_sparse_batch_kernel_gives_the_bits_of_one_product_per_sample():
    from ratenet.projections.storage import matvec_function, matvecs_function

    rng = np.random.default_rng(1)
    dense = np.where(rng.random((30, 40)) < 0.3, rng.standard_normal((30, 40)), 0.0)
    indptr = np.concatenate([[0], np.cumsum((dense != 0).sum(axis=1))])
    indices = np.nonzero(dense)[1]
    data = dense[dense != 0]
    x = rng.standard_normal((5, 40))
    batched = np.empty((5, 30))
    matvecs_function(indptr, indices, data, 40, 5, np.float64)(x, batched)
    one = matvec_function(indptr, indices, data, 40)
    for b in range(5):
        alone = np.empty(30)
        one(x[b], alone)
        assert np.array_equal(batched[b], alone)
    transposed = np.empty((5, 40))
    matvecs_function(indptr, indices, data, 40, 5, np.float64, transposed=True)(x[:, :30], transposed)
    np.testing.assert_allclose(transposed, x[:, :30] @ dense, rtol=1e-12, atol=1e-12)


def test_reference_mode_dense_is_one_product_per_sample():
    net = Network(batch=2, reference=True)
    a = net.create(3, Neuron(parameters="r = 0.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    net.connect(a, b, "exc").connect_all_to_all(0.5, storage_format="dense")
    assert any("one product per sample" in line for line in net.step_order)
    a.r = [[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]
    net.simulate(2.0)
    assert b.r.tolist() == [[3.0, 3.0], [0.5, 0.5]]


def test_set_images_refuses_what_is_not_an_image():
    image = ImagePopulation((2, 2), network=Network(batch=2), name="img")
    with pytest.raises(ValidationError, match=r"ImagePopulation 'img'\.images\[1\]: must be a file path or a NumPy "
                                              r"array \(got 3\)"):
        image.set_images([np.zeros((2, 2)), 3])


def test_equal_gather_weights_changed_from_python_are_seen():
    """A gather whose weights are all equal multiplies by one number; a change between runs is taken in."""
    net = Network(batch=2)
    a = net.create(2, Neuron(parameters="r = 1.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    proj = net.connect(a, b, "exc").connect_one_to_one(0.5)
    net.simulate(2.0)
    assert b.r.tolist() == [[0.5, 0.5], [0.5, 0.5]]
    proj.w = np.array([2.0, -0.0])
    net.simulate(2.0)
    assert b.r.tolist() == [[2.0, -0.0], [2.0, -0.0]] and bool(np.signbit(b.r[0, 1]))


def test_reset_reseeds_every_sample_generator():
    net = Network(batch=2, seed=3)
    pop = net.create(3, Neuron(equations="r = Uniform(0, 1)"))
    net.simulate(2.0)
    first = pop.r
    net.reset(reseed_rng=True)
    net.simulate(2.0)
    assert np.array_equal(pop.r, first) and not np.array_equal(first[0], first[1])


def test_a_parameter_that_becomes_one_per_sample_rebuilds_the_update():
    """ite() on one number takes one branch: a per-sample value needs the code for arrays (and back)."""
    net = Network(batch=3)
    pop = net.create(1, Neuron(parameters="k = 0.0 : population", equations="r = ite(k > 0.5, 1.0, -1.0)"))
    net.simulate(1.0)
    pop.k = [0.0, 1.0, 2.0]
    net.simulate(1.0)
    assert pop.r.ravel().tolist() == [-1.0, 1.0, 1.0]
    pop.k = 1.0
    net.simulate(1.0)
    assert pop.r.ravel().tolist() == [1.0, 1.0, 1.0]


def test_a_projection_level_value_of_a_batched_learning_projection_reads_like_an_unbatched_one():
    # an unbatched projection returns a Python number (the float32 value as a float64); a batched
    # one returns one such number per sample, so the two compare equal dtype and all
    def eta(batch):
        net = Network(dt=1.0, seed=0, dtype=np.float32, batch=batch)
        pop = net.create(2, Neuron(equations="r = sum(exc)"))
        proj = net.connect(pop, pop, "exc", synapse=Hebb(eta=0.01)).connect_all_to_all(weights=0.5)
        net.compile()
        return proj.eta

    single, batched = eta(None), eta(3)
    assert isinstance(single, float)
    assert batched.dtype == np.float64 and batched.shape == (3,)
    assert batched.tolist() == [single] * 3 == [float(np.float32(0.01))] * 3


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_images_are_converted_straight_into_each_sample(dtype):
    """uint8 frames go into r without a float intermediate: the same bits as pixels / 255 rounded once,
    and what pop.r reads (and its version) follows."""
    frames = np.random.default_rng(3).integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    net = Network(batch=3, dtype=dtype)
    image = ImagePopulation((4, 5, 3), network=net)
    state = net.registry.state(image)
    before = state.version("r")
    image.set_images(list(frames))
    expected = (frames.astype(np.float64) / 255.0).astype(dtype)
    assert image.r.dtype == np.dtype(dtype) and state.version("r") > before
    assert np.array_equal(image.r.view(np.uint8), expected.view(np.uint8))
    image.set_image(frames[1])  # one frame for every sample
    assert np.array_equal(image.r, np.broadcast_to(expected[1], (3, 4, 5, 3)))
    alone = ImagePopulation((4, 5, 3), network=Network(dtype=dtype))
    alone.set_image(frames[2])
    assert np.array_equal(alone.r, expected[2])


def test_a_bad_image_in_a_batch_leaves_r_unchanged():
    image = ImagePopulation((2, 2), network=Network(batch=3), name="img")
    image.set_images([np.full((2, 2), 0.5)] * 3)
    with pytest.raises(ValidationError, match=r"ImagePopulation 'img' \(image 2\)\.image: must hold finite values"):
        image.set_images([np.zeros((2, 2)), np.ones((2, 2)), np.full((2, 2), np.nan)])
    assert image.r.tolist() == [[[0.5, 0.5], [0.5, 0.5]]] * 3


def test_image_to_rates_refuses_an_out_of_another_shape():
    from ratenet._imageio import image_to_rates

    with pytest.raises(ValidationError, match=r"ImagePopulation\.out: must be a float64 array of shape \(2, 2\) "
                                              r"\(got float32 array of shape \(2, 2\)\)"):
        image_to_rates(np.zeros((2, 2), np.uint8), (2, 2), out=np.empty((2, 2), np.float32))


def test_a_learning_projection_keeps_each_samples_synaptic_values_in_one_block():
    """One weight set per sample, each a C-contiguous block (B, post, pre): a copy of the broadcast initial values
    in NumPy's default order would put the batch axis innermost (stride of one element), which made every
    per-sample product and rule read scattered memory (several times slower)."""
    net = Network(batch=4)
    a = net.create(3, Neuron(parameters="r = 1.0"))
    b = net.create(5, Neuron(equations="r = sum(exc)"))
    syn = Synapse(parameters="eta = 0.1 : projection", equations="dw/dt = eta * pre.r * post.r\ntrace = post.r")
    proj = net.connect(a, b, "exc", syn).connect_all_to_all(0.5, storage_format="dense")
    values = net.registry.state(proj).values
    for name in ("w", "eta", "trace"):
        array = values[name]
        assert array.shape[0] == 4 and array.flags.c_contiguous, name
        assert all(array[k].flags.c_contiguous for k in range(4)), name


def test_the_samples_of_a_learning_rule_share_its_scratch_arrays():
    """Each sample runs the rule's generated function over its own weights; the temporaries are the same arrays
    for every sample (one set in the cache, not B), and each sample still learns on its own."""
    net = Network(batch=3)
    a = net.create(4, Neuron(parameters="r = 0.0"))
    b = net.create(2, Neuron(equations="r = sum(exc)"))
    syn = Synapse(parameters="eta = 0.1 : projection", equations="dw/dt = eta * (pre.r * post.r - post.r^2 * w)")
    proj = net.connect(a, b, "exc", syn).connect_all_to_all(0.5, storage_format="dense")
    learn = next(op for op in net.plan.operators if type(op).__name__ == "Learn")
    scratch = {id(array) for stage in learn.stages for array in (getattr(stage, "__kwdefaults__", None) or {}).values()}
    assert 0 < len(scratch) == len(learn.stages[0].__kwdefaults__)
    rates = np.array([[1.0, 0.0, 0.5, 0.2], [0.0, 1.0, 0.0, 0.0], [0.3, 0.3, 0.3, 0.3]])
    a.r = rates
    net.simulate(3.0)
    w = np.full((3, 2, 4), 0.5)  # the rule by hand: each step post.r = W @ pre.r, then W learns
    for _ in range(3):
        post = np.einsum("bij,bj->bi", w, rates)
        w = w + 0.1 * (rates[:, None, :] * post[:, :, None] - post[:, :, None] ** 2 * w)
    np.testing.assert_allclose(np.asarray(proj.w, dtype=float).reshape(3, 2, 4), w, rtol=1e-12)


def test_images_read_from_the_rates_themselves_are_taken_before_any_is_written():
    net = Network(batch=2)
    image = ImagePopulation((2, 2), network=net)
    image.set_images([np.zeros((2, 2)), np.ones((2, 2))])
    rates = net.registry.state(image).values["r"]  # the population's own array, as a caller inside ratenet sees it
    image.set_images([rates[1], rates[0]])
    assert image.r[:, 0, 0].tolist() == [1.0, 0.0]
