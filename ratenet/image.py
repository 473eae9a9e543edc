"""Populations whose rates come from images and videos (OpenCV).

``r`` holds values in [0, 1], row-major ``(H, W, C)`` in RGB order (or
``(H, W)`` for grayscale).  These are inputs: simulating never changes ``r``.
OpenCV is imported only when an image or a video is actually read.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._imageio import VideoSource, check_image_geometry, check_interpolation, image_to_rates, read_image
from .exceptions import ValidationError
from .population import Population, input_neuron

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["ImagePopulation", "VideoPopulation"]


class ImagePopulation(Population):
    """A population holding an image: ``set_image(path_or_array)``.

    Parameters
    ----------
    geometry : tuple of int
        ``(H, W)`` or ``(H, W, 1)`` for grayscale (both give a 2-D population),
        ``(H, W, 3)`` for RGB.
    name : str, optional
    interpolation : int or str, optional
        How images of another size are resized: ``"area"``, ``"linear"``,
        ``"cubic"``, ``"nearest"``, ``"lanczos"`` or an OpenCV constant.  By
        default area interpolation when the image shrinks, bilinear otherwise.
    network : Network, optional

    Notes
    -----
    ANNarchy resizes with PIL's bicubic filter, so a resized image differs
    from ANNarchy's by up to about 0.1; an image of the right size gives
    identical rates.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Network
    >>> net = Network()
    >>> image = ImagePopulation((2, 3, 3), network=net)
    >>> pixels = np.zeros((2, 3, 3), np.uint8); pixels[0, 0] = (255, 0, 0)
    >>> image.set_image(pixels)
    >>> image.r[0, 0].tolist()
    [1.0, 0.0, 0.0]
    """

    def __init__(self, geometry: Sequence[int], name: str | None = None, interpolation: int | str | None = None,
                 network: "Network | None" = None, copied: bool = False) -> None:
        owner = f"{type(self).__name__} '{name}'" if name else type(self).__name__
        geometry = check_image_geometry(geometry, owner)
        self._interpolation = check_interpolation(interpolation, owner)
        super().__init__(geometry, input_neuron(), name=name, network=network)

    def set_image(self, image: str | os.PathLike[str] | np.ndarray, interpolation: int | str | None = None) -> None:
        """Load an image file (or array) into ``r``.

        Parameters
        ----------
        image : str, os.PathLike or numpy.ndarray
            A file OpenCV can read, or an array ``(h, w)``, ``(h, w, 3)`` RGB or
            ``(h, w, 4)`` RGBA: uint8 (divided by 255), uint16 (by 65535) or
            float (taken as is).
        interpolation : int or str, optional
            Overrides the population's resizing method for this image.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        ValueError
            If the file exists but is not an image OpenCV can read.
        """
        owner = self._owner()
        if isinstance(image, (str, os.PathLike)):
            pixels = read_image(image, owner)
        elif isinstance(image, np.ndarray):
            pixels = image
        else:
            raise ValidationError(owner, "image", "must be a file path or a NumPy array", got=image)
        method = self._interpolation if interpolation is None else check_interpolation(interpolation, owner)
        rates = image_to_rates(pixels, self.geometry, interpolation=method, dtype=self.dtype, owner=owner)
        self._write_rates(rates)


class VideoPopulation(ImagePopulation):
    """A population fed with frames from a camera or a video file.

    Call :meth:`start_camera` (a port number) or :meth:`open_video` (a file),
    then :meth:`grab_image` for each new frame; :meth:`release` when done.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> from ratenet import Network
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.avi")
    >>> writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (8, 6))
    >>> _ = writer.write(np.full((6, 8, 3), 255, np.uint8)); writer.release()
    >>> video = VideoPopulation((6, 8), network=Network())
    >>> video.open_video(path); video.grab_image()
    >>> bool(video.r.min() > 0.9)
    True
    >>> video.release()
    """

    def __init__(self, geometry: Sequence[int], name: str | None = None, interpolation: int | str | None = None,
                 network: "Network | None" = None, copied: bool = False) -> None:
        super().__init__(geometry, name=name, interpolation=interpolation, network=network)
        self._source: VideoSource | None = None

    def start_camera(self, camera_port: int = 0) -> None:
        """Open a camera (by port number).  A camera that cannot be opened raises ``RuntimeError``."""
        self.release()
        self._source = VideoSource(camera_port, owner=self._owner())

    def open_video(self, path: str | os.PathLike[str]) -> None:
        """Read frames from a video file instead of a camera."""
        self.release()
        self._source = VideoSource(path, owner=self._owner())

    def grab_image(self) -> None:
        """Read the next frame into ``r`` (``EOFError`` at the end of a video file)."""
        if self._source is None:
            raise ValidationError(self._owner(), "grab_image", "no camera or video is open: call start_camera() "
                                                               "or open_video() first")
        self.set_image(self._source.read())

    def release(self) -> None:
        """Close the camera or video (harmless when none is open)."""
        source = getattr(self, "_source", None)
        if source is not None:
            source.release()
            self._source = None
