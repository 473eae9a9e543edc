"""ImagePopulation.set_image / set_images with ``copy=False``: r *is* the caller's array (issue 15).

The reference for every run is the same run with ``copy=True`` (the default),
where each change the no-copy run makes to its array in place is made to a
shadow array that is then assigned again: the two must agree bit for bit, in
the optimised plan and in the reference mode, unbatched and batched.  Besides,
ratenet must never write into a lent array: the tests keep a pristine copy of
each one and compare after every write ratenet makes to ``r``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ratenet
from ratenet import Hebb, Network, Neuron, ValidationError, every
from ratenet.image import ImagePopulation, VideoPopulation
from ratenet.projections import Convolution, Pooling

LINEAR = Neuron(equations="r = sum(exc)")
GEOMETRY = (6, 8, 3)


@pytest.fixture(autouse=True)
def _fresh_default_network():
    ratenet.clear()
    yield
    ratenet.clear()


def pipeline(batch: int | None = None, reference: bool = False, dtype=np.float64, monitor: bool = True):
    """An image feeding every kind of reader of r: a pooling and a convolution (kernels), a dense product,
    a one-to-one product through a delay of 2 steps (a history), a learning rule reading pre.r, a monitor."""
    net = Network(batch=batch, reference=reference, dtype=dtype, seed=3)
    image = ImagePopulation(GEOMETRY, name="image", network=net)
    pooled = net.create((3, 4, 3), LINEAR, name="pooled")
    net.connect(Pooling(image, pooled, "exc", operation="mean")).connect_pooling()
    smoothed = net.create(GEOMETRY, LINEAR, name="smoothed")
    net.connect(Convolution(image, smoothed, "exc")).connect_filter(weights=np.ones((3, 3, 1)) / 9.0)
    dense = net.create(5, LINEAR, name="dense")
    weights = np.random.default_rng(0).uniform(-1.0, 1.0, (5, int(np.prod(GEOMETRY))))
    net.connect(image, dense, "exc").connect_from_matrix(weights, storage_format="dense")
    delayed = net.create(GEOMETRY, LINEAR, name="delayed")
    net.connect(image, delayed, "exc").connect_one_to_one(0.5, delays=2.0)
    learner = net.create(4, Neuron(equations="r = 0.1 + 0.01 * sum(exc)"), name="learner")
    hebb = net.connect(image, learner, "exc", Hebb(), name="hebb").connect_all_to_all(0.01, storage_format="dense")
    monitors = [net.monitor(image, "r"), net.monitor(dense, "r")] if monitor else []
    net.compile()
    return net, image, hebb, monitors


def outputs(net, hebb, monitors) -> dict[str, np.ndarray]:
    values = {pop.name: pop.r for pop in net.populations}
    values["hebb.w"] = np.asarray(hebb.w)
    for k, m in enumerate(monitors):
        values[f"monitor {k}"] = m.get("r")
    return values


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray], rtol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].shape == b[key].shape, key
        if rtol:
            np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=0.0, err_msg=key)
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def frames_of(rng: np.random.Generator, batch: int | None, dtype=np.float64) -> np.ndarray:
    shape = GEOMETRY if batch is None else (batch, *GEOMETRY)
    return rng.random(shape).astype(dtype)


def give(image, array, copy: bool) -> None:
    if image.batch is None:
        image.set_image(array, copy=copy)
    else:
        image.set_images(array, copy=copy)


# An action: ("new", seed) a fresh array, ("inplace", seed) a change to the current one in place,
# ("run", steps), ("assign", seed) pop.r = ..., ("reset", 0) net.reset().
ACTIONS = st.one_of(st.tuples(st.just("new"), st.integers(0, 2**16)),
                    st.tuples(st.just("inplace"), st.integers(0, 2**16)),
                    st.tuples(st.just("run"), st.integers(1, 3)),
                    st.tuples(st.just("assign"), st.integers(0, 2**16)),
                    st.tuples(st.just("reset"), st.just(0)))


def play(actions, batch, reference, copy):
    """Play ``actions``; returns the outputs and, for copy=False, checks that no lent array was written."""
    net, image, hebb, monitors = pipeline(batch, reference)
    current = frames_of(np.random.default_rng(99), batch)
    give(image, current if not copy else current.copy(), copy)
    lent = [(current, current.copy())] if not copy else []
    lending = True  # whether the no-copy run's r is ``current`` (an assignment or reset ends it)
    for kind, value in actions:
        rng = np.random.default_rng(value)
        if kind == "new":
            current = frames_of(rng, batch)
            give(image, current, copy)
            lending = True
            if not copy:
                lent.append((current, current.copy()))
        elif kind == "inplace":
            rows = rng.integers(0, GEOMETRY[0], 2)
            current[..., rows, :, :] = rng.random()  # the caller's own change
            if copy and lending:  # what the no-copy run sees, assigned
                give(image, current, True)
            elif not copy:
                lent[-1] = (current, current.copy())
        elif kind == "run":
            net.simulate(float(value))
        elif kind == "assign":
            image.r = frames_of(rng, batch)
            lending = False
        else:
            net.reset()
            lending = False
            for m in monitors:
                m.get("r")  # both runs forget what was recorded before the reset alike
        for array, pristine in lent:
            np.testing.assert_array_equal(array, pristine, err_msg="ratenet wrote into a lent array")
    net.simulate(2.0)
    return outputs(net, hebb, monitors)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(ACTIONS, min_size=1, max_size=8), batch=st.sampled_from([None, 1, 3]),
       reference=st.booleans())
def test_no_copy_run_matches_the_copying_run(actions, batch, reference):
    assert_same(play(actions, batch, reference, copy=False), play(actions, batch, reference, copy=True))


@pytest.mark.parametrize("batch", [None, 2])
def test_optimised_and_reference_plans_agree_without_a_copy(batch):
    actions = [("run", 2), ("inplace", 5), ("run", 1), ("new", 6), ("run", 3), ("inplace", 7), ("run", 2)]
    # a batch's dense product is one matrix product in the optimised plan: the last bits may differ
    # (as for any batched network: see tests/differential/test_batch_differential.py)
    assert_same(play(actions, batch, False, copy=False), play(actions, batch, True, copy=False),
                rtol=0.0 if batch is None else 1e-12)


def test_the_network_reads_the_callers_array_itself():
    net = Network()
    image = ImagePopulation((2, 3), network=net)
    out = net.create((1, 1), LINEAR)
    net.connect(Pooling(image, out, "exc", operation="max")).connect_pooling()
    frame = np.zeros((2, 3))
    image.set_image(frame, copy=False)
    net.step()
    assert out.r.item() == 0.0
    for value in (0.5, 0.25, 0.75):  # changed in place between steps: every step sees the new value
        frame[1, 2] = value
        net.step()
        net.step()  # the sum of the last step (pooling) turned into r at the next
        assert out.r.item() == value
    assert image.r.tolist() == frame.tolist()


@pytest.mark.parametrize("batch", [None, 2])
def test_a_callback_changing_the_array_in_place_is_seen_at_the_next_step(batch):
    def run(copy: bool) -> np.ndarray:
        net = Network(batch=batch)
        image = ImagePopulation(GEOMETRY, network=net)
        pooled = net.create((3, 4, 3), LINEAR)
        net.connect(Pooling(image, pooled, "exc", operation="mean")).connect_pooling()
        m = net.monitor(pooled, "r")
        frame = frames_of(np.random.default_rng(1), batch)
        give(image, frame, copy)

        @every(network=net, period=2.0)
        def change(n):
            frame[..., 0, :, :] = n
            if copy:
                give(image, frame, True)

        net.simulate(9.0)
        return m.get("r")

    np.testing.assert_array_equal(run(False), run(True))


@pytest.mark.parametrize("batch", [None, 2])
def test_ratenet_never_writes_into_a_lent_array(batch, tmp_path):
    net, image, hebb, monitors = pipeline(batch, monitor=False)
    frames = frames_of(np.random.default_rng(5), batch)
    pristine = frames.copy()
    path, own = tmp_path / "state.npz", tmp_path / "image.npz"

    def lend() -> None:
        give(image, frames, False)
        net.step()

    def check(expected: np.ndarray) -> None:
        np.testing.assert_array_equal(frames, pristine)  # untouched
        np.testing.assert_array_equal(image.r, expected)  # r took the write
        frames[0, ...] = 123.0  # and r is no longer the caller's array
        np.testing.assert_array_equal(image.r, expected)
        frames[...] = pristine

    lend()
    net.save(path)
    image.save(str(own))
    zeros = np.zeros_like(frames)
    writes = {
        "reset": (lambda: net.reset(), zeros),  # r was 0 at compile time
        "pop.r = x": (lambda: setattr(image, "r", 0.5), np.full_like(frames, 0.5)),
        "set_image(copy=True)": (lambda: give(image, frames * 0.5, True), pristine * 0.5),
        "load": (lambda: net.load(path), pristine),
        "pop.load": (lambda: image.load(str(own)), pristine),
    }
    for name, (write, expected) in writes.items():
        lend()
        write()
        try:
            check(expected)
        except AssertionError as exc:
            raise AssertionError(f"after {name}: {exc}") from None
    # a view and one neuron: the other neurons keep the lent values, in an array of ratenet's own
    lend()
    image[0:2].r = 0.0
    expected = pristine.copy()
    expected.reshape(-1 if batch is None else (batch, -1))[..., 0:2] = 0.0
    check(expected)
    lend()
    image[3].r = 7.0
    expected = pristine.copy()
    expected.reshape(-1 if batch is None else (batch, -1))[..., 3] = 7.0
    check(expected)
    # what pop.r returns is a read-only copy: no way into the lent array through it
    lend()
    with pytest.raises(ValueError):
        image.r[...] = 1.0
    np.testing.assert_array_equal(frames, pristine)


def test_lending_back_and_forth_leaves_no_stale_array():
    def run(lend: bool) -> np.ndarray:
        """Lent on odd steps when ``lend`` (owned, lent, owned...); copied every time otherwise: the reference."""
        net, image, hebb, monitors = pipeline(None, monitor=False)
        m = net.monitor(net.get_population("dense"), "r")
        rng = np.random.default_rng(2)
        arrays = [frames_of(rng, None) for _ in range(3)]
        for k in range(9):
            array = arrays[k % 3]
            give(image, array, not (lend and k % 2 == 1))
            net.step()
            array[k % 6] += 0.125  # after an owned step: must not be seen; after a lent one: seen at the next
            if k % 2 == 1:
                give(image, array, True)
            net.step()
        return m.get("r")

    np.testing.assert_array_equal(run(lend=True), run(lend=False))


def test_monitors_check_finite_save_and_reprs_read_a_lent_array(tmp_path):
    net = Network(batch=2)
    net.check_finite = True
    image = ImagePopulation((2, 2), name="cam", network=net)
    m = net.monitor(image, "r")
    frames = np.zeros((2, 2, 2))
    image.set_images(frames, copy=False)
    net.step()
    frames[1, 0, 1] = 0.5
    net.step()
    recorded = m.get("r")
    assert recorded.shape == (2, 2, 2, 2)
    assert recorded[0].max() == 0.0 and recorded[1][1, 0, 1] == 0.5
    net.save(tmp_path / "s.npz")
    saved = np.load(tmp_path / "s.npz")
    assert any(np.array_equal(saved[key], frames) for key in saved.files)
    assert "cam" in repr(image)
    frames[0, 1, 1] = np.nan
    with pytest.raises(ratenet.RatenetError, match=r"Population 'cam'\.r: sample 0, .*is nan after step 2"):
        net.step()


def test_float32_network_and_the_unbatched_forms():
    net = Network(dtype=np.float32)
    image = ImagePopulation((2, 2), network=net)
    frame = np.full((2, 2), 0.5, np.float32)
    image.set_image(frame, copy=False)
    frame[0, 0] = 1.0
    assert image.r.tolist() == [[1.0, 0.5], [0.5, 0.5]]
    one = np.zeros((1, 2, 2), np.float32)  # set_images: one image, alone or in a batch of one
    image.set_images(one, copy=False)
    one[0, 1, 1] = 0.25
    assert image.r.tolist() == [[0.0, 0.0], [0.0, 0.25]]
    image.set_images(frame, copy=False)
    assert image.r.tolist() == [[1.0, 0.5], [0.5, 0.5]]


def test_a_video_population_can_be_fed_frames_without_a_copy():
    video = VideoPopulation((2, 2), network=Network(batch=2))
    frames = np.ones((2, 2, 2))
    video.set_images(frames, copy=False)
    frames[1] = 0.5
    assert video.r[:, 0, 0].tolist() == [1.0, 0.5]


def test_copy_true_is_todays_behaviour():
    net = Network(batch=2)
    image = ImagePopulation((2, 2), network=net)
    frames = np.zeros((2, 2, 2))
    image.set_images(frames)  # the default copies
    frames[...] = 1.0
    assert image.r.max() == 0.0
    assert not net.registry.state(image).lends  # the plan is as before: nothing read through the record


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("method", ["set_image", "set_images"])
def test_copy_must_be_a_bool(method):
    image = ImagePopulation((2, 2), name="cam", network=Network())
    with pytest.raises(ValidationError) as info:
        getattr(image, method)(np.zeros((2, 2)), copy="no")
    assert str(info.value) == ("ImagePopulation 'cam'.copy: must be True (convert and copy into r) or False "
                               "(r is the array itself, no copy) (got 'no')")


CASES = [
    # (batch, method, given, message)
    (None, "set_image", [[0.0, 0.0], [0.0, 0.0]],
     "ImagePopulation 'cam'.image: copy=False reads one NumPy array in place, of shape (2, 2) or (1, 2, 2) "
     "(a list is stacked with copy=True) (got a list of 2 items)"),
    (None, "set_image", "frame.png",
     "ImagePopulation 'cam'.image: copy=False reads one NumPy array in place, of shape (2, 2) or (1, 2, 2) "
     "(file paths are read with copy=True) (got 'frame.png')"),
    (3, "set_images", [np.zeros((2, 2))] * 3,
     "ImagePopulation 'cam'.images: copy=False reads one NumPy array in place, of shape (3, 2, 2) "
     "(a list is stacked with copy=True) (got a list of 3 items)"),
    (3, "set_images", np.zeros((3, 2, 2), np.uint8),
     "ImagePopulation 'cam'.images: copy=False reads the array as it is: it must have the network's dtype float64 "
     "(copy=True converts any other) (got array of shape (3, 2, 2) and dtype uint8)"),
    (3, "set_images", np.zeros((3, 4, 4)),
     "ImagePopulation 'cam'.images: copy=False needs an array shaped like r, (3, 2, 2) (a resized or "
     "grayscale-converted image is a new array: copy=True) (got array of shape (3, 4, 4))"),
    (3, "set_image", np.zeros((2, 2)),
     "ImagePopulation 'cam'.image: copy=False needs an array shaped like r, (3, 2, 2) (one image for every sample "
     "is copied B times: copy=True) (got array of shape (2, 2))"),
    (None, "set_image", np.zeros((2, 2, 3)),
     "ImagePopulation 'cam'.image: copy=False needs an array shaped like r, (2, 2) or (1, 2, 2) (a resized or "
     "grayscale-converted image is a new array: copy=True) (got array of shape (2, 2, 3))"),
    (None, "set_image", np.zeros((2, 4))[:, ::2],
     "ImagePopulation 'cam'.image: copy=False needs a C-contiguous, aligned array (a view with steps or a "
     "transposed array: np.ascontiguousarray copies it) (got array of shape (2, 2) and strides (32, 16))"),
    (3, "set_images", np.zeros((2, 2, 3)).T,
     "ImagePopulation 'cam'.images: copy=False needs a C-contiguous, aligned array (a view with steps or a "
     "transposed array: np.ascontiguousarray copies it) (got array of shape (3, 2, 2) and strides (8, 24, 48))"),
]


@pytest.mark.parametrize("batch, method, given_, message", CASES)
def test_what_would_need_a_copy_is_refused(batch, method, given_, message):
    net = Network(batch=batch)
    image = ImagePopulation((2, 2), name="cam", network=net)
    before = image.r
    with pytest.raises(ValidationError) as info:
        getattr(image, method)(given_, copy=False)
    assert str(info.value) == message
    np.testing.assert_array_equal(image.r, before)
    assert not net.registry.state(image).borrowed
