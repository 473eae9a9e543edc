"""Parameter sweeps: a grid of values run in batches, on local processes or a Dask cluster.

:func:`sweep` runs a network for every point of a grid of parameter values and
returns what it recorded as an :class:`xarray.Dataset` with one dimension per
swept parameter, then time, then the neurons' axes.  Grid points are packed
``batch`` at a time into one task (a ``Network(batch=B)`` runs the B points at
once); tasks go to local worker processes, or to a :class:`dask.distributed.Client`.

Every grid point has a seed of its own, derived from the sweep's seed and the
point's place in the grid, so the result does not depend on the batch size, the
number of workers or the order in which tasks finish.  xarray (and, for a
cluster, dask.distributed) are the optional extra ``ratenet[distributed]``.
"""

from __future__ import annotations

import itertools
import keyword
import numbers
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .exceptions import RatenetError, ValidationError
from .network import Network
from .parallel import check_processes, chunks, derive_seed, execute, fresh_seed
from .population import Population, PopulationView

__all__ = ["sweep"]

_OWNER = "sweep"


def _xarray() -> Any:
    try:
        import xarray
    except ImportError:
        raise RatenetError("sweep() returns an xarray.Dataset and needs xarray: pip install 'ratenet[distributed]' "
                           "(xarray, and dask.distributed for client=)") from None
    return xarray


def _check_grid(grid: Any) -> tuple[list[str], list[np.ndarray]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ValidationError(_OWNER, "grid", "must be a non-empty dict: parameter name -> list of values", got=grid)
    names, axes = [], []
    for name, values in grid.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValidationError(_OWNER, "grid", "names must be Python identifiers (they are build's keyword "
                                                  "arguments)", got=name)
        if name in ("time",) or name.startswith("neuron"):
            raise ValidationError(_OWNER, "grid", f"'{name}' is a dimension of the result; rename the parameter",
                                  got=name)
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise ValidationError(_OWNER, f"grid['{name}']", "must be a list of values", got=values)
        array = np.asarray(values)
        if array.ndim != 1 or array.size == 0:
            raise ValidationError(_OWNER, f"grid['{name}']", "must be a non-empty flat list of numbers", got=values)
        if array.dtype.kind not in "biuf":
            raise ValidationError(_OWNER, f"grid['{name}']", "must hold real numbers", got=values)
        if not np.isfinite(array.astype(np.float64)).all():
            raise ValidationError(_OWNER, f"grid['{name}']", "must hold finite numbers", got=values)
        if len(np.unique(array)) != array.size:
            raise ValidationError(_OWNER, f"grid['{name}']", "holds a value twice (each point must be selectable)",
                                  got=values)
        names.append(name)
        axes.append(array)
    return names, axes


def _recorded(build: Callable[..., Any], returned: Any) -> dict[str, tuple[Any, str]]:
    name = getattr(build, "__name__", "build")
    if not isinstance(returned, Mapping) or not returned:
        raise ValidationError(_OWNER, "build", f"{name}() must return a non-empty dict of what to record: name -> "
                                               "population (its r) or (object, variable)",
                              got=type(returned).__name__, got_repr=False)
    targets = {}
    for key, value in returned.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValidationError(_OWNER, "build", f"{name}() returned a name that is not an identifier", got=key)
        if isinstance(value, (Population, PopulationView)):
            targets[key] = (value, "r")
        elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
            targets[key] = value
        else:
            raise ValidationError(_OWNER, "build", f"{name}() returned for '{key}' neither a population nor an "
                                                   "(object, variable) pair", got=value)
    return targets


def _task(spec: tuple[Callable[..., Any], list[str], list[list[Any]], list[int], int, int | None, float, float,
                      float | None]) -> Any:
    """Run one batch of grid points; returns {name: array (points, samples, *shape)} and the sample times."""
    build, names, values, seeds, master, batch, duration, dt, period = spec
    if batch is None:
        net = Network(dt=dt, seed=seeds[0])
        params = {name: column[0] for name, column in zip(names, values)}
    else:
        # what all samples share (random weights) follows the sweep's seed: the same in every task
        net = Network(dt=dt, seed=master, batch=batch)
        rngs = getattr(net, "sample_rngs", None)
        if isinstance(rngs, list) and len(rngs) == batch:
            rngs[:] = [np.random.default_rng(seed) for seed in seeds]  # a point's draws follow its own seed
        params = {name: np.array(column) for name, column in zip(names, values)}
    targets = _recorded(build, build(net, **params))
    monitors = {}
    for key, (obj, variable) in targets.items():
        if getattr(obj, "network", None) is not net:
            raise ValidationError(_OWNER, "build", f"returned for '{key}' an object of another network: create "
                                                   "everything with the net it is given", got=obj)
        try:
            monitors[key] = net.monitor(obj, variable, period=period)
        except ValidationError as exc:
            raise ValidationError(_OWNER, "build", f"returned for '{key}' something that cannot be recorded: "
                                                   f"{exc}") from exc
    net.simulate(duration)
    times = next(iter(monitors.values())).sample_times(next(iter(targets.values()))[1])
    data = {}
    for key, monitor in monitors.items():
        variable = targets[key][1]
        recorded = np.asarray(monitor.get(variable, reshape=True))
        if batch is None:
            recorded = recorded[:, None]
        data[key] = np.moveaxis(recorded, 1, 0)  # (points, steps, *shape)
    return data, times


def sweep(build: Callable[..., Any], grid: Mapping[str, Sequence[float]], duration: float, batch: int = 1,
          client: Any = None, seed: int | None = None, dt: float = 1.0, progress_bar: bool = False,
          max_processes: int = -1, period: float | None = None) -> Any:
    """Run a network for every point of a grid of parameter values; the recordings as an xarray Dataset.

    Parameters
    ----------
    build : callable
        ``build(net, **params)`` builds the network in ``net`` and returns what
        to record: a dict name -> population (its ``r``) or ``(object,
        variable)``.  With ``batch=1`` each parameter is one number; with
        ``batch=B`` ``net`` is a ``Network(batch=B)`` and each parameter an
        array of one value per sample (a population-level parameter takes it
        as it is: ``pop.tau = tau``).
    grid : dict
        Parameter name -> list of values; every combination is run.
    duration : float
        Simulated time per grid point, in ms.
    batch : int
        Grid points per task, run at once in one batched network.
    client : dask.distributed.Client, optional
        Send the tasks to this cluster (a worker lost mid-task costs a retry,
        not a result); otherwise local processes.
    seed : int, optional
        The sweep's seed; grid point ``i`` (in the grid's C order) runs with
        :func:`~ratenet.parallel.derive_seed` ``(seed, i)``.  None draws one
        (kept in the result's ``attrs['seed']``).  With ``batch > 1``, what a
        batched network draws once for all its samples (random weights, which
        the samples share) comes from ``seed`` itself, the same for every grid
        point, while each sample's own draws (initial values, noise) follow its
        grid point's seed; with ``batch=1`` the point's seed gives both.
    dt : float
        Step size in ms.
    progress_bar : bool
        A tqdm bar counting finished grid points.
    max_processes : int
        Local worker processes (-1: one per core); ignored with a client.
    period : float, optional
        Record every ``period`` ms (default: every step).

    Returns
    -------
    xarray.Dataset
        One variable per recorded name, with dimensions: the swept parameters
        (in the grid's order, coordinates their values), ``time`` (ms), then
        ``neuron`` (1-D populations) or ``neuron_0``, ``neuron_1``... (the
        geometry's axes; a name's own ``<name>_neuron...`` when two recorded
        objects' shapes differ).  The same whatever ``batch``, the number of
        workers and the order tasks finish in.

    Examples
    --------
    >>> from ratenet import Neuron, sweep
    >>> leaky = Neuron(parameters="tau = 10.0 : population\\nI = 1.0", equations="tau * dr/dt + r = I")
    >>> def build(net, tau, I):
    ...     pop = net.create(2, leaky)
    ...     pop.tau, pop.I = tau, I
    ...     return {"r": pop}
    >>> res = sweep(build, {"tau": [5.0, 10.0], "I": [1.0, 2.0, 3.0]}, duration=10.0, seed=1)
    >>> dict(res["r"].sizes)
    {'tau': 2, 'I': 3, 'time': 10, 'neuron': 2}
    >>> round(float(res["r"].sel(tau=10.0, I=2.0, time=9.0)[0]), 4)
    1.3026
    """
    xarray = _xarray()
    if not callable(build):
        raise ValidationError(_OWNER, "build", "must be a function build(net, **params)", got=build)
    names, axes = _check_grid(grid)
    if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
        raise ValidationError(_OWNER, "batch", "must be a positive number of grid points per task", got=batch)
    check_processes(_OWNER, max_processes)
    Network(dt=dt)  # checks dt with the network's own message
    if period is not None and (isinstance(period, bool) or not isinstance(period, numbers.Real) or
                               not period >= dt):
        raise ValidationError(_OWNER, "period", "must be a number of ms, at least dt", got=period)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValidationError(_OWNER, "seed", "must be a non-negative integer or None", got=seed)
    shape = tuple(len(axis) for axis in axes)
    count = int(np.prod(shape))
    master = int(seed) if seed is not None else fresh_seed()
    points = list(itertools.product(*axes))  # C order: the last parameter varies fastest
    tasks = []
    for block in chunks(count, int(batch)):
        values = [[points[i][k] for i in block] for k in range(len(names))]
        seeds = [derive_seed(master, i) for i in block]
        tasks.append((build, names, values, seeds, master, None if batch == 1 else len(block), float(duration),
                      float(dt), period))
    results = execute(_task, tasks, max_processes=max_processes, client=client, progress_bar=progress_bar,
                      description="sweep", weights=[len(b) for b in chunks(count, int(batch))], owner=_OWNER)
    return _dataset(xarray, names, axes, shape, results, master, dt)


def _dataset(xarray: Any, names: list[str], axes: list[np.ndarray], shape: tuple[int, ...], results: list[Any],
             master: int, dt: float) -> Any:
    first, times = results[0]
    shapes = {key: array.shape[2:] for key, array in first.items()}
    same = len(set(shapes.values())) == 1
    variables = {}
    for key, inner in shapes.items():
        stacked = np.concatenate([data[key] for data, _ in results], axis=0)
        stacked = stacked.reshape(shape + stacked.shape[1:])
        prefix = "" if same else f"{key}_"
        neuron_dims = [f"{prefix}neuron"] if len(inner) == 1 else [f"{prefix}neuron_{k}" for k in range(len(inner))]
        variables[key] = (names + ["time"] + neuron_dims, stacked)
    coords = {name: axis for name, axis in zip(names, axes)}
    coords["time"] = times
    return xarray.Dataset(variables, coords=coords, attrs={"seed": master, "dt": dt})
