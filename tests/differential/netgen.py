"""Random ratenet networks for differential testing.

Three pieces, kept apart so that one description can be built several times:

* **Strategies** (:func:`descriptions`) draw a :class:`Description`: plain,
  frozen data (names, geometries, equation text, connector calls, the actions
  run between simulations).  Hypothesis shrinks it like any other value.
* **The builder** (:func:`render`, :func:`execute`) turns a description into a
  short, self-contained ratenet script and runs it with a given ``Network``
  factory: the optimised network and the reference network come from the same
  text, and a failing example prints as a script anyone can run.
* **The comparison** (:func:`snapshot`, :func:`differences`): every population
  attribute, every ``sum(target)`` and every projection's synaptic attributes
  (a Convolution's kernel), after every action.

The reference network comes from :func:`reference_network`:
``Network(reference=True)`` when ratenet has it, otherwise an emulation (see
there).
"""

from __future__ import annotations

import copy
import functools
import math
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from ratenet import Network, Neuron, RatenetWarning
from ratenet.projections import Convolution, Copy, Pooling, Transpose

TARGETS = ("exc", "inh", "mod")
METHODS = ("explicit", "implicit", "semiimplicit", "exponential", "midpoint", "rk4")

# ---------------------------------------------------------------------------
# the description


@dataclass(frozen=True)
class Model:
    """A neuron model, rendered as ``Neuron(...)`` (or a built-in's call)."""

    name: str
    call: str  # the Python expression creating it
    population_parameters: tuple[tuple[str, float], ...]  # (name, initial value)
    local_parameters: tuple[str, ...]
    variables: tuple[str, ...]
    targets: tuple[str, ...]  # the targets its equations read (all three for sum())
    stackable: bool  # same-model populations share stacked arrays in the optimised plan
    #: population-level parameters declared as ANNarchy 5's ``Parameter(value)`` without a locality:
    #: one value per neuron assigned from Python makes them local for that population (with a warning)
    promotable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pop:
    name: str
    geometry: tuple[int, ...]
    model: str | None  # None: an input
    kind: str  # "model", "input" (Neuron(parameters="r = 0.0")), "InputArray", "TimedArray"

    @property
    def size(self) -> int:
        return math.prod(self.geometry)


@dataclass(frozen=True)
class End:
    """A projection end: a population, or a view of it (``index`` is the text inside the brackets)."""

    pop: str
    index: str
    size: int

    def __str__(self) -> str:
        return f"{self.pop}[{self.index}]" if self.index else self.pop


@dataclass(frozen=True)
class Proj:
    name: str
    kind: str  # "projection", "convolution", "pooling", "copy", "transpose"
    pre: End
    post: End
    target: str
    lines: tuple[str, ...]  # the statements creating it (setup lines, then the connection)
    plastic: bool = False
    storage: str | None = None  # forced storage format, if any
    kernel_shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class Record:
    """A monitor."""

    name: str
    end: End
    variables: tuple[str, ...]
    period: float | None

    def __str__(self) -> str:
        period = f", period={self.period}" if self.period else ""
        return f"{self.name} = net.monitor({self.end}, {list(self.variables)!r}{period}, name={self.name!r})"


@dataclass(frozen=True)
class Action:
    kind: str  # simulate, set_input, set_variable, set_local, set_population, set_weights, set_kernel,
    #            reset, save, load, learning, promote
    code: str
    subject: str = ""  # population or projection name
    projections: bool = False  # for reset: projections=True


@dataclass(frozen=True)
class Description:
    dt: float
    dtype: str  # "float64" or "float32"
    seed: int  # the network's seed
    data_seed: int  # the script's own generator (matrices, kernels, values set from Python)
    num_threads: int
    models: tuple[Model, ...]
    pops: tuple[Pop, ...]
    projs: tuple[Proj, ...]
    monitors: tuple[Record, ...] = field(default=())
    actions: tuple[Action, ...] = field(default=())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis shows a failing example this way; the test notes the script, which says it all
        printer.text(f"<a network of {len(self.pops)} populations and {len(self.projs)} projections, "
                     f"{len(self.actions)} actions: its script follows>")

    def model(self, name: str | None) -> Model | None:
        return next((m for m in self.models if m.name == name), None)

    def pop(self, name: str) -> Pop:
        return next(p for p in self.pops if p.name == name)

    def stacked(self, pop_name: str) -> bool:
        """Whether the optimised plan stacks this population with others of its model."""
        pop = self.pop(pop_name)
        model = self.model(pop.model)
        if model is None or not model.stackable:
            return False
        return sum(p.model == pop.model for p in self.pops) > 1


# ---------------------------------------------------------------------------
# strategies

def _num(x: float) -> str:
    return repr(float(x))


@st.composite
def input_expression(draw: st.DrawFn, targets: tuple[str, ...]) -> str:
    if draw(st.integers(0, 7)) == 0:
        return "sum()"
    text = ""
    for target in targets:
        coefficient = draw(st.sampled_from(["", "0.5 * ", "2.0 * "]))
        negative = target == "inh"
        if not text:
            text = f"{'-' if negative else ''}{coefficient}sum({target})"
        else:
            text += f" {'-' if negative else '+'} {coefficient}sum({target})"
    return text


def _parameter_line(name: str, value: str, population: bool) -> str:
    return f"{name} = {value}" + (" : population" if population else "")


@st.composite
def models(draw: st.DrawFn, name: str) -> Model:
    """One neuron model: pure assignments, ODEs (any method), state, globals or a built-in."""
    kind = draw(st.sampled_from(["pure", "ode", "ode_out", "ode_block", "state", "leaky", "global", "popvar",
                                 "powers"]))
    targets = tuple(sorted(draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))))
    drive = draw(input_expression(targets))
    if drive == "sum()":
        targets = TARGETS
    params: list[tuple[str, str, bool]] = []  # (name, value text, population-level)

    def parameter(pname: str, values: list[float], allow_distribution: bool = True) -> None:
        population = draw(st.booleans())
        if not population and allow_distribution and draw(st.integers(0, 3)) == 0:
            lo = min(values)
            value = f"Uniform({_num(lo)}, {_num(lo + 1.0)})"
        else:
            value = _num(draw(st.sampled_from(values)))
        params.append((pname, value, population))

    method = draw(st.sampled_from(METHODS))
    clamp = draw(st.sampled_from(["", "min=0.0", "max=2.0", "min=-1.0, max=1.0"]))

    def flags(*items: str) -> str:
        items = tuple(i for i in items if i)
        return f" : {', '.join(items)}" if items else ""

    equations: list[str]
    variables = ["r"]
    stackable = True
    if kind == "leaky":
        tau, B, T = (draw(st.sampled_from(v)) for v in ([5.0, 2.0, 10.0], [0.0, 0.1, -0.2], [0.0, 0.1]))
        call = f"LeakyIntegrator(tau={_num(tau)}, B={_num(B)}, T={_num(T)}, sum={drive!r})"
        return Model(name, call, (("tau", tau), ("T", T)), ("B",), ("v", "r"), targets, True)
    if kind == "pure":
        parameter("g", [1.0, 0.5, 2.0])
        parameter("b", [0.0, 0.1, -0.25])
        shape = draw(st.sampled_from(["{}", "tanh({})", "pos({})", "clip({}, -1.0, 1.0)"]))
        if draw(st.booleans()):
            equations = [f"r = {shape.format(f'g * ({drive}) + b')}{flags(clamp)}"]
        else:
            equations = [f"x = g * ({drive})", f"r = {shape.format('x + b')}{flags(clamp)}"]
            variables = ["x", "r"]
    elif kind == "ode":
        parameter("tau", [5.0, 2.0, 10.0])
        parameter("b", [0.0, 0.1, -0.25])
        form = draw(st.sampled_from(["tau * dr/dt + r = {}", "dr/dt = ({} - r) / tau", "tau * dr/dt = -r + {}"]))
        init = draw(st.sampled_from(["", "init=0.1"]))
        equations = [form.format(f"{drive} + b") + flags(init, method, clamp)]
    elif kind == "ode_out":
        parameter("tau", [5.0, 2.0, 10.0])
        parameter("b", [0.0, 0.1, -0.25])
        parameter("T", [0.0, 0.1], allow_distribution=False)
        output = draw(st.sampled_from(["pos(v - T)", "tanh(v - T)"]))
        equations = [f"tau * dv/dt + v = {drive} + b{flags(method)}", f"r = {output}{flags(clamp)}"]
        variables = ["v", "r"]
    elif kind == "ode_block":
        parameter("tau", [5.0, 2.0, 10.0])
        parameter("tau2", [3.0, 8.0])
        parameter("b", [0.0, 0.1])
        second = draw(st.sampled_from(METHODS))
        equations = [f"tau * dv/dt + v = {drive}{flags(method)}", f"dr/dt = (v - r) / tau2 + b{flags(second, clamp)}"]
        variables = ["v", "r"]
    elif kind == "state":
        parameter("a", [0.5, 0.2, 0.8], allow_distribution=False)
        parameter("b", [0.0, 0.1])
        if draw(st.booleans()):
            equations = [f"r = a * r + (1 - a) * ({drive}) + b : min=-5.0, max=5.0"]
        else:
            equations = [f"x += dt * ({drive} - x) * a", "r = x + b"]
            variables = ["x", "r"]
    elif kind == "global":
        parameter("tau", [5.0, 2.0])
        op = draw(st.sampled_from(["mean", "max", "min", "norm1"]))
        equations = [f"tau * dr/dt + r = {drive} - 0.1 * {op}(r){flags(method, clamp)}"]
        stackable = False
    elif kind == "powers":  # small integer powers (multiplications) and ite on a one-value condition
        parameter("k", [0.0, 1.0])
        parameter("b", [0.0, 0.1, -0.25])
        power = draw(st.sampled_from(["power(x, 3)", "x ** 2", "x^4", "pow(x - b, 3)", "power(x, 2.5 + 0.5)"]))
        choice = draw(st.sampled_from(["ite(k > 0.5, {p}, -x)", "ite(k > 0.5, 0.0, {p})", "{p}"]))
        equations = [f"x = tanh({drive}) + b", f"r = {choice.format(p=power)}{flags(clamp)}"]
        variables = ["x", "r"]
    else:  # popvar: a population-level variable
        parameter("b", [0.0, 0.1])
        equations = ["s = 0.5 * s + 0.01 * t : population", f"r = tanh({drive}) + s + b"]
        variables = ["s", "r"]
        stackable = False
    text_e = "\n".join(equations)
    promotable: tuple[str, ...] = ()
    if params and draw(st.integers(0, 2)) == 0:  # ANNarchy 5's form: a dict of Parameter objects
        text_p = "{" + ", ".join(f"{p!r}: Parameter({v}{'' if pop else ', locality=' + repr('local')})"
                                 for p, v, pop in params) + "}"
        call = f"Neuron(parameters={text_p}, equations={text_e!r})"
        promotable = tuple(p for p, _, pop in params if pop)
    else:
        text_p = "\n".join(_parameter_line(*p) for p in params)
        call = f"Neuron(parameters={text_p!r}, equations={text_e!r})"
    population = tuple((p, float(v)) for p, v, pop in params if pop)
    local = tuple(p for p, _, pop in params if not pop)
    return Model(name, call, population, local, tuple(variables), targets, stackable, promotable)


GEOMETRIES = st.one_of(st.integers(1, 30).map(lambda n: (n,)),
                       st.tuples(st.integers(1, 6), st.integers(1, 5)))


@st.composite
def ends(draw: st.DrawFn, pop: Pop, view_chance: int = 3) -> End:
    """The population, or (one time in ``view_chance``) a view of it: a rank slice, a column, a list of ranks."""
    if pop.size == 1 or draw(st.integers(0, view_chance - 1)) != 0:
        return End(pop.name, "", pop.size)
    kind = draw(st.sampled_from(["slice", "list", "column"]))
    if kind == "column" and len(pop.geometry) == 2:
        column = draw(st.integers(0, pop.geometry[1] - 1))
        return End(pop.name, f":, {column}", pop.geometry[0])
    if kind == "list":
        ranks = draw(st.lists(st.integers(0, pop.size - 1), min_size=1, max_size=pop.size, unique=True))
        return End(pop.name, repr(ranks), len(ranks))
    start = draw(st.integers(0, pop.size - 1))
    stop = draw(st.integers(start + 1, pop.size))
    return End(pop.name, f"{start}:{stop}", stop - start)


def _slice(pop: Pop, start: int, size: int) -> End:
    if start == 0 and size == pop.size:
        return End(pop.name, "", size)
    return End(pop.name, f"{start}:{start + size}", size)


WEIGHTS = st.sampled_from(["0.5", "Uniform(-0.5, 0.5)", "-0.3", "Normal(0.0, 0.3)", "1.0"])
DELAYS = st.sampled_from(["0.0", "0.0", "2.0", "Uniform(0.0, 3.0)", "1.0", "DiscreteUniform(0, 3)"])
STORAGE = st.sampled_from([None, "dense", "csr"])
CONNECTORS = ("all_to_all", "one_to_one", "fixed_probability", "fixed_number_pre", "fixed_number_post", "gaussian",
              "dog", "from_matrix", "from_sparse", "from_function")


#: Structural plasticity: synapses whose pre and post are both active are created, unused ones pruned.
STRUCTURAL = ("Synapse(parameters='T = 2 : int, projection', equations='age = if pre.r * post.r > 0.2 : 0 "
              "else : age + 1 : init=0, int', pruning='age > T : proba=0.5', "
              "creating='pre.r * post.r > 0.2 : proba=0.3, w=0.1')")
#: The same with certain rules and a random draw in the condition.
STRUCTURAL_RANDOM = ("Synapse(equations='dw/dt = -0.1 * w', pruning='abs(w) < Uniform(0.0, 0.05)', "
                     "creating='post.r > pre.r : w=0.05')")


#: Rules whose trace the optimised plan adds lazily (one matrix product when read: see ratenet._shortcuts),
#: read by the rule itself in the middle of runs (``seen`` copies it every fourth step), with fills of one value
#: and ``w += 0`` that the exact shortcuts skip.  Their ``trace`` and ``seen`` agree with the reference mode
#: within LAZY_RTOL, not bit for bit (DEFERRED).
DEFERRED_RULES = (
    "Synapse(parameters='k = 0.5 : projection', "
    "equations='trace += ite(modulo(t, 4.0) > 2.5, 0.0, k * pre.r * post.r)\\n"
    "seen = ite(modulo(t, 4.0) > 2.5, trace, -1.0)\\ndelta_w = clip(0.0, -0.1, 0.1)\\nw += delta_w')",
    "Synapse(parameters='tau_e = 2.0 : projection', "
    "equations='dtrace/dt = -power(pre.r * post.r, 3) / tau_e\\nseen = ite(t > 2.5, tanh(trace), seen)')",
)
#: synaptic attributes that hold or copy a lazily added value (compared within LAZY_RTOL)
DEFERRED = ("trace", "seen")
#: the documented bound, (n + 8) eps (|v0| + sum |terms|), for the few steps and rates of these networks
#: (float64; float32 networks use 1e-5)
LAZY_RTOL = 1e-11


@st.composite
def synapses(draw: st.DrawFn) -> tuple[str | None, bool]:
    """A synapse expression (None for the default) and whether it learns."""
    kind = draw(st.sampled_from(["default", "default", "default", "psp", "operation", "learning", "structural"]))
    if kind == "default":
        return None, False
    if kind == "structural":  # rules switched on by the projection's lines (see plain_projection)
        return draw(st.sampled_from([STRUCTURAL, STRUCTURAL_RANDOM])), True
    if kind == "psp":
        psp = draw(st.sampled_from(["w * pos(pre.r)", "w * tanh(pre.r)", "w * (pre.r - post.r)", "2.0 * w * pre.r"]))
        return f"Synapse(psp={psp!r})", False
    if kind == "operation":
        operation = draw(st.sampled_from(["max", "min", "mean"]))
        psp = draw(st.sampled_from(["", ", psp='w * pos(pre.r)'"]))
        return f"Synapse(operation={operation!r}{psp})", False
    rule = draw(st.sampled_from([
        "Hebb(eta=0.01)",
        "Oja(eta=0.02, alpha=0.5)",
        "IBCM(eta=0.01, tau=20.0)",
        "Synapse(parameters='eta = 0.01 : projection\\ndecay = 0.02 : postsynaptic', "
        "equations='dw/dt = eta * pre.r * post.r - decay * w : min=-1.0, max=1.0')",
        "Synapse(parameters='eta = 0.05 : projection\\ntau_e = 5.0', "
        "equations='tau_e * dtrace/dt + trace = pre.r * post.r : exponential\\ndw/dt = eta * (trace - w)')",
        "Synapse(parameters='eta = 0.05 : projection\\nphase = 0.0 : projection', "
        "equations='trace += ite(phase > 0.5, 0.0, power(pre.r * post.r, 3))\\n"
        "w += clip(ite(phase > 0.5, eta * trace, 0.0), -0.1, 0.1)')",
        *DEFERRED_RULES,
    ]))
    return rule, True


def _available(pre: End, post: End, chosen_side_size: int, allow_self: bool) -> int:
    """How many neurons a fixed-number connector can pick from (one fewer when self-connections are excluded)."""
    if pre.pop == post.pop and not allow_self:
        return chosen_side_size - 1
    return chosen_side_size


@dataclass(frozen=True)
class Fan:
    """One connection pattern repeated from one population to every population of a model."""

    pre: Pop
    connector: str
    targets: tuple[str, ...]  # one projection per target and post population
    synapse: tuple[str | None, bool]
    storage: str | None
    delays: str


@st.composite
def fans(draw: st.DrawFn, pops: list[Pop], model: Model) -> Fan:
    # patterns the optimised plan fuses (sparse, plain synapses, no delay) come up more often than elsewhere
    connector = draw(st.sampled_from(["fixed_probability", "one_to_one", "fixed_number_pre"] + list(CONNECTORS)))
    count = min(len(model.targets), draw(st.sampled_from([2, 1])))
    targets = draw(st.lists(st.sampled_from(model.targets), min_size=count, max_size=count, unique=True))
    synapse = draw(synapses()) if draw(st.integers(0, 3)) == 0 else (None, False)
    delays = draw(DELAYS) if draw(st.integers(0, 3)) == 0 else "0.0"
    return Fan(draw(st.sampled_from(pops)), connector, tuple(targets), synapse,
               draw(st.sampled_from(["csr", "csr", None, "dense"])), delays)


@st.composite
def plain_projection(draw: st.DrawFn, name: str, pops: list[Pop], model_pops: list[Pop],
                     model_of: Callable[[Pop], Model], fan: Fan | None = None, fan_post: Pop | None = None,
                     fan_target: str = "") -> Proj:
    """A Projection with any connector; in a ``fan``, the fan's pattern into ``fan_post``."""
    connector = fan.connector if fan else draw(st.sampled_from(CONNECTORS))
    pre_pop = fan.pre if fan else draw(st.sampled_from(pops))
    candidates = [fan_post] if fan_post else model_pops
    post_pop = draw(st.sampled_from(candidates))
    if connector in ("gaussian", "dog"):
        same_rank = [p for p in candidates if len(p.geometry) == len(pre_pop.geometry)]
        if not same_rank:
            connector = "all_to_all"
        else:
            post_pop = draw(st.sampled_from(same_rank))
    if connector == "one_to_one":
        size = min(pre_pop.size, post_pop.size) if fan else draw(st.integers(1, min(pre_pop.size, post_pop.size)))
        pre = _slice(pre_pop, draw(st.integers(0, pre_pop.size - size)), size)
        post = _slice(post_pop, draw(st.integers(0, post_pop.size - size)), size)
    elif fan:
        pre, post = End(pre_pop.name, "", pre_pop.size), End(post_pop.name, "", post_pop.size)
    else:
        pre, post = draw(ends(pre_pop)), draw(ends(post_pop))
    model = model_of(post_pop)
    if fan:
        target, (synapse, plastic), storage, delays = fan_target, fan.synapse, fan.storage, fan.delays
        weights = draw(WEIGHTS)
    else:
        target = draw(st.sampled_from(model.targets)) if draw(st.integers(0, 9)) else "extra"
        synapse, plastic = draw(synapses())
        storage = draw(STORAGE)
        weights, delays = draw(WEIGHTS), draw(DELAYS)
    allow_self = pre.pop == post.pop and draw(st.booleans())
    fmt = f", storage_format={storage!r}" if storage else ""
    own = ", allow_self_connections=True" if allow_self else ""
    lines: list[str] = []
    if connector == "all_to_all":
        call = f"connect_all_to_all(weights={weights}, delays={delays}{own}{fmt})"
    elif connector == "one_to_one":
        call = f"connect_one_to_one(weights={weights}, delays={delays}{fmt})"
    elif connector == "fixed_probability":
        p = draw(st.sampled_from([0.5, 0.1, 0.3, 0.9]))
        call = f"connect_fixed_probability({p}, weights={weights}, delays={delays}{own}{fmt})"
    elif connector in ("fixed_number_pre", "fixed_number_post"):
        side = pre.size if connector == "fixed_number_pre" else post.size
        available = _available(pre, post, side, allow_self)
        if available < 1:
            own, available = ", allow_self_connections=True", side
        number = draw(st.integers(0, available))
        call = f"connect_{connector}({number}, weights={weights}, delays={delays}{own}{fmt})"
    elif connector == "gaussian":
        amp = draw(st.sampled_from([0.5, -0.3, 1.0]))
        sigma = draw(st.sampled_from([0.3, 0.1, 1.0]))
        call = f"connect_gaussian(amp={amp}, sigma={sigma}, delays={delays}{own}{fmt})"
    elif connector == "dog":
        sigma = draw(st.sampled_from([0.2, 0.5]))
        call = f"connect_dog(amp_pos=1.0, sigma_pos={sigma}, amp_neg=0.5, sigma_neg={2 * sigma}, delays={delays}" \
               f"{own}{fmt})"
    elif connector == "from_matrix":
        pre_post = draw(st.booleans())
        shape = (pre.size, post.size) if pre_post else (post.size, pre.size)
        lines.append(f"m_{name} = rng.uniform(-0.5, 0.5, {shape})")
        density = draw(st.sampled_from([1.0, 0.5, 0.1]))
        matrix_delays = draw(st.sampled_from(["0.0", "2.0", "matrix"]))
        if matrix_delays == "matrix":
            lines.append(f"d_{name} = rng.uniform(0.0, 3.0, {shape})")
            matrix_delays = f"d_{name}"
        if density < 1.0:  # None marks a missing synapse, in the delays too
            lines.append(f"mask_{name} = rng.random({shape}) < {density}")
            lines.append(f"m_{name} = np.where(mask_{name}, m_{name}, None)")
            if matrix_delays.startswith("d_"):
                lines.append(f"d_{name} = np.where(mask_{name}, d_{name}, None)")
        flag = ", pre_post=True" if pre_post else ""
        call = f"connect_from_matrix(m_{name}, delays={matrix_delays}{flag}{fmt})"
    elif connector == "from_sparse":
        density = draw(st.sampled_from([0.3, 0.05, 1.0]))
        shape = (pre.size, post.size)
        lines.append(f"m_{name} = scipy.sparse.csr_matrix(np.where(rng.random({shape}) < {density}, "
                     f"rng.uniform(-0.5, 0.5, {shape}), 0.0))")
        delay = draw(st.sampled_from(["0.0", "2.0"]))
        call = f"connect_from_sparse(m_{name}, delays={delay}{fmt})"
    else:
        density = draw(st.sampled_from([0.5, 0.2, 1.0]))
        low, high = draw(st.sampled_from([(0.0, 0.0), (2.0, 2.0), (0.0, 3.0)]))
        seed = draw(st.integers(0, 1000))
        call = f"connect_from_function(random_lil, seed={seed}, density={density}, weight=0.5, " \
               f"delays=({low}, {high}){fmt})"
    synapse_arg = f", synapse={synapse}" if synapse else ""
    lines.append(f"{name} = net.connect({pre}, {post}, {target!r}{synapse_arg}, name={name!r}).{call}")
    if synapse in (STRUCTURAL, STRUCTURAL_RANDOM):
        period = draw(st.sampled_from([1, 2, 3]))
        lines.append("net.setup(structural_plasticity=True)")
        lines.append(f"{name}.start_creating(period={period} * net.dt); {name}.start_pruning(period={period} * net.dt)")
    return Proj(name, "projection", pre, post, target, tuple(lines), plastic, storage)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def kernel_projection(draw: st.DrawFn, name: str, kind: str, pops: list[Pop], models_: tuple[Model, ...],
                      new_name: str) -> tuple[Proj, Pop]:
    """A Convolution or Pooling from an existing population into a new population shaped to fit."""
    pre_pop = draw(st.sampled_from(pops))
    model = draw(st.sampled_from(models_))
    g = pre_pop.geometry
    delays = draw(st.sampled_from(["0.0", "0.0", "2.0"]))
    target = draw(st.sampled_from(model.targets))
    lines: list[str] = []
    if kind == "pooling":
        extent = tuple(draw(st.sampled_from(_divisors(n))) for n in g)
        post_geometry = tuple(n // e for n, e in zip(g, extent, strict=True))
        operation = draw(st.sampled_from(["max", "min", "mean"]))
        psp = draw(st.sampled_from(["", ", psp='pos(pre.r)'"]))
        lines.append(f"{name} = net.connect(Pooling({pre_pop.name}, {new_name}, {target!r}, operation={operation!r}"
                     f"{psp}, name={name!r})).connect_pooling(delays={delays})")
        shape: tuple[int, ...] = ()
    else:
        mode = draw(st.sampled_from(["same", "subsample", "bank"]))
        kernel = tuple(draw(st.integers(1, min(3, n))) for n in g)
        if mode == "subsample":
            stride = tuple(draw(st.sampled_from(_divisors(n))) for n in g)
            post_geometry = tuple(n // s for n, s in zip(g, stride, strict=True))
        else:
            post_geometry = g
        operation = draw(st.sampled_from(["sum", "sum", "max", "min", "mean"]))
        psp = draw(st.sampled_from(["", "", ", psp='pos(pre.r) * w'"]))
        padding = draw(st.sampled_from(["0.0", "0.25", "'border'"]))
        if mode == "bank":
            filters = draw(st.integers(1, 3))
            post_geometry = g + (filters,)
            shape = (filters,) + kernel
            connect = "connect_filters"
        else:
            shape = kernel
            connect = "connect_filter"
        lines.append(f"k_{name} = rng.uniform(-0.5, 0.5, {shape})")
        lines.append(f"{name} = net.connect(Convolution({pre_pop.name}, {new_name}, {target!r}, "
                     f"operation={operation!r}{psp}, name={name!r})).{connect}(k_{name}, delays={delays}, "
                     f"padding={padding})")
    post = Pop(new_name, post_geometry, model.name, "model")
    proj = Proj(name, kind, End(pre_pop.name, "", pre_pop.size), End(new_name, "", post.size), target,
                tuple(lines), kernel_shape=shape)
    return proj, post


@st.composite
def ring(draw: st.DrawFn, first: int, models_: tuple[Model, ...], prefix: str) -> tuple[list[Proj], list[Pop]]:
    """New populations of one model and one geometry in a chain or a ring of one-to-one projections.

    The benchmark's ring: the optimised plan stacks them and fuses their
    inputs into one product over a few stretches of consecutive columns
    (see ``TransmitGather``'s ``stretches``).
    """
    model = draw(st.sampled_from(models_))
    geometry = draw(GEOMETRIES)
    members = [Pop(f"{prefix}_{i}", geometry, model.name, "model") for i in range(draw(st.integers(2, 4)))]
    links = len(members) if draw(st.booleans()) else len(members) - 1
    target = draw(st.sampled_from(model.targets))
    weights = draw(WEIGHTS)
    projs = []
    for k in range(links):
        pre, post = members[k], members[(k + 1) % len(members)]
        name = f"proj{first + k}"
        line = f"{name} = net.connect({pre.name}, {post.name}, {target!r}, name={name!r})" \
               f".connect_one_to_one(weights={weights})"
        projs.append(Proj(name, "projection", End(pre.name, "", pre.size), End(post.name, "", post.size), target,
                          (line,)))
    return projs, members


@st.composite
def shared_projection(draw: st.DrawFn, name: str, kind: str, original: Proj, pops: list[Pop],
                      model_pops: list[Pop], model_of: Callable[[Pop], Model]) -> Proj:
    """A Copy or a Transpose of an earlier projection."""
    if kind == "transpose":
        post_pop = next(p for p in pops if p.name == original.pre.pop)
        model = model_of(post_pop) if post_pop.model else None
        target = draw(st.sampled_from(model.targets)) if model else "back"
        line = f"{name} = Transpose({original.name}, {target!r}, name={name!r}).connect()"
        return Proj(name, kind, original.post, original.pre, target, (line,))
    same = [End(p.name, "", p.size) for p in model_pops if p.size == original.post.size]
    post = draw(st.sampled_from([original.post] + same))
    pre_same = [End(p.name, "", p.size) for p in pops if p.size == original.pre.size]
    pre = draw(st.sampled_from([original.pre] + pre_same))
    post_pop = next(p for p in pops if p.name == post.pop)
    target = draw(st.sampled_from(model_of(post_pop).targets))
    extra = draw(st.sampled_from(["", "", ", operation='max'", ", psp='w * pos(pre.r)'"]))
    line = f"{name} = net.connect(Copy({pre}, {post}, {target!r}{extra}, name={name!r})).connect_copy({original.name})"
    return Proj(name, kind, pre, post, target, (line,))


# Values assigned from Python, per attribute: time constants stay positive (no division by zero).
RANGES = {"tau": (1.0, 6.0), "tau2": (1.0, 6.0), "a": (0.1, 0.9)}


def _value(draw: st.DrawFn, size_text: str, low: float = -0.25, high: float = 1.0) -> str:
    """A value to assign from Python: a number, an array from the script's generator, or a distribution."""
    kind = draw(st.sampled_from(["array", "number", "distribution"]))
    if kind == "number":
        return _num(draw(st.sampled_from([(low + high) / 2, low, high])))
    if kind == "distribution":
        return f"Uniform({_num(low)}, {_num(high)})"
    return f"rng.uniform({_num(low)}, {_num(high)}, {size_text})"


@st.composite
def assignment(draw: st.DrawFn, pop: Pop, attribute: str) -> str:
    """``pop.attr = value``, on the whole population or (sometimes) a view."""
    end = draw(ends(pop, view_chance=2))
    size = f"{end.size}" if end.index else f"{pop.geometry}"
    if end.index.startswith(":,"):
        size = f"{end.size}"
    return f"{end}.{attribute} = {_value(draw, size, *RANGES.get(attribute, (-0.25, 1.0)))}"


def _shared(desc: Description, pop: Pop, promoted: set[tuple[str, str]]) -> list[tuple[str, float]]:
    """The population-level parameters of ``pop`` that no per-neuron assignment has made local."""
    return [(name, value) for name, value in desc.model(pop.model).population_parameters
            if (pop.name, name) not in promoted]


@st.composite
def actions(draw: st.DrawFn, desc: Description) -> tuple[Action, ...]:
    """Runs separated by changes made from Python (values, parameters, weights, kernels, reset, save/load)."""
    inputs = [p for p in desc.pops if p.model is None]
    model_pops = [p for p in desc.pops if p.model is not None]
    plain = [p for p in desc.projs if p.kind == "projection"]
    convolutions = [p for p in desc.projs if p.kind == "convolution"]
    plastic = any(p.plastic for p in desc.projs)
    result: list[Action] = []
    saved = 0
    promoted: set[tuple[str, str]] = set()
    runs = draw(st.integers(2, 5))
    for _ in range(runs):
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["set_input", "set_variable", "set_local", "set_population", "set_weights",
                                         "set_kernel", "reset", "save", "load", "learning", "set_input",
                                         "set_population", "set_kernel", "reset", "reset", "load", "promote"]))
            if kind == "set_input" and inputs:
                pop = draw(st.sampled_from(inputs))
                result.append(Action(kind, draw(assignment(pop, "r")), pop.name))
            elif kind == "set_variable" and model_pops:
                pop = draw(st.sampled_from(model_pops))
                model = desc.model(pop.model)
                var = draw(st.sampled_from([v for v in model.variables if v != "s"]))
                result.append(Action(kind, draw(assignment(pop, var)), pop.name))
            elif kind == "set_local" and any(desc.model(p.model).local_parameters for p in model_pops):
                pop = draw(st.sampled_from([p for p in model_pops if desc.model(p.model).local_parameters]))
                name = draw(st.sampled_from(desc.model(pop.model).local_parameters))
                result.append(Action(kind, draw(assignment(pop, name)), pop.name))
            elif kind == "set_population" and any(_shared(desc, p, promoted) for p in model_pops):
                # a promoted parameter is local now: a batch test would give it one value per sample, (B,)
                pop = draw(st.sampled_from([p for p in model_pops if _shared(desc, p, promoted)]))
                name, initial = draw(st.sampled_from(_shared(desc, pop, promoted)))
                value = draw(st.sampled_from([initial * 1.5 + 0.5, initial * 0.5 + 0.05]))
                result.append(Action(kind, f"{pop.name}.{name} = {_num(round(value, 4))}", pop.name))
            elif kind == "promote" and any(desc.model(p.model).promotable for p in model_pops):
                pop = draw(st.sampled_from([p for p in model_pops if desc.model(p.model).promotable]))
                name = draw(st.sampled_from(desc.model(pop.model).promotable))
                result.append(Action(kind, draw(assignment(pop, name)), pop.name))
                promoted.add((pop.name, name))
            elif kind == "set_weights" and plain:
                proj = draw(st.sampled_from(plain))
                value = draw(st.sampled_from(["0.25", "Uniform(-0.5, 0.5)", "-0.1"]))
                result.append(Action(kind, f"{proj.name}.w = {value}", proj.name))
            elif kind == "set_kernel" and convolutions:
                proj = draw(st.sampled_from(convolutions))
                result.append(Action(kind, f"{proj.name}.weights = rng.uniform(-0.5, 0.5, {proj.kernel_shape})",
                                     proj.name))
            elif kind == "reset":
                projections = draw(st.booleans())
                populations = draw(st.sampled_from(["", "", ", populations=False"])) if projections else ""
                result.append(Action(kind, f"net.reset(projections={projections}{populations})",
                                     projections=projections))
            elif kind == "save":
                result.append(Action(kind, f"save(TMP + '/state{saved}.npz', net=net)"))
                saved += 1
            elif kind == "load" and saved:
                which = draw(st.integers(0, saved - 1))
                result.append(Action(kind, f"load(TMP + '/state{which}.npz', net=net)"))
            elif kind == "learning" and plastic:
                result.append(Action(kind, draw(st.sampled_from(["net.disable_learning()", "net.enable_learning()"]))))
        steps = draw(st.integers(1, 4))
        code = "net.step()" if steps == 1 and draw(st.booleans()) else \
            f"net.simulate({_num(round(steps * desc.dt, 10))})"
        result.append(Action("simulate", code))
    return tuple(result)


@st.composite
def descriptions(draw: st.DrawFn, max_populations: int = 4, max_projections: int = 6) -> Description:
    """A random network and the actions to run on it."""
    dt = draw(st.sampled_from([1.0, 0.5, 0.25]))
    dtype = draw(st.sampled_from(["float64", "float64", "float64", "float32"]))
    seed = draw(st.integers(0, 2 ** 16))
    data_seed = draw(st.integers(0, 2 ** 16))
    num_threads = draw(st.sampled_from([1, 1, 1, 2]))
    models_ = tuple(draw(models(f"M{i}")) for i in range(draw(st.integers(1, 3))))
    pops: list[Pop] = []
    for i in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["input", "InputArray", "TimedArray"]))
        pops.append(Pop(f"inp{i}", draw(GEOMETRIES), None, kind))
    for i in range(draw(st.integers(1, max_populations))):
        model = draw(st.sampled_from(models_))
        pops.append(Pop(f"p{i}", draw(GEOMETRIES), model.name, "model"))
    by_name = {m.name: m for m in models_}

    def model_of(pop: Pop) -> Model:
        return by_name[pop.model]

    projs: list[Proj] = []
    count = draw(st.integers(1, max_projections))
    while len(projs) < count:
        name = f"proj{len(projs)}"
        kind = draw(st.sampled_from(["projection"] * 4 + ["fan"] * 2 + ["convolution"] * 2 + ["pooling", "copy",
                                                                       "transpose", "ring"]))
        plain = [p for p in projs if p.kind == "projection"]
        model_pops = [p for p in pops if p.model is not None]
        if kind == "fan":
            shared = [m for m in models_ if sum(p.model == m.name for p in model_pops) > 1]
            model = draw(st.sampled_from(shared or list(models_)))
            fan = draw(fans(pops, model))
            for post in [p for p in model_pops if p.model == model.name][:3]:
                for target in fan.targets:
                    projs.append(draw(plain_projection(f"proj{len(projs)}", pops, model_pops, model_of, fan, post,
                                                       target)))
        elif kind in ("copy", "transpose") and plain:
            original = draw(st.sampled_from(plain))
            projs.append(draw(shared_projection(name, kind, original, pops, model_pops, model_of)))
        elif kind == "ring":
            links, members = draw(ring(len(projs), models_, f"ring{len(projs)}"))
            pops.extend(members)
            projs.extend(links)
        elif kind in ("convolution", "pooling"):
            proj, post = draw(kernel_projection(name, kind, pops, models_, f"k{len(projs)}"))
            pops.append(post)
            projs.append(proj)
        else:
            projs.append(draw(plain_projection(name, pops, model_pops, model_of)))
    monitors = []
    for pop in pops:
        if pop.model is None or draw(st.integers(0, 3)):
            continue
        model = by_name[pop.model]
        received = sorted({p.target for p in projs if p.post.pop == pop.name})
        if draw(st.integers(0, 5)):  # mostly targets the equations name (see the bug "monitor-unread-target")
            received = [t for t in received if t in model.targets and "sum()" not in model.call]
        names = draw(st.lists(st.sampled_from(list(model.variables) + [f"sum({t})" for t in received]),
                              min_size=1, max_size=3, unique=True))
        end = draw(ends(pop, view_chance=3))
        monitors.append(Record(f"m{len(monitors)}", end, tuple(names), draw(st.sampled_from([None, 2 * dt]))))
    desc = Description(dt, dtype, seed, data_seed, num_threads, models_, tuple(pops), tuple(projs), tuple(monitors))
    return Description(**{**desc.__dict__, "actions": draw(actions(desc))})


# ---------------------------------------------------------------------------
# the builder

IMPORTS = """\
import numpy as np
import scipy.sparse
from ratenet import *
from ratenet.projections import Convolution, Copy, Pooling, Transpose
"""

RANDOM_LIL = """\

def random_lil(pre, post, seed, density, weight, delays):
    # population ranks, post neurons in reverse order, pre neurons shuffled
    g = np.random.default_rng(seed)
    lil = LILConnectivity()
    for rank in post.ranks[::-1]:
        chosen = g.permutation(pre.ranks[g.random(pre.size) < density])
        if len(chosen):
            lil.add(int(rank), chosen, weight * g.uniform(-1.0, 1.0, len(chosen)), g.uniform(*delays, len(chosen)))
    return lil
"""

HEADER = IMPORTS + RANDOM_LIL

STANDALONE = """\
import tempfile
TMP = tempfile.mkdtemp()


def CHECK():
    pass  # the differential test compares every array here
"""


def render(desc: Description) -> tuple[str, list[str]]:
    """The script building the network (ending with ``net.compile()``) and one statement per action."""
    dtype = ", dtype=np.float32" if desc.dtype == "float32" else ""
    threads = f", num_threads={desc.num_threads}" if desc.num_threads > 1 else ""
    lines = [f"rng = np.random.default_rng({desc.data_seed})",
             f"net = Network(dt={desc.dt}, seed={desc.seed}{dtype}{threads})"]
    for model in desc.models:
        lines.append(f"{model.name} = {model.call}")
    for pop in desc.pops:
        if pop.kind == "model":
            continue
        if pop.kind == "input":
            lines.append(f"{pop.name} = net.create({pop.geometry}, Neuron(parameters='r = 0.0'), name={pop.name!r})")
        elif pop.kind == "InputArray":
            lines.append(f"{pop.name} = InputArray({pop.geometry}, name={pop.name!r}, network=net)")
        else:
            lines.append(f"{pop.name} = TimedArray(rng.uniform(0.0, 1.0, (3,) + {pop.geometry}), schedule=2.0, "
                         f"period=7.0, name={pop.name!r}, network=net)")
        if pop.kind != "TimedArray":
            lines.append(f"{pop.name}.r = rng.uniform(0.0, 1.0, {pop.geometry})")
    created = set()
    kernel_posts = {p.post.pop for p in desc.projs if p.kind in ("convolution", "pooling")}
    for pop in desc.pops:
        if pop.kind == "model" and pop.name not in kernel_posts:
            lines.append(f"{pop.name} = net.create({pop.geometry}, {pop.model}, name={pop.name!r})")
            created.add(pop.name)
    for proj in desc.projs:
        if proj.kind in ("convolution", "pooling") and proj.post.pop not in created:
            post = desc.pop(proj.post.pop)
            lines.append(f"{post.name} = net.create({post.geometry}, {post.model}, name={post.name!r})")
            created.add(post.name)
        lines.extend(proj.lines)
    lines.extend(str(record) for record in desc.monitors)
    lines.append("net.compile()")
    return "\n".join(lines) + "\n", [a.code for a in desc.actions]


def script(desc: Description) -> str:
    """A standalone script: what :func:`execute` runs, with ``CHECK()`` where the states are compared."""
    build, steps = render(desc)
    header = IMPORTS + (RANDOM_LIL if "random_lil" in build else "")
    return header + STANDALONE + "\n" + build + "".join(f"{code}; CHECK()\n" for code in steps)


@functools.lru_cache(maxsize=1)
def _header_code() -> Any:
    return compile(HEADER, "<differential header>", "exec")


# ---------------------------------------------------------------------------
# networks: optimised and reference


def _accepts_reference() -> bool:
    try:
        Network(reference=True)
    except TypeError:
        return False
    return True


REFERENCE_MODE_EXISTS = _accepts_reference()


def optimised_network(**kwargs: Any) -> Network:
    return Network(**kwargs)


def reference_network(**kwargs: Any) -> Network:
    """The plainest correct simulation of the same network, to compare the optimised one against.

    ``Network(reference=True)`` when ratenet has it.  Until then an emulation:
    no skipping of unchanged work, one thread, and every population gets its
    own copy of its Neuron, so nothing is stacked (stacking groups populations
    by model object) and therefore nothing is fused.  Delete the emulation
    once main has ``reference=True``.
    """
    kwargs.pop("num_threads", None)
    if REFERENCE_MODE_EXISTS:
        return Network(reference=True, **kwargs)
    net = Network(**kwargs)
    net.skip_unchanged = False
    create = net.create

    def create_unshared(geometry: Any = None, neuron: Any = None, *args: Any, **options: Any) -> Any:
        if isinstance(neuron, Neuron):
            neuron = copy.copy(neuron)
        return create(geometry, neuron, *args, **options)

    net.create = create_unshared  # type: ignore[method-assign]
    return net


def in_float64(factory: Callable[..., Network]) -> Callable[..., Network]:
    """The same factory, building in float64 whatever the script asks."""
    def build(**kwargs: Any) -> Network:
        kwargs.pop("dtype", None)
        return factory(**kwargs)

    return build


# ---------------------------------------------------------------------------
# running and comparing

State = dict[str, np.ndarray]


def snapshot(net: Network) -> State:
    """Every population attribute and ``sum(target)``, every projection's synaptic attributes, what monitors
    recorded, and the step."""
    state: State = {"step": np.asarray(net.get_current_step())}
    for pop in net.populations:
        for name in pop.attributes:
            state[f"{pop.name}.{name}"] = np.array(getattr(pop, name))
        for target in pop.targets:
            state[f"{pop.name}.sum({target})"] = pop.sum(target)
    for proj in net.projections:
        if isinstance(proj, Convolution):
            state[f"{proj.name}.weights"] = proj.weights
        elif isinstance(proj, (Pooling, Copy, Transpose)):
            continue  # no weights of their own
        else:
            for name in proj.attributes:
                value = proj.get(name)
                if isinstance(value, list) and value and isinstance(value[0], list):
                    # a learning synapse in a batch: one list of dendrites per sample
                    value = np.stack([np.concatenate(v) if v else np.zeros(0) for v in value])
                elif isinstance(value, list):
                    value = np.concatenate(value) if value else np.zeros(0)
                state[f"{proj.name}.{name}"] = np.array(value)
    for monitor in net.monitors:
        for name, values in monitor.get(keep=True, force_dict=True).items():
            state[f"{monitor.name}.{name}"] = np.array(values)
    return state


def execute(desc: Description, factory: Callable[..., Network],
            inspect: Callable[[Network], None] | None = None) -> list[State]:
    """Run the description's script with this ``Network`` factory; the state after the build and every action.

    ``inspect`` sees the network once it is built, and again before each run (actions can change the
    plan: disabling learning makes projections fusable, for instance).
    """
    build, steps = render(desc)
    return execute_source(build, steps, factory, inspect)


def execute_source(build: str, steps: list[str], factory: Callable[..., Network],
                   inspect: Callable[[Network], None] | None = None) -> list[State]:
    """Run a build script (which names its network ``net``), then each statement of ``steps``."""
    ns: dict[str, Any] = {"__name__": "__differential__"}
    exec(_header_code(), ns)
    ns["Network"] = factory
    states: list[State] = []
    # overflow and NaN are compared like any value; their warnings would only flood the report
    with tempfile.TemporaryDirectory(prefix="ratenet-diff-") as tmp, np.errstate(all="ignore"), \
            warnings.catch_warnings():
        # a promotion is what the generator asks for: its warning (tested elsewhere) would only flood the report
        warnings.filterwarnings("ignore", "one value per neuron was given for a Parameter", RatenetWarning)
        ns["TMP"] = tmp
        exec(compile(build, "<network>", "exec"), ns)
        net = ns["net"]
        if inspect is not None:
            inspect(net)
        states.append(snapshot(net))
        for code in steps:
            if inspect is not None and code.startswith(("net.simulate(", "net.step(")):
                inspect(net)  # simulate builds the plan first thing: looking at it now changes nothing
            exec(compile(code, "<action>", "exec"), ns)
            states.append(snapshot(net))
    return states


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    """Within ``rtol`` of the reference, relative to the reference array's largest magnitude (NaN-aware)."""
    if a.shape != b.shape:
        return False
    a, b = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return False
    inf = np.isinf(b)
    if not np.array_equal(a[inf], b[inf]):
        return False
    finite = ~(nan_b | inf)
    if not finite.any():
        return True
    scale = max(1.0, float(np.abs(b[finite]).max()))
    return bool(np.all(np.abs(a[finite] - b[finite]) <= rtol * np.maximum(np.abs(b[finite]), scale)))


def differences(actions: tuple[Action, ...] | list[str], got: list[State], expected: list[State],
                rtol: float | None = None, ignore_extra: Callable[[str, np.ndarray], bool] | None = None,
                loose: dict[str, float] | None = None) -> list[str]:
    """What differs between two runs, one line per array (bit for bit unless ``rtol``); empty when equal.

    ``ignore_extra(key, value)`` may excuse an array that only the run under test has; ``loose`` maps keys
    compared within a tolerance of their own (lazily added values) to it.
    """
    found: list[str] = []
    labels = ["after the build"] + [f"after action {i} ({getattr(a, 'code', a)})" for i, a in enumerate(actions)]
    if len(got) != len(expected):
        return [f"{len(got)} states against {len(expected)}"]
    for label, a, b in zip(labels, got, expected, strict=True):
        for key in sorted(a.keys() - b.keys()):
            if ignore_extra is None or not ignore_extra(key, a[key]):
                found.append(f"{label}: {key} exists only in the run under test ({_show(a[key])})")
        for key in sorted(b.keys() - a.keys()):
            found.append(f"{label}: {key} is missing from the run under test")
        for key in [k for k in b if k in a]:
            tolerance = max(rtol or 0.0, (loose or {}).get(key, 0.0)) or None
            same = _equal(a[key], b[key]) if tolerance is None or a[key].dtype.kind not in "fc" else \
                _close(a[key], b[key], tolerance)
            if not same:
                found.append(f"{label}: {key} differs: {_show(a[key])} instead of {_show(b[key])}")
        if found:
            break  # the first state that differs says most
    return found


def reset_differences(desc: Description, states: list[State]) -> list[str]:
    """After each ``reset``, what differs from the state the network had when it was compiled.

    An oracle that needs no second run: ``reset()`` returns the populations,
    and with ``projections=True`` the weights and kernels, to their
    compile-time values, and the time to 0.  Both modes must pass it.
    """
    found: list[str] = []
    initial = states[0]
    population_names = {p.name for p in desc.pops}
    promoted: set[str] = set()
    for i, action in enumerate(desc.actions):
        if action.kind == "promote":
            promoted.add(f"{action.subject}.{action.code.split(' = ')[0].rsplit('.', 1)[1]}")
        if action.kind != "reset":
            continue
        populations = "populations=False" not in action.code
        after = states[i + 1]
        for key, value in initial.items():
            owner = key.partition(".")[0]
            is_population = owner in population_names
            if key != "step" and not (populations if is_population else action.projections):
                continue
            if key in promoted and key in after and after[key].shape != value.shape:
                # local since: the compile-time value per neuron, in the network's dtype (a population-level
                # value reads as a Python float)
                value = np.broadcast_to(value, after[key].shape).astype(after[key].dtype)
            if key not in after or not _equal(after[key], value):
                found.append(f"after action {i} ({action.code}): {key} is {_show(after.get(key, np.zeros(0)))}, "
                             f"not its compile-time value {_show(value)}")
    return found


def _show(array: np.ndarray) -> str:
    text = np.array2string(np.asarray(array).ravel()[:8], precision=17, separator=", ")
    return f"{text} ({array.dtype}, shape {array.shape})"


# ---------------------------------------------------------------------------
# known bugs of today's optimised plan (issue 10), so the generator can step around them until fixed


def deferred_keys(net: Network) -> dict[str, float]:
    """Snapshot keys of the values a plan adds lazily (``step_order``: "Learn, trace added lazily"), with
    LAZY_RTOL: the projection's DEFERRED attributes."""
    keys: dict[str, float] = {}
    rtol = LAZY_RTOL if np.dtype(net.dtype) == np.float64 else 1e-5
    for line in net.step_order:
        if "added lazily]" in line:
            proj = line.split(":", 1)[0]
            keys.update({f"{proj}.{name}": rtol for name in DEFERRED})
    return keys


def fused_groups(net: Network) -> int:
    """Sparse products the optimised plan fused (as step_order says; one line holds several on threads)."""
    return sum(line.count("(one sparse product)") for line in net.step_order)


def known_bugs(desc: Description, optimised: Network | None = None) -> list[str]:
    """The known bugs (KNOWN_BUGS in test_differential.py) whose conditions this description meets.

    Conditions are generous (a network may meet one and still agree) and are read from the
    description, and for the fused products from the optimised network's step_order.
    """
    found = []
    if optimised is not None:
        if fused_groups(optimised) >= 2:
            found.append("fused-late-binding")
        # a fused group is added first, before the other projections into the same block and target
        entries = [entry for line in optimised.step_order for entry in line.split(" | ")]
        if any("(one sparse product)" in entry and entry.count("; ") >= 2 for entry in entries):
            found.append("fused-sum-order")
    for record in desc.monitors:
        model = desc.model(desc.pop(record.end.pop).model)
        read = () if "sum()" in model.call else model.targets
        if any(v.startswith("sum(") and v[4:-1] not in read for v in record.variables):
            found.append("monitor-unread-target")
    changed_stacked, changed_kernel = False, False
    for action in desc.actions:
        if action.kind == "set_population" and desc.stacked(action.subject):
            changed_stacked = True
        if action.kind == "set_kernel":
            changed_kernel = True
        if action.kind == "reset":
            if changed_stacked and "populations=False" not in action.code:
                found.append("reset-stacked-population-parameter")
            if changed_kernel and action.projections:
                found.append("reset-convolution-kernel")
    return sorted(set(found))


def unused_sum_of_stacked(desc: Description) -> Callable[[str, np.ndarray], bool]:
    """Whether an array only the optimised run has is a zero ``sum(target)`` of a stacked population.

    Stacking gives every member of a block the union of the members' targets
    (known bug "stacked-targets-union"): harmless zeros, but ``pop.targets``
    and ``pop.sum(t)`` then depend on the plan.
    """
    def excused(key: str, value: np.ndarray) -> bool:
        pop, _, rest = key.partition(".")
        return rest.startswith("sum(") and not np.any(value) and any(p.name == pop for p in desc.pops) \
            and desc.stacked(pop)

    return excused


__all__ = ["Description", "descriptions", "deferred_keys", "DEFERRED_RULES",
           "render", "script", "execute", "execute_source", "snapshot",
           "differences", "reset_differences", "optimised_network", "reference_network", "in_float64", "known_bugs",
           "unused_sum_of_stacked", "REFERENCE_MODE_EXISTS"]
