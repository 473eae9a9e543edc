"""Populations whose rates come from images and videos (OpenCV).

``r`` holds values in [0, 1], row-major ``(H, W, C)`` in RGB order (or
``(H, W)`` for grayscale).  These are inputs: simulating never changes ``r``.
OpenCV is imported only when an image or a video is actually read.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._imageio import VideoSource, check_image_array, check_image_geometry, check_interpolation, image_to_rates, \
    read_image
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

    def set_image(self, image: str | os.PathLike[str] | np.ndarray, interpolation: int | str | None = None,
                  copy: bool = True) -> None:
        """Load an image file (or array) into ``r``.

        Parameters
        ----------
        image : str, os.PathLike or numpy.ndarray
            A file OpenCV can read, or an array ``(h, w)``, ``(h, w, 3)`` RGB or
            ``(h, w, 4)`` RGBA: uint8 (divided by 255), uint16 (by 65535) or
            float (taken as is).  In a batched network (``Network(batch=B)``)
            one image goes to every sample, and an array ``(B, h, w, C)`` (or
            ``(B, h, w)`` for grayscale) gives each sample its own (see also
            :meth:`set_images`).
        interpolation : int or str, optional
            Overrides the population's resizing method for this image.
        copy : bool, optional
            True (the default): the image is converted and copied into ``r``.
            False: ``r`` *is* ``image`` from now on, with no copy, until the
            next assignment; ``image`` must already be exactly what ``r``
            holds: an array of the network's dtype, of ``r``'s shape (the
            geometry, ``(B, *geometry)`` in a batch), C-contiguous.  See
            :meth:`set_images` for what this means.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        ValueError
            If the file exists but is not an image OpenCV can read.
        ValidationError
            With ``copy=False``, for an array that would need a copy.

        Examples
        --------
        >>> import numpy as np
        >>> from ratenet import Network
        >>> image = ImagePopulation((2, 2), network=Network())
        >>> frame = np.full((2, 2), 0.5)
        >>> image.set_image(frame, copy=False)   # no copy: r is frame
        >>> frame[0, 0] = 1.0                     # seen by the network from the next step on
        >>> image.r.tolist()
        [[1.0, 0.5], [0.5, 0.5]]
        """
        owner = self._owner()
        if not self._copies(copy):
            self._borrow(image, "image")
            return
        if self.batch is not None and isinstance(image, np.ndarray) and self._one_per_sample(image):
            self.set_images(list(image), interpolation)
            return
        if isinstance(image, (str, os.PathLike)):
            pixels = read_image(image, owner)
        elif isinstance(image, np.ndarray):
            pixels = image
        else:
            raise ValidationError(owner, "image", "must be a file path or a NumPy array", got=image)
        method = self._interpolation if interpolation is None else check_interpolation(interpolation, owner)

        def fill(rates: np.ndarray) -> None:
            # converted straight into r (checked before anything is written); a batch copies sample 0 to the others
            first = rates if self.batch is None else rates[0]
            image_to_rates(pixels, self.geometry, interpolation=method, dtype=self.dtype, owner=owner, out=first)
            if self.batch is not None:
                rates[1:] = first

        self._fill_rates(fill)

    def _one_per_sample(self, array: np.ndarray) -> bool:
        """Whether an array holds one image per sample: ``(B, h, w, C)``, or ``(B, h, w)`` for grayscale."""
        if array.ndim == 4:
            return True
        return array.ndim == 3 and len(self.geometry) == 2 and array.shape[0] == self.batch and \
            array.shape[-1] not in (3, 4)

    def set_images(self, images: Sequence[str | os.PathLike[str] | np.ndarray] | np.ndarray,
                   interpolation: int | str | None = None, copy: bool = True) -> None:
        """One image per sample of a batched network: ``images[b]`` goes to sample ``b``.

        Each image is a path or an array, read and resized as by :meth:`set_image`.

        Parameters
        ----------
        images : sequence of str, os.PathLike or numpy.ndarray, or numpy.ndarray
            As many as the network's batch (``Network(batch=B)``); exactly one
            in an unbatched network.  An array ``(B, h, w, C)`` holds one image
            per sample.
        interpolation : int or str, optional
            Overrides the population's resizing method for these images.
        copy : bool, optional
            True (the default): each image is converted and copied into its
            sample's rows of ``r``.  False: ``r`` *is* ``images`` from now on,
            with no copy at all, until the next assignment (modelled on
            NumPy 2's ``copy=False``: never copy, refuse when a copy would be
            needed).  ``images`` must then be one array already holding exactly
            what ``r`` holds: the network's dtype (float64 unless
            ``Network(dtype=...)``), shape ``(B, *geometry)`` (the geometry, or
            ``(1, *geometry)``, unbatched) and C-contiguous.  Its values are
            taken as they are: not scaled, clipped or checked for NaN (a
            network with ``check_finite`` checks them at each step).

        Raises
        ------
        ValidationError
            For a bad image (see :meth:`set_image`), a wrong count; with
            ``copy=False``, for anything but such an array (the message says
            what would need a copy).

        Notes
        -----
        With ``copy=False`` the network reads the caller's array at every step:
        a change made to it in place between two steps (or two calls of
        ``simulate``) is seen at the next step, exactly as if it had been
        assigned again.  ratenet itself never writes into it: anything that
        writes ``r`` (another ``set_image``/``set_images``, ``pop.r = ...``,
        ``reset()``, ``load()``) first gives the population an array of its
        own again.  Reading (monitors, ``pop.r``, ``save``, reprs) is as for
        any ``r``.  Do not change the array from another thread while the
        network runs.

        For a video, this saves the copy of every frame into ``r``: with a
        batch of frames larger than the cache, that copy (written to memory
        and read back by the first projection) costs more than the frames'
        own read (see ``benchmarks/bench_batch.py --case video``).

        Examples
        --------
        >>> import numpy as np
        >>> from ratenet import Network
        >>> image = ImagePopulation((2, 2), network=Network(batch=3))
        >>> image.set_images([np.full((4, 4), level, np.uint8) for level in (0, 51, 255)])
        >>> image.r[:, 0, 0].tolist()
        [0.0, 0.2, 1.0]

        Without a copy, the frames must already be float64 ``(B, *geometry)``:

        >>> frames = np.zeros((3, 2, 2))
        >>> image.set_images(frames, copy=False)
        >>> frames[1] = 0.25                     # the network sees it at the next step
        >>> image.r[:, 0, 0].tolist()
        [0.0, 0.25, 0.0]
        >>> image.set_images(frames.astype(np.float32), copy=False)
        Traceback (most recent call last):
        ...
        ratenet.exceptions.ValidationError: ImagePopulation 'pop0'.images: copy=False reads the array as it is: it
        must have the network's dtype float64 (copy=True converts any other) (got array of shape (3, 2, 2) and ...)
        """
        owner = self._owner()
        if not self._copies(copy):
            self._borrow(images, "images")
            return
        if isinstance(images, (str, os.PathLike, np.ndarray)) and not (
                isinstance(images, np.ndarray) and images.dtype == object):
            images = [images] if not isinstance(images, np.ndarray) or self.batch is None or \
                not self._one_per_sample(images) else list(images)
        expected = 1 if self.batch is None else self.batch
        try:
            count = len(images)
        except TypeError:
            raise ValidationError(owner, "images", "must be a list of file paths or arrays", got=images) from None
        if count != expected:
            what = f"the batch of {expected} samples" if self.batch is not None else \
                "an unbatched network (Network(batch=B) takes one per sample)"
            raise ValidationError(owner, "images", f"needs exactly {expected} image(s) for {what}",
                                  got=f"{count} images", got_repr=False)
        method = self._interpolation if interpolation is None else check_interpolation(interpolation, owner)
        # Every image is read and checked before r is touched (a bad one leaves r as it was); each is then
        # converted straight into its sample's rows, with no batch-sized intermediate.
        checked = []
        for b, image in enumerate(images):
            if isinstance(image, (str, os.PathLike)):
                pixels = read_image(image, owner)
            elif isinstance(image, np.ndarray):
                pixels = image
            else:
                raise ValidationError(owner, f"images[{b}]", "must be a file path or a NumPy array", got=image)
            checked.append(check_image_array(pixels, f"{owner} (image {b})"))

        def fill(rates: np.ndarray) -> None:
            rows = rates if self.batch is not None else rates[np.newaxis]
            # an image read from r itself (samples swapped, say) must not see the samples written before it
            sources = [p.copy() if np.may_share_memory(p, rates) else p for p in checked]
            for b, pixels in enumerate(sources):
                image_to_rates(pixels, self.geometry, interpolation=method, dtype=self.dtype,
                               owner=f"{owner} (image {b})", out=rows[b])

        self._fill_rates(fill)


    def _copies(self, copy: object) -> bool:
        if copy is True or copy is False or isinstance(copy, np.bool_):
            return bool(copy)
        raise ValidationError(self._owner(), "copy", "must be True (convert and copy into r) or False (r is the "
                                                     "array itself, no copy)", got=copy)

    def _borrow(self, array: object, argument: str) -> None:
        """``r`` becomes ``array`` itself (see :meth:`set_images`), after checking that no copy is needed."""
        owner = self._owner()
        shape = tuple(self._shape)
        accepted = [shape] if self.batch is not None else [shape, (1, *shape)]
        expected = " or ".join(str(a) for a in accepted)
        if not isinstance(array, np.ndarray):
            what = "file paths are read" if isinstance(array, (str, os.PathLike)) else "a list is stacked"
            given = f"a {type(array).__name__} of {len(array)} items" \
                if isinstance(array, (list, tuple)) else repr(array) if isinstance(array, str) else type(array).__name__
            raise ValidationError(owner, argument, f"copy=False reads one NumPy array in place, of shape {expected} "
                                                   f"({what} with copy=True)", got=given, got_repr=False)
        if array.dtype != self.dtype:
            raise ValidationError(owner, argument, f"copy=False reads the array as it is: it must have the "
                                                   f"network's dtype {self.dtype} (copy=True converts any other)",
                                  got=f"array of shape {array.shape} and dtype {array.dtype}", got_repr=False)
        if array.shape not in accepted:
            hint = "one image for every sample is copied B times" if self.batch is not None and \
                array.shape == self.geometry else "a resized or grayscale-converted image is a new array"
            raise ValidationError(owner, argument, f"copy=False needs an array shaped like r, {expected} ({hint}: "
                                                   f"copy=True)", got=f"array of shape {array.shape}", got_repr=False)
        if not (array.flags.c_contiguous and array.flags.aligned):
            raise ValidationError(owner, argument, "copy=False needs a C-contiguous, aligned array (a view with "
                                                   "steps or a transposed array: np.ascontiguousarray copies it)",
                                  got=f"array of shape {array.shape} and strides {array.strides}", got_repr=False)
        self._borrow_rates(array if array.shape == shape else array.reshape(shape))


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
        """Read the next frame into ``r`` (``EOFError`` at the end of a video file).

        In a batched network (``Network(batch=B)``) the next B frames: frame
        ``k`` of them goes to sample ``k``.  At the end of a video file a
        partial batch raises ``EOFError`` (saying how many frames were left)
        and leaves ``r`` unchanged.
        """
        if self._source is None:
            raise ValidationError(self._owner(), "grab_image", "no camera or video is open: call start_camera() "
                                                               "or open_video() first")
        if self.batch is None:
            self.set_image(self._source.read())
            return
        frames = []
        try:
            for _ in range(self.batch):
                frames.append(self._source.read())
        except EOFError as exc:
            raise EOFError(f"{exc}: {len(frames)} frame(s) left for a batch of {self.batch}") from None
        self.set_images(frames)

    def release(self) -> None:
        """Close the camera or video (harmless when none is open)."""
        source = getattr(self, "_source", None)
        if source is not None:
            source.release()
            self._source = None
