"""Image and video input for :class:`ImagePopulation` and :class:`VideoPopulation`.

This module turns image files, arrays and video frames into the firing rates an
image population holds: a C-contiguous float array of the population's geometry,
values in [0, 1], channels in **RGB order**.  It is pure (no network state) so
the engine only has to call it.

The pipeline of :func:`image_to_rates` is fixed, because the order changes the
numbers:

1. drop the alpha channel;
2. resize to the geometry with OpenCV when the sizes differ (area interpolation
   when the image is not enlarged along either axis, bilinear otherwise);
3. convert to grayscale when the geometry is 2-D, with OpenCV's RGB->GRAY on
   the image in its own integer dtype (so uint8 results round as OpenCV does),
   or replicate a grayscale image into three channels for an RGB geometry;
4. scale by dtype: uint8 / 255, uint16 / 65535, floating point as is.

ANNarchy 4.8 loads images with PIL and resizes with bicubic interpolation, so
resized images differ from ANNarchy's by up to about 0.1; images that already
have the right size give identical rates.

OpenCV is imported inside the functions that need it, so ``import ratenet``
never pays for it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import operator
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from ratenet.exceptions import ValidationError

__all__ = [
    "check_image_geometry",
    "check_interpolation",
    "read_image",
    "check_image_array",
    "image_to_rates",
    "VideoSource",
]

# Names accepted for ``interpolation=``, mapped to the attribute of cv2 that
# holds the constant (looked up lazily so that cv2 is not imported here).  The
# PIL-style aliases help people coming from ANNarchy, which uses PIL.
_INTERPOLATION_NAMES = {
    "nearest": "INTER_NEAREST",
    "linear": "INTER_LINEAR",
    "bilinear": "INTER_LINEAR",
    "area": "INTER_AREA",
    "cubic": "INTER_CUBIC",
    "bicubic": "INTER_CUBIC",
    "lanczos": "INTER_LANCZOS4",
}
# Integer constants accepted as is; every one of these works on uint8, uint16,
# float32 and float64 images in OpenCV 4.8 and 5.0.
_INTERPOLATION_CONSTANTS = (
    "INTER_NEAREST",
    "INTER_LINEAR",
    "INTER_CUBIC",
    "INTER_AREA",
    "INTER_LANCZOS4",
    "INTER_LINEAR_EXACT",
    "INTER_NEAREST_EXACT",
)

# Full-scale value of each accepted integer dtype: rates are value / full scale.
_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}

# ITU-R BT.601 luma weights, the ones cv2.COLOR_RGB2GRAY uses.
_GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def _cv2() -> ModuleType:
    """Import OpenCV on first use (it takes ~0.1 s and is only needed for images)."""
    import cv2

    return cv2


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at the null device (C and C++ code writes there, not to sys.stderr)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _quiet_opencv(cv2: ModuleType) -> Iterator[None]:
    """Hide OpenCV's own messages while we probe a source.

    ``cv2.VideoCapture(99)`` prints "can't open camera by index" warnings on
    stderr before returning a closed capture (OpenCV 4.8 adds an error line from
    its Orbbec backend); we raise a clearer error of our own, so they are only
    noise.  The previous log level is restored.  Builds without the logging
    bindings (OpenCV 4.8's wheels) write to the process's stderr directly: it
    is pointed at the null device for the duration of the probe.
    """
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        with _stderr_silenced():
            yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def _as_int(value: Any) -> int | None:
    """``value`` as a Python int if it is an integer (not a bool), else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


# ----------------------------------------------------------------------------
# Geometry and arguments
# ----------------------------------------------------------------------------


def check_image_geometry(geometry: Any, owner: str = "ImagePopulation") -> tuple[int, ...]:
    """Validate the geometry of an image population.

    Parameters
    ----------
    geometry : tuple of int
        ``(H, W)`` or ``(H, W, 1)`` for a grayscale population, ``(H, W, 3)``
        for an RGB one.
    owner : str, optional
        Who receives the geometry, used in error messages.

    Returns
    -------
    tuple of int
        ``(H, W)`` for grayscale (``(H, W, 1)`` is collapsed, as ANNarchy does)
        or ``(H, W, 3)``.

    Raises
    ------
    ValidationError
        For any other rank or channel count, non-positive sizes or non-integer
        entries.

    Examples
    --------
    >>> check_image_geometry((4, 5, 1))
    (4, 5)
    >>> check_image_geometry([4, 5, 3])
    (4, 5, 3)
    >>> check_image_geometry((4, 5, 4))
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: ImagePopulation.geometry: must be (H, W) or (H, W, 1) for grayscale, or ...
    """
    if isinstance(geometry, (str, bytes)) or not hasattr(geometry, "__len__"):
        raise ValidationError(owner, "geometry", "must be a tuple (H, W) or (H, W, 3)", got=geometry)
    sizes = [_as_int(size) for size in geometry]
    if any(size is None for size in sizes):
        raise ValidationError(owner, "geometry", "must contain integers", got=geometry)
    if len(sizes) not in (2, 3) or (len(sizes) == 3 and sizes[2] not in (1, 3)):
        raise ValidationError(
            owner, "geometry",
            "must be (H, W) or (H, W, 1) for grayscale, or (H, W, 3) for RGB",
            got=tuple(geometry),
        )
    checked = [int(size) for size in sizes if size is not None]
    if any(size <= 0 for size in checked):
        raise ValidationError(owner, "geometry", "sizes must be positive", got=tuple(geometry))
    if len(checked) == 3 and checked[2] == 1:
        checked = checked[:2]
    return tuple(checked)


@functools.lru_cache(maxsize=None)
def _interpolation_tables() -> tuple[dict[str, int], frozenset[int]]:
    cv2 = _cv2()
    names = {name: getattr(cv2, attr) for name, attr in _INTERPOLATION_NAMES.items()}
    constants = frozenset(getattr(cv2, attr) for attr in _INTERPOLATION_CONSTANTS if hasattr(cv2, attr))
    return names, constants


def check_interpolation(interpolation: int | str | None, owner: str = "ImagePopulation") -> int | None:
    """Validate an ``interpolation=`` argument and return the OpenCV constant.

    Parameters
    ----------
    interpolation : int, str or None
        None (choose automatically: area when shrinking, bilinear otherwise), a
        ``cv2.INTER_*`` constant, or one of the names ``'nearest'``,
        ``'linear'`` (alias ``'bilinear'``), ``'area'``, ``'cubic'`` (alias
        ``'bicubic'``) and ``'lanczos'`` (case-insensitive).
    owner : str, optional
        Who receives the argument, used in error messages.

    Returns
    -------
    int or None
        The ``cv2.INTER_*`` constant, or None for the automatic choice.

    Examples
    --------
    >>> import cv2
    >>> check_interpolation("Cubic") == cv2.INTER_CUBIC
    True
    >>> check_interpolation(None) is None
    True
    """
    if interpolation is None:
        return None
    names, constants = _interpolation_tables()
    if isinstance(interpolation, str):
        code = names.get(interpolation.lower())
        if code is None:
            raise ValidationError(
                owner, "interpolation",
                "must be one of " + ", ".join(repr(name) for name in names) + ", a cv2.INTER_* constant or None",
                got=interpolation,
            )
        return code
    code = _as_int(interpolation)
    if code is None or code not in constants:
        raise ValidationError(
            owner, "interpolation",
            "must be a cv2.INTER_* constant (" + ", ".join(_INTERPOLATION_CONSTANTS)
            + "), a name such as 'area', or None",
            got=interpolation,
        )
    return code


# ----------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------


def read_image(path: str | os.PathLike[str], owner: str = "ImagePopulation") -> np.ndarray:
    """Read an image file as an array in RGB (or RGBA) channel order.

    The file is decoded by OpenCV with ``IMREAD_UNCHANGED``: the bit depth
    (8 or 16 bit), the alpha channel and grayscale are kept as stored, and EXIF
    orientation is ignored (as PIL, hence ANNarchy, ignores it).  The bytes are
    read by NumPy and decoded in memory, so paths with non-ASCII characters work
    on every platform.

    Parameters
    ----------
    path : str or os.PathLike
        The image file.
    owner : str, optional
        Who reads the file, used in error messages.

    Returns
    -------
    numpy.ndarray
        ``(h, w)`` for a grayscale file, ``(h, w, 3)`` RGB or ``(h, w, 4)``
        RGBA, in the file's dtype (usually uint8, uint16 for 16-bit files).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is a directory, an empty file or a file OpenCV cannot decode.
    ValidationError
        If ``path`` is not a path at all.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "red.png")
    >>> bgr = np.zeros((1, 2, 3), np.uint8); bgr[..., 2] = 255   # OpenCV writes BGR
    >>> cv2.imwrite(path, bgr)
    True
    >>> read_image(path)[0, 0]                                    # we read RGB
    array([255,   0,   0], dtype=uint8)
    """
    try:
        filename = os.fspath(path)
    except TypeError:
        raise ValidationError(owner, "path", "must be a str or os.PathLike file name", got=path) from None
    if not os.path.exists(filename):
        raise FileNotFoundError(errno.ENOENT, f"{owner}: no such image file", filename)
    if os.path.isdir(filename):
        raise ValueError(f"{owner}: {filename!r} is a directory, not an image file")
    # cv2.imread cannot open non-ASCII paths on Windows and returns None for
    # every failure without saying why; reading the bytes ourselves fixes both.
    data = np.fromfile(filename, dtype=np.uint8)
    if data.size == 0:
        raise ValueError(f"{owner}: cannot read image file {filename!r}: the file is empty")
    cv2 = _cv2()
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(
            f"{owner}: cannot read image file {filename!r}: OpenCV cannot decode it "
            "(not an image, corrupt, or a format this OpenCV build does not support)"
        )
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return _swap_red_blue(image)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[..., 0].copy()
    return image


def _swap_red_blue(image: np.ndarray) -> np.ndarray:
    """BGR(A) -> RGB(A) as a new C-contiguous array, for any dtype.

    ``image[..., [2, 1, 0]]`` would not do: NumPy lays out the result of fancy
    indexing on the last axis channel-first, so it is not C-contiguous.
    """
    swapped = image.copy(order="C")
    swapped[..., 0] = image[..., 2]
    swapped[..., 2] = image[..., 0]
    return swapped


# ----------------------------------------------------------------------------
# Arrays to rates
# ----------------------------------------------------------------------------


def _describe(array: np.ndarray) -> str:
    return f"array of shape {array.shape} and dtype {array.dtype}"


def check_image_array(image: Any, owner: str) -> np.ndarray:
    """Return ``image`` as an (h, w) or (h, w, 1|3|4) array of an accepted dtype."""
    array = np.asarray(image)
    dtype = array.dtype
    if dtype in _FULL_SCALE:
        pass
    elif dtype.kind == "f":
        # cv2.resize has no float16 and no long double: widen or narrow to the
        # closest type it has (float16 -> float32 is exact).
        if dtype.itemsize < 4:
            array = array.astype(np.float32)
        elif dtype.itemsize > 8:
            array = array.astype(np.float64)
    else:
        raise ValidationError(
            owner, "image", "must have dtype uint8, uint16 or floating point",
            got=_describe(array), got_repr=False,
        )
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValidationError(
            owner, "image",
            "must be (h, w) grayscale, (h, w, 1), (h, w, 3) RGB or (h, w, 4) RGBA",
            got=_describe(array), got_repr=False,
        )
    if array.size == 0:
        raise ValidationError(owner, "image", "must not be empty", got=_describe(array), got_repr=False)
    if array.dtype.kind == "f":
        bad = np.count_nonzero(~np.isfinite(array))
        if bad:
            raise ValidationError(
                owner, "image", "must hold finite values",
                got=f"{_describe(array)} with {bad} NaN or inf values", got_repr=False,
            )
    return array


def _auto_interpolation(cv2: ModuleType, source: tuple[int, int], target: tuple[int, int]) -> int:
    # Area averaging is the right filter when no axis grows: it never skips
    # pixels (bilinear at a 3x reduction ignores 2 pixels out of 3).  OpenCV's
    # INTER_AREA is a box filter exactly when neither axis is enlarged.
    if target[0] <= source[0] and target[1] <= source[1]:
        return cv2.INTER_AREA
    return cv2.INTER_LINEAR


def _to_gray(cv2: ModuleType, image: np.ndarray) -> np.ndarray:
    if image.dtype in _FULL_SCALE:
        # OpenCV's fixed-point conversion rounds to the integer dtype; using it
        # keeps our values identical to an OpenCV pipeline.
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    # cv2.cvtColor rejects float64; compute in float64 for every float image so
    # no precision is lost (float32 input matches OpenCV to float32 rounding).
    red, green, blue = (image[..., k].astype(np.float64) for k in range(3))
    return _GRAY_WEIGHTS[0] * red + _GRAY_WEIGHTS[1] * green + _GRAY_WEIGHTS[2] * blue


def image_to_rates(
    image: np.ndarray,
    geometry: tuple[int, ...],
    *,
    interpolation: int | str | None = None,
    dtype: Any = np.float64,
    owner: str = "ImagePopulation",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Convert an image array into the rates of an image population.

    Parameters
    ----------
    image : numpy.ndarray
        ``(h, w)`` or ``(h, w, 1)`` grayscale, ``(h, w, 3)`` RGB or
        ``(h, w, 4)`` RGBA (alpha is dropped).  dtype uint8 (divided by 255),
        uint16 (divided by 65535) or floating point (taken as is, must be
        finite; not clipped).
    geometry : tuple of int
        The population's geometry, ``(H, W)`` or ``(H, W, 3)`` (checked with
        :func:`check_image_geometry`).
    interpolation : int, str or None, optional
        How to resize when ``(h, w) != (H, W)``; see
        :func:`check_interpolation`.  None (default) uses area interpolation
        when neither axis is enlarged and bilinear otherwise.  Ignored when the
        sizes match.
    dtype : numpy dtype, optional
        Floating dtype of the result (default float64).
    owner : str, optional
        Who receives the image, used in error messages.
    out : numpy.ndarray, optional
        Where to write the rates (shape ``geometry``, dtype ``dtype``): a
        uint8 or uint16 image of the right size is then divided straight into
        it, with no float intermediate, and the same bits.  It is written only
        after every check has passed.

    Returns
    -------
    numpy.ndarray
        A new C-contiguous array of shape ``geometry`` (``out`` when given).

    Raises
    ------
    ValidationError
        For an image of another dtype, rank or channel count, an empty or
        non-finite image, a bad geometry, interpolation or dtype.

    Notes
    -----
    Resizing comes before the grayscale conversion, and both work on the
    image's own dtype: a uint8 image is resized to uint8 (OpenCV rounds), then
    converted with ``round(0.299 R + 0.587 G + 0.114 B)`` to uint8, exactly as
    ``cv2.resize`` followed by ``cv2.cvtColor`` would, and only then divided by
    255.  Float images are resized and weighted in their own precision.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[[255, 0, 0], [0, 0, 255]]], dtype=np.uint8)   # red, blue
    >>> image_to_rates(rgb, (1, 2, 3))
    array([[[1., 0., 0.],
            [0., 0., 1.]]])
    >>> image_to_rates(rgb, (1, 2))          # round(0.299 * 255) = 76, round(0.114 * 255) = 29
    array([[0.29803922, 0.11372549]])
    >>> image_to_rates(np.arange(16.0).reshape(4, 4), (2, 2))   # 2x2 block means
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> target = np.empty((1, 2, 3), np.float32)
    >>> image_to_rates(rgb, (1, 2, 3), dtype=np.float32, out=target) is target
    True
    """
    geometry = check_image_geometry(geometry, owner)
    code = check_interpolation(interpolation, owner)
    try:
        out_dtype = np.dtype(dtype)
    except TypeError:
        raise ValidationError(owner, "dtype", "must be a floating point dtype", got=dtype) from None
    if out_dtype.kind != "f":
        raise ValidationError(owner, "dtype", "must be a floating point dtype", got=out_dtype)
    array = check_image_array(image, owner)

    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]

    height, width = geometry[:2]
    if array.shape[:2] != (height, width):
        cv2 = _cv2()
        if code is None:
            code = _auto_interpolation(cv2, array.shape[:2], (height, width))
        # cv2 wants contiguous input and takes the size as (width, height).
        array = cv2.resize(np.ascontiguousarray(array), (width, height), interpolation=code)

    if len(geometry) == 2 and array.ndim == 3:
        array = _to_gray(_cv2(), array)
    elif len(geometry) == 3 and array.ndim == 2:
        array = np.repeat(array[..., np.newaxis], 3, axis=2)

    scale = _FULL_SCALE.get(array.dtype)
    if out is not None:
        if out.shape != tuple(geometry) or out.dtype != out_dtype:
            raise ValidationError(owner, "out", f"must be a {out_dtype} array of shape {tuple(geometry)}",
                                  got=f"{out.dtype} array of shape {out.shape}", got_repr=False)
        if scale is None:
            np.copyto(out, array, casting="same_kind")
        else:
            # Divided in float64 and rounded once to out's dtype, as below; no intermediate array.
            np.divide(array, scale, out=out, dtype=np.float64, casting="same_kind")
        return out
    if scale is not None:
        # Divide in float64 and round once to the requested dtype.
        array = array.astype(np.float64) / scale
    # copy=True: the caller owns the result even when no step above copied.
    return np.array(array, dtype=out_dtype, order="C", copy=True)


# ----------------------------------------------------------------------------
# Video
# ----------------------------------------------------------------------------


class VideoSource:
    """Frames from a camera or a video file, in RGB order.

    Parameters
    ----------
    source : int, str or os.PathLike
        A camera port (int >= 0) or a video file.
    owner : str, optional
        Who reads the frames, used in error messages.

    Raises
    ------
    ValidationError
        If ``source`` is neither a non-negative int nor a path.
    FileNotFoundError
        If the video file does not exist.
    ValueError
        If the path is a directory, or a file OpenCV cannot open or decode
        (the first frame is decoded while opening, so a broken file fails here,
        not at the first :meth:`read`).
    RuntimeError
        If the camera cannot be opened (no such port, or it is in use).

    Notes
    -----
    Errors follow Python's file conventions: a bad file is a ``ValueError``, the
    end of a video file is an ``EOFError`` (as PIL does for the frames of an
    animated image), reading after :meth:`release` is a ``ValueError`` (like a
    closed file), and a camera that cannot be opened or stops delivering frames
    is a ``RuntimeError``, since the argument was fine but the device failed.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.avi")
    >>> writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (8, 6))
    >>> for _ in range(2):
    ...     _ = writer.write(np.zeros((6, 8, 3), np.uint8))  # OpenCV 5 returns a bool
    >>> writer.release()
    >>> with VideoSource(path) as video:
    ...     frame = video.read()
    ...     frame = video.read()
    ...     video.read()
    Traceback (most recent call last):
    ...
    EOFError: VideoPopulation: end of video file '...clip.avi' after 2 frames
    >>> frame.shape, frame.dtype
    ((6, 8, 3), dtype('uint8'))
    """

    def __init__(self, source: int | str | os.PathLike[str], owner: str = "VideoPopulation") -> None:
        self._owner = owner
        self._frames_read = 0
        self._pending: np.ndarray | None = None
        self._capture: Any = None
        port = _as_int(source)
        if port is not None:
            if port < 0:
                raise ValidationError(owner, "source", "a camera port must be >= 0", got=source)
            self._port: int | None = port
            self._path: str | None = None
            self._open_camera(port)
            return
        try:
            path = os.fspath(source)  # type: ignore[arg-type]
        except TypeError:
            raise ValidationError(
                owner, "source", "must be a camera port (int >= 0) or a video file path", got=source
            ) from None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        self._port = None
        self._path = path
        self._open_file(path)

    def _open_camera(self, port: int) -> None:
        cv2 = _cv2()
        with _quiet_opencv(cv2):
            capture = cv2.VideoCapture(port)
        if not capture.isOpened():
            capture.release()
            raise RuntimeError(
                f"{self._owner}: cannot open camera port {port} (no such camera, no permission, or it is in use)"
            )
        self._capture = capture

    def _open_file(self, path: str) -> None:
        if not os.path.exists(path):
            hint = "; pass an int to open a camera port" if path.strip().isdigit() else ""
            raise FileNotFoundError(errno.ENOENT, f"{self._owner}: no such video file{hint}", path)
        if os.path.isdir(path):
            raise ValueError(f"{self._owner}: {path!r} is a directory, not a video file")
        cv2 = _cv2()
        with _quiet_opencv(cv2):
            capture = cv2.VideoCapture(path)
            # Some backends "open" any file (FFmpeg accepts a text file named
            # .png as an image sequence); only decoding a frame proves it is a
            # video.  The frame is kept for the first read().
            ok, frame = capture.read() if capture.isOpened() else (False, None)
        if not ok or frame is None:
            capture.release()
            raise ValueError(
                f"{self._owner}: cannot read video file {path!r}: OpenCV cannot open it or decode a frame "
                "(not a video, corrupt, or a codec this OpenCV build does not support)"
            )
        self._capture = capture
        self._pending = frame

    def _describe(self) -> str:
        return f"camera port {self._port}" if self._port is not None else f"video file {self._path!r}"

    @property
    def source(self) -> int | str:
        """The camera port (int) or the video file path (str)."""
        return self._port if self._port is not None else self._path  # type: ignore[return-value]

    @property
    def is_open(self) -> bool:
        """True until :meth:`release` is called."""
        return self._capture is not None and bool(self._capture.isOpened())

    @property
    def frames_read(self) -> int:
        """How many frames :meth:`read` has returned."""
        return self._frames_read

    def read(self) -> np.ndarray:
        """Return the next frame.

        Returns
        -------
        numpy.ndarray
            An RGB frame of shape ``(h, w, 3)``, usually uint8.

        Raises
        ------
        EOFError
            At the end of a video file.
        RuntimeError
            If a camera delivers no frame.
        ValueError
            After :meth:`release`.
        """
        if self._capture is None:
            raise ValueError(f"{self._owner}: {self._describe()} is released; cannot read a frame")
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            ok, frame = self._capture.read()
            if not ok or frame is None:
                if self._port is None:
                    raise EOFError(
                        f"{self._owner}: end of video file {self._path!r} after {self._frames_read} frames"
                    )
                raise RuntimeError(
                    f"{self._owner}: camera port {self._port} delivered no frame "
                    f"after {self._frames_read} frames (disconnected or in use?)"
                )
        self._frames_read += 1
        return _frame_to_rgb(frame)

    def release(self) -> None:
        """Close the camera or file; calling it again does nothing."""
        if self._capture is not None:
            self._capture.release()
        self._capture = None
        self._pending = None

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "open" if self.is_open else "released"
        return f"<VideoSource {self._describe()}, {state}, {self._frames_read} frames read>"


def _frame_to_rgb(frame: np.ndarray) -> np.ndarray:
    """An OpenCV frame (BGR, BGRA or gray) as a C-contiguous RGB array."""
    if frame.ndim == 2:
        return np.repeat(frame[..., np.newaxis], 3, axis=2)
    if frame.shape[2] == 1:
        return np.repeat(frame, 3, axis=2)
    return _swap_red_blue(frame[..., :3])
