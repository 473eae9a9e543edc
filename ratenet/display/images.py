"""Small PNG images of population activity, for inline display.

A 2-D geometry becomes a colour-mapped image (viridis), a 3-D geometry with
three channels an RGB image, other channel counts one panel per channel side
by side.  Images are enlarged (nearest neighbour) or reduced (block means) to
about :data:`TARGET` pixels on their long side.  matplotlib is imported the
first time an image is made.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .summary import Image

__all__ = ["activity_image", "activity_array", "image_array", "TARGET"]

#: Pixels on the long side of an inline image.
TARGET = 160


def activity_array(values: Any, rgb: bool | None = None) -> tuple[np.ndarray, bool] | None:
    """The 2-D image (or RGB image) that shows ``values``, and whether it is RGB.

    ``None`` for a 1-D geometry (or more than 3 axes), which is not an image.

    Examples
    --------
    >>> import numpy as np
    >>> image, is_rgb = activity_array(np.ones((4, 5, 2)))
    >>> image.shape, is_rgb
    ((4, 11), False)
    """
    array = np.asarray(values, dtype=np.float64)
    return image_array(array, rgb) if array.ndim in (2, 3) else None


def image_array(values: Any, rgb: bool | None = None) -> tuple[np.ndarray, bool]:
    """:func:`activity_array` for values known to be 2-D or 3-D (``ValueError`` otherwise)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2:
        return array, False
    if array.ndim != 3:
        raise ValueError(f"an image needs 2 or 3 axes, got shape {array.shape}")
    channels = array.shape[2]
    if channels == 3 and rgb is not False:
        low, high = np.nanmin(array), np.nanmax(array)
        if low < 0.0 or high > 1.0:  # not already in [0, 1]: scale the range into it
            array = (array - low) / (high - low) if high > low else np.zeros_like(array)
        return np.clip(np.nan_to_num(array), 0.0, 1.0), True
    if channels == 1:
        return array[:, :, 0], False
    # channels side by side, separated by a column of NaN (drawn as background)
    height, width = array.shape[:2]
    tiled = np.full((height, channels * (width + 1) - 1), np.nan)
    for c in range(channels):
        tiled[:, c * (width + 1): c * (width + 1) + width] = array[:, :, c]
    return tiled, False


def _resize(image: np.ndarray, target: int) -> np.ndarray:
    long_side = max(image.shape[0], image.shape[1])
    if long_side > target:
        k = int(np.ceil(long_side / target))
        h, w = (image.shape[0] // k) * k, (image.shape[1] // k) * k
        if h == 0 or w == 0:
            return image[::k, ::k]
        cropped = image[:h, :w]
        blocks = cropped.reshape(h // k, k, w // k, k, *image.shape[2:])
        with np.errstate(invalid="ignore"):
            return np.nanmean(blocks, axis=(1, 3)) if np.isnan(blocks).any() else blocks.mean(axis=(1, 3))
    k = max(1, target // long_side)
    return np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def activity_image(values: Any, caption: str, target: int = TARGET) -> Image | None:
    """A PNG :class:`~ratenet.display.summary.Image` of 2-D or 3-D values (None otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> image = activity_image(np.arange(12.0).reshape(3, 4), "r")
    >>> image.png[:4], (image.height, image.width)
    (b'\\x89PNG', (120, 160))
    """
    found = activity_array(values)
    if found is None:
        return None
    image, rgb = found
    if image.size == 0:
        return None
    try:
        import matplotlib.image as mpimg
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    shown = _resize(image, target)
    buffer = io.BytesIO()
    if rgb:
        mpimg.imsave(buffer, shown, format="png")
    else:
        finite = shown[np.isfinite(shown)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high == low:
            low, high = low - 0.5, high + 0.5
        mpimg.imsave(buffer, np.ma.masked_invalid(shown), cmap="viridis", vmin=low, vmax=high, format="png")
    return Image(buffer.getvalue(), int(shown.shape[1]), int(shown.shape[0]), caption)
