"""Many runs at once: ANNarchy's ``parallel_run`` on local processes or a Dask cluster.

Two forms, as in ANNarchy:

* 4.x, :func:`parallel_run`: ``method(idx, net, **extra)`` on ``number`` copies
  of the default network, or on each network of ``networks``;
* 5.x, :meth:`Network.parallel_run <ratenet.Network.parallel_run>`:
  ``method(net, **kwargs)`` on ``number`` networks rebuilt from the class and the
  constructor arguments of a subclassed network (``class MyNet(Network)``).

Runs go to local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`)
or, with ``client=``, to a :class:`dask.distributed.Client`; the results come back
in the order of the runs.  Where processes can be forked (Linux), the workers
inherit the method, the arguments and the networks: nothing but the results is
pickled, so a method defined in ``__main__``, in a notebook, or as a lambda works.
Elsewhere (``spawn``) and on a cluster, what a run needs is pickled and sent.

Seeds are distinct per run and reproducible: run ``i`` gets
:func:`derive_seed` ``(master, i)``, with the network's seed as master (a fresh
one when the network has none).

:data:`START_METHOD` selects how local workers start (None: ``fork`` where the
platform has it, else ``spawn``).
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import os
import pickle
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .exceptions import RatenetError, ValidationError
from .registry import Registry, default_network

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Future

__all__ = ["START_METHOD", "derive_seed", "execute", "network_parallel_run", "parallel_run"]

#: How many times local runs go again after a worker process died (killed, out of memory) before giving up.
LOCAL_RETRIES = 2

#: How local worker processes start: None picks ``"fork"`` where available (Linux), else ``"spawn"``.
START_METHOD: str | None = None

# What forked workers inherit: token -> (function, tasks).  A task is sent as (token, index) only.
_CONTEXTS: dict[int, tuple[Callable[[Any], Any], Sequence[Any]]] = {}
_TOKENS = itertools.count()
_LOCK = threading.Lock()


def start_method() -> str:
    """The start method of local workers: :data:`START_METHOD`, else ``fork`` where available, else ``spawn``.

    Examples
    --------
    >>> start_method() in ("fork", "spawn", "forkserver")
    True
    """
    if START_METHOD is not None:
        return START_METHOD
    import multiprocessing  # with concurrent.futures, 11 ms of `import ratenet`: imported when first used

    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def derive_seed(master: int, index: int) -> int:
    """The seed of run (or grid point) ``index`` from a master seed: distinct per index, reproducible.

    Child ``index`` of ``numpy.random.SeedSequence(master)``, as a 32-bit integer.

    Examples
    --------
    >>> derive_seed(42, 0) == derive_seed(42, 0), derive_seed(42, 0) != derive_seed(42, 1)
    (True, True)
    """
    return int(np.random.SeedSequence(master, spawn_key=(index,)).generate_state(1)[0])


def fresh_seed() -> int:
    """A seed drawn from the operating system's entropy (for a network that has none)."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def check_processes(owner: str, max_processes: Any) -> None:
    if isinstance(max_processes, bool) or not isinstance(max_processes, numbers.Integral) or \
            (max_processes < 1 and max_processes != -1):
        raise ValidationError(owner, "max_processes", "must be a positive integer, or -1 for one per core",
                              got=max_processes)


def _call_inherited(token: int, index: int) -> Any:
    function, tasks = _CONTEXTS[token]
    return function(tasks[index])


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _not_sent(owner: str, exc: BaseException, where: str) -> RatenetError:
    return RatenetError(f"{owner}: the method and its arguments cannot be sent to {where} ({_describe(exc)}); "
                        "they must be picklable: a function defined at the top level of an importable module (not "
                        "a lambda or a local function), arguments without open files, locks or networks")


def execute(function: Callable[[Any], Any], tasks: Sequence[Any], *, max_processes: int = -1, client: Any = None,
            sequential: bool = False, progress_bar: bool = False, description: str = "runs",
            weights: Sequence[int] | None = None, owner: str = "parallel_run") -> list[Any]:
    """``[function(task) for task in tasks]``, computed by worker processes or a Dask client; in order.

    Parameters
    ----------
    function : callable
        Called once per task.  With forked local workers it is inherited,
        otherwise pickled (cloudpickle on a Dask cluster).
    tasks : sequence
        One argument per call.
    max_processes : int
        Local worker processes (-1: one per core, at most one per task).  A
        worker that dies (killed, out of memory) costs a retry of the runs it
        had in flight, :data:`LOCAL_RETRIES` times at most.
    client : dask.distributed.Client, optional
        Send the tasks to this cluster instead (a worker lost mid-task costs a
        retry on another worker, as Dask does).
    sequential : bool
        Run in this process, one task after the other.
    progress_bar : bool
        A tqdm bar counting finished tasks (or ``weights`` of them).
    description, weights, owner
        The bar's label and how much each task counts on it; the name errors start with.

    Examples
    --------
    >>> execute(abs, [-1, 2, -3], max_processes=2)
    [1, 2, 3]
    """
    check_processes(owner, max_processes)
    tasks = list(tasks)
    weights = list(weights) if weights is not None else [1] * len(tasks)
    bar = _bar(sum(weights), description) if progress_bar else None
    results: list[Any] = [None] * len(tasks)

    def done(index: int, result: Any) -> None:
        results[index] = result
        if bar is not None:
            bar.update(weights[index])

    try:
        if not tasks:
            return results
        if sequential:
            for index, task in enumerate(tasks):
                try:
                    result = function(task)
                except Exception as exc:
                    raise RatenetError(f"{owner}: run {index} failed: {_describe(exc)}") from exc
                done(index, result)
        elif client is not None:
            _on_cluster(function, tasks, client, owner, done)
        else:
            _on_processes(function, tasks, max_processes, owner, done)
    finally:
        if bar is not None:
            bar.close()
    return results


def _bar(total: int, description: str) -> Any:
    from tqdm.auto import tqdm  # lazily: importing tqdm costs time that most scripts never need

    return tqdm(total=total, desc=description, unit="run" if description == "runs" else "point", dynamic_ncols=True)


def _on_processes(function: Callable[[Any], Any], tasks: list[Any], max_processes: int, owner: str,
                  done: Callable[[int, Any], None]) -> None:
    method = start_method()
    workers = min(len(tasks), os.cpu_count() or 1) if max_processes == -1 else min(len(tasks), max_processes)
    token = None
    if method == "fork":
        with _LOCK:
            token = next(_TOKENS)
            _CONTEXTS[token] = (function, tasks)
    else:
        for task in tasks:
            try:
                pickle.dumps((function, task))
            except Exception as exc:  # noqa: BLE001 - pickling raises many kinds of errors
                raise _not_sent(owner, exc, f"worker processes started with '{method}' (not forked)") from exc
    import multiprocessing  # see start_method
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    todo = list(range(len(tasks)))
    losses = 0
    try:
        while todo:
            finished_ok: set[int] = set()
            broken = False
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
                if token is not None:
                    futures = {pool.submit(_call_inherited, token, i): i for i in todo}
                else:
                    futures = {pool.submit(function, tasks[i]): i for i in todo}
                pending: set[Future] = set(futures)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in sorted(finished, key=futures.__getitem__):
                        index = futures[future]
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            broken = True  # every run in flight is lost with it: they go again
                            continue
                        except Exception as exc:
                            _cancel(pending)
                            raise _failed(owner, index, exc) from exc
                        done(index, result)
                        finished_ok.add(index)
            todo = [i for i in todo if i not in finished_ok]
            if broken:
                losses += 1
                if losses > LOCAL_RETRIES:
                    raise RatenetError(f"{owner}: worker processes died {losses} times (killed, or out of memory); "
                                       f"{len(todo)} runs are not done (the first: run {todo[0]})")
    finally:
        if token is not None:
            with _LOCK:
                del _CONTEXTS[token]


def _cancel(pending: set[Future]) -> None:
    for future in pending:
        future.cancel()


def _failed(owner: str, index: int, exc: BaseException) -> RatenetError:
    text = str(exc)
    # Python 3.13 reports an unpicklable local function as AttributeError("Can't get local object ...")
    if isinstance(exc, pickle.PicklingError) or "pickle" in text.lower() or "can't get local object" in text.lower():
        return RatenetError(f"{owner}: the result of run {index} cannot be sent back ({_describe(exc)}); return "
                            "arrays and plain values (monitor data, rates), not networks, populations or functions")
    return RatenetError(f"{owner}: run {index} failed: {_describe(exc)}")


class _Box:
    """A task's argument, opaque to Dask (which would run a tuple that starts with a function as a task of its own)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _call_boxed(function: Callable[[Any], Any], box: _Box) -> Any:
    return function(box.value)


def _on_cluster(function: Callable[[Any], Any], tasks: list[Any], client: Any, owner: str,
                done: Callable[[int, Any], None]) -> None:
    try:
        from distributed import as_completed
        from distributed.protocol.pickle import dumps
    except ImportError:  # pragma: no cover - a client exists only where distributed is installed
        raise RatenetError(f"{owner}: client= needs dask.distributed: pip install 'ratenet[distributed]'") from None
    if not hasattr(client, "submit"):
        raise ValidationError(owner, "client", "must be a dask.distributed.Client", got=client)
    for task in tasks:
        try:
            dumps((function, task))
        except Exception as exc:  # noqa: BLE001 - pickling raises many kinds of errors
            raise _not_sent(owner, exc, "the Dask cluster") from exc
    futures = [client.submit(_call_boxed, function, _Box(task), pure=False) for task in tasks]
    index_of = {future.key: i for i, future in enumerate(futures)}
    try:
        for future in as_completed(futures):
            index = index_of[future.key]
            try:
                result = future.result()
            except Exception as exc:
                raise _failed(owner, index, exc) from exc
            done(index, result)
            future.release()
    finally:
        client.cancel([f for f in futures if not f.done()])


# ---------------------------------------------------------------- arguments and seeds
def _per_run(owner: str, name: str, value: Any, number: int, strict: bool) -> list[Any]:
    """One value per run: a list (tuple, 1-D array) of ``number`` values, or (not strict) one value shared."""
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        if len(value) != number:
            raise ValidationError(owner, name, f"must hold one value per run ({number})",
                                  got=f"{len(value)} values", got_repr=False)
        return list(value)
    if strict:
        raise ValidationError(owner, name, f"must be a list of one value per run ({number}), as in ANNarchy 4.x "
                                           "(annarchy=False shares a single value between the runs)", got=value)
    return [value] * number


def _split_arguments(owner: str, args: dict[str, Any], number: int, strict: bool) -> list[dict[str, Any]]:
    per_run = {name: _per_run(owner, name, value, number, strict) for name, value in args.items()}
    return [{name: values[i] for name, values in per_run.items()} for i in range(number)]


def _check_method_parameters(owner: str, method: Callable[..., Any], fixed: int, given: Sequence[str]) -> None:
    """ANNarchy 4.x: the method's parameters after ``idx`` and ``net`` are exactly the extra arguments."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return  # a builtin without a signature: nothing to check
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < fixed:
        raise ValidationError(owner, "method", f"must take {'idx and net' if fixed == 2 else 'net'} as its first "
                                               f"argument{'s' if fixed == 2 else ''}",
                              got=f"{getattr(method, '__name__', method)}{inspect.signature(method)}", got_repr=False)
    names = [p.name for p in params[fixed:] if p.kind != p.VAR_POSITIONAL]
    required = [p.name for p in params[fixed:] if p.default is p.empty and p.kind != p.VAR_POSITIONAL]
    unknown = [name for name in given if name not in names]
    missing = [name for name in required if name not in given]
    if unknown or missing:
        what = "; ".join(filter(None, [f"unknown: {', '.join(unknown)}" if unknown else "",
                                       f"missing: {', '.join(missing)}" if missing else ""]))
        raise ValidationError(owner, "args", f"must name the parameters of {getattr(method, '__name__', 'method')} "
                                             f"after its first {fixed} ({', '.join(names) or 'none'}); {what}")


def _check_network(owner: str, name: str, net: Any) -> None:
    if not isinstance(getattr(net, "registry", None), Registry):
        raise ValidationError(owner, name, "must be a ratenet Network", got=type(net).__name__, got_repr=False)


def _report_time(measure_time: bool, start: float, number: int, sequential: bool) -> None:
    if measure_time:
        how = "sequentially" if sequential else "in parallel"
        print(f"Running {number} networks {how} took {time.perf_counter() - start:.3f} s.")


# ---------------------------------------------------------------- 4.x: parallel_run
def _run_inherited_copy(task: tuple[Callable[..., Any], int, int, dict[str, Any]]) -> Any:
    """A run on this (forked) process's own copy of the default network, reseeded."""
    method, idx, seed, kwargs = task
    net = default_network()
    net.setup(seed=seed)
    return method(idx, net, **kwargs)


def _run_on_network(task: tuple[Callable[..., Any], int, Any, dict[str, Any]]) -> Any:
    method, idx, net, kwargs = task
    return method(idx, net, **kwargs)


def _sendable(exc: BaseException) -> BaseException:
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - an exception holding what does not pickle
        return RuntimeError(_describe(exc))
    return exc


def _in_own_fork(function: Callable[[Any], Any], task: Any) -> Any:
    """``function(task)`` in a process forked for this call alone, so that no run sees what another changed.

    A worker process runs several runs one after the other; each gets a fresh
    fork of the worker, whose copy of the networks no run has touched.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked process (coverage does not follow it)
        os.close(read_end)
        try:
            try:
                payload = pickle.dumps((True, function(task)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - everything goes back to the caller
                payload = pickle.dumps((False, _sendable(exc)), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        payload = source.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        raise RatenetError(f"the process of the run died before it returned (wait status {status})")
    ok, value = pickle.loads(payload)
    if ok:
        return value
    raise value


def _run_copy_in_own_fork(task: Any) -> Any:
    return _in_own_fork(_run_inherited_copy, task)


def _run_network_in_own_fork(task: Any) -> Any:
    return _in_own_fork(_run_on_network, task)


def parallel_run(method: Callable[..., Any], networks: Sequence[Any] | None = None, number: int = 0,
                 max_processes: int = -1, measure_time: bool = False, sequential: bool = False,
                 same_seed: bool = False, annarchy: bool = True, client: Any = None, progress_bar: bool = False,
                 **args: Any) -> list[Any]:
    """Run ``method(idx, net, **extra)`` on copies of the default network or on given networks, in processes.

    ANNarchy 4.x's ``parallel_run``.  With ``number=N``, each run ``idx``
    (0..N-1) gets a copy of the default network, taken as it is when
    ``parallel_run`` is called (its state, time and connectivity included), with
    a seed of its own.  With ``networks=[...]``, run ``idx`` gets
    ``networks[idx]`` (a copy in the worker: the networks here are not changed).
    Returns the values ``method`` returned, in the order of the runs.

    Parameters
    ----------
    method : callable
        ``method(idx, net, **extra)``; what it returns comes back (pickled).
    networks : list of Network, optional
        Run ``method`` on each.
    number : int
        Number of copies of the default network (when ``networks`` is not given).
    max_processes : int
        Worker processes at most (-1: one per core).
    measure_time : bool
        Print the time the runs took.
    sequential : bool
        Run one after the other: in one worker process for copies of the
        default network (so results equal a parallel run's), in this process
        on the given ``networks``.  (ANNarchy 4.8 passes idx 0 to every
        sequential run; here each run gets its own idx.)
    same_seed : bool
        Give every copy the default network's seed (or one fresh seed when it
        has none).  Otherwise run ``idx`` gets :func:`derive_seed` ``(seed,
        idx)``: distinct, and reproducible when the default network has a
        seed.  (ANNarchy 4.8 seeds every copy with 0 here.)  The seeds of
        given ``networks`` are left alone.
    annarchy : bool
        True: ANNarchy 4.x's rules for ``args``: each is a list of one value
        per run, and they name exactly the parameters of ``method`` after
        ``idx`` and ``net``.  False: ANNarchy 5.x's: a list gives one value per
        run, any other value is shared by all runs.
    client : dask.distributed.Client, optional
        Send the runs to a Dask cluster; the networks must then be rebuilt
        there, so ``networks`` must be instances of a :class:`Network`
        subclass (see :meth:`Network.parallel_run <ratenet.Network.parallel_run>`).
    progress_bar : bool
        A tqdm bar counting finished runs.
    **args
        Extra arguments of ``method``, one value per run.

    Returns
    -------
    list
        ``method``'s results, in run order.

    Raises
    ------
    ValidationError
        Neither ``number`` nor ``networks``, arguments that do not fit ``method``.
    RatenetError
        A run failed (the message names it and the error), or its result
        cannot be sent back.

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Neuron, Population, clear, parallel_run, setup
    >>> clear(); setup(seed=1)
    >>> pop = Population(3, Neuron(parameters="tau = 10.0 : population", equations="tau * dr/dt + r = 1.0"))
    >>> def run(idx, net, tau):
    ...     pop.tau = tau        # the copy of pop that lives in this run's network
    ...     net.simulate(10.0)
    ...     return float(pop.r[0])
    >>> [round(r, 4) for r in parallel_run(run, number=2, tau=[5.0, 20.0])]
    [0.8926, 0.4013]
    """
    owner = "parallel_run"
    start = time.perf_counter()
    if not callable(method):
        raise ValidationError(owner, "method", "must be a function (idx, net, ...)", got=method)
    check_processes(owner, max_processes)
    if networks is not None:
        if isinstance(networks, (str, bytes)) or not isinstance(networks, Sequence) or not networks:
            raise ValidationError(owner, "networks", "must be a non-empty list of networks", got=networks)
        for i, net in enumerate(networks):
            _check_network(owner, f"networks[{i}]", net)
        count = len(networks)
    else:
        if isinstance(number, bool) or not isinstance(number, numbers.Integral) or number < 1:
            raise ValidationError(owner, "number", "must be a positive number of runs when networks is not given",
                                  got=number)
        count = int(number)
    if annarchy:
        _check_method_parameters(owner, method, 2, list(args))
    per_run = _split_arguments(owner, args, count, strict=annarchy)

    if networks is not None:
        if client is not None or (not sequential and start_method() != "fork"):
            rebuilt = [_recipe(owner, f"networks[{i}]", net) for i, net in enumerate(networks)]
            tasks: list[Any] = [(method, i, recipe, per_run[i]) for i, recipe in enumerate(rebuilt)]
            function: Callable[[Any], Any] = _run_on_rebuilt
        else:
            tasks = [(method, i, net, per_run[i]) for i, net in enumerate(networks)]
            function = _run_on_network if sequential else _run_network_in_own_fork
        results = execute(function, tasks, max_processes=max_processes, client=client, sequential=sequential,
                          progress_bar=progress_bar, owner=owner)
    else:
        if client is not None or start_method() != "fork":
            where = "a Dask cluster" if client is not None else f"processes started with '{start_method()}'"
            raise RatenetError(f"{owner}: copies of the default network can only reach forked worker processes "
                               f"(Linux), not {where}: build the network in a Network subclass and call "
                               "net.parallel_run(method, number), or use ratenet.sweep")
        net = default_network()
        master = net.seed if net.seed is not None else fresh_seed()
        seeds = [master] * count if same_seed else [derive_seed(master, i) for i in range(count)]
        tasks = [(method, i, seeds[i], per_run[i]) for i in range(count)]
        results = execute(_run_copy_in_own_fork, tasks, max_processes=1 if sequential else max_processes,
                          progress_bar=progress_bar, owner=owner)
    _report_time(measure_time, start, count, sequential)
    return results


# ---------------------------------------------------------------- 5.x: net.parallel_run
def _constructor_arguments(owner: str, net: Any, name: str = "network") -> tuple[type, dict[str, Any]]:
    """The class of ``net`` and the arguments of its constructor by name (positional ones named from the signature)."""
    cls = type(net)
    recorded = getattr(net, "init_args", None)
    # Network derives from object directly: below it, a class of its own must define __init__ (and build there)
    if recorded is None or not any("__init__" in vars(klass) for klass in cls.__mro__[:-2]):
        raise ValidationError(owner, name, "cannot be rebuilt in another process: only an instance of a "
                                           "Network subclass whose __init__ builds the network can",
                              got=cls.__name__, got_repr=False)
    if isinstance(recorded, dict):
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = dict(recorded)
    else:
        args, kwargs = tuple(recorded[0]), dict(recorded[1])
    params = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    named: dict[str, Any] = {p.name: p.default for p in params if p.default is not p.empty}
    if len(args) > len(params):
        raise ValidationError(owner, name, f"was built with {len(args)} positional arguments, more than "
                                                f"{cls.__name__}.__init__ names", got_repr=False)
    named.update({p.name: arg for p, arg in zip(params, args)})
    named.update(kwargs)
    named.pop("dt", None)
    named.pop("seed", None)
    return cls, named


def _recipe(owner: str, name: str, net: Any) -> tuple[type, dict[str, Any], float, int | None]:
    cls, named = _constructor_arguments(owner, net, name)
    return cls, named, net.dt, net.seed


def _rebuild(recipe: tuple[type, dict[str, Any], float, int | None]) -> Any:
    cls, named, dt, seed = recipe
    return cls(**named, dt=dt, seed=seed)


def _run_on_rebuilt(task: tuple[Callable[..., Any], int, Any, dict[str, Any]]) -> Any:
    method, idx, recipe, kwargs = task
    return method(idx, _rebuild(recipe), **kwargs)


def _run_rebuilt_5(task: tuple[Callable[..., Any], Any, dict[str, Any]]) -> Any:
    method, recipe, kwargs = task
    return method(_rebuild(recipe), **kwargs)


def network_parallel_run(net: Any, base: type, method: Callable[..., Any], number: int, max_processes: int = -1,
                         seeds: int | str | Sequence[int] | None = None, measure_time: bool = False,
                         client: Any = None, progress_bar: bool = False, **kwargs: Any) -> list[Any]:
    """The work of :meth:`Network.parallel_run <ratenet.Network.parallel_run>` (ANNarchy 5.x) for ``net``.

    ``base`` is the :class:`~ratenet.Network` class itself, which cannot be
    rebuilt from constructor arguments (only a subclass can).
    """
    owner = "Network.parallel_run"
    start = time.perf_counter()
    if type(net) is base:
        raise ValidationError(owner, "network", "must be an instance of a class deriving from Network (class "
                                                "MyNet(Network) whose __init__ builds it), not Network itself: each "
                                                "run rebuilds the network from its class and constructor arguments",
                              got=type(net).__name__, got_repr=False)
    if not callable(method):
        raise ValidationError(owner, "method", "must be a function (net, ...)", got=method)
    if isinstance(number, bool) or not isinstance(number, numbers.Integral) or number < 1:
        raise ValidationError(owner, "number", "must be a positive number of runs", got=number)
    check_processes(owner, max_processes)
    cls, named = _constructor_arguments(owner, net)
    own = net.seed
    if seeds is None:
        master = own if own is not None else fresh_seed()
        run_seeds = [derive_seed(master, i) for i in range(number)]
    elif isinstance(seeds, str):
        if seeds not in ("same", "sequential"):
            raise ValidationError(owner, "seeds", "must be None, 'same', 'sequential' or a list of seeds", got=seeds)
        if seeds == "sequential" and own is None:
            raise ValidationError(owner, "seeds", "'sequential' counts from the network's seed, and it has none: "
                                                  "create it with seed=", got=seeds)
        if seeds == "same":
            same = own if own is not None else fresh_seed()
            run_seeds = [same] * number
        else:
            run_seeds = [own + i + 1 for i in range(number)]
    else:
        run_seeds = _per_run(owner, "seeds", seeds, number, strict=True)
        for value in run_seeds:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValidationError(owner, "seeds", "must hold non-negative integers", got=value)
    to_constructor = {k: v for k, v in kwargs.items() if k in named}
    to_method = {k: v for k, v in kwargs.items() if k not in named}
    ctor_runs = _split_arguments(owner, to_constructor, number, strict=False)
    method_runs = _split_arguments(owner, to_method, number, strict=False)
    tasks = [(method, (cls, {**named, **ctor_runs[i]}, net.dt, int(run_seeds[i])), method_runs[i])
             for i in range(number)]
    results = execute(_run_rebuilt_5, tasks, max_processes=max_processes, client=client, progress_bar=progress_bar,
                      owner=owner)
    _report_time(measure_time, start, number, False)
    return results


def chunks(count: int, size: int) -> list[range]:
    """Consecutive ranges of at most ``size`` of ``range(count)``.

    Examples
    --------
    >>> chunks(7, 3)
    [range(0, 3), range(3, 6), range(6, 7)]
    """
    return [range(start, min(start + size, count)) for start in range(0, count, size)]
