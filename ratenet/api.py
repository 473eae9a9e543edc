"""The module-level API (ANNarchy 4.x style): functions acting on the default network.

Every function here calls the method of the same name of
:func:`default_network`; :func:`clear` replaces that network with a fresh one.
The examples share one short script: a population whose rate is the time,
built after ``clear()``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable

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
    set_default_network(Network())
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
    default_network().simulate(duration, measure_time=measure_time, progress_bar=progress_bar)


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


def reset(populations: bool = True, projections: bool = False, synapses: bool = False, monitors: bool = True) -> None:
    """Return the default network to time 0 and compile-time values (see :meth:`Network.reset`).

    Examples
    --------
    >>> from ratenet import Neuron, Population, clear, get_time, reset, simulate
    >>> clear(); pop = Population(2, Neuron(equations="r = t"))
    >>> simulate(5.0); reset(); get_time(), pop.r.tolist()
    (0.0, [0.0, 0.0])
    """
    default_network().reset(populations, projections, synapses, monitors)


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
