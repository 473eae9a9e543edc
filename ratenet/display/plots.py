"""matplotlib figures of populations, recordings, weights and networks.

Every function returns what it drew on (an ``Axes``, a list of them, or an
:class:`Animation`) and accepts ``ax=`` to draw into an existing figure.
matplotlib is imported when a function is called, never before.

The objects are read through their public attributes (duck typing): these
functions serve ``pop.plot()``, ``view.plot()``, ``monitor.plot()``,
``monitor.animate()``, ``proj.plot_weights()`` and ``net.plot()``.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from .._batch import one_sample
from ..exceptions import RatenetError, ValidationError
from .images import image_array
from .summary import format_number, recorded_batch, recorded_name

__all__ = [
    "plot_values",
    "plot_recording",
    "plot_weights",
    "plot_network",
    "animate",
    "Animation",
    "layers",
]


def _owner(obj: Any) -> str:
    name = getattr(obj, "name", None)
    return f"{type(obj).__name__} '{name}'" if name else type(obj).__name__


def _new_axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def _limits(values: np.ndarray, vmin: Any, vmax: Any) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if vmin is None and finite.size else (0.0 if vmin is None else float(vmin))
    high = float(finite.max()) if vmax is None and finite.size else (1.0 if vmax is None else float(vmax))
    return low, high


def _time(obj: Any) -> str:
    network = getattr(obj, "network", None)
    return f", t = {format_number(network.t)} ms" if network is not None else ""


# ---------------------------------------------------------------------------
# populations


def plot_values(obj: Any, variable: str = "r", ax: Any = None, rgb: bool | None = None, cmap: str = "viridis",
                colorbar: bool = True, sample: int = 0, **kwargs: Any) -> Any:
    """Draw a variable of a population (or view) in its geometry.

    Parameters
    ----------
    obj : Population or PopulationView
    variable : str
        A variable or parameter with one value per neuron.
    ax : matplotlib.axes.Axes or list of Axes, optional
        Where to draw; one Axes per channel for the panels of a 3-D geometry.
    rgb : bool, optional
        A 3-D geometry with 3 channels is drawn as an RGB image unless
        ``rgb=False`` (then as 3 panels).  RGB values outside [0, 1] are
        scaled into it.
    cmap : str
        Colour map of single-channel images.
    colorbar : bool
        Add a colour bar to single-channel images.
    sample : int
        In a batched network (``Network(batch=B)``), the sample to draw.
    **kwargs
        Passed to ``imshow`` (or ``plot`` for 1-D geometries).

    Returns
    -------
    matplotlib.axes.Axes, or a list of Axes (one per channel)

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from ratenet import Network, Neuron
    >>> pop = Network().create((2, 2, 4), Neuron(parameters="r = 0.0"))
    >>> pop.r = np.arange(16.0).reshape(2, 2, 4)
    >>> axes = plot_values(pop)
    >>> len(axes), axes[1].images[0].get_array().tolist()
    (4, [[1.0, 5.0], [9.0, 13.0]])
    """
    owner = _owner(obj)
    try:
        values = np.asarray(getattr(obj, variable), dtype=np.float64)
    except AttributeError as exc:
        raise ValidationError(owner, "variable", str(exc), got=variable) from None
    if values.ndim == 0:
        raise ValidationError(owner, "variable", "has one value for the whole population: there is nothing to draw "
                                                 "in the geometry", got=variable)
    geometry = tuple(obj.geometry)
    batch = obj.population.batch
    which = ""
    sample = one_sample(owner, sample, batch)
    if batch is not None:
        values, which = values[sample], f", sample {sample}"
    values = values.reshape(geometry)
    title = f"{variable} of {obj.name}{which}{_time(obj)}"
    if len(geometry) == 1:
        ax = _new_axes(ax)
        ax.plot(np.arange(geometry[0]), values, marker=".", **kwargs)
        ax.set_xlabel("rank")
        ax.set_ylabel(variable)
        ax.set_title(title)
        return ax
    if len(geometry) == 2 or (len(geometry) == 3 and geometry[2] == 1):
        ax = _new_axes(ax)
        image = ax.imshow(values.reshape(geometry[:2]), cmap=cmap, interpolation="nearest", **kwargs)
        if colorbar:
            ax.figure.colorbar(image, ax=ax, label=variable)
        ax.set_title(title)
        return ax
    if len(geometry) != 3:
        raise ValidationError(owner, "plot", f"draws 1-D, 2-D and 3-D geometries (got {len(geometry)}-D "
                                             f"{geometry}); draw a view or reshape the values yourself")
    channels = geometry[2]
    if channels == 3 and rgb is not False:
        ax = _new_axes(ax)
        shown, _ = image_array(values, rgb=True)
        ax.imshow(shown, interpolation="nearest", **kwargs)
        scaled = values.min() < 0.0 or values.max() > 1.0
        ax.set_title(title + (" (RGB, scaled into [0, 1])" if scaled else " (RGB)"))
        return ax
    axes = _panel_axes(ax, channels, owner)
    low, high = _limits(values, kwargs.pop("vmin", None), kwargs.pop("vmax", None))
    for c, panel in enumerate(axes):
        image = panel.imshow(values[:, :, c], cmap=cmap, interpolation="nearest", vmin=low, vmax=high, **kwargs)
        panel.set_title(f"{variable}[..., {c}]")
    if colorbar:
        axes[0].figure.colorbar(image, ax=list(axes), label=variable)
    axes[0].figure.suptitle(title)
    return list(axes)


def _panel_axes(ax: Any, count: int, owner: str) -> list[Any]:
    if ax is None:
        import matplotlib.pyplot as plt

        _, grid = plt.subplots(1, count, figsize=(2.2 * count + 1.0, 2.8), squeeze=False)
        return list(grid[0])
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != count:
        raise ValidationError(owner, "ax", f"needs one Axes per channel ({count})", got=f"{len(axes)} Axes",
                              got_repr=False)
    return axes


# ---------------------------------------------------------------------------
# recordings


def _labels(obj: Any, columns: int, chosen: Sequence[int] | None) -> list[str]:
    """What to call each recorded column: coordinates for 2-D and 3-D populations, ranks otherwise."""
    indices = list(chosen) if chosen is not None else list(range(columns))
    ranks = getattr(obj, "ranks", None)
    population = getattr(obj, "population", None)
    if ranks is None or population is None or getattr(obj, "size", columns) != columns:
        return [f"{i}" for i in indices]
    ranks = np.atleast_1d(ranks)
    if getattr(population, "dimension", 1) > 1:
        return [str(population.coordinates_from_rank(int(ranks[i]))) for i in indices]
    return [f"neuron {int(ranks[i])}" for i in indices]


def _one_sample(monitor: Any, data: np.ndarray, sample: Any) -> tuple[np.ndarray, str]:
    """The recording of one sample of a batch (``data`` is ``(steps, B, ...)``) and the title's words for it."""
    owner = f"Monitor '{monitor.name}'"
    batch = recorded_batch(monitor.object)
    network = getattr(monitor, "network", None)
    chosen = one_sample(owner, sample, batch if batch is not None else getattr(network, "batch", None))
    if batch is None:
        return data, ""
    return data[:, chosen], f", sample {chosen}"


def plot_recording(monitor: Any, variable: str | None = None, ax: Any = None, neurons: Sequence[int] | None = None,
                   kind: str = "auto", legend: bool = True, sample: int = 0, **kwargs: Any) -> Any:
    """Draw what a monitor recorded, against time in ms (without dropping it).

    Parameters
    ----------
    monitor : Monitor
    variable : str, optional
        The first recorded variable by default.
    ax : matplotlib.axes.Axes, optional
    neurons : sequence of int, optional
        Which recorded columns (indices into the recorded neurons).
    kind : {"auto", "traces", "heatmap"}
        Traces (one line per neuron, with a legend) or a heatmap (neurons x
        time); ``"auto"`` draws traces for up to 20 neurons.
    legend : bool
        Label the traces.
    sample : int
        In a batched network (``Network(batch=B)``), the sample to draw.
    **kwargs
        Passed to ``plot`` or ``imshow``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    owner = f"Monitor '{monitor.name}'"
    if kind not in ("auto", "traces", "heatmap", "raster"):
        raise ValidationError(owner, "kind", "must be 'auto', 'traces' or 'heatmap'", got=kind)
    var = variable or monitor.variables[0]
    data = monitor.get(var, keep=True)
    if isinstance(data, list):
        raise ValidationError(owner, "plot", "cannot plot samples of changing sizes (synapses were created or pruned "
                                             "while recording)")
    if len(data) == 0:
        raise ValidationError(owner, "plot", f"nothing recorded for '{var}' (simulate first; get() without "
                                             "keep=True hands the data over)")
    times = monitor.sample_times(var)
    data, which = _one_sample(monitor, np.asarray(data), sample)
    values = data.reshape(len(data), -1)
    recorded = values.shape[1]
    if neurons is not None:
        try:
            values = values[:, list(neurons)]
        except IndexError:
            raise ValidationError(owner, "neurons", f"must be indices of recorded neurons (0 to "
                                                    f"{values.shape[1] - 1})", got=neurons) from None
    ax = _new_axes(ax)
    name = recorded_name(monitor.object)
    heatmap = kind in ("heatmap", "raster") or (kind == "auto" and values.shape[1] > 20)
    if not heatmap:
        labels = _labels(monitor.object, recorded, neurons)
        for column, label in zip(values.T, labels):
            ax.plot(times, column, label=label, **kwargs)
        ax.set_ylabel(var)
        if legend and values.shape[1] > 1:
            ax.legend(title="neuron", fontsize="small", ncol=1 if values.shape[1] <= 10 else 2)
        elif legend and values.shape[1] == 1 and labels:
            ax.legend(fontsize="small")
    else:
        step = float(times[1] - times[0]) if len(times) > 1 else 1.0
        image = ax.imshow(values.T, aspect="auto", origin="lower", interpolation="nearest",
                          extent=(times[0] - step / 2, times[-1] + step / 2, -0.5, values.shape[1] - 0.5),
                          **kwargs)
        ax.figure.colorbar(image, ax=ax, label=var)
        ax.set_ylabel("neuron (index of the recorded ones)")
    ax.set_xlabel("time (ms)")
    ax.set_title(f"{var} of {name}{which}")
    return ax


# ---------------------------------------------------------------------------
# weights


def _tiles(fields: np.ndarray, tile: tuple[int, int]) -> tuple[int, int]:
    return fields.shape[0] // tile[0], fields.shape[1] // tile[1]


def _diverging(values: np.ndarray, kwargs: dict[str, Any]) -> None:
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() < 0.0 < finite.max() and "cmap" not in kwargs:
        bound = float(np.abs(finite).max())
        kwargs.setdefault("cmap", "RdBu_r")
        kwargs.setdefault("vmin", -bound)
        kwargs.setdefault("vmax", bound)
    kwargs.setdefault("cmap", "viridis")


def _kernel_image(kernel: np.ndarray) -> np.ndarray:
    """One convolution filter as a 2-D image (the channels of a 3-D filter side by side)."""
    kernel = np.squeeze(kernel)
    if kernel.ndim <= 1:
        return kernel.reshape(1, -1)
    if kernel.ndim == 2:
        return kernel
    if kernel.ndim == 3:
        return image_array(kernel, rgb=False)[0]
    return kernel.reshape(-1, kernel.shape[-1])


def plot_weights(proj: Any, variable: str = "w", ax: Any = None, kind: str = "auto", colorbar: bool = True,
                 sample: int = 0, **kwargs: Any) -> Any:
    """Draw a projection's weights: receptive fields as a grid of images, or the weight matrix.

    Parameters
    ----------
    proj : Projection
    variable : str
        A per-synapse attribute.
    ax : matplotlib.axes.Axes, optional
    kind : {"auto", "fields", "matrix"}
        ``"fields"``: one tile per post-synaptic neuron, laid out like the
        post-synaptic geometry, each tile in the pre-synaptic geometry (1-D or
        2-D pre); ``"matrix"``: the (post, pre) matrix, blank where there is
        no synapse.  ``"auto"`` draws fields when the pre-synaptic geometry
        allows it.  A Convolution draws its filter (or each filter of its
        bank, side by side).
    colorbar : bool
    sample : int
        In a batched network (``Network(batch=B)``), the sample whose weights
        to draw when the projection keeps one set per sample (a learning
        synapse: ``proj.batch``); the samples share the weights otherwise.
    **kwargs
        Passed to ``imshow``; weights of both signs get a diverging colour
        map centred on 0 unless ``cmap`` is given.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a = net.create((2, 2), Neuron(parameters="r = 0.0"))
    >>> b = net.create((1, 3), Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b).connect_all_to_all(0.5)
    >>> plot_weights(proj).images[0].get_array().shape
    (2, 6)
    """
    owner = _owner(proj)
    if kind not in ("auto", "fields", "matrix"):
        raise ValidationError(owner, "kind", "must be 'auto', 'fields' or 'matrix'", got=kind)
    sample = one_sample(owner, sample, proj.network.batch)
    which = "" if getattr(proj, "batch", None) is None else f", sample {sample}"
    try:
        _ = proj.storage_format  # Convolution and Pooling have none: they raise
        kernel = False
    except RatenetError:
        kernel = True
    tile = None
    if kernel:
        weights = getattr(proj, "weights", None) if variable in ("w", "weights") else None
        if weights is None:
            raise ValidationError(owner, "plot_weights", "has no weights to draw (a pooling applies the same "
                                                         "operation everywhere)")
        weights = np.asarray(weights, dtype=np.float64)
        record = getattr(proj, "connector", None)
        bank = record is not None and record.method == "connect_filters"
        if bank:
            images = [_kernel_image(w) for w in weights]
            height = max(i.shape[0] for i in images)
            width = max(i.shape[1] for i in images)
            values = np.full((height, len(images) * (width + 1) - 1), np.nan)
            for f, image in enumerate(images):
                values[:image.shape[0], f * (width + 1): f * (width + 1) + image.shape[1]] = image
            label_x, label_y = "filters of the bank, side by side", ""
        else:
            values = _kernel_image(weights)
            label_x, label_y = "kernel", ""
    else:
        fields = None
        if kind in ("auto", "fields"):
            try:
                fields = np.asarray(proj.receptive_fields(variable, sample=sample), dtype=np.float64)
            except (RatenetError, ValueError):
                if kind == "fields":
                    raise
        if fields is not None:
            pre = proj.pre
            pre_geometry = tuple(pre.population.geometry) if pre.population is pre else (pre.size,)
            tile = (1, pre_geometry[0]) if len(pre_geometry) == 1 else pre_geometry[:2]
            values = fields
            label_x = "pre-synaptic neurons, one tile per post-synaptic neuron"
            label_y = ""
        else:
            if variable != "w":
                raise ValidationError(owner, "variable", "only the weights can be drawn as a matrix", got=variable)
            values = np.asarray(proj.connectivity_matrix(fill=np.nan, sample=sample), dtype=np.float64)
            label_x, label_y = "pre-synaptic neuron", "post-synaptic neuron"
    ax = _new_axes(ax)
    _diverging(values, kwargs)
    image = ax.imshow(np.ma.masked_invalid(values), interpolation="nearest", **kwargs)
    if tile is not None:
        rows, cols = _tiles(values, tile)
        for k in range(1, cols):
            ax.axvline(k * tile[1] - 0.5, color="white", lw=0.8)
        for k in range(1, rows):
            ax.axhline(k * tile[0] - 0.5, color="white", lw=0.8)
        ax.set_xticks([])
        ax.set_yticks([])
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=variable)
    ax.set_xlabel(label_x)
    ax.set_ylabel(label_y)
    ax.set_title(f"{variable} of {proj.name} ({proj.pre.name} -> {proj.post.name}){which}")
    return ax


# ---------------------------------------------------------------------------
# network diagrams


def layers(populations: Sequence[Any], edges: Sequence[tuple[int, int]]) -> list[int]:
    """A column for each population: the longest path from an input, cycles broken.

    ``edges`` are (pre index, post index) pairs.  Edges that close a cycle
    (found by a depth-first search in creation order) and self-connections
    are left out, then each population goes one column right of its furthest
    pre-synaptic population.

    Examples
    --------
    >>> layers(["a", "b", "c"], [(0, 1), (1, 2), (2, 1), (1, 1)])
    [0, 1, 2]
    """
    n = len(populations)
    successors: list[list[int]] = [[] for _ in range(n)]
    for pre, post in edges:
        if pre != post and post not in successors[pre]:
            successors[pre].append(post)
    state = [0] * n  # 0: new, 1: on the stack, 2: done
    order: list[int] = []
    back: set[tuple[int, int]] = set()

    def visit(node: int) -> None:
        stack = [(node, iter(successors[node]))]
        state[node] = 1
        while stack:
            current, children = stack[-1]
            for child in children:
                if state[child] == 1:
                    back.add((current, child))
                elif state[child] == 0:
                    state[child] = 1
                    stack.append((child, iter(successors[child])))
                    break
            else:
                state[current] = 2
                order.append(current)
                stack.pop()

    has_pre = {post for pre, post in edges if pre != post}
    for node in [i for i in range(n) if i not in has_pre] + list(range(n)):
        if state[node] == 0:
            visit(node)
    column = [0] * n
    for node in reversed(order):  # a topological order of the graph without its back edges
        for child in successors[node]:
            if (node, child) not in back:
                column[child] = max(column[child], column[node] + 1)
    return column


def plot_network(net: Any, ax: Any = None) -> Any:
    """Draw a network: populations as boxes in columns, projections as labelled arrows.

    Columns follow the flow of activity (see :func:`layers`); each arrow is
    labelled with its target and connector, a self-projection is a loop above
    its box.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a = net.create(4, Neuron(parameters="r = 1.0"), name="input")
    >>> b = net.create(4, Neuron(equations="r = sum(exc)"), name="output")
    >>> proj = net.connect(a, b, "exc").connect_one_to_one(1.0)
    >>> ax = plot_network(net)
    >>> sorted(t.get_text() for t in ax.texts if "Neuron" not in t.get_text())
    ['exc: One-to-One', 'input', 'output']
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    ax = _new_axes(ax)
    pops = list(net.populations)
    index = {id(p): i for i, p in enumerate(pops)}
    projections = list(net.projections)
    edges = [(index[id(proj.pre.population)], index[id(proj.post.population)]) for proj in projections]
    column = layers(pops, edges)
    rows: dict[int, int] = {}
    place = []
    for i in range(len(pops)):
        place.append((column[i], rows.get(column[i], 0)))
        rows[column[i]] = rows.get(column[i], 0) + 1
    tallest = max(rows.values()) if rows else 1
    width, height, dx, dy = 2.4, 1.0, 4.0, 1.9
    centres = []
    for (col, row) in place:
        offset = (tallest - rows[col]) * dy / 2
        centres.append((col * dx, -(row * dy) - offset))
    boxes = []
    for pop, (x, y) in zip(pops, centres):
        box = FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                             facecolor="#e8f0fb", edgecolor="#3060a0", linewidth=1.2)
        ax.add_patch(box)
        boxes.append(box)
        ax.text(x, y + 0.12, pop.name, ha="center", va="center", fontsize=10, fontweight="bold")
        ax.text(x, y - 0.22, f"{tuple(pop.geometry)} {pop.neuron_type.name}", ha="center", va="center",
                fontsize=7, color="#404040")
    seen: dict[tuple[int, int], int] = {}
    for proj, (pre, post) in zip(projections, edges):
        record = getattr(proj, "connector", None)
        label = f"{proj.target}: {record.name if record is not None else type(proj).__name__}"
        repeat = seen.get((pre, post), 0)
        seen[(pre, post)] = repeat + 1
        (x1, y1), (x2, y2) = centres[pre], centres[post]
        if pre == post:
            start, end = (x1 - 0.45, y1 + height / 2 + 0.05), (x1 + 0.45, y1 + height / 2 + 0.05)
            arrow = FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={-1.6 - 0.5 * repeat}",
                                    arrowstyle="-|>", mutation_scale=12, color="#a03030", linewidth=1.1)
            ax.add_patch(arrow)
            ax.text(x1, y1 + height / 2 + 0.85 + 0.4 * repeat, label, ha="center", va="bottom", fontsize=7,
                    color="#a03030")
            continue
        backwards = column[post] <= column[pre]
        rad = (0.35 if backwards else 0.0) + 0.2 * repeat * (1 if repeat % 2 else -1)
        arrow = FancyArrowPatch((x1, y1), (x2, y2), patchA=boxes[pre], patchB=boxes[post], arrowstyle="-|>",
                                mutation_scale=12, connectionstyle=f"arc3,rad={rad}", color="#303030",
                                linewidth=1.1, shrinkA=2, shrinkB=2)
        ax.add_patch(arrow)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        # the label sits on the curve's middle: offset perpendicular to the chord by rad/2 of its length
        nx, ny = (y2 - y1), -(x2 - x1)
        ax.text(mx + rad / 2 * nx, my + rad / 2 * ny + 0.12, label, ha="center", va="bottom", fontsize=7,
                bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.8))
    if centres:
        xs = [c[0] for c in centres]
        ys = [c[1] for c in centres]
        ax.set_xlim(min(xs) - width, max(xs) + width)
        ax.set_ylim(min(ys) - height * 1.2, max(ys) + height * 2.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    batch = "" if net.batch is None else f", a batch of {net.batch} samples"
    counts = ", ".join(f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
                       for items, noun in ((pops, "population"), (projections, "projection")))
    ax.set_title(counts + batch)
    return ax


# ---------------------------------------------------------------------------
# animations


class Animation:
    """Recorded activity as a matplotlib animation, shown as an HTML player in notebooks.

    Made by :meth:`ratenet.Monitor.animate`.  The matplotlib
    ``FuncAnimation`` is created when first needed (``animation``).

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    image : matplotlib.image.AxesImage or matplotlib.lines.Line2D
        The artist that shows the current frame.
    frames : numpy.ndarray
        One image (or line) per recorded sample.
    times : numpy.ndarray
        Time of each frame, in ms.
    """

    def __init__(self, figure: Any, artist: Any, frames: np.ndarray, times: np.ndarray, title: str,
                 interval: float) -> None:
        self.figure = figure
        self.image = artist
        self.frames = frames
        self.times = times
        self.title = title
        self.interval = interval
        self._animation: Any = None

    def __len__(self) -> int:
        return len(self.frames)

    def draw_frame(self, k: int) -> list[Any]:
        """Show frame ``k`` (its image and time) and return the changed artists."""
        frame = self.frames[k]
        if hasattr(self.image, "set_ydata"):
            self.image.set_ydata(frame)
        else:
            self.image.set_data(frame)
        axes = self.image.axes
        axes.set_title(f"{self.title}, t = {format_number(self.times[k])} ms")
        return [self.image, axes.title]

    @property
    def animation(self) -> Any:
        """The ``matplotlib.animation.FuncAnimation`` (created on first use)."""
        if self._animation is None:
            from matplotlib.animation import FuncAnimation

            self._animation = FuncAnimation(self.figure, self.draw_frame, frames=len(self.frames),
                                            interval=self.interval, blit=False, repeat=True)
        return self._animation

    def to_jshtml(self) -> str:
        """An HTML page fragment with a JavaScript player (no ffmpeg needed)."""
        return self.animation.to_jshtml(default_mode="loop")

    def to_html5_video(self) -> str:
        """An HTML5 ``<video>`` element (needs ffmpeg)."""
        return self.animation.to_html5_video()

    def _repr_html_(self) -> str:
        return self.to_jshtml()

    def save(self, filename: str | os.PathLike[str], fps: float | None = None, dpi: float | None = None) -> str:
        """Write a ``.gif`` (Pillow), an ``.mp4`` (ffmpeg) or an ``.html`` player; returns the path.

        Examples
        --------
        >>> import os, tempfile
        >>> import matplotlib; matplotlib.use("Agg")
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create((3, 3), Neuron(equations="r = t"))
        >>> m = net.monitor(pop, "r"); net.simulate(4.0)
        >>> path = m.animate().save(os.path.join(tempfile.mkdtemp(), "activity.gif"))
        >>> os.path.getsize(path) > 0
        True
        """
        from matplotlib import animation as mpl_animation

        path = os.fspath(filename)
        extension = os.path.splitext(path)[1].lower()
        rate = max(1, round(fps if fps is not None else 1000.0 / self.interval))
        writer: Any
        if extension == ".gif":
            writer = mpl_animation.PillowWriter(fps=rate)
        elif extension == ".mp4":
            if not mpl_animation.writers.is_available("ffmpeg"):
                raise ValidationError("Animation.save", "filename", "writing .mp4 needs ffmpeg, which was not found "
                                                                    "on the PATH: install it, or write a .gif",
                                      got=path)
            writer = mpl_animation.FFMpegWriter(fps=rate)
        elif extension in (".html", ".htm"):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(self.to_jshtml())
            return path
        else:
            raise ValidationError("Animation.save", "filename", "must end with .gif, .mp4 or .html", got=path)
        self.animation.save(path, writer=writer, dpi=dpi)
        return path


def animate(monitor: Any, variable: str | None = None, filename: str | os.PathLike[str] | None = None,
            interval: float = 100.0, rgb: bool | None = None, cmap: str = "viridis", vmin: float | None = None,
            vmax: float | None = None, ax: Any = None, fps: float | None = None, sample: int = 0) -> Animation:
    """Turn recorded activity into an animation, one frame per sample.

    Parameters
    ----------
    monitor : Monitor
        Recording a population or view (not a projection).
    variable : str, optional
        The first recorded one by default.
    filename : str, optional
        Also write the animation: ``.gif``, ``.mp4`` (needs ffmpeg) or
        ``.html``.
    interval : float
        Time between frames when played, in ms of wall-clock time.
    rgb : bool, optional
        3-D geometries with 3 channels are RGB frames unless ``False``; other
        channel counts are drawn side by side.
    cmap, vmin, vmax
        Colours of single-channel frames; the limits default to the range of
        the whole recording.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure (not managed by pyplot, so a notebook
        shows only the player) by default.
    fps : float, optional
        Frames per second of a written file (``1000 / interval`` by default).
    sample : int
        In a batched network (``Network(batch=B)``), the sample to draw.

    Returns
    -------
    Animation
        Shown as a player in notebooks; ``save()`` writes it.
    """
    owner = f"Monitor '{monitor.name}'"
    obj = monitor.object
    geometry = getattr(obj, "geometry", None)
    if geometry is None:
        raise ValidationError(owner, "animate", "needs a recorded population or view (a projection's weights have "
                                                "no geometry to draw)")
    var = variable or monitor.variables[0]
    data = monitor.get(var, keep=True, reshape=True)
    if isinstance(data, list) or len(data) == 0:
        raise ValidationError(owner, "animate", f"nothing recorded for '{var}' (simulate first; get() without "
                                                "keep=True hands the data over)")
    data, which = _one_sample(monitor, np.asarray(data, dtype=np.float64), sample)
    if data.ndim < 2 or data.ndim > 4:
        raise ValidationError(owner, "animate", f"draws 1-D, 2-D and 3-D geometries (got {data.shape[1:]})")
    times = monitor.sample_times(var)
    name = recorded_name(obj)
    if ax is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(5.0, 4.2), dpi=80)
        ax = figure.add_subplot()
    figure = ax.figure
    title = f"{var} of {name}{which}"
    if data.ndim == 2:  # 1-D geometry: a line per frame
        frames = data
        low, high = _limits(frames, vmin, vmax)
        (artist,) = ax.plot(np.arange(frames.shape[1]), frames[0], marker=".")
        margin = 0.05 * (high - low) if high > low else 0.5
        ax.set_ylim(low - margin, high + margin)
        ax.set_xlabel("rank")
        ax.set_ylabel(var)
    else:
        converted = [image_array(sample, rgb=rgb) for sample in data]
        is_rgb = converted[0][1]
        if is_rgb:
            frames = np.stack([image_array(sample, rgb=True)[0] for sample in _scaled(data)])
            artist = ax.imshow(frames[0], interpolation="nearest")
        else:
            frames = np.stack([c[0] for c in converted])
            low, high = _limits(frames, vmin, vmax)
            artist = ax.imshow(np.ma.masked_invalid(frames[0]), cmap=cmap, vmin=low, vmax=high,
                               interpolation="nearest")
            figure.colorbar(artist, ax=ax, label=var)
    result = Animation(figure, artist, frames, times, title, interval)
    result.draw_frame(0)
    if filename is not None:
        result.save(filename, fps=fps)
    return result


def _scaled(data: np.ndarray) -> np.ndarray:
    """RGB recordings outside [0, 1] scaled with one range for all frames (so brightness stays comparable)."""
    low, high = float(np.nanmin(data)), float(np.nanmax(data))
    if low >= 0.0 and high <= 1.0:
        return data
    return (data - low) / (high - low) if high > low else np.zeros_like(data)
