"""The module-level API (ANNarchy 4.x style): functions acting on the default network.

Every function here calls the method of the same name of
:func:`default_network`; :func:`clear` replaces that network with a fresh one.
The examples share one short script: a population whose rate is the time,
built after ``clear()``.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .exceptions import ValidationError
from .network import Network
from .neurons import forget_definitions
from .registry import default_network, set_default_network

if TYPE_CHECKING:  # pragma: no cover
    from .monitor import Monitor
    from .population import Population
    from .projections.projection import Projection

__all__ = [
    "default_network",
    "setup",
    "clear",
    "compile",
    "simulate",
    "simulate_until",
    "step",
    "reset",
    "get_time",
    "set_time",
    "get_current_step",
    "set_current_step",
    "dt",
    "enable_learning",
    "disable_learning",
    "get_population",
    "get_projection",
    "populations",
    "projections",
    "monitors",
    "save",
    "load",
    "set_seed",
    "every",
    "enable_callbacks",
    "disable_callbacks",
    "clear_all_callbacks",
    "callbacks_enabled",
]


def setup(**kwargs: Any) -> None:
    """Configure the default network: ``dt``, ``seed``, ``dtype``, ``precision``, ``num_threads``, ``check_finite``,
    ``reference`` (see :class:`~ratenet.Network`).

    Examples
    --------
    >>> from ratenet import clear, dt, setup
    >>> clear(); setup(dt=0.1, seed=42)
    >>> dt()
    0.1
    """
    default_network().setup(**kwargs)


def clear() -> None:
    """Start a fresh default network (dt = 1.0, no seed) and forget constants and added functions.

    ANNarchy keeps the values given to ``setup()`` across ``clear()``; ratenet
    restores the defaults, so a script's result never depends on what ran
    before it.

    Examples
    --------
    >>> from ratenet import clear, dt, setup
    >>> setup(dt=0.5); clear(); dt()
    1.0
    """
    fresh = Network(dt=1.0)
    fresh.setup(seed=None)  # not the seed of the network it replaces
    set_default_network(fresh)
    forget_definitions()


def compile(*args: Any, **kwargs: Any) -> None:  # noqa: A001 - ANNarchy's name, expected by ported scripts
    """Check the default network and build its step plan (no compiler is involved).

    Optional: ``simulate`` does it when needed.  ANNarchy's arguments
    (``directory``, ``clean``...) are accepted and ignored.

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, compile
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> compile()
    """
    default_network().compile(*args, **kwargs)


def simulate(duration: float, measure_time: bool = False, progress_bar: bool = False, callbacks: bool = True) -> None:
    """Simulate the default network for ``duration`` ms (``ceil(duration / dt)`` steps).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_time, simulate
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> simulate(3.0); get_time(), pop.r.tolist()
    (3.0, [2.0, 2.0])
    """
    default_network().simulate(duration, measure_time=measure_time, progress_bar=progress_bar, callbacks=callbacks)


def simulate_until(max_duration: float, population: Any, operator: str = "and", measure_time: bool = False,
                   progress_bar: bool = False) -> float:
    """Simulate until the populations' stop conditions hold; returns the simulated time (ms).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, simulate_until
    >>> clear(); pop = Population(2, Neuron(equations="r = t"), stop_condition="r > 4 : any")
    >>> simulate_until(100.0, pop)
    6.0
    """
    return default_network().simulate_until(max_duration, population, operator, measure_time, progress_bar)


def step() -> None:
    """Simulate one step of the default network.

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_current_step, step
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> step(); step(); get_current_step()
    2
    """
    default_network().step()


def reset(populations: bool = True, projections: bool = False, synapses: bool = False, monitors: bool = True,
          reseed_rng: bool = False) -> None:
    """Return the default network to time 0 and compile-time values (see :meth:`Network.reset`).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_time, reset, simulate
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> simulate(5.0); reset(); get_time(), pop.r.tolist()
    (0.0, [0.0, 0.0])
    """
    default_network().reset(populations, projections, synapses, monitors, reseed_rng)


def get_time() -> float:
    """Current time of the default network, in ms.

    Examples
    --------
    >>> from ratenet import clear, get_time, setup, step
    >>> clear(); setup(dt=0.25); step(); get_time()
    0.25
    """
    return default_network().get_time()


def set_time(t: float, net_id: int = 0) -> None:
    """Set the current time of the default network (a whole number of steps).

    Examples
    --------
    >>> from ratenet import clear, get_current_step, set_time
    >>> clear(); set_time(10.0); get_current_step()
    10
    """
    default_network().set_time(t)


def get_current_step() -> int:
    """Steps simulated by the default network since time 0.

    Examples
    --------
    >>> from ratenet import clear, get_current_step, simulate
    >>> clear(); simulate(4.0); get_current_step()
    4
    """
    return default_network().get_current_step()


def set_current_step(step: int, net_id: int = 0) -> None:
    """Set the step counter of the default network.

    Examples
    --------
    >>> from ratenet import clear, get_time, set_current_step
    >>> clear(); set_current_step(7); get_time()
    7.0
    """
    default_network().set_current_step(step)


def dt() -> float:
    """Step size of the default network, in ms.

    Examples
    --------
    >>> from ratenet import clear, dt
    >>> clear(); dt()
    1.0
    """
    return default_network().dt


def enable_learning(projections: Iterable["Projection"] | None = None, period: float | None = None,
                    offset: float | None = None) -> None:
    """Enable learning of plastic projections of the default network (all by default).

    Examples
    --------
    >>> from ratenet import Hebb, Neuron, Population, Projection, clear, disable_learning, enable_learning
    >>> clear()
    >>> a, b = Population(2, Neuron(parameters="r = 1.0")), Population(2, Neuron(equations="r = sum(exc)"))
    >>> proj = Projection(a, b, "exc", Hebb()).connect_all_to_all(0.5)
    >>> disable_learning(); proj.learning
    False
    >>> enable_learning(); proj.learning
    True
    """
    default_network().enable_learning(projections, period, offset)


def disable_learning(projections: Iterable["Projection"] | None = None) -> None:
    """Disable learning in the default network (see :func:`enable_learning`)."""
    default_network().disable_learning(projections)


def get_population(name: str) -> "Population":
    """The population of the default network with this name.

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_population
    >>> clear(); pop = Population(2, Neuron(equations="r = t"), name="clock")
    >>> get_population("clock") is pop
    True
    """
    return default_network().get_population(name)


def get_projection(name: str) -> "Projection":
    """The projection of the default network with this name (see :func:`get_population`)."""
    return default_network().get_projection(name)


def populations(net_id: int = 0) -> list["Population"]:
    """The default network's populations (see :func:`default_network`)."""
    return list(default_network().populations)


def projections(net_id: int = 0, post: Any = None, pre: Any = None, target: str | None = None,
                suppress_error: bool = False) -> list["Projection"]:
    """The default network's projections, optionally only those with this post, pre or target.

    Examples
    --------
    >>> import ratenet
    >>> from ratenet import Neuron, Population, Projection, clear
    >>> clear()
    >>> a, b = Population(2, Neuron(parameters="r = 1.0")), Population(2, Neuron(equations="r = sum(exc)"))
    >>> proj = Projection(a, b, "exc").connect_one_to_one(1.0)
    >>> ratenet.projections(target="exc") == [proj], ratenet.projections(target="inh")
    (True, [])
    """
    return default_network().get_projections(post=post, pre=pre, target=target)


def monitors(net_id: int = 0) -> list["Monitor"]:
    """The default network's monitors (see :func:`default_network`)."""
    return list(default_network().monitors)


def save(filename: str | os.PathLike[str], populations: bool = True, projections: bool = True,
         net: "Network | None" = None) -> None:
    """Save the state of a network (the default one unless ``net``) to an ``.npz`` file.

    Examples
    --------
    >>> import os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(3, Neuron(parameters="r = 0.0"), name="inp")
    >>> pop.r = [1.0, 2.0, 3.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
    >>> save(path, net=net); pop.r = 0.0
    >>> load(path, net=net); pop.r.tolist()
    [1.0, 2.0, 3.0]
    """
    (net or default_network()).save(filename, populations, projections)


def load(filename: str | os.PathLike[str], populations: bool = True, projections: bool = True,
         net: "Network | None" = None) -> None:
    """Load a state written by :func:`save` into a network of the same structure.

    Raises
    ------
    ValidationError
        If populations, projections, geometries or attributes differ (nothing
        is changed then).
    """
    (net or default_network()).load(filename, populations, projections)


def set_seed(seed: int, use_seed_seq: bool = True, net_id: int = 0) -> None:
    """Seed the default network's random generator (ANNarchy 4.x's name for ``setup(seed=...)``).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, set_seed, simulate
    >>> clear(); pop = Population(3, Neuron(equations="r = Normal(0, 1)"))
    >>> set_seed(7); simulate(1.0); first = pop.r
    >>> set_seed(7); simulate(1.0); bool((pop.r == first).all())
    True
    """
    default_network().set_seed(seed, use_seed_seq)


def _whole_steps(value: Any, dt: float, name: str, owner: str = "every") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValidationError(owner, name, "must be a number of ms", got=value)
    ratio = float(value) / dt
    steps = round(ratio)
    if abs(ratio - steps) > 1e-9 * max(1.0, abs(steps)):
        raise ValidationError(owner, name, f"must be a multiple of dt = {dt:g} ms", got=value)
    return int(steps)


class every:  # noqa: N801 - ANNarchy's name, used as a decorator
    """Call a function periodically during ``simulate``: ``@every(period=100.0)`` above ``def f(n)``.

    The function is called with ``n`` = 0, 1, 2... (counted anew at each
    ``simulate`` call) **before** the steps at times ``t0 + wait + offset +
    n * period``, where ``t0`` is the time when ``simulate`` was called; the
    network runs up to that time, the function runs (it may change inputs,
    weights...), then the simulation continues.  Callbacks falling on the
    same step run in the order they were declared.

    Both ANNarchy forms work: 4.x ``@every(period, offset=0.0, wait=0.0)``
    (on the default network) and 5.x ``@every(network=net, period=1.0,
    offset=0.0, wait=0.0)``.

    Parameters
    ----------
    network : Network, optional
        The network whose ``simulate`` calls the function; the default one
        when omitted.  (A number in this place is the period, as in 4.x.)
    period : float
        ms between two calls, a multiple of dt (a period below dt means every
        step, as in ANNarchy).
    offset : float
        Delay of the first call within the period (a multiple of dt, at most
        ``period``); a negative offset counts from the end of the period.
    wait : float
        ms before the first period starts (a multiple of dt, ≥ 0).

    Examples
    --------
    >>> from ratenet import Network, Neuron, every
    >>> net = Network()
    >>> pop = net.create(1, Neuron(parameters="r = 0.0"))
    >>> seen = []
    >>> @every(network=net, period=3.0, offset=1.0)
    ... def record(n):
    ...     seen.append((n, net.get_time()))
    >>> net.simulate(10.0); seen
    [(0, 1.0), (1, 4.0), (2, 7.0)]
    >>> net.disable_callbacks(); net.simulate(10.0); len(seen)
    3
    """

    def __init__(self, network: Any = None, period: float | None = None, offset: float = 0.0, wait: float = 0.0,
                 net_id: int = 0) -> None:
        if isinstance(network, numbers.Real) and not isinstance(network, bool):  # 4.x: every(period, ...)
            if period is not None:
                raise ValidationError("every", "period", "is given twice (positionally and by keyword)")
            network, period = None, network
        if network is None:
            network = default_network()
        if not isinstance(network, Network):
            raise ValidationError("every", "network", "must be a Network", got=network)
        self.network = network
        self.period = 1.0 if period is None else period
        self.offset = offset
        self.wait = wait
        self.func: Callable[[int], Any] | None = None
        self.steps(network.dt)  # refuse a bad timing when it is declared

    def steps(self, dt: float) -> tuple[int, int, int]:
        """Period, offset and wait in steps of ``dt`` (what ``Network.simulate`` uses).

        Raises
        ------
        ValidationError
            When one of them is not a multiple of ``dt``, or ``wait`` is negative.
        """
        if isinstance(self.period, numbers.Real) and not isinstance(self.period, bool) and 0 <= self.period < dt:
            period = 1
        else:
            period = _whole_steps(self.period, dt, "period")
            if period <= 0:
                raise ValidationError("every", "period", "must be positive", got=self.period)
        offset = min(_whole_steps(self.offset, dt, "offset"), period) % period
        wait = _whole_steps(self.wait, dt, "wait")
        if wait < 0:
            raise ValidationError("every", "wait", "must be >= 0", got=self.wait)
        return period, offset, wait

    def __call__(self, func: Callable[[int], Any]) -> Callable[[int], Any]:
        if not callable(func):
            raise ValidationError("every", "function", "must be callable", got=func)
        self.func = func
        self.network.add_callback(self)
        return func


def enable_callbacks(net_id: int = 0) -> None:
    """Let the default network's ``simulate`` call its callbacks again (see :class:`every`)."""
    default_network().enable_callbacks()


def disable_callbacks(net_id: int = 0) -> None:
    """Simulate the default network without calling its callbacks (see :class:`every`)."""
    default_network().disable_callbacks()


def clear_all_callbacks(net_id: int = 0) -> None:
    """Forget the default network's callbacks (see :class:`every`)."""
    default_network().clear_all_callbacks()


def callbacks_enabled(net_id: int = 0) -> bool:
    """Whether the default network's ``simulate`` calls its callbacks.

    Examples
    --------
    >>> from ratenet import callbacks_enabled, clear, disable_callbacks, enable_callbacks
    >>> clear(); disable_callbacks(); callbacks_enabled()
    False
    >>> enable_callbacks(); callbacks_enabled()
    True
    """
    return default_network().callbacks_enabled()
