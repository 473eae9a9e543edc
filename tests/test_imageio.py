"""Tests of ratenet._imageio against references computed by hand or by other libraries.

Pixels are written by these tests (with cv2.imwrite, whose BGR convention is the
thing under test, and with PIL, which is RGB and independent of OpenCV), and the
expected rates are written out literally or derived in NumPy from the definition
(block means, bilinear weights, BT.601 luma), not from the code under test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest

from ratenet._imageio import (
    VideoSource,
    check_image_geometry,
    check_interpolation,
    image_to_rates,
    read_image,
)
from ratenet.exceptions import ValidationError

PIL_Image = pytest.importorskip("PIL.Image")

# Pure colours as RGB, the order every ratenet user sees.
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def write_bgr(path: Path, rgb: np.ndarray) -> Path:
    """Write an RGB(A) array with OpenCV, which expects BGR(A)."""
    if rgb.ndim == 3 and rgb.shape[2] == 3:
        data = rgb[..., ::-1]
    elif rgb.ndim == 3 and rgb.shape[2] == 4:
        data = rgb[..., [2, 1, 0, 3]]
    else:
        data = rgb
    assert cv2.imwrite(str(path), np.ascontiguousarray(data))
    return path


@pytest.fixture
def rgb_pixels() -> np.ndarray:
    """A 2x3 uint8 RGB image: red, green, blue / white, black, an odd colour."""
    return np.array(
        [[RED, GREEN, BLUE], [(255, 255, 255), (0, 0, 0), (10, 200, 31)]], dtype=np.uint8
    )


# ----------------------------------------------------------------------------
# check_image_geometry / check_interpolation
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geometry, expected",
    [
        ((4, 5), (4, 5)),
        ((4, 5, 1), (4, 5)),
        ((4, 5, 3), (4, 5, 3)),
        ([4, 5, 3], (4, 5, 3)),
        ((np.int64(4), np.int32(5)), (4, 5)),
    ],
)
def test_geometry_accepted(geometry, expected):
    result = check_image_geometry(geometry)
    assert result == expected
    assert all(type(size) is int for size in result)


@pytest.mark.parametrize(
    "geometry, message",
    [
        ((4,), "must be \\(H, W\\)"),
        ((4, 5, 3, 1), "must be \\(H, W\\)"),
        ((4, 5, 2), "must be \\(H, W\\)"),
        ((4, 5, 4), "must be \\(H, W\\)"),
        ((0, 5), "sizes must be positive"),
        ((4, -1, 3), "sizes must be positive"),
        ((4.0, 5), "must contain integers"),
        ((True, 5), "must contain integers"),
        (5, "must be a tuple"),
        ("45", "must be a tuple"),
    ],
)
def test_geometry_rejected(geometry, message):
    with pytest.raises(ValidationError, match=r"^ImagePopulation\.geometry: " + message):
        check_image_geometry(geometry)


def test_geometry_error_names_the_owner():
    with pytest.raises(ValidationError, match=r"^VideoPopulation\.geometry: .*\(got \(3, 3, 2\)\)"):
        check_image_geometry((3, 3, 2), owner="VideoPopulation")


@pytest.mark.parametrize(
    "name, constant",
    [
        ("nearest", cv2.INTER_NEAREST),
        ("linear", cv2.INTER_LINEAR),
        ("bilinear", cv2.INTER_LINEAR),
        ("area", cv2.INTER_AREA),
        ("cubic", cv2.INTER_CUBIC),
        ("bicubic", cv2.INTER_CUBIC),
        ("LANCZOS", cv2.INTER_LANCZOS4),
        (cv2.INTER_NEAREST_EXACT, cv2.INTER_NEAREST_EXACT),
        (np.int64(cv2.INTER_AREA), cv2.INTER_AREA),
        (None, None),
    ],
)
def test_interpolation_accepted(name, constant):
    assert check_interpolation(name) == constant


@pytest.mark.parametrize(
    "value, message",
    [
        ("bicubicx", "must be one of 'nearest'"),
        (42, "must be a cv2.INTER_\\* constant"),
        (True, "must be a cv2.INTER_\\* constant"),
        (1.0, "must be a cv2.INTER_\\* constant"),
    ],
)
def test_interpolation_rejected(value, message):
    with pytest.raises(ValidationError, match=r"^ImagePopulation\.interpolation: " + message):
        check_interpolation(value)


# ----------------------------------------------------------------------------
# read_image
# ----------------------------------------------------------------------------


def test_read_png_is_rgb(tmp_path, rgb_pixels):
    path = write_bgr(tmp_path / "pixels.png", rgb_pixels)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.flags.c_contiguous
    np.testing.assert_array_equal(image, rgb_pixels)
    rates = image_to_rates(image, (2, 3, 3))
    np.testing.assert_array_equal(rates[0, 0], [1.0, 0.0, 0.0])  # red, not blue
    np.testing.assert_array_equal(rates[0, 2], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(rates[1, 2], [10 / 255, 200 / 255, 31 / 255])


def test_read_png_written_by_pil(tmp_path, rgb_pixels):
    # PIL knows nothing of BGR: an independent check of the channel order.
    path = tmp_path / "pil.png"
    PIL_Image.fromarray(rgb_pixels, mode="RGB").save(path)
    np.testing.assert_array_equal(read_image(str(path)), rgb_pixels)


def test_read_rgba_png(tmp_path):
    rgba = np.array([[(255, 0, 0, 0), (0, 0, 255, 128), (1, 2, 3, 255)]], dtype=np.uint8)
    pil_path = tmp_path / "pil_rgba.png"
    PIL_Image.fromarray(rgba, mode="RGBA").save(pil_path)
    for path in (write_bgr(tmp_path / "rgba.png", rgba), pil_path):
        image = read_image(path)
        np.testing.assert_array_equal(image, rgba)
        rates = image_to_rates(image, (1, 3, 3))
        np.testing.assert_array_equal(rates, rgba[..., :3] / 255.0)  # alpha dropped, not blended


def test_read_grayscale_png(tmp_path):
    gray = np.array([[0, 51, 255], [7, 128, 254]], dtype=np.uint8)
    image = read_image(write_bgr(tmp_path / "gray.png", gray))
    assert image.shape == (2, 3)
    np.testing.assert_array_equal(image, gray)
    np.testing.assert_array_equal(image_to_rates(image, (2, 3)), gray / 255.0)
    np.testing.assert_array_equal(image_to_rates(image, (2, 3, 1)), gray / 255.0)
    replicated = image_to_rates(image, (2, 3, 3))
    for channel in range(3):
        np.testing.assert_array_equal(replicated[..., channel], gray / 255.0)


def test_read_16_bit_png(tmp_path):
    rgb16 = np.array([[(65535, 0, 1000), (1, 32768, 65534)]], dtype=np.uint16)
    image = read_image(write_bgr(tmp_path / "deep.png", rgb16))
    assert image.dtype == np.uint16
    np.testing.assert_array_equal(image, rgb16)
    rates = image_to_rates(image, (1, 2, 3))
    np.testing.assert_array_equal(rates[0, 0], [1.0, 0.0, 1000 / 65535])
    np.testing.assert_array_equal(rates[0, 1], [1 / 65535, 32768 / 65535, 65534 / 65535])


def test_read_non_ascii_path(tmp_path, rgb_pixels):
    folder = tmp_path / "dossier é"
    folder.mkdir()
    path = folder / "Bild_ä_日本.png"
    # Written by PIL because cv2.imwrite cannot write non-ASCII paths on Windows.
    PIL_Image.fromarray(rgb_pixels).save(path)
    np.testing.assert_array_equal(read_image(path), rgb_pixels)
    np.testing.assert_array_equal(read_image(str(path)), rgb_pixels)


def test_read_missing_file(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(FileNotFoundError, match=r"ImagePopulation: no such image file: .*nowhere\.png"):
        read_image(path)


def test_read_directory(tmp_path):
    with pytest.raises(ValueError, match=r"is a directory, not an image file"):
        read_image(tmp_path)


def test_read_file_that_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(ValueError, match=r"cannot read image file .*notes\.png.*cannot decode"):
        read_image(path)


def test_read_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.png.*the file is empty"):
        read_image(path)


def test_read_not_a_path():
    with pytest.raises(ValidationError, match=r"^ImagePopulation\.path: must be a str or os\.PathLike"):
        read_image(3.5)


def test_grace_hopper_from_matplotlib():
    path = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    image = read_image(path)
    assert image.shape == (600, 512, 3) and image.dtype == np.uint8
    # Channel order against PIL's decoder (JPEG decoders may differ by a level or so).
    with PIL_Image.open(path) as pil:
        reference = np.asarray(pil.convert("RGB"))
    np.testing.assert_allclose(image.mean(axis=(0, 1)), reference.mean(axis=(0, 1)), atol=1.0)
    rates = image_to_rates(image, (480, 640, 3))
    assert rates.shape == (480, 640, 3) and rates.dtype == np.float64
    assert rates.min() >= 0.0 and rates.max() <= 1.0 and rates.std() > 0.1
    gray = image_to_rates(image, (480, 640))
    assert gray.shape == (480, 640) and 0.0 <= gray.min() and gray.max() <= 1.0


# ----------------------------------------------------------------------------
# image_to_rates: dtypes, copies, errors
# ----------------------------------------------------------------------------


def test_same_size_uint8_is_exact_copy(rgb_pixels):
    rates = image_to_rates(rgb_pixels, (2, 3, 3))
    np.testing.assert_array_equal(rates, rgb_pixels.astype(np.float64) / 255.0)
    assert rates.dtype == np.float64 and rates.flags.c_contiguous


def test_float_image_is_taken_as_is_and_copied():
    image = np.array([[0.25, -0.5], [1.5, 1.0]])
    rates = image_to_rates(image, (2, 2))
    np.testing.assert_array_equal(rates, image)  # not clipped
    assert not np.shares_memory(rates, image)
    view = np.asfortranarray(np.stack([image] * 3, axis=2))
    out = image_to_rates(view, (2, 2, 3))
    assert out.flags.c_contiguous and not np.shares_memory(out, view)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_dtypes(dtype):
    image = np.array([[0.0, 0.5, 1.0]], dtype=dtype)
    np.testing.assert_array_equal(image_to_rates(image, (1, 3)), [[0.0, 0.5, 1.0]])


def test_output_dtype():
    rates = image_to_rates(np.array([[1, 2]], dtype=np.uint8), (1, 2), dtype=np.float32)
    assert rates.dtype == np.float32
    np.testing.assert_array_equal(rates, np.array([[1 / 255, 2 / 255]], dtype=np.float32))


@pytest.mark.parametrize(
    "image, got",
    [
        (np.zeros((2, 2), dtype=bool), "dtype bool"),
        (np.zeros((2, 2), dtype=np.int64), "dtype int64"),
        (np.zeros((2, 2), dtype=np.int8), "dtype int8"),
        (np.zeros((2, 2), dtype=complex), "dtype complex128"),
        (np.array([["a", "b"]]), "dtype <U1"),
    ],
)
def test_image_dtype_rejected(image, got):
    with pytest.raises(ValidationError,
                       match=r"^ImagePopulation\.image: must have dtype uint8, uint16 or floating point .*" + got):
        image_to_rates(image, (2, 2))


@pytest.mark.parametrize(
    "shape",
    [(4,), (2, 2, 3, 1), (2, 2, 2), (2, 2, 5)],
)
def test_image_shape_rejected(shape):
    image = np.zeros(shape, dtype=np.uint8)
    with pytest.raises(ValidationError,
                       match=r"^ImagePopulation\.image: must be \(h, w\) grayscale.*" + re.escape(str(shape))):
        image_to_rates(image, (2, 2))


@pytest.mark.parametrize("shape", [(0, 3), (2, 0, 3)])
def test_empty_image_rejected(shape):
    with pytest.raises(ValidationError, match=r"^ImagePopulation\.image: must not be empty"):
        image_to_rates(np.zeros(shape, dtype=np.uint8), (2, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_rejected(bad):
    image = np.zeros((2, 2))
    image[1, 0] = bad
    with pytest.raises(ValidationError, match=r"^ImagePopulation\.image: must hold finite values .*1 NaN or inf"):
        image_to_rates(image, (2, 2))


def test_image_error_names_the_owner():
    with pytest.raises(ValidationError, match=r"^ImagePopulation 'retina'\.image: "):
        image_to_rates(np.zeros((2, 2), dtype=np.int32), (2, 2), owner="ImagePopulation 'retina'")


@pytest.mark.parametrize("dtype", [np.int32, "not a dtype", bool])
def test_bad_output_dtype(dtype):
    with pytest.raises(ValidationError, match=r"^ImagePopulation\.dtype: must be a floating point dtype"):
        image_to_rates(np.zeros((2, 2)), (2, 2), dtype=dtype)


def test_bad_geometry_and_interpolation_are_checked():
    with pytest.raises(ValidationError, match=r"ImagePopulation\.geometry"):
        image_to_rates(np.zeros((2, 2)), (2, 2, 4))
    # Checked even when no resize is needed, so a typo is never silent.
    with pytest.raises(ValidationError, match=r"ImagePopulation\.interpolation"):
        image_to_rates(np.zeros((2, 2)), (2, 2), interpolation="cubicle")


def test_single_channel_axis_is_collapsed():
    image = np.array([[[10], [20]]], dtype=np.uint8)
    np.testing.assert_array_equal(image_to_rates(image, (1, 2)), [[10 / 255, 20 / 255]])
    np.testing.assert_array_equal(image_to_rates(image, (1, 2, 1)), [[10 / 255, 20 / 255]])


# ----------------------------------------------------------------------------
# Grayscale
# ----------------------------------------------------------------------------


def test_uint8_grayscale_by_hand():
    image = np.array([[(200, 100, 50), (10, 200, 31), (30, 60, 90)], [RED, GREEN, BLUE]], dtype=np.uint8)
    # round(0.299 R + 0.587 G + 0.114 B):
    # 59.8 + 58.7 + 5.7 = 124.2 -> 124;  2.99 + 117.4 + 3.534 = 123.924 -> 124
    # 8.97 + 35.22 + 10.26 = 54.45 -> 54; 76.245 -> 76; 149.685 -> 150; 29.07 -> 29
    expected = np.array([[124, 124, 54], [76, 150, 29]]) / 255.0
    np.testing.assert_array_equal(image_to_rates(image, (2, 3)), expected)


def test_uint16_grayscale_rounds_in_16_bit():
    image = np.array([[(1000, 2000, 3001), (65535, 65535, 65535)]], dtype=np.uint16)
    # 299 + 1174 + 342.114 = 1815.114 -> 1815
    np.testing.assert_array_equal(image_to_rates(image, (1, 2)), [[1815 / 65535, 1.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_grayscale_weights(dtype):
    image = np.array([[(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.2, 0.4, 0.6)]], dtype=dtype)
    expected = [[0.299, 0.587, 0.114, 0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6]]
    tolerance = 1e-15 if dtype == np.float64 else 1e-7
    np.testing.assert_allclose(image_to_rates(image, (1, 4)), expected, rtol=tolerance)


# ----------------------------------------------------------------------------
# Resizing
# ----------------------------------------------------------------------------


def block_image(means: np.ndarray) -> np.ndarray:
    """A (2h, 2w, C) uint8 image whose 2x2 blocks have exactly the given integer means."""
    offsets = np.array([[-3, -1], [1, 3]])  # sums to 0 over a block
    image = np.repeat(np.repeat(means, 2, axis=0), 2, axis=1).astype(np.int64)
    image += np.tile(offsets, (means.shape[0], means.shape[1]))[..., np.newaxis]
    return image.astype(np.uint8)


BLOCK_MEANS = np.array([[(200, 100, 50), (10, 200, 31)], [(30, 60, 90), (12, 40, 250)]])


def test_shrink_2x_is_block_mean():
    image = block_image(BLOCK_MEANS)
    assert image.shape == (4, 4, 3) and image[0, 0, 0] == 197 and image[1, 1, 0] == 203
    np.testing.assert_array_equal(image_to_rates(image, (2, 2, 3)), BLOCK_MEANS / 255.0)


def test_shrink_2x_float_is_block_mean():
    rng = np.random.default_rng(0)
    image = rng.random((6, 8, 3))
    means = image.reshape(3, 2, 4, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(image_to_rates(image, (3, 4, 3)), means, rtol=1e-12)


def test_shrink_uint16_keeps_16_bit_precision():
    means = BLOCK_MEANS * 257 + 1  # values no 8-bit image can hold
    image = np.repeat(np.repeat(means, 2, axis=0), 2, axis=1).astype(np.uint16)
    np.testing.assert_array_equal(image_to_rates(image, (2, 2, 3)), means / 65535.0)


def test_grayscale_comes_after_resizing():
    # Block means first (exact), then OpenCV's luma on those uint8 means:
    # (200, 100, 50) -> 124, (10, 200, 31) -> 124, (30, 60, 90) -> 54,
    # (12, 40, 250): 3.588 + 23.48 + 28.5 = 55.568 -> 56.
    image = block_image(BLOCK_MEANS)
    np.testing.assert_array_equal(image_to_rates(image, (2, 2)), np.array([[124, 124], [54, 56]]) / 255.0)


def test_shrink_along_one_axis_averages():
    # 3x along the width only: area averaging gives means of triples, where
    # bilinear would sample columns 1 and 4 and give [[3, 2]].
    image = np.array([[0.0, 3.0, 9.0, 1.0, 2.0, 6.0]] * 2)
    np.testing.assert_allclose(image_to_rates(image, (2, 2)), [[4.0, 3.0]] * 2, rtol=1e-6)


# Bilinear 2x enlargement with OpenCV's half-pixel centres: output pixel x
# samples the input at (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped
# to [0, 1]; the weights of the two input pixels are therefore:
UPSAMPLE_2_TO_4 = np.array([[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]])


def test_enlarge_is_bilinear_by_hand():
    image = np.array([[0.0, 0.4], [0.8, 1.0]])
    expected = UPSAMPLE_2_TO_4 @ image @ UPSAMPLE_2_TO_4.T
    assert expected[1, 1] == pytest.approx(0.75 * (0.75 * 0.0 + 0.25 * 0.4) + 0.25 * (0.75 * 0.8 + 0.25 * 1.0))
    np.testing.assert_allclose(image_to_rates(image, (4, 4)), expected, rtol=1e-12)


def test_enlarge_one_axis_shrink_the_other_is_bilinear():
    # Height 2 -> 4 (weights above); width 6 -> 3 samples at 2x + 0.5, the mean
    # of columns 2x and 2x + 1.
    image = np.arange(12.0).reshape(2, 6) / 12
    pair_means = image.reshape(2, 3, 2).mean(axis=2)
    np.testing.assert_allclose(image_to_rates(image, (4, 3)), UPSAMPLE_2_TO_4 @ pair_means, rtol=1e-12)


def test_enlarge_uint8_matches_opencv():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    expected = cv2.resize(image, (9, 7), interpolation=cv2.INTER_LINEAR) / 255.0
    np.testing.assert_array_equal(image_to_rates(image, (7, 9, 3)), expected)


def test_interpolation_nearest_enlarges_by_repetition():
    image = np.array([[10, 20], [30, 40]], dtype=np.uint8)
    expected = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1) / 255.0
    np.testing.assert_array_equal(image_to_rates(image, (4, 4), interpolation="nearest"), expected)
    np.testing.assert_array_equal(image_to_rates(image, (4, 4), interpolation=cv2.INTER_NEAREST), expected)


@pytest.mark.parametrize("name, constant", [("cubic", cv2.INTER_CUBIC), ("lanczos", cv2.INTER_LANCZOS4),
                                            ("linear", cv2.INTER_LINEAR)])
def test_interpolation_override_matches_opencv(name, constant):
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)
    rates = image_to_rates(image, (4, 5, 3), interpolation=name)
    np.testing.assert_array_equal(rates, cv2.resize(image, (5, 4), interpolation=constant) / 255.0)
    assert rates.min() >= 0.0 and rates.max() <= 1.0  # uint8 saturates overshoot


def test_interpolation_ignored_when_sizes_match(rgb_pixels):
    rates = image_to_rates(rgb_pixels, (2, 3, 3), interpolation="lanczos")
    np.testing.assert_array_equal(rates, rgb_pixels / 255.0)


def test_alpha_dropped_before_resizing():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 100
    rgba[..., 3] = np.arange(16).reshape(4, 4) * 16  # alpha must not weigh the mean
    np.testing.assert_array_equal(image_to_rates(rgba, (2, 2, 3))[..., 0], np.full((2, 2), 100 / 255))


# ----------------------------------------------------------------------------
# Video
# ----------------------------------------------------------------------------

N_FRAMES, FRAME_H, FRAME_W = 5, 24, 32


def frame_rgb(index: int) -> tuple[int, int, int]:
    return (200, 40 * index, 0)


@pytest.fixture
def video_path(tmp_path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (FRAME_W, FRAME_H))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    for index in range(N_FRAMES):
        frame = np.empty((FRAME_H, FRAME_W, 3), dtype=np.uint8)
        frame[...] = frame_rgb(index)[::-1]  # VideoWriter takes BGR
        writer.write(frame)
    writer.release()
    return path


def test_video_frames_are_rgb(video_path):
    with VideoSource(video_path) as video:
        assert video.is_open and video.source == str(video_path)
        for index in range(N_FRAMES):
            frame = video.read()
            assert frame.shape == (FRAME_H, FRAME_W, 3) and frame.dtype == np.uint8
            assert frame.flags.c_contiguous
            # MJPG is lossy: compare mean colours loosely.
            np.testing.assert_allclose(frame.mean(axis=(0, 1)), frame_rgb(index), atol=8)
        assert video.frames_read == N_FRAMES
        with pytest.raises(EOFError, match=r"end of video file .*clip\.avi.* after 5 frames"):
            video.read()
    assert not video.is_open


def test_video_frame_into_rates(video_path):
    with VideoSource(video_path) as video:
        rates = image_to_rates(video.read(), (12, 16))
    # luma of (200, 0, 0) is 59.8: about 0.23
    assert rates.shape == (12, 16)
    np.testing.assert_allclose(rates, 59.8 / 255, atol=0.03)


def test_video_release_is_idempotent(video_path):
    video = VideoSource(video_path)
    video.release()
    video.release()
    assert not video.is_open
    assert "released" in repr(video)
    with pytest.raises(ValueError, match=r"video file .*clip\.avi' is released; cannot read a frame"):
        video.read()


@pytest.mark.skipif(sys.platform == "win32", reason="OpenCV's video backends take non-ASCII paths only on POSIX")
def test_video_non_ascii_path(video_path):
    path = video_path.with_name("vidéo_日本.avi")
    video_path.rename(path)
    with VideoSource(path) as video:
        assert video.read().shape == (FRAME_H, FRAME_W, 3)


def test_video_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"VideoPopulation: no such video file: .*missing\.avi"):
        VideoSource(tmp_path / "missing.avi")


def test_video_digit_string_hints_at_camera():
    with pytest.raises(FileNotFoundError, match=r"pass an int to open a camera port: '0'"):
        VideoSource("0")


def test_video_directory(tmp_path):
    with pytest.raises(ValueError, match=r"is a directory, not a video file"):
        VideoSource(tmp_path)


@pytest.mark.parametrize("name, content", [("notes.avi", b"not a video"), ("notes.png", b"not a video"),
                                           ("empty.mp4", b"")])
def test_video_file_that_is_not_a_video(tmp_path, name, content):
    # FFmpeg "opens" the text file named .png as an image sequence; only
    # decoding the first frame exposes it.
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError,
                       match=r"cannot read video file .*" + re.escape(name) + ".*cannot open it or decode a frame"):
        VideoSource(path)


@pytest.mark.parametrize(
    "source, message",
    [
        (-1, "a camera port must be >= 0"),
        (1.5, "must be a camera port \\(int >= 0\\) or a video file path"),
        (True, "must be a camera port"),
        (None, "must be a camera port"),
    ],
)
def test_video_bad_source(source, message):
    with pytest.raises(ValidationError, match=r"^VideoPopulation\.source: " + message):
        VideoSource(source)


def test_camera_that_cannot_be_opened(capfd):
    # Opening a camera talks to the OS; run it in a thread so that a system
    # where it blocks skips this test instead of hanging the suite.
    outcome: dict[str, object] = {}

    def open_camera() -> None:
        try:
            outcome["video"] = VideoSource(99)
        except Exception as error:  # reported below
            outcome["error"] = error

    thread = threading.Thread(target=open_camera, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():
        pytest.skip("opening camera port 99 blocks on this system")
    if "video" in outcome:
        outcome["video"].release()
        pytest.skip("this system has a camera at port 99")
    with pytest.raises(RuntimeError, match=r"^VideoPopulation: cannot open camera port 99 \(no such camera"):
        raise outcome["error"]
    # OpenCV's own "can't open camera by index" warnings are silenced.
    assert "camera" not in capfd.readouterr().err.lower()
    cv_logging = getattr(cv2.utils, "logging", None)  # OpenCV 4.8's wheels lack these bindings
    if cv_logging is not None:
        assert cv_logging.getLogLevel() == cv_logging.LOG_LEVEL_WARNING  # restored


class FakeCamera:
    """Stands in for cv2.VideoCapture: a camera that opens, gives one BGR frame, then fails."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.frames = [np.array([[[255, 0, 0]]], dtype=np.uint8)]  # pure blue in BGR
        self.released = 0

    def isOpened(self) -> bool:
        return self.released == 0

    def read(self):
        return (True, self.frames.pop()) if self.frames else (False, None)

    def release(self) -> None:
        self.released += 1


def test_camera_frames_and_failed_grab(monkeypatch):
    monkeypatch.setattr(cv2, "VideoCapture", FakeCamera)
    with VideoSource(np.int64(3)) as camera:
        assert camera.source == 3 and camera.is_open
        np.testing.assert_array_equal(camera.read(), [[[0, 0, 255]]])  # blue, as RGB
        with pytest.raises(RuntimeError, match=r"camera port 3 delivered no frame after 1 frames"):
            camera.read()
    assert not camera.is_open


def test_import_does_not_load_opencv():
    code = "import sys, ratenet._imageio; print('cv2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == "False"
