"""Monitors: record variables over time into preallocated blocks."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._lazy import LazyModule
from .exceptions import ValidationError, closest
from .population import IndividualNeuron, Population, PopulationView
from .projections.projection import Projection
from .state import sum_key

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network
    from .display import html as _html, plots as _plots, text as _text
else:  # imported on first use (see ratenet/_lazy.py)
    _html = LazyModule("ratenet.display.html")
    _plots = LazyModule("ratenet.display.plots")
    _text = LazyModule("ratenet.display.text")

__all__ = ["Monitor"]

#: Elements per storage block; a block holds max(16, this // values per sample) samples.
_BLOCK_ELEMENTS = 1 << 20


class _Recording:
    """Samples of one variable, appended into blocks (no list of per-step arrays).

    A projection's synapses can be created or pruned while it is recorded:
    samples then change width, and :meth:`data` returns one array per sample.
    """

    def __init__(self, width: tuple[int, ...], dtype: Any) -> None:
        self.dtype = dtype
        self.done: list[np.ndarray] = []  # samples of earlier widths
        self.done_steps: list[np.ndarray] = []
        self._start(width)

    def _start(self, width: tuple[int, ...]) -> None:
        self.width = width
        self.rows = max(16, min(1 << 16, _BLOCK_ELEMENTS // max(1, int(np.prod(width)) if width else 1)))
        self.blocks: list[np.ndarray] = []
        self.steps: list[np.ndarray] = []
        self.fill = self.rows  # forces a block at the first sample

    def resize(self, width: tuple[int, ...]) -> None:
        """Continue with samples of another width."""
        if width == self.width:
            return
        current, steps = self._current(), self._current_steps()
        if len(current):
            self.done.append(current)
            self.done_steps.append(steps)
        self._start(width)

    def slot(self, step: int) -> np.ndarray:
        if self.fill == self.rows:
            self.blocks.append(np.empty((self.rows,) + self.width, dtype=self.dtype))
            self.steps.append(np.empty(self.rows, dtype=np.int64))
            self.fill = 0
        row = self.fill
        self.steps[-1][row] = step
        self.fill += 1
        return self.blocks[-1][row] if self.width else self.blocks[-1][row:row + 1]

    def _current(self) -> np.ndarray:
        if not self.blocks:
            return np.empty((0,) + self.width, dtype=self.dtype)
        parts = self.blocks[:-1] + [self.blocks[-1][:self.fill]]
        return np.concatenate(parts) if len(parts) > 1 else parts[0].copy()

    def _current_steps(self) -> np.ndarray:
        if not self.steps:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(self.steps[:-1] + [self.steps[-1][:self.fill]])

    def data(self) -> np.ndarray | list[np.ndarray]:
        current = self._current()
        if not self.done:
            return current
        return [sample for part in self.done + [current] for sample in part]

    def sample_steps(self) -> np.ndarray:
        return np.concatenate(self.done_steps + [self._current_steps()])

    def clear(self) -> None:
        self.done, self.done_steps = [], []
        self._start(self.width)


class _Value:
    """A population-level value, looked up at each sample (its update rebinds it)."""

    __slots__ = ("values", "key")

    def __init__(self, values: dict[str, Any], key: str) -> None:
        self.values, self.key = values, key

    def __call__(self) -> Any:
        return self.values[self.key]


class _Flat(_Value):
    """A population's array, flat."""

    def __call__(self) -> np.ndarray:
        return self.values[self.key].reshape(-1)


class _Rows(_Value):
    """A batched population's array, one flat row per sample (population-level values: one per sample)."""

    __slots__ = ("batch",)

    def __init__(self, values: dict[str, Any], key: str, batch: int) -> None:
        super().__init__(values, key)
        self.batch = batch

    def __call__(self) -> np.ndarray:
        return np.reshape(self.values[self.key], (self.batch, -1))


class _PerSample(_Rows):
    """A batched population-level value: one per sample."""

    def __call__(self) -> np.ndarray:
        # a scalar when every sample holds the same value (see PopulationState.set_per_sample)
        return np.broadcast_to(np.reshape(self.values[self.key], -1), (self.batch,))


class _RowRanks(_Rows):
    """A batched population's array at some ranks, one row per sample."""

    __slots__ = ("ranks",)

    def __init__(self, values: dict[str, Any], key: str, batch: int, ranks: np.ndarray) -> None:
        super().__init__(values, key, batch)
        self.ranks = ranks

    def __call__(self) -> np.ndarray:
        return self.values[self.key].reshape(self.batch, -1)[:, self.ranks]


class _Ranks(_Value):
    """A population's array at some ranks."""

    __slots__ = ("ranks",)

    def __init__(self, values: dict[str, Any], key: str, ranks: np.ndarray) -> None:
        super().__init__(values, key)
        self.ranks = ranks

    def __call__(self) -> np.ndarray:
        return self.values[self.key].reshape(-1)[self.ranks]


class Monitor:
    """Record variables of a population, a view, a neuron or a projection.

    A sample is taken at the end of every step ``k`` (counted from when
    recording started, from 0) where ``k * dt`` is a multiple of ``period``:
    with the default period (one step) the first sample is the state after
    the first step.  ``sum(exc)`` records the summed input of each step.

    Parameters
    ----------
    obj : Population, PopulationView, IndividualNeuron or Projection
    variables : str or list of str
        Names such as ``"r"``, ``["r", "v"]``, ``"sum(exc)"`` (or ``"w"`` for
        a projection).
    period : float, optional
        Time between samples in ms (a multiple of dt); every step by default.
    start : bool
        Start recording now; otherwise call :meth:`start`.
    name : str, optional
    reshape : bool
        The default of :meth:`get`'s ``reshape``: False as in ANNarchy 4.x
        (``Monitor(...)``); ``Network.monitor`` passes True, ANNarchy 5's
        default (a population's samples shaped like its geometry; views,
        neurons and projections stay flat).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(equations="r = t"))
    >>> m = net.monitor(pop, "r")
    >>> net.simulate(3.0)
    >>> m.get("r")
    array([[0., 0.],
           [1., 1.],
           [2., 2.]])
    """

    def __init__(self, obj: Any, variables: str | Sequence[str] = (), period: float | None = None,
                 period_offset: float | None = None, start: bool = True, name: str | None = None,
                 net_id: int = 0, reshape: bool = False) -> None:
        if not isinstance(obj, (Population, PopulationView, IndividualNeuron, Projection)):
            raise ValidationError("Monitor", "obj", "must be a Population, PopulationView, neuron or Projection",
                                  got=obj)
        self.object = obj
        self.network: Network = obj.population.network if isinstance(obj, IndividualNeuron) else obj.network
        if isinstance(variables, str):
            variables = [variables]
        if not isinstance(variables, (list, tuple)) or not all(isinstance(v, str) for v in variables):
            raise ValidationError("Monitor", "variables", "must be a name or a list of names, e.g. 'r' or "
                                                          "['r', 'sum(exc)']", got=variables)
        variables = list(variables)
        if not variables:
            raise ValidationError("Monitor", "variables", "name at least one variable to record, e.g. 'r'")
        self.name = name or f"monitor of {getattr(obj, 'name', None) or 'neuron'}"
        for var in variables:
            self._source(var)  # validates
        self.variables = variables
        self.reshape = bool(reshape) and isinstance(obj, Population)
        self._start_flag = bool(start)
        self._period_steps = self._check_period(period)
        self._offset_steps = self._check_period(period_offset, allow_zero=True) if period_offset else 0
        self._records = {var: self._make_recording(var) for var in variables}
        self._recording = False
        self._start_step = 0
        self._sessions: list[list[float]] = []
        self.network.registry.add_monitor(self, self._record_function)
        if start:
            self.start()

    # ------------------------------------------------------------- helpers
    @property
    def period(self) -> float:
        """Time between samples, in ms (dt unless a period was given)."""
        return self._period_steps * self.network.dt

    @property
    def period_offset(self) -> float:
        """Time from the start of recording to the first sample that counts, in ms."""
        return self._offset_steps * self.network.dt

    def copy_to(self, obj: Any) -> "Monitor":
        """A monitor of ``obj`` (the copy of this one's object in another network) with the same settings.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> pop = Network().create(2, Neuron(equations="r = t"), name="p")
        >>> m = Monitor(pop, "r", period=2.0)
        >>> twin = m.copy_to(pop.copy_to(Network()))
        >>> twin.variables, twin.period, twin.object.name
        (['r'], 2.0, 'p')
        """
        return Monitor(obj, list(self.variables), period=self.period, period_offset=self.period_offset or None,
                       start=self._start_flag, name=self.name, reshape=self.reshape)

    def population_of(self) -> Any:
        """The population recorded (None for a projection)."""
        return getattr(self.object, "population", None)

    def _owner(self) -> str:
        return f"Monitor '{self.name}'"

    def _check_period(self, period: Any, allow_zero: bool = False) -> int:
        dt = self.network.dt
        if period is None:
            return 1
        if isinstance(period, bool) or not isinstance(period, numbers.Real) or not math.isfinite(period) or \
                period < 0 or (period == 0 and not allow_zero):
            raise ValidationError("Monitor", "period", "must be a positive number of ms", got=period)
        steps = float(period) / dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or (round(steps) < 1 and not allow_zero):
            raise ValidationError("Monitor", "period", f"must be a multiple of dt = {dt} ms", got=period)
        return int(round(steps))

    def _source(self, var: str) -> tuple[Callable[[], Any], tuple[int, ...], Any]:
        """(getter of the current value, shape of one sample, dtype) of a variable."""
        obj = self.object
        registry = self.network.registry
        if isinstance(obj, Projection):
            return registry.state(obj).recordable(var)
        pop = obj.population if not isinstance(obj, Population) else obj
        state = registry.state(pop)
        if not isinstance(var, str):
            raise ValidationError("Monitor", "variables", "must be names (strings)", got=var)
        values = state.values
        if var.startswith("sum(") and var.endswith(")"):
            target = var[4:-1].strip()
            if target not in state.targets:
                raise ValidationError("Monitor", "variables", f"'{pop.name}' receives no target '{target}' "
                                                              f"(targets: {', '.join(pop.targets) or 'none'})",
                                      got=var)
            key = sum_key(target)
        elif var in state.locality:
            key = var
        else:
            close = closest(var, pop.attributes + [f"sum({t})" for t in pop.targets])
            raise ValidationError("Monitor", "variables", f"'{pop.name}' has no attribute of that name"
                                  + (f"; did you mean '{close}'?" if close else "")
                                  + f" (attributes: {', '.join(pop.attributes)})", got=var)
        batch = state.batch
        if batch is not None:  # (B, ...) per sample
            if state.locality.get(key, "local") != "local":
                return _PerSample(values, key, batch), (batch,), values[key].dtype
            if isinstance(obj, Population):
                return _Rows(values, key, batch), (batch, pop.size), values[key].dtype
            ranks = obj.ranks if isinstance(obj, PopulationView) else np.array([obj.rank])
            return _RowRanks(values, key, batch, ranks), (batch, len(ranks)), values[key].dtype
        if state.locality.get(key, "local") != "local":
            return _Value(values, key), (), np.asarray(values[key]).dtype
        dtype = values[key].dtype
        if isinstance(obj, Population):
            return _Flat(values, key), (pop.size,), dtype
        ranks = obj.ranks if isinstance(obj, PopulationView) else np.array([obj.rank])
        return _Ranks(values, key, ranks), (len(ranks),), dtype

    def _make_recording(self, var: str) -> _Recording:
        _, width, dtype = self._source(var)
        return _Recording(width, dtype)

    def memory_for(self, steps: int) -> int:
        """Bytes the samples of ``steps`` more steps would add (0 while not recording).

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(100, Neuron(equations="r = t"))
        >>> net.monitor(pop, "r", period=10.0).memory_for(1000)   # 100 samples of 100 floats and a step number
        80800
        """
        if not self._recording:
            return 0
        samples = -(-int(steps) // self._period_steps)
        per_sample = 0
        for var in self.variables:
            record = self._records[var]
            per_sample += int(np.prod(record.width, dtype=np.float64)) * np.dtype(record.dtype).itemsize + 8
        return samples * per_sample

    # ------------------------------------------------------------- control
    def start(self, variables: str | Sequence[str] | None = None, period: float | None = None) -> None:
        """Start (or restart) recording, optionally other variables or another period."""
        if variables is not None:
            variables = [variables] if isinstance(variables, str) else list(variables)
            for var in variables:
                self._source(var)
                if var not in self._records:
                    self._records[var] = self._make_recording(var)
            self.variables = variables
        if period is not None:
            self._period_steps = self._check_period(period)
        self._recording = True
        self._start_step = self.network.get_current_step()
        self._sessions.append([self.network.t, math.nan])
        if variables is not None:
            self.network.registry.structure_changed()  # the recording function reads other arrays

    def pause(self) -> None:
        """Stop recording until :meth:`resume`."""
        if self._recording:
            self._recording = False
            self._sessions[-1][1] = self.network.t

    def resume(self) -> None:
        """Continue recording after :meth:`pause`."""
        if not self._recording:
            self.start()

    def stop(self) -> None:
        """Stop recording (the data stays until read with ``get``)."""
        self.pause()

    def reset(self) -> None:
        """Drop everything recorded."""
        for record in self._records.values():
            record.clear()
        self._sessions = [[0.0, math.nan]] if self._recording else []
        self._start_step = 0

    # ----------------------------------------------------------- recording
    def _record_function(self) -> Callable[[], None]:
        clock = self.network.registry.clock
        entries = []
        for var in self.variables:
            getter, width, _ = self._source(var)
            self._records[var].resize(width)  # synapses may have been created or pruned
            entries.append((self._records[var], getter))
        # structural plasticity changes a sparse projection's number of synapses within a step
        rewired = isinstance(self.object, Projection) and bool(self.network.registry.state(self.object).rewiring())

        def record() -> None:
            if not self._recording:
                return
            step = clock.step
            k = step - self._start_step - self._offset_steps
            if k < 0 or k % self._period_steps:
                return
            for recording, getter in entries:
                value = getter()
                if rewired:
                    recording.resize(value.shape)
                recording.slot(step)[...] = value

        return record

    # --------------------------------------------------------------- access
    def get(self, variables: str | Sequence[str] | None = None, keep: bool = False, reshape: bool | None = None,
            force_dict: bool = False) -> Any:
        """Hand over the recorded samples: an array of shape (samples, neurons) per variable.

        In a batched network (``Network(batch=B)``) a sample holds every
        sample of the batch: ``(steps, B, neurons)``, ``(steps, B, *geometry)``
        with ``reshape``, and ``(steps, B)`` for a population-level value.

        As in ANNarchy, the data is handed over: a second ``get()`` returns
        only what was recorded since the first (nothing, if the network did
        not run in between), unless the first was ``get(keep=True)``.  Read
        once into a variable, or pass ``keep=True`` (:meth:`plot` keeps the
        data).

        Parameters
        ----------
        variables : str or list of str, optional
            One name (alone or in a list, as in ANNarchy) gives an array;
            several (or none: all) give a dict.
        keep : bool
            Keep the data (by default it is dropped once read, as in ANNarchy).
        reshape : bool, optional
            Shape samples like the geometry: ``(samples, *geometry)``.  By
            default the monitor's ``reshape``: False for ``Monitor(...)``
            (ANNarchy 4.x), True for a population's ``net.monitor(...)``
            (ANNarchy 5).
        force_dict : bool
            Return a dict even for one name.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(2, Neuron(equations="r = t"))
        >>> m = net.monitor(pop, "r"); net.simulate(3.0)
        >>> m.get("r", keep=True).shape, m.get("r").shape, m.get("r").shape
        ((3, 2), (3, 2), (0, 2))
        """
        if reshape is None:
            reshape = self.reshape
        names = list(self._records) if variables is None else (
            [variables] if isinstance(variables, str) else list(variables))
        result = {}
        for var in names:
            if var not in self._records:
                raise ValidationError(self._owner(), "variables", f"'{var}' is not recorded "
                                                                  f"(recorded: {', '.join(self._records)})", got=var)
            data = self._records[var].data()
            if reshape and not isinstance(data, list):
                data = data.reshape((len(data),) + self._geometry(var))
            result[var] = data
            if not keep:
                self._steps_read = {**getattr(self, "_steps_read", {}), var: self._records[var].sample_steps()}
                self._records[var].clear()
        if variables is not None and len(names) == 1 and not force_dict:
            return result[names[0]]  # a list of one name too, as ANNarchy's code does
        return result

    def _geometry(self, var: str) -> tuple[int, ...]:
        width = self._records[var].width
        obj = self.object
        if not width:
            return ()
        if isinstance(obj, (Population, PopulationView)):
            batch = obj.population.batch
            if batch is None:
                return tuple(obj.geometry)
            return (batch,) if len(width) == 1 else (batch,) + tuple(obj.geometry)  # one value per sample
        return width

    def sample_times(self, variable: str | None = None) -> np.ndarray:
        """Time (ms, the ``t`` of the step) of each sample still held for ``variable``."""
        var = variable or self.variables[0]
        if var not in self._records:
            raise ValidationError(self._owner(), "variable", "is not recorded", got=var)
        return self._records[var].sample_steps() * self.network.dt

    def times(self, variables: str | Sequence[str] | None = None) -> dict[str, dict[str, list[float]]]:
        """Start and stop times (ms) of the recording sessions, per variable (ANNarchy's format)."""
        names = list(self._records) if variables is None else (
            [variables] if isinstance(variables, str) else list(variables))
        sessions = [(start, self.network.t if math.isnan(stop) else stop) for start, stop in self._sessions]
        return {var: {"start": [s for s, _ in sessions], "stop": [e for _, e in sessions]} for var in names}

    def plot(self, variable: str | None = None, ax: Any = None, neurons: Sequence[int] | None = None,
             kind: str = "auto", legend: bool = True, sample: int = 0, **kwargs: Any) -> Any:
        """Plot what was recorded against time in ms (without dropping it).

        Up to 20 neurons are drawn as traces with a legend (neurons named by
        their coordinates in 2-D and 3-D populations); more as a heatmap
        (neuron x time) with a colour bar.  ``neurons`` selects some (indices
        into the recorded ones); ``kind="traces"`` or ``"heatmap"`` forces a
        kind.  In a batched network ``sample`` picks the sample drawn (0 by
        default).  Extra keywords go to ``plot`` / ``imshow``.  See
        :func:`ratenet.display.plots.plot_recording`.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(3, Neuron(parameters="tau = 10.0", equations="tau * dr/dt + r = 1.0"))
        >>> m = net.monitor(pop, "r"); net.simulate(50.0)
        >>> ax = m.plot()
        >>> len(ax.lines), ax.get_xlabel(), [t.get_text() for t in ax.get_legend().get_texts()]
        (3, 'time (ms)', ['neuron 0', 'neuron 1', 'neuron 2'])
        """
        return _plots.plot_recording(self, variable, ax=ax, neurons=neurons, kind=kind, legend=legend,
                                     sample=sample, **kwargs)

    def animate(self, variable: str | None = None, filename: Any = None, interval: float = 100.0,
                **kwargs: Any) -> Any:
        """Recorded 2-D or 3-D activity as an animation, one frame per sample.

        In a notebook the result shows as a player (``to_jshtml()``);
        ``filename`` ending in ``.gif`` (Pillow), ``.mp4`` (needs ffmpeg) or
        ``.html`` also writes it.  3-D geometries with 3 channels give RGB
        frames.  In a batched network ``sample=`` picks the sample drawn (0 by
        default).  See :func:`ratenet.display.plots.animate` for the options.

        Returns
        -------
        ratenet.display.plots.Animation

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create((4, 4), Neuron(equations="r = t"))
        >>> m = net.monitor(pop, "r"); net.simulate(5.0)
        >>> movie = m.animate()
        >>> len(movie), float(movie.draw_frame(2)[0].get_array()[0, 0])
        (5, 2.0)
        """
        return _plots.animate(self, variable, filename=filename, interval=interval, **kwargs)

    def size_in_bytes(self) -> int:
        """Memory held by the recordings."""
        return sum(block.nbytes for rec in self._records.values() for block in rec.blocks)

    def __repr__(self) -> str:
        return _text.monitor_repr(self)

    def __str__(self) -> str:
        return _text.monitor_text(self)

    def _repr_html_(self) -> str:
        """What is recorded, how often, the samples held, and that get() hands them over, for notebooks."""
        return _html.monitor_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _text.pretty(self, printer, cycle)
