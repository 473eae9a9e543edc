"""Neuron and synapse models, user functions, constants and built-in models.

A :class:`Neuron` or :class:`Synapse` is an immutable specification: its text
is parsed and every name checked when it is created, so a typo is reported at
the line that defines the model, not at the first simulation step.
"""

from __future__ import annotations

import ast
import math
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ._lazy import LazyModule
from .attributes import Creating, Parameter, Pruning, Variable
from .equations import (
    EquationDef,
    FunctionDef,
    ParameterDef,
    Scope,
    Source,
    StructuralRule,
    parse_equations,
    parse_functions,
    parse_parameters,
    parse_structural_rule,
    classify,
    resolve,
    symbols,
    _check_new_name,
    _display_symbol,
    _parse_expression,
    check_text,
)
from ._codegen import check_methods
from .exceptions import EquationError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from .display import html as _html, text as _text
else:  # imported on first use (see ratenet/_lazy.py)
    _html = LazyModule("ratenet.display.html")
    _text = LazyModule("ratenet.display.text")

__all__ = [
    "Neuron",
    "Synapse",
    "Parameter",
    "Variable",
    "Creating",
    "Pruning",
    "Constant",
    "add_function",
    "functions",
    "LeakyIntegrator",
    "Hebb",
    "Oja",
    "IBCM",
]

# ---------------------------------------------------------------------------
# global functions and constants (ANNarchy's add_function / Constant)

#: Functions declared with add_function(); cleared by ratenet.clear().
_GLOBAL_FUNCTIONS: dict[str, FunctionDef] = {}
#: Constants by name; cleared by ratenet.clear().
_CONSTANTS: dict[str, "Constant"] = {}
#: Bumped whenever a constant's value changes, so networks know their cached results are stale.
_CONSTANTS_EPOCH = [0]


def constants_epoch() -> int:
    """A counter that changes whenever any constant's value changes."""
    return _CONSTANTS_EPOCH[0]


def defined_constants() -> dict[str, "Constant"]:
    """Every :class:`Constant` defined since the last ``clear()``, by name (a copy of the table).

    Examples
    --------
    >>> c = Constant("k_defined", 2.0)
    >>> defined_constants()["k_defined"] is c
    True
    """
    return dict(_CONSTANTS)


def remove_constant(name: str) -> None:
    """Forget one :class:`Constant` (models already built keep reading its last value).

    Examples
    --------
    >>> _ = Constant("k_removed", 1.0); remove_constant("k_removed")
    >>> "k_removed" in defined_constants()
    False
    """
    _CONSTANTS.pop(name, None)


def forget_definitions() -> None:
    """Forget every function added with :func:`add_function` and every :class:`Constant` (``clear()``)."""
    _GLOBAL_FUNCTIONS.clear()
    _CONSTANTS.clear()


def add_function(function: str) -> None:
    """Declare a function usable in every model defined afterwards.

    Parameters
    ----------
    function : str
        One or more lines ``name(x, y) = expression``.

    Examples
    --------
    >>> add_function("sigmoid(x) = 1.0 / (1.0 + exp(-x))")
    >>> float(functions("sigmoid")(0.0))
    0.5
    """
    new = parse_functions(function, where="add_function", known=_GLOBAL_FUNCTIONS, constants=_CONSTANTS)
    _GLOBAL_FUNCTIONS.update(new)


def functions(name: str) -> FunctionDef:
    """Return a function declared with :func:`add_function`, callable from Python.

    Examples
    --------
    >>> add_function("double(x) = 2 * x")
    >>> float(functions("double")(3.0))
    6.0
    """
    try:
        return _GLOBAL_FUNCTIONS[name]
    except KeyError:
        known = ", ".join(sorted(_GLOBAL_FUNCTIONS)) or "none"
        raise ValidationError("functions", "name", f"no function of that name was added (known: {known})",
                              got=name) from None


class Constant:
    """A named constant shared by every model that mentions its name.

    Changing ``value`` (or calling :meth:`set`) takes effect at the next step
    in every population and projection that uses it.

    Parameters
    ----------
    name : str
        The name equations use.
    value : float
        Initial value.

    Examples
    --------
    >>> tau = Constant("tau_c", 10.0)
    >>> float(tau) + 1
    11.0
    >>> tau.set(20.0); tau.value
    20.0
    """

    def __init__(self, name: str, value: float, net: Any = None) -> None:
        source = Source(f"{name} = {value!r}", "Constant")
        if not isinstance(name, str):
            raise ValidationError("Constant", "name", "must be a string", got=name)
        check_text(name, "Constant")
        _check_new_name(name, 0, source, "constant")
        self.name = name
        self._array = np.zeros((), dtype=np.float64)
        self.set(value)
        _CONSTANTS[name] = self

    def set(self, value: float) -> None:
        """Change the value (everywhere it is used)."""
        if isinstance(value, Constant):
            value = value.value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(value)):
            raise ValidationError(f"Constant '{getattr(self, 'name', '?')}'", "value", "must be a finite number",
                                  got=value)
        self._array[()] = float(value)
        _CONSTANTS_EPOCH[0] += 1

    @property
    def value(self) -> float:
        return float(self._array)

    @value.setter
    def value(self, value: float) -> None:
        self.set(value)

    @property
    def array(self) -> np.ndarray:
        """The value as a 0-d array that follows :meth:`set` (what generated code reads)."""
        return self._array

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.name!r}, {self.value!r})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.value, dtype=dtype)

    # arithmetic uses the current value
    def _v(self, other: Any) -> Any:
        return other.value if isinstance(other, Constant) else other

    def __add__(self, o): return self.value + self._v(o)
    def __radd__(self, o): return self._v(o) + self.value
    def __sub__(self, o): return self.value - self._v(o)
    def __rsub__(self, o): return self._v(o) - self.value
    def __mul__(self, o): return self.value * self._v(o)
    def __rmul__(self, o): return self._v(o) * self.value
    def __truediv__(self, o): return self.value / self._v(o)
    def __rtruediv__(self, o): return self._v(o) / self.value
    def __pow__(self, o): return self.value ** self._v(o)
    def __rpow__(self, o): return self._v(o) ** self.value
    def __neg__(self): return -self.value
    def __pos__(self): return self.value
    def __abs__(self): return abs(self.value)
    def __eq__(self, o): return self.value == self._v(o)
    def __lt__(self, o): return self.value < self._v(o)
    def __le__(self, o): return self.value <= self._v(o)
    def __gt__(self, o): return self.value > self._v(o)
    def __ge__(self, o): return self.value >= self._v(o)
    __hash__ = object.__hash__


def _constant_values() -> dict[str, float]:
    return {name: c.value for name, c in _CONSTANTS.items()}


# ---------------------------------------------------------------------------
# models


class _Model:
    """What Neuron and Synapse share: parameters, equations, functions."""

    _kind = "neuron"

    def __init__(
        self,
        parameters: str | Mapping[str, Any] | None = "",
        equations: str | Variable | Sequence[str | Variable] | None = "",
        functions: str | None = None,
        name: str | None = None,
        description: str | None = None,
        extra_locals: Mapping[str, str] | None = None,
    ) -> None:
        cls = type(self).__name__
        checks = (("parameters", parameters, (str, Mapping), "a string or a dict of values and Parameters"),
                  ("equations", equations, (str, Variable, list, tuple), "a string, a Variable or a list of them"),
                  ("functions", functions, (str,), "a string"))
        for arg, value, types_, expected in checks:
            if value is not None and not isinstance(value, types_):
                raise ValidationError(cls, arg, f"must be {expected}", got=value)
        self.name = name or cls
        self.description = description
        label = f"{cls} '{name}'" if name else cls
        self._label = label
        try:
            own = parse_functions(functions, where="functions", known=_GLOBAL_FUNCTIONS, constants=_CONSTANTS)
            self.functions: dict[str, FunctionDef] = {**_GLOBAL_FUNCTIONS, **own}
            self.own_functions = own
            self.parameters: list[ParameterDef] = parse_parameters(
                parameters, kind=self._kind, where="parameters", constants=_constant_values())
            params = {p.name: p.locality for p in self.parameters}
            scope = Scope(self._kind, {**params, **(extra_locals or {})}, self.functions, set(_CONSTANTS))
            self.equations: list[EquationDef] = parse_equations(equations, scope, where="equations")
            self._check(params)
            check_methods(self.equations)
        except EquationError as exc:
            raise exc.with_owner(label) from None
        # From here on an equation's location names the model too (runtime errors quote it).
        self.equations = [eq.replace(source=_owned(eq.source, label)) for eq in self.equations]
        self.constants = {name: _CONSTANTS[name] for name in self._used_names() if name in _CONSTANTS}

    #: For a spiking model (defined, never usable), the spiking argument it was given; None otherwise.
    spiking: str | None = None

    def _define_spiking(self, argument: str, name: str | None, description: str | None) -> None:
        """Keep a spiking model as a name only: nothing is parsed, and using it is refused."""
        cls = type(self).__name__
        self.spiking = argument
        self.name = name or cls
        self.description = description
        self._label = f"{cls} '{name}'" if name else cls
        self.functions, self.own_functions, self.constants = {}, {}, {}
        self.parameters, self.equations = [], []

    def refuse_spiking(self, owner: str, argument: str) -> None:
        """Raise when this model is spiking: ``owner.argument`` names where it was used.

        Examples
        --------
        >>> spiking = Neuron(equations="dv/dt = -v", spike="v > 1", reset="v = 0")
        >>> spiking.refuse_spiking("Population", "neuron")
        Traceback (most recent call last):
        ...
        ratenet.exceptions.ValidationError: Population.neuron: 'Neuron' is a spiking model (it defines spike=); ...
        """
        if self.spiking is not None:
            raise ValidationError(owner, argument, f"'{self.name}' is a spiking model (it defines {self.spiking}=); "
                                                   f"ratenet simulates rate-coded {self._kind}s only")

    # -- derived views
    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def variable_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for eq in self.equations:
            seen.setdefault(eq.target, None)
        return list(seen)

    def locality(self, name: str) -> str:
        for p in self.parameters:
            if p.name == name:
                return p.locality
        for eq in self.equations:
            if eq.target == name:
                return eq.locality
        raise KeyError(name)

    def _used_names(self) -> set[str]:
        names: set[str] = set()
        for eq in self.equations:
            names |= eq.reads()
            if isinstance(eq.init, str):
                names.add(eq.init)
        return names

    def _check(self, params: Mapping[str, str]) -> None:
        kinds: dict[str, str] = {}
        for eq in self.equations:
            src = _source(eq)
            if eq.target in params:
                raise src.error(f"'{eq.target}' is a parameter and cannot also be a variable", 0)
            previous = kinds.get(eq.target)
            if previous and (previous == "ode" or eq.kind == "ode"):
                raise src.error(f"the variable '{eq.target}' is defined twice", 0)
            if previous and self.locality(eq.target) != eq.locality:
                raise src.error(f"the variable '{eq.target}' is given two different localities", 0)
            kinds[eq.target] = eq.kind
        # Locality: a shared (population/projection/postsynaptic) value cannot read finer-grained ones.
        rank = {"local": 2, "postsynaptic": 1, "population": 0, "projection": 0}
        for eq in self.equations:
            level = rank[eq.locality]
            for name in eq.reads():
                finer = self._symbol_level(name, rank)
                if finer is not None and finer > level:
                    raise _source(eq).error(
                        f"the {eq.locality} variable '{eq.target}' cannot depend on '{_display(name)}', which has "
                        f"one value per {'synapse' if finer == 2 and self._kind == 'synapse' else 'neuron'}",
                        0, "use a global operation such as mean(...)" if self._kind == "neuron" else None)
            if isinstance(eq.init, str):
                finer = self._symbol_level(eq.init, rank)
                if finer is not None and finer > level:
                    raise _source(eq).error(
                        f"the {eq.locality} variable '{eq.target}' cannot start from '{eq.init}', which has one "
                        f"value per {'synapse' if finer == 2 and self._kind == 'synapse' else 'neuron'}", 0)

    def _symbol_level(self, name: str, rank: Mapping[str, int]) -> int | None:
        kind = classify(name)
        # Random draws are made at the level of the equation that contains them.
        if self._kind == "neuron":
            if kind[0] in ("sum", "sumall"):
                return 2
        else:
            if kind[0] in ("pre", "sumpre"):
                return 2
            if kind[0] in ("post", "sumpost"):
                return 1
        if kind[0] == "name":
            try:
                return rank[self.locality(name)]
            except KeyError:
                return None
        return None

    def __repr__(self) -> str:
        return _text.model_repr(self)

    def __str__(self) -> str:
        return _text.model_text(self)

    def _repr_html_(self) -> str:
        """Parameters and equations as tables, the equations typeset (MathJax) for notebooks."""
        return _html.model_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _text.pretty(self, printer, cycle)


def _spiking_argument(owner: str, unsupported: Mapping[str, Any], spiking: tuple[str, ...]) -> str | None:
    """The spiking argument among ``unsupported`` (None if there is none); any other one is an error.

    A spiking model can be defined (a module defining one next to rate-coded
    ones keeps working) but not used: see :meth:`_Model.refuse_spiking`.
    """
    found = [name for name in spiking if name in unsupported]
    unknown = sorted(set(unsupported) - set(spiking) - (_SPIKING_EXTRAS if found else set()))
    if unknown:
        raise ValidationError(owner, unknown[0], "unknown argument")
    return found[0] if found else None


#: Arguments ANNarchy's spiking models take besides the spiking ones (accepted with them only).
_SPIKING_EXTRAS = {"refractory", "axon_spike", "axon_reset", "pre_axon_spike", "post_spike", "pre_spike",
                   "reset", "spike"}


_display = _display_symbol


def _source(eq: EquationDef) -> Source:
    """Where an equation came from (parsed equations always know)."""
    return eq.source if eq.source is not None else Source(eq.text, "equations")


def _owned(source: Source | None, label: str) -> Source | None:
    """``source`` with the model's label in front of its location."""
    return None if source is None else Source(source.text, f"{label}, {source.where}")


def _owned_rule(rule: StructuralRule, label: str) -> StructuralRule:
    return StructuralRule(rule.kind, rule.condition, rule.proba, rule.w, rule.d, _owned(rule.source, label))


class Neuron(_Model):
    """A rate-coded neuron model defined by equation strings.

    Parameters
    ----------
    parameters : str or dict, optional
        One ``name = value : flags`` per line (flags: ``population``, ``int``,
        ``bool``).  Values are numbers, ``True``/``False`` or distributions.
        ANNarchy 5's form, a dict of values and
        :class:`~ratenet.attributes.Parameter` objects, works too: there a
        plain value is one value for the whole population (except ``r``).
    equations : str, Variable or list of them, optional
        One definition per line (or several separated by ``;``), in the order
        they run each step: assignments (``x = ...``, ``x += ...``) and ODEs
        in any linear form (``tau * dr/dt + r = sum(exc)``).  Flags after the
        last ``:``: ``init=``, ``min=``, ``max=``, ``population``, ``int``,
        ``bool`` and a method (``explicit``, ``implicit``, ``semiimplicit``,
        ``exponential``, ``midpoint``, ``rk4``).  ANNarchy 5's
        :class:`~ratenet.attributes.Variable` objects carry the same flags as
        keyword arguments.
    functions : str, optional
        Functions ``name(x) = expression`` usable in the equations and, from
        Python, as ``pop.name(x)``.
    name, description : str, optional
        For reports.

    Notes
    -----
    Every neuron has a rate ``r``.  If the model does not define one, ``r`` is
    added as a variable that stays at 0.

    Examples
    --------
    >>> LinearNeuron = Neuron(equations="r = sum(exc) : min=0.0")
    >>> LinearNeuron.variable_names
    ['r']
    >>> Same = Neuron(equations=[Variable("r = sum(exc)", min=0.0)])
    >>> Same.equations[0].min
    0.0
    >>> Neuron(parameters="tau = 10.0", equations="r = tua * sum(exc)")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.EquationError: Neuron, equations, line 1: unknown name 'tua'; did you mean 'tau'?
        r = tua * sum(exc)
            ^
    """

    _kind = "neuron"

    def __init__(
        self,
        parameters: str | Mapping[str, Any] | None = "",
        equations: str | Variable | Sequence[str | Variable] | None = "",
        functions: str | None = None,
        name: str | None = None,
        description: str | None = None,
        **unsupported: Any,
    ) -> None:
        spiking = _spiking_argument("Neuron", unsupported, ("spike", "reset", "refractory", "axon_spike",
                                                             "axon_reset"))
        if spiking is not None:
            self._define_spiking(spiking, name, description)
            self.targets, self.uses_sum_all = [], False
            return
        super().__init__(parameters, equations, functions, name, description)
        self.targets = sorted({classify(s)[1] for eq in self.equations for s in symbols(eq.rhs)
                               if classify(s)[0] == "sum"})
        self.uses_sum_all = any("_sumall" in symbols(eq.rhs) for eq in self.equations)


class Synapse(_Model):
    """A rate-coded synapse model: transmission (``psp``) and learning rule.

    Parameters
    ----------
    parameters : str or dict, optional
        As for :class:`Neuron`; locality flags are ``postsynaptic`` (one value
        per post-synaptic neuron) and ``projection`` (one value).  In
        ANNarchy 5's dict form a plain value is one value for the projection
        (``Parameter(locality="semiglobal")``: one per post-synaptic neuron).
    equations : str, Variable or list of them, optional
        Learning rules over ``w``, ``pre.r``, ``post.r``, ``pre.<var>``,
        ``post.<var>``, ``pre.sum(t)``, global operations such as
        ``mean(pre.r)``.  They run after the neurons have been updated.
    psp : str, optional
        What each synapse transmits; ``w * pre.r`` by default.
    operation : {"sum", "max", "min", "mean"}
        How the transmitted values of one post-synaptic neuron combine.
    pruning : str or Pruning, optional
        Structural plasticity: when an existing synapse is removed,
        ``"condition : proba=p"`` (ANNarchy 4.x) or
        :class:`~ratenet.attributes.Pruning` (5.x).  Parsed and validated
        into :attr:`pruning`, a :class:`~ratenet.equations.StructuralRule`.
    creating : str or Creating, optional
        When a missing synapse is created,
        ``"condition : proba=p, w=weight, d=delay"`` or
        :class:`~ratenet.attributes.Creating`; parsed into :attr:`creating`.
    functions, name, description : optional
        As for :class:`Neuron`.

    Examples
    --------
    >>> Hebbian = Synapse(parameters="eta = 0.01 : projection",
    ...                   equations="dw/dt = eta * pre.r * post.r : min=0.0")
    >>> Hebbian.variable_names
    ['w']
    >>> Pruned = Synapse(parameters="T = 100 : projection, int",
    ...                  equations="age = if pre.r * post.r > 0.1: 0 else: age + 1 : int",
    ...                  pruning="age > T : proba=0.5")
    >>> Pruned.pruning.proba, Pruned.creating is None
    (0.5, True)
    """

    _kind = "synapse"
    #: The parsed pruning rule (a StructuralRule) or None.
    pruning: StructuralRule | None
    #: The parsed creating rule (a StructuralRule) or None.
    creating: StructuralRule | None
    #: The transmitted expression, parsed.
    psp: ast.expr

    def __init__(
        self,
        parameters: str | Mapping[str, Any] | None = "",
        equations: str | Variable | Sequence[str | Variable] | None = "",
        psp: str | None = None,
        operation: str = "sum",
        functions: str | None = None,
        name: str | None = None,
        description: str | None = None,
        pruning: str | Pruning | None = None,
        creating: str | Creating | None = None,
        **unsupported: Any,
    ) -> None:
        spiking = _spiking_argument("Synapse", unsupported, ("pre_spike", "post_spike", "pre_axon_spike"))
        if spiking is not None:
            self._define_spiking(spiking, name, description)
            self.operation, self.psp, self.psp_text, self.plastic = operation, ast.Constant(value=0.0), "", False
            self.pruning = self.creating = None
            self.structural_auto = False
            return
        if operation not in ("sum", "max", "min", "mean"):
            raise ValidationError("Synapse", "operation", "must be one of 'sum', 'max', 'min', 'mean'",
                                  got=operation)
        for arg, value, kind in (("pruning", pruning, Pruning), ("creating", creating, Creating)):
            if value is not None and not isinstance(value, (str, kind)):
                raise ValidationError("Synapse", arg, f"must be a string such as 'condition : proba=0.5' or a "
                                                      f"{kind.__name__}", got=value)
        self.operation = operation
        super().__init__(parameters, equations, functions, name, description, extra_locals=None)
        label = self._label
        for p in self.parameters:
            if p.name == "w":
                raise EquationError("'w' is the weight, set by the connector; it cannot be a parameter",
                                    text=p.source.text if p.source else None, column=0,
                                    owner=f"{label}, {p.source.where if p.source else 'parameters'}")
        psp_text = "w * pre.r" if psp is None else psp
        if not isinstance(psp_text, str):
            raise ValidationError("Synapse", "psp", "must be a string", got=psp)
        scope = Scope("synapse", {p.name: p.locality for p in self.parameters}
                      | {v: self.locality(v) for v in self.variable_names}, self.functions, set(_CONSTANTS))
        source = Source(psp_text.strip(" \t\r\n"), "psp")
        try:
            tree = _parse_expression(source.text, 0, len(source.text), source)
            self.psp = resolve(tree, scope, source)
            self.pruning = None if pruning is None else \
                _owned_rule(parse_structural_rule(pruning, "pruning", scope), label)
            self.creating = None if creating is None else \
                _owned_rule(parse_structural_rule(creating, "creating", scope), label)
        except EquationError as exc:
            raise exc.with_owner(label) from None
        self.psp_text = source.text
        #: Rules given as ANNarchy 5 objects switch structural plasticity on by themselves (as ANNarchy 5 does).
        self.structural_auto = isinstance(pruning, Pruning) or isinstance(creating, Creating)
        used = symbols(self.psp)
        for rule in (self.pruning, self.creating):
            if rule is not None:
                used |= symbols(rule.condition)
        self.constants.update({n: _CONSTANTS[n] for n in used if n in _CONSTANTS})
        self.plastic = bool(self.equations)

    def locality(self, name: str) -> str:
        """``"local"``, ``"postsynaptic"`` or ``"projection"`` for a parameter or variable."""
        if name == "w":
            for eq in self.equations:
                if eq.target == "w":
                    return eq.locality
            return "local"
        return super().locality(name)

    @property
    def variable_names(self) -> list[str]:
        names = super().variable_names
        return names if "w" in names else ["w"] + names


# ---------------------------------------------------------------------------
# built-in models


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError("built-in model", "parameter", "must be a number", got=value)
    return repr(float(value))


class LeakyIntegrator(Neuron):
    """Leaky integrator with a rectified output.

    ``tau * dv/dt + v = <sum> + B (+ noise)`` (exponential method) and
    ``r = pos(v - T)``.

    Parameters
    ----------
    tau : float
        Time constant (ms), one per population.
    B : float
        Baseline, one per neuron.
    T : float
        Threshold of the output, one per population.
    sum : str
        The input expression; ``"sum(exc) - sum(inh)"`` by default.
    noise : str, optional
        An additive noise term such as ``"Normal(0.0, 0.1)"``.

    Examples
    --------
    >>> LeakyIntegrator(tau=20.0).variable_names
    ['v', 'r']
    """

    def __init__(self, tau: float = 10.0, B: float = 0.0, T: float = 0.0, sum: str = "sum(exc) - sum(inh)",
                 noise: str | None = None) -> None:
        noise_term = f" + {noise}" if noise else ""
        super().__init__(
            parameters=f"tau = {_fmt(tau)} : population\nB = {_fmt(B)}\nT = {_fmt(T)} : population",
            equations=f"tau * dv/dt + v = {sum} + B{noise_term} : exponential\nr = pos(v - T)",
            name="LeakyIntegrator",
            description="Leaky integrator with a rectified linear output.",
        )


class Hebb(Synapse):
    """Hebbian learning: ``dw/dt = eta * pre.r * post.r`` (``w >= 0``).

    Examples
    --------
    >>> Hebb(eta=0.1).parameters[0].value
    0.1
    """

    def __init__(self, eta: float = 0.01) -> None:
        super().__init__(parameters=f"eta = {_fmt(eta)} : projection",
                         equations="dw/dt = eta * pre.r * post.r : min=0.0, explicit",
                         name="Hebb", description="Hebbian learning rule.")


class Oja(Synapse):
    """Oja's rule: ``dw/dt = eta * (pre.r * post.r - alpha * post.r^2 * w)`` (``w >= 0``).

    Examples
    --------
    >>> [p.name for p in Oja().parameters]
    ['eta', 'alpha']
    """

    def __init__(self, eta: float = 0.01, alpha: float = 1.0) -> None:
        super().__init__(parameters=f"eta = {_fmt(eta)} : projection\nalpha = {_fmt(alpha)} : projection",
                         equations="dw/dt = eta * (pre.r * post.r - alpha * post.r^2 * w) : min=0.0, explicit",
                         name="Oja", description="Hebbian learning normalised by Oja's rule.")


class IBCM(Synapse):
    """Intrator & Cooper's BCM rule with a sliding threshold.

    ``tau * dtheta/dt + theta = post.r^2`` (one ``theta`` per post-synaptic
    neuron, exponential method) and
    ``dw/dt = eta * post.r * (post.r - theta) * pre.r`` (``w >= 0``).

    Examples
    --------
    >>> IBCM().variable_names
    ['theta', 'w']
    """

    def __init__(self, eta: float = 0.01, tau: float = 2000.0) -> None:
        super().__init__(parameters=f"eta = {_fmt(eta)} : projection\ntau = {_fmt(tau)} : projection",
                         equations="tau * dtheta/dt + theta = post.r^2 : postsynaptic, exponential\n"
                                   "dw/dt = eta * post.r * (post.r - theta) * pre.r : min=0.0, explicit",
                         name="IBCM", description="Intrator & Cooper (1992) BCM learning rule.")
