"""What populations, projections and monitors need from their network, and the default network.

This module is the bottom layer of the object model: populations, projections
and monitors import it (never ``ratenet.network``).  They are handed a
network, and register with it through its :class:`Registry`: a unique name,
their :mod:`state record <ratenet.state>` (what the step plan reads and
writes), and a note when they change the structure of the network (which
means the step plan must be built again).

The :class:`Clock` holds the step counter and the time array that generated
code reads as ``t``.  The default network lives in a slot that
:mod:`ratenet.network` fills when it is imported; :func:`ratenet.clear`
replaces it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .exceptions import ValidationError

__all__ = ["Clock", "Registry", "default_network", "has_default_network", "set_default_network"]


class Clock:
    """The step counter and the time (ms) that generated code reads as ``t``.

    ``t`` is a 0-d array updated in place before each step, so functions
    compiled once keep reading the current time.

    Examples
    --------
    >>> clock = Clock()
    >>> clock.step, float(clock.t)
    (0, 0.0)
    """

    __slots__ = ("step", "t")

    def __init__(self) -> None:
        self.step = 0
        self.t = np.zeros((), dtype=np.float64)


class Registry:
    """The objects of one network, their names and state records, and the version of its structure.

    ``structure`` counts the changes that require a new step plan (an object
    added, synapses created, learning switched on...); the network compares
    it with the value its plan was built for.

    Examples
    --------
    >>> registry = Registry()
    >>> registry.unique_name(None, "pop"), registry.unique_name("input", "pop")
    ('pop0', 'input')
    >>> registry.unique_name("input", "pop")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Population.name: is already used in this network (got 'input')
    """

    def __init__(self) -> None:
        self.populations: list[Any] = []
        self.projections: list[Any] = []
        self.monitors: list[Any] = []
        self.clock = Clock()
        self.structure = 0
        self.names: set[str] = set()
        self.counter = 0
        self.states: dict[int, Any] = {}
        self.recorders: dict[int, Any] = {}
        #: Called with each population about to be added (the network warns there about re-run cells).
        self.adding: Callable[[Any], None] | None = None

    # ----------------------------------------------------------------- names
    def unique_name(self, name: str | None, prefix: str) -> str:
        """Reserve ``name`` (or a fresh ``<prefix><n>`` when None); a taken name is an error."""
        if name is None:
            while True:
                candidate = f"{prefix}{self.counter}"
                self.counter += 1
                if candidate not in self.names:
                    break
            name = candidate
        elif name in self.names:
            owner = {"pop": "Population", "proj": "Projection"}.get(prefix, "Monitor")
            hint = ("; if you ran the cell that builds the network again, call clear() at its top to start a "
                    "fresh default network") if _DEFAULT and _DEFAULT[0].registry is self else ""
            raise ValidationError(owner, "name", f"is already used in this network{hint}", got=name)
        self.names.add(name)
        return name

    def release_name(self, name: str) -> None:
        """Free a name (an object that failed to build, or that left for another network)."""
        self.names.discard(name)

    # --------------------------------------------------------------- objects
    def add_population(self, population: Any, state: Any) -> None:
        """Register a population and the state record the plan uses."""
        if self.adding is not None:
            self.adding(population)
        self.populations.append(population)
        self.states[id(population)] = state
        self.structure_changed()

    def remove_population(self, population: Any) -> None:
        self.populations.remove(population)
        self.states.pop(id(population), None)
        self.release_name(population.name)
        self.structure_changed()

    def add_projection(self, projection: Any, state: Any) -> None:
        """Register a projection and its state record."""
        self.projections.append(projection)
        self.states[id(projection)] = state
        self.structure_changed()

    def add_monitor(self, monitor: Any, recorder: Any) -> None:
        """Register a monitor; ``recorder()`` returns the function that takes one sample."""
        self.monitors.append(monitor)
        self.recorders[id(monitor)] = recorder
        self.structure_changed()

    def state(self, obj: Any) -> Any:
        """The state record of a population or projection of this network (a view gives its population's)."""
        return self.states[id(getattr(obj, "population", obj))]

    def recorder(self, monitor: Any) -> Any:
        return self.recorders[id(monitor)]

    def structure_changed(self) -> None:
        """Note a change that the step plan must be rebuilt for."""
        self.structure += 1


_DEFAULT: list[Any] = []


def default_network() -> Any:
    """The network that module-level functions and constructors use.

    Examples
    --------
    >>> from ratenet import Population, Neuron, clear, default_network
    >>> clear()
    >>> pop = Population(2, Neuron(equations="r = t"))
    >>> default_network().populations == [pop]
    True
    """
    return _DEFAULT[0]


def has_default_network() -> bool:
    """Whether the default network exists yet (not while ``ratenet.network`` is being imported)."""
    return bool(_DEFAULT)


def set_default_network(network: Any) -> None:
    """Make ``network`` the default one (``ratenet.network`` does it on import, ``clear()`` after)."""
    _DEFAULT[:] = [network]
