"""ImagePopulation and VideoPopulation through the network API (DESIGN.md section 6).

The pixel reading itself is unit-tested in ``tests/test_imageio.py``; here the
populations are used as a user would: created in a network, fed files and arrays,
connected to projections and simulated.  Expected rates are written out or
derived by hand (uint8 / 255, block means, BT.601 luma) from pixels the tests
write with ``cv2.imwrite`` (BGR on disk: the RGB conversion is under test).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

import ratenet
from ratenet import Network, Neuron, ValidationError
from ratenet.image import ImagePopulation, VideoPopulation
from ratenet.projections import Convolution, Pooling

LINEAR = Neuron(equations="r = sum(exc)")


@pytest.fixture(autouse=True)
def _fresh_default_network():
    ratenet.clear()
    yield
    ratenet.clear()


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    """Write RGB(A) pixels with OpenCV, which takes BGR(A)."""
    data = rgb[..., [2, 1, 0, 3]] if rgb.shape[-1] == 4 else rgb[..., ::-1]
    assert cv2.imwrite(str(path), np.ascontiguousarray(data))
    return path


def opencv_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


# ============================================================================== geometry


@pytest.mark.parametrize("geometry, expected", [((4, 5), (4, 5)), ((4, 5, 1), (4, 5)), ((4, 5, 3), (4, 5, 3))])
def test_geometries(geometry, expected):
    net = Network()
    image = ImagePopulation(geometry, network=net)
    assert image.geometry == expected and image.size == int(np.prod(expected))
    assert image.r.shape == expected and np.all(image.r == 0.0)
    assert image in net.populations


def test_adopted_by_create_and_default_network():
    net = Network()
    image = net.create(ImagePopulation((4, 5, 3)))
    assert image.network is net and image in net.populations
    default = ImagePopulation((4, 5))
    assert default in ratenet.populations()


@pytest.mark.parametrize("geometry", [(4, 5, 2), (4, 5, 4), (4,), (4, 5, 3, 1)])
def test_bad_geometries(geometry):
    with pytest.raises(ValidationError, match=r"ImagePopulation\.geometry"):
        ImagePopulation(geometry, network=Network())


# ============================================================================ set_image


def test_png_is_read_in_rgb_order(tmp_path):
    rgb = np.array([[[200, 10, 30], [0, 0, 255]], [[0, 255, 0], [17, 34, 51]]], dtype=np.uint8)
    path = tmp_path / "pixels.png"
    bgr = rgb[..., ::-1].copy()
    assert cv2.imwrite(str(path), bgr)     # what OpenCV writes as BGR (30, 10, 200) ...
    image = ImagePopulation((2, 2, 3), network=Network())
    image.set_image(str(path))
    assert image.r[0, 0].tolist() == [200 / 255, 10 / 255, 30 / 255]   # ... is RGB (200, 10, 30)
    np.testing.assert_array_equal(image.r, rgb / 255.0)
    image.set_image(path)                  # a pathlib.Path works too
    np.testing.assert_array_equal(image.r, rgb / 255.0)


def test_uint8_array(rng):
    pixels = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    image = ImagePopulation((3, 4, 3), network=Network())
    image.set_image(pixels)
    np.testing.assert_array_equal(image.r, pixels.astype(np.float64) / 255.0)
    assert image.r.dtype == np.float64


def test_uint16_array(rng):
    pixels = rng.integers(0, 65536, (3, 4), dtype=np.uint16)
    pixels[0, 0], pixels[0, 1] = 65535, 0
    image = ImagePopulation((3, 4), network=Network())
    image.set_image(pixels)
    np.testing.assert_array_equal(image.r, pixels.astype(np.float64) / 65535.0)
    assert image.r[0, 0] == 1.0 and image.r[0, 1] == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float_array_taken_as_is(rng, dtype):
    pixels = rng.random((3, 4, 3)).astype(dtype)
    image = ImagePopulation((3, 4, 3), network=Network())
    image.set_image(pixels)
    np.testing.assert_array_equal(image.r, pixels.astype(np.float64))
    pixels[...] = 0.0                       # the population keeps its own copy
    assert image.r.max() > 0.0


def test_uint16_png(tmp_path, rng):
    pixels = rng.integers(0, 65536, (3, 4, 3), dtype=np.uint16)
    path = write_rgb(tmp_path / "deep.png", pixels)
    image = ImagePopulation((3, 4, 3), network=Network())
    image.set_image(path)
    np.testing.assert_array_equal(image.r, pixels.astype(np.float64) / 65535.0)


def test_float32_network_image(rng):
    pixels = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
    image = ImagePopulation((3, 4, 3), network=Network(dtype=np.float32))
    image.set_image(pixels)
    assert image.r.dtype == np.float32
    np.testing.assert_allclose(image.r, pixels / 255.0, atol=1e-7)


def test_shrink_by_two_is_block_mean_of_a_float_image(rng):
    pixels = rng.random((8, 10, 3))
    image = ImagePopulation((4, 5, 3), network=Network())
    image.set_image(pixels)
    blocks = np.empty((4, 5, 3))
    for i in range(4):
        for j in range(5):
            blocks[i, j] = (pixels[2 * i, 2 * j] + pixels[2 * i + 1, 2 * j] + pixels[2 * i, 2 * j + 1]
                            + pixels[2 * i + 1, 2 * j + 1]) / 4
    np.testing.assert_allclose(image.r, blocks, rtol=0, atol=1e-12)


def test_shrink_by_two_of_a_uint8_file(tmp_path, rng):
    # Each 2x2 block sums to a multiple of 4, so its mean is an integer and no
    # rounding convention of the 8-bit resize matters.
    means = rng.integers(10, 240, (3, 4, 3))
    offsets = rng.integers(-10, 11, (3, 4, 3))
    pixels = np.empty((6, 8, 3), dtype=np.int64)
    pixels[0::2, 0::2] = means + offsets
    pixels[1::2, 1::2] = means - offsets
    pixels[0::2, 1::2] = means + 1
    pixels[1::2, 0::2] = means - 1
    path = write_rgb(tmp_path / "big.png", pixels.astype(np.uint8))
    image = ImagePopulation((3, 4, 3), network=Network())
    image.set_image(path)
    np.testing.assert_array_equal(image.r, means / 255.0)


def test_grayscale_population_from_a_colour_file(tmp_path, rng):
    pixels = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    pixels[0, 0], pixels[0, 1], pixels[0, 2] = (255, 0, 0), (0, 255, 0), (0, 0, 255)
    path = write_rgb(tmp_path / "colour.png", pixels)
    image = ImagePopulation((5, 6, 1), network=Network())
    image.set_image(path)
    assert image.r.shape == (5, 6)
    # pure red / green / blue: round(0.299 * 255) = 76, round(0.587 * 255) = 150, round(0.114 * 255) = 29
    assert image.r[0, :3].tolist() == [76 / 255, 150 / 255, 29 / 255]
    # BT.601 on the 8-bit pixels, rounded to 8 bits (OpenCV's fixed point may round a half differently)
    luma = np.rint(pixels @ np.array([0.299, 0.587, 0.114]))
    assert np.abs(image.r * 255 - luma).max() <= 1 + 1e-9
    np.testing.assert_array_equal(image.r, opencv_gray(pixels) / 255.0)


def test_grayscale_after_resizing(tmp_path, rng):
    pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image = ImagePopulation((4, 4), network=Network())
    image.set_image(pixels)
    expected = opencv_gray(cv2.resize(pixels, (4, 4), interpolation=cv2.INTER_AREA)) / 255.0
    np.testing.assert_array_equal(image.r, expected)


def test_grayscale_file_into_an_rgb_population(tmp_path, rng):
    gray = rng.integers(0, 256, (3, 4), dtype=np.uint8)
    path = tmp_path / "gray.png"
    assert cv2.imwrite(str(path), gray)
    image = ImagePopulation((3, 4, 3), network=Network())
    image.set_image(path)
    for channel in range(3):
        np.testing.assert_array_equal(image.r[..., channel], gray / 255.0)


def test_alpha_is_dropped(tmp_path, rng):
    rgba = rng.integers(0, 256, (3, 4, 4), dtype=np.uint8)
    rgba[..., 3] = rng.integers(0, 256, (3, 4))
    path = write_rgb(tmp_path / "alpha.png", rgba)
    colour = ImagePopulation((3, 4, 3), network=Network())
    colour.set_image(path)
    np.testing.assert_array_equal(colour.r, rgba[..., :3] / 255.0)
    colour.set_image(rgba)                   # an RGBA array too
    np.testing.assert_array_equal(colour.r, rgba[..., :3] / 255.0)
    gray = ImagePopulation((3, 4), network=Network())
    gray.set_image(path)
    np.testing.assert_array_equal(gray.r, opencv_gray(rgba[..., :3]) / 255.0)


def test_missing_file(tmp_path):
    image = ImagePopulation((3, 4, 3), network=Network())
    missing = tmp_path / "no such image.png"
    with pytest.raises(FileNotFoundError) as error:
        image.set_image(str(missing))
    assert str(missing) in str(error.value)


def test_unreadable_file(tmp_path):
    image = ImagePopulation((3, 4, 3), network=Network())
    bad = tmp_path / "not_an_image.png"
    bad.write_text("this is not a PNG")
    with pytest.raises(ValueError) as error:
        image.set_image(bad)
    assert str(bad) in str(error.value)
    assert not isinstance(error.value, FileNotFoundError)
    np.testing.assert_array_equal(image.r, 0.0)   # unchanged


@pytest.mark.parametrize("bad", [np.zeros((3, 4, 2)), np.zeros((3, 4), dtype=np.int32),
                                 np.full((3, 4, 3), np.nan), 3.5],
                         ids=["two channels", "int32", "nan", "a number"])
def test_bad_arrays_and_sources(bad):
    image = ImagePopulation((3, 4, 3), network=Network())
    with pytest.raises(ValidationError, match=r"ImagePopulation"):
        image.set_image(bad)
    np.testing.assert_array_equal(image.r, 0.0)   # unchanged


# =========================================================================== in a network


def test_simulate_never_changes_the_image(rng):
    net = Network()
    image = ImagePopulation((8, 10, 3), network=net)
    pooled = net.create((4, 5, 3), LINEAR)
    net.connect(Pooling(image, pooled, "exc", operation="mean")).connect_pooling()
    pixels = rng.random((8, 10, 3))
    image.set_image(pixels)
    net.simulate(5.0)
    np.testing.assert_array_equal(image.r, pixels)
    np.testing.assert_allclose(pooled.r, pixels.reshape(4, 2, 5, 2, 3).mean(axis=(1, 3)), atol=1e-12)


def test_image_as_post_is_still_not_changed(rng):
    # An image population is an input: even a projection into it does not change r.
    net = Network()
    source = net.create((4, 5, 3), Neuron(parameters="r = 1.0"))
    image = ImagePopulation((4, 5, 3), network=net)
    net.connect(source, image, "exc").connect_one_to_one(weights=1.0)
    pixels = rng.random((4, 5, 3))
    image.set_image(pixels)
    net.simulate(3.0)
    np.testing.assert_array_equal(image.r, pixels)


def test_every_new_image_reaches_the_projections(rng):
    net = Network()
    image = ImagePopulation((6, 8), network=net)
    pooled = net.create((3, 4), LINEAR)
    smoothed = net.create((6, 8), LINEAR)
    net.connect(Pooling(image, pooled, "exc", operation="max")).connect_pooling()
    net.connect(Convolution(image, smoothed, "exc")).connect_filter(np.ones((3, 3)) / 9.0, padding="border")
    for _ in range(3):
        pixels = rng.random((6, 8))
        image.set_image(pixels)
        net.step()
        np.testing.assert_allclose(pooled.r, pixels.reshape(3, 2, 4, 2).max(axis=(1, 3)), atol=1e-12)
        padded = np.pad(pixels, 1, mode="edge")
        box = sum(padded[i:i + 6, j:j + 8] for i in range(3) for j in range(3)) / 9.0
        np.testing.assert_allclose(smoothed.r, box, atol=1e-12)
        net.step()    # an unchanged image gives the same result again
        np.testing.assert_allclose(pooled.r, pixels.reshape(3, 2, 4, 2).max(axis=(1, 3)), atol=1e-12)


def test_assigning_r_directly_reaches_the_projections(rng):
    # ANNarchy users also write image.r = ...; a cache keyed on set_image must not miss it.
    net = Network()
    image = ImagePopulation((4, 4), network=net)
    pooled = net.create((2, 2), LINEAR)
    net.connect(Pooling(image, pooled, "exc", operation="mean")).connect_pooling()
    image.set_image(rng.random((4, 4)))
    net.step()
    pixels = rng.random((4, 4))
    image.r = pixels
    net.step()
    np.testing.assert_allclose(pooled.r, pixels.reshape(2, 2, 2, 2).mean(axis=(1, 3)), atol=1e-12)


def test_image_rates_follow_reset(rng):
    # reset() must not leave projections reading a stale cache of the image.
    net = Network()
    image = ImagePopulation((4, 4), network=net)
    pooled = net.create((2, 2), LINEAR)
    net.connect(Pooling(image, pooled, "exc", operation="max")).connect_pooling()
    net.simulate(1.0)
    image.set_image(rng.random((4, 4)))
    net.simulate(2.0)
    net.reset()
    net.step()
    np.testing.assert_allclose(pooled.r, image.r.reshape(2, 2, 2, 2).max(axis=(1, 3)), atol=1e-12)


# =============================================================================== video


COLOURS = [(255, 0, 0), (0, 0, 255), (255, 255, 255)]   # RGB: red, blue, white


@pytest.fixture
def video_path(tmp_path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 8))
    assert writer.isOpened()
    for rgb in COLOURS:
        writer.write(np.ascontiguousarray(np.broadcast_to(np.array(rgb[::-1], np.uint8), (8, 16, 3))))
    writer.release()
    return path


def test_video_frames_through_a_network(video_path):
    net = Network()
    video = VideoPopulation((8, 16, 3), network=net)
    means = net.create((1, 1, 3), LINEAR)
    net.connect(Pooling(video, means, "exc", operation="mean")).connect_pooling()
    video.open_video(str(video_path))
    for rgb in COLOURS[:2]:
        video.grab_image()
        np.testing.assert_allclose(video.r, np.broadcast_to(np.array(rgb) / 255.0, (8, 16, 3)), atol=0.08)
        net.step()
        np.testing.assert_allclose(means.r.ravel(), np.array(rgb) / 255.0, atol=0.08)
    video.release()


def test_video_end_of_file_and_release(video_path):
    video = VideoPopulation((4, 8), network=Network())   # grayscale, shrunk by 2
    video.open_video(video_path)
    for _ in COLOURS:
        video.grab_image()
    white = video.r.copy()
    np.testing.assert_allclose(white, 1.0, atol=0.05)
    with pytest.raises(EOFError, match="clip.avi"):
        video.grab_image()
    np.testing.assert_array_equal(video.r, white)   # the last frame stays
    video.release()
    video.release()                                  # harmless twice
    with pytest.raises(ValidationError, match="open_video|start_camera"):
        video.grab_image()


def test_grab_before_opening():
    video = VideoPopulation((4, 8, 3), network=Network())
    with pytest.raises(ValidationError, match=r"VideoPopulation.*grab_image.*(open_video|start_camera)"):
        video.grab_image()


def test_open_missing_video(tmp_path):
    video = VideoPopulation((4, 8, 3), network=Network())
    with pytest.raises(FileNotFoundError) as error:
        video.open_video(tmp_path / "missing.avi")
    assert "missing.avi" in str(error.value)


def test_start_camera_that_does_not_exist():
    video = VideoPopulation((4, 8, 3), network=Network())
    outcome: dict[str, object] = {}

    def open_camera() -> None:
        try:
            video.start_camera(99)
            outcome["opened"] = True
        except Exception as error:  # checked below
            outcome["error"] = error

    thread = threading.Thread(target=open_camera, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():
        pytest.skip("opening camera port 99 blocks on this system")
    if outcome.get("opened"):
        video.release()
        pytest.skip("this system has a camera at port 99")
    assert isinstance(outcome["error"], RuntimeError), repr(outcome["error"])
    assert "99" in str(outcome["error"])
    with pytest.raises(ValidationError):     # nothing was left open
        video.grab_image()
