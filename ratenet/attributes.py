"""ANNarchy 5's model objects: :class:`Parameter`, :class:`Variable`, :class:`Creating`, :class:`Pruning`.

ANNarchy 5 describes a model with objects instead of (or mixed with) the 4.x
strings::

    Neuron(parameters={"tau": Parameter(10.0), "b": Parameter(0.0, locality="local")},
           equations=[Variable("tau * dr/dt + r = sum(exc) + b", min=0.0)])

is the same model as::

    Neuron(parameters="tau = 10.0 : population\\nb = 0.0",
           equations="tau * dr/dt + r = sum(exc) + b : min=0.0")

The objects only hold and check their arguments; the equation parser
(:mod:`ratenet.equations`) turns them into the same records as the strings.

Localities use ANNarchy 5's words: ``"global"`` is one value for the whole
population (a neuron's ``population`` flag) or projection (a synapse's
``projection`` flag), ``"semiglobal"`` one value per post-synaptic neuron (a
synapse's ``postsynaptic`` flag), ``"local"`` one value per neuron or
synapse.  The 4.x words ``population``, ``projection`` and ``postsynaptic``
are accepted too.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .exceptions import ValidationError
from .random import Distribution

__all__ = ["Parameter", "Variable", "Creating", "Pruning", "LOCALITIES", "locality_flag"]

#: ANNarchy 5's locality words, and the 4.x words it also accepts.
LOCALITIES = ("global", "semiglobal", "local", "population", "projection", "postsynaptic")
_METHODS = ("explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4")
_TYPES = {float: "float", int: "int", bool: "bool", "float": "float", "int": "int", "bool": "bool"}


def _type_name(owner: str, value: Any) -> str:
    try:
        return _TYPES[value]
    except (KeyError, TypeError):
        raise ValidationError(owner, "type", "must be float, int or bool (or their names as strings)",
                              got=value) from None


def _locality(owner: str, value: Any) -> str:
    if value not in LOCALITIES:
        raise ValidationError(owner, "locality", "must be 'global', 'semiglobal' or 'local'", got=value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _finite(owner: str, argument: str, value: Any) -> float:
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ValidationError(owner, argument, "must be a finite number", got=value)
    return float(value)


class _Record:
    """Immutable, comparable, with a readable repr (plain classes: dataclasses cost import time)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])
        self._check()

    def _check(self) -> None:
        raise NotImplementedError

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: create a new one")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


def locality_flag(locality: str, kind: str) -> str:
    """ratenet's locality (``local``/``population``/``postsynaptic``/``projection``) for a 5.x word.

    Parameters
    ----------
    locality : str
        One of :data:`LOCALITIES`.
    kind : {"neuron", "synapse"}
        What the attribute belongs to.

    Raises
    ------
    ValueError
        For ``semiglobal``/``postsynaptic`` in a neuron, ``projection`` in a
        neuron, or ``population`` in a synapse (the caller names the object).

    Examples
    --------
    >>> locality_flag("global", "neuron"), locality_flag("semiglobal", "synapse")
    ('population', 'postsynaptic')
    """
    if locality == "local":
        return "local"
    if locality in ("global", "population", "projection"):
        shared = "population" if kind == "neuron" else "projection"
        if locality != "global" and locality != shared:
            raise ValueError(f"'{locality}' is not a locality of a {kind} attribute (use 'global')")
        return shared
    if kind == "neuron":
        raise ValueError(f"'{locality}' (one value per post-synaptic neuron) exists only in synapses")
    return "postsynaptic"


class Parameter(_Record):
    """A parameter of a neuron or synapse model, as in ANNarchy 5.

    Parameters
    ----------
    value : float, int, bool or Distribution
        Initial value; a distribution is sampled when the population or
        projection is created.
    locality : {"global", "semiglobal", "local"}, optional
        ``"global"`` (the default, as in ANNarchy 5.0.2 and later): one value
        for the population or projection; ``"semiglobal"``: one per
        post-synaptic neuron (synapses only); ``"local"``: one per neuron or
        synapse.  When it is not given, the parameter is global but a
        population that is given one value per neuron for it (``pop[i].b =
        ...``, a view, an array) makes it local for itself, with a
        :class:`~ratenet.exceptions.RatenetWarning`: ANNarchy 5.0.0 and
        5.0.1, which the published notebooks ran, made it local by default.
        :attr:`explicit_locality` says whether it was given.
    type : {float, int, bool}
        Data type (the names ``"float"``, ``"int"``, ``"bool"`` work too).

    Examples
    --------
    >>> Parameter(10.0)
    Parameter(value=10.0, locality='global', type='float')
    >>> Parameter(10.0).explicit_locality, Parameter(10.0, locality="global").explicit_locality
    (False, True)
    >>> Parameter(3, locality="local", type=int).type
    'int'
    """

    __slots__ = ("value", "locality", "type", "explicit_locality")
    value: Any
    locality: str
    type: str
    #: whether ``locality`` was given (if not, a per-neuron assignment may make the parameter local)
    explicit_locality: bool

    def __init__(self, value: Any, locality: str | None = None, type: Any = "float") -> None:
        super().__init__(value=value, locality="global" if locality is None else locality, type=type,
                         explicit_locality=locality is not None)

    def __repr__(self) -> str:
        return f"Parameter(value={self.value!r}, locality={self.locality!r}, type={self.type!r})"

    def _check(self) -> None:
        _locality("Parameter", self.locality)
        object.__setattr__(self, "type", _type_name("Parameter", self.type))
        value = self.value
        if not (isinstance(value, (bool, Distribution)) or _is_number(value)):
            raise ValidationError("Parameter", "value", "must be a number, a bool or a distribution", got=value)
        if _is_number(value) and not math.isfinite(float(value)):
            raise ValidationError("Parameter", "value", "must be finite", got=value)


class Variable(_Record):
    """A variable of a neuron or synapse model, defined by one equation (ANNarchy 5).

    Parameters
    ----------
    equation : str
        The definition, e.g. ``"tau * dr/dt + r = sum(exc)"``; it may carry
        its own flags after ``:`` as in the 4.x strings.
    init : number, bool, Distribution or str, optional
        Initial value, or the name of a parameter (or of a variable defined
        earlier) whose initial value to start from.
    min, max : number or str, optional
        Bounds applied after each update: numbers or expressions of
        parameters, constants and variables (``"-max_change"``).
    method : str, optional
        Numerical method of an ODE (``explicit`` by default).
    locality : {"local", "global", "semiglobal"}
        As for :class:`Parameter`, but ``"local"`` by default.
    type : {float, int, bool}
        Data type.

    Examples
    --------
    >>> Variable("tau * dr/dt + r = sum(exc)", min=0.0)
    Variable(equation='tau * dr/dt + r = sum(exc)', init=None, min=0.0, max=None, method=None, ...)
    """

    __slots__ = ("equation", "init", "min", "max", "method", "locality", "type")
    equation: str
    init: Any
    min: Any
    max: Any
    method: str | None
    locality: str
    type: str

    def __init__(self, equation: str, init: Any = None, min: Any = None, max: Any = None,
                 method: str | None = None, locality: str = "local", type: Any = "float") -> None:
        super().__init__(equation=equation, init=init, min=min, max=max, method=method, locality=locality,
                         type=type)

    def _check(self) -> None:
        if not isinstance(self.equation, str):
            raise ValidationError("Variable", "equation", "must be a string", got=self.equation)
        _locality("Variable", self.locality)
        object.__setattr__(self, "type", _type_name("Variable", self.type))
        if self.method is not None and self.method not in _METHODS:
            raise ValidationError("Variable", "method", f"must be one of {', '.join(_METHODS)}", got=self.method)
        init = self.init
        if init is not None and not (isinstance(init, (bool, str, Distribution)) or _is_number(init)):
            raise ValidationError("Variable", "init", "must be a number, a bool, a distribution or a name",
                                  got=init)
        if _is_number(init):
            _finite("Variable", "init", init)
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is None or isinstance(value, str):
                continue
            _finite("Variable", bound, value)


class Creating(_Record):
    """When to create synapses (structural plasticity), as in ANNarchy 5.

    For every pair of neurons not yet connected, when ``equation`` (a
    condition over ``pre.<var>``, ``post.<var>`` and the synapse's shared
    parameters) holds, a synapse is created with probability ``proba``,
    weight ``w`` and delay ``d`` (ms; the projection's delay when omitted).

    Examples
    --------
    >>> Creating("pre.r * post.r > 0.9", proba=0.1, w=0.01)
    Creating(equation='pre.r * post.r > 0.9', proba=0.1, w=0.01, d=None)
    """

    __slots__ = ("equation", "proba", "w", "d")
    equation: str
    proba: float
    w: float
    d: float | None

    def __init__(self, equation: str, proba: float = 1.0, w: float = 0.0, d: float | None = None) -> None:
        super().__init__(equation=equation, proba=proba, w=w, d=d)

    def _check(self) -> None:
        if not isinstance(self.equation, str):
            raise ValidationError("Creating", "equation", "must be a string", got=self.equation)
        proba = _finite("Creating", "proba", self.proba)
        if not 0.0 <= proba <= 1.0:
            raise ValidationError("Creating", "proba", "must lie in [0, 1]", got=self.proba)
        _finite("Creating", "w", self.w)
        if self.d is not None and _finite("Creating", "d", self.d) < 0:
            raise ValidationError("Creating", "d", "must be >= 0 (ms)", got=self.d)


class Pruning(_Record):
    """When to remove synapses (structural plasticity), as in ANNarchy 5.

    For every existing synapse, when ``equation`` (a condition over the
    synapse's variables and parameters, ``pre.<var>`` and ``post.<var>``)
    holds, the synapse is removed with probability ``proba``.

    Examples
    --------
    >>> Pruning("age > T", proba=0.5)
    Pruning(equation='age > T', proba=0.5)
    """

    __slots__ = ("equation", "proba")
    equation: str
    proba: float

    def __init__(self, equation: str, proba: float = 1.0) -> None:
        super().__init__(equation=equation, proba=proba)

    def _check(self) -> None:
        if not isinstance(self.equation, str):
            raise ValidationError("Pruning", "equation", "must be a string", got=self.equation)
        proba = _finite("Pruning", "proba", self.proba)
        if not 0.0 <= proba <= 1.0:
            raise ValidationError("Pruning", "proba", "must lie in [0, 1]", got=self.proba)
