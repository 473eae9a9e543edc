"""The catalogue of bad inputs (issue 13): one row per mistake a user can make with the public API.

Each row calls the API with one bad input and names the exception it must
raise and four pieces its message must contain: the **object** (``Population
'exc'``, ``Projection 'ff'``, ``load('...')``, ``Neuron, equations, line 1``),
the **argument** (or entry, or slot), what was **expected**, and what was
**given** (``(got ...)``, or the quoted text for equation errors).  The pieces
are checked one by one, not as a whole string, so a message may gain words
without breaking the table; a message that loses one of them fails.

``{tmp}`` in a piece stands for the row's temporary folder.  A row must also
leave nothing half-done: rows that change values are followed by a check that
the network's arrays did not move (see ``test_refused_assignments_change_nothing``).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

import ratenet as rn
from ratenet import (Binomial, Constant, DiscreteUniform, EquationError, Exponential, FileError, Gamma, InputArray,
                     LogNormal, MissingFileError, Monitor, Network, Neuron, Normal, Population, PopulationView,
                     Projection, Synapse, TimedArray, Uniform, ValidationError, load_parameters, save_parameters)

V, E, F, A, M = ValidationError, EquationError, FileError, AttributeError, MissingFileError
NONFINITE = "expected finite numbers; NaN and infinities are refused unless the network allows them"


class Ctx:
    """A small network with one of everything, in a temporary folder (a state file saved in it)."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        net = self.net = Network(seed=1)
        self.model = Neuron(parameters="tau = 10.0 : population\ngain = 1.0\nn = 2 : int\nflag = False : bool\n"
                                       "k = 1 : int, population",
                            equations="tau * dv/dt + v = sum(exc) * gain\nr = pos(v)", name="Rate")
        self.pop = net.create(4, self.model, name="exc")
        self.inp = net.create(3, Neuron(parameters="r = 0.5"), name="inp")
        self.grid = net.create((2, 3), Neuron(parameters="r = 0.0"), name="grid")
        self.syn = Synapse(parameters="eta = 0.1 : projection\nc = 1 : int, projection\nalpha = 0.5\n"
                                      "beta = 0.2 : postsynaptic",
                           equations="dw/dt = eta * pre.r * post.r", name="Learn")
        self.proj = net.connect(self.inp, self.pop, "exc", self.syn, name="ff").connect_all_to_all(0.5)
        self.sparse = net.connect(self.inp, self.pop, "inh", name="sp").connect_fixed_probability(
            0.5, 1.0, storage_format="csr")
        self.mon = net.monitor(self.pop, "r")
        self.path = os.path.join(tmp, "state.npz")
        net.save(self.path)

    def loose(self) -> Projection:
        """A projection whose connector was never called."""
        return self.net.connect(self.inp, self.pop, "mod", name="loose")

    def file(self, name: str, content: bytes) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as handle:
            handle.write(content)
        return path

    def corrupt(self, key: str, value: Any) -> str:
        with np.load(self.path) as data:
            arrays = {k: data[k] for k in data.files}
        assert key in arrays, sorted(arrays)
        arrays[key] = np.asarray(value)
        path = os.path.join(self.tmp, "bad.npz")
        np.savez(path, **arrays)
        return path

    def json(self, content: Any) -> str:
        path = os.path.join(self.tmp, "p.json")
        with open(path, "w") as handle:
            handle.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def free_rank(self) -> int:
        return [r for r in range(3) if r not in self.sparse.dendrite(0).pre_ranks][0]


class Row(NamedTuple):
    ident: str
    action: Callable[[Ctx], Any]
    error: type
    obj: str
    argument: str
    expected: str
    given: str


def npy(c: Ctx) -> str:
    path = os.path.join(c.tmp, "a.npy")
    np.save(path, np.zeros(3))
    return path


def foreign(c: Ctx) -> str:
    path = os.path.join(c.tmp, "f.npz")
    np.savez(path, r=np.zeros(3))
    return path


def run_int_log(c: Ctx) -> None:
    net = Network()
    net.create(1, Neuron(equations="n = log(-1) : int\nr = n"))
    net.simulate(1.0)


def _create_with(geometry: Any) -> Callable[[Ctx], Any]:
    return lambda c: Population(geometry, c.model, network=c.net)


S = setattr
CATALOGUE = [
    # -- network and setup ---------------------------------------------------------------------------------------
    Row("setup dt=0", lambda c: c.net.setup(dt=0), V, "Network", ".dt:", "positive number of ms", "(got 0)"),
    Row("setup dt=-1", lambda c: c.net.setup(dt=-1.0), V, "Network", ".dt:", "positive number", "(got -1.0)"),
    Row("setup dt=nan", lambda c: c.net.setup(dt=float("nan")), V, "Network", ".dt:", "positive number", "(got nan)"),
    Row("setup dt='1'", lambda c: c.net.setup(dt="1"), V, "Network", ".dt:", "positive number", "(got '1')"),
    Row("setup seed=-1", lambda c: c.net.setup(seed=-1), V, "Network", ".seed:", "non-negative integer", "(got -1)"),
    Row("setup seed=1.5", lambda c: c.net.setup(seed=1.5), V, "Network", ".seed:", "non-negative integer",
        "(got 1.5)"),
    Row("Network dtype=int", lambda c: Network(dtype=int), V, "Network", ".dtype:", "numpy.float64 or numpy.float32",
        "(got int)"),
    Row("setup precision", lambda c: c.net.setup(precision="half"), V, "setup", ".precision:", "'float' or 'double'",
        "(got 'half')"),
    Row("setup num_threads=-1", lambda c: c.net.setup(num_threads=-1), V, "Network", ".num_threads:",
        "positive integer", "(got -1)"),
    Row("Network num_threads=1.5", lambda c: Network(num_threads=1.5), V, "Network", ".num_threads:",
        "positive integer", "(got 1.5)"),
    Row("setup unknown option", lambda c: c.net.setup(speed="max"), V, "setup", ".speed:", "unknown option (known:",
        "(got 'speed')"),
    Row("setup dtype after populations", lambda c: c.net.setup(dtype=np.float32), V, "Network", ".dtype:",
        "cannot change once populations exist", "(got float32)"),
    Row("set_time -1", lambda c: c.net.set_time(-1.0), V, "Network", ".t:", "non-negative number of ms", "(got -1.0)"),
    Row("set_time nan", lambda c: c.net.set_time(float("nan")), V, "Network", ".t:", "non-negative", "(got nan)"),
    Row("set_current_step -1", lambda c: c.net.set_current_step(-1), V, "Network", ".step:", "non-negative integer",
        "(got -1)"),
    Row("set_current_step 1.5", lambda c: c.net.set_current_step(1.5), V, "Network", ".step:", "non-negative integer",
        "(got 1.5)"),
    Row("simulate -1", lambda c: c.net.simulate(-1.0), V, "simulate", ".duration:", "must be >= 0", "(got -1.0)"),
    Row("simulate nan", lambda c: c.net.simulate(float("nan")), V, "simulate", ".duration:", "finite number of ms",
        "(got nan)"),
    Row("simulate '10'", lambda c: c.net.simulate("10"), V, "simulate", ".duration:", "finite number", "(got '10')"),
    Row("simulate inf", lambda c: c.net.simulate(float("inf")), V, "simulate", ".duration:", "finite number",
        "(got inf)"),
    Row("simulate 1e12 with a monitor", lambda c: c.net.simulate(1e12), V, "simulate", ".duration:",
        "more than this machine's memory", "(got 1000000000000.0)"),
    Row("simulate_until a name", lambda c: c.net.simulate_until(10.0, "exc"), V, "simulate_until", ".population:",
        "a population or a list of them", "(got 'exc')"),
    Row("simulate_until no stop_condition", lambda c: c.net.simulate_until(10.0, c.pop), V, "simulate_until",
        ".population:", "create it with stop_condition=", "'exc' has no stop_condition"),
    Row("simulate_until operator", lambda c: c.net.simulate_until(
        10.0, Population(2, Neuron(equations="r = t"), stop_condition="r > 1", network=c.net), operator="xor"),
        V, "simulate_until", ".operator:", "'and' or 'or'", "(got 'xor')"),
    Row("get_population unknown", lambda c: c.net.get_population("nope"), V, "Network", ".get_population:",
        "no population of that name", "(got 'nope')"),
    Row("get_projection unknown", lambda c: c.net.get_projection("nope"), V, "Network", ".get_projection:",
        "no projection of that name", "(got 'nope')"),
    Row("create without neuron", lambda c: c.net.create(3), V, "Network.create", ".neuron:", "is required",
        "(got None)"),
    Row("connect without post", lambda c: c.net.connect(c.inp), V, "Network.connect", ".post:", "is required",
        "(got None)"),
    Row("connect a name", lambda c: c.net.connect("inp", c.pop), V, "Network.connect", ".pre:",
        "a Population or a PopulationView", "(got 'inp')"),
    Row("module get_population", lambda c: rn.get_population("nope"), V, "Network", ".get_population:",
        "no population of that name", "(got 'nope')"),
    Row("module setup dt", lambda c: rn.setup(dt=-2.0), V, "Network", ".dt:", "positive number", "(got -2.0)"),
    # -- population creation -------------------------------------------------------------------------------------
    *[Row(f"geometry {g!r}", _create_with(g), V, "Population",
          ".geometry:", "positive int or a non-empty tuple of positive ints", f"(got {g!r})")
      for g in (0, -3, (), (2, 0), 1.5, "10", True, [2, -1], None, (2.0, 3))],
    Row("geometry 10**12", lambda c: Population(10**12, c.model, network=c.net), V, "Population", ".geometry:",
        "would take 56 TB, more than this machine's memory", "(got 1000000000000)"),
    Row("geometry (2**32, 2**32)", lambda c: Population((2**32, 2**32), c.model, network=c.net), V, "Population",
        ".geometry:", "more than this machine's memory", "(got (4294967296, 4294967296))"),
    Row("neuron None", lambda c: Population(3, None, network=c.net), V, "Population", ".neuron:", "must be a Neuron",
        "(got None)"),
    Row("neuron a name", lambda c: Population(3, "Rate", network=c.net), V, "Population", ".neuron:",
        "must be a Neuron", "(got 'Rate')"),
    Row("name empty", lambda c: Population(3, c.model, name="", network=c.net), V, "Population", ".name:",
        "non-empty string", "(got '')"),
    Row("name int", lambda c: Population(3, c.model, name=3, network=c.net), V, "Population", ".name:",
        "non-empty string", "(got 3)"),
    Row("name taken", lambda c: Population(3, c.model, name="exc", network=c.net), V, "Population", ".name:",
        "already used in this network", "(got 'exc')"),
    Row("stop_condition int", lambda c: Population(3, c.model, stop_condition=3, network=c.net), V, "Population '",
        ".stop_condition:", "a string such as 'r > 1.0 : any'", "(got 3)"),
    Row("stop_condition unknown name", lambda c: Population(3, c.model, stop_condition="q > 1", network=c.net), E,
        "stop_condition, line 1", "Population '", "unknown name 'q'", "    q > 1"),
    Row("InputArray without geometry", lambda c: InputArray(network=c.net), V, "InputArray", ".geometry:",
        "is required", "(got None)"),
    Row("InputArray geometry 0", lambda c: InputArray(0, network=c.net), V, "InputArray", ".geometry:",
        "positive int", "(got 0)"),
    # -- population attributes -----------------------------------------------------------------------------------
    Row("pop.v = nan", lambda c: S(c.pop, "v", float("nan")), V, "Population 'exc'", ".v:", NONFINITE, "(got nan)"),
    Row("pop.v = inf", lambda c: S(c.pop, "v", float("inf")), V, "Population 'exc'", ".v:", NONFINITE, "(got inf)"),
    Row("pop.gain with -inf", lambda c: S(c.pop, "gain", [1.0, -np.inf, 0.0, 0.0]), V, "Population 'exc'", ".gain:",
        NONFINITE, "(got [1.0, -inf, 0.0, 0.0])"),
    Row("pop.tau = nan", lambda c: S(c.pop, "tau", float("nan")), V, "Population 'exc'", ".tau:", NONFINITE,
        "(got nan)"),
    Row("pop.v = text", lambda c: S(c.pop, "v", "fast"), V, "Population 'exc'", ".v:", "expected numbers",
        "(got 'fast')"),
    Row("pop.v = None", lambda c: S(c.pop, "v", None), V, "Population 'exc'", ".v:", "expected numbers", "(got None)"),
    Row("pop.v wrong shape", lambda c: S(c.pop, "v", [1.0, 2.0]), V, "Population 'exc'", ".v:",
        "a number or an array of shape (4,)", "(got shape (2,))"),
    Row("pop.v 2-D", lambda c: S(c.pop, "v", np.zeros((2, 2))), V, "Population 'exc'", ".v:", "shape (4,)",
        "(got shape (2, 2))"),
    Row("grid.r wrong shape", lambda c: S(c.grid, "r", np.zeros((3, 2))), V, "Population 'grid'", ".r:",
        "(2, 3) or (6,)", "(got shape (3, 2))"),
    Row("pop.tau = array", lambda c: S(c.pop, "tau", [1.0, 2.0]), V, "Population 'exc'", ".tau:",
        "one value for the whole population", "(got [1.0, 2.0])"),
    Row("pop.tau = text", lambda c: S(c.pop, "tau", "slow"), V, "Population 'exc'", ".tau:", "expected a number",
        "(got 'slow')"),
    Row("pop.n = 2.7", lambda c: S(c.pop, "n", 2.7), V, "Population 'exc'", ".n:", "int attribute: expected whole "
        "numbers, not truncated fractions", "(got 2.7)"),
    Row("pop.n with 2.5", lambda c: S(c.pop, "n", [1, 2.5, 3, 4]), V, "Population 'exc'", ".n:",
        "expected whole numbers", "(got [1, 2.5, 3, 4])"),
    Row("pop.k = 2.7 (population int)", lambda c: S(c.pop, "k", 2.7), V, "Population 'exc'", ".k:",
        "expected whole numbers", "(got 2.7)"),
    Row("pop.n = nan", lambda c: S(c.pop, "n", float("nan")), V, "Population 'exc'", ".n:", "expected whole numbers",
        "(got nan)"),
    Row("pop.n = 1e300", lambda c: S(c.pop, "n", 1e300), V, "Population 'exc'", ".n:",
        "whole numbers from -2**63 to 2**63-1", "(got 1e+300)"),
    Row("pop.flag = 2", lambda c: S(c.pop, "flag", 2), V, "Population 'exc'", ".flag:", "bool attribute: expected "
        "True/False (or 0/1)", "(got 2)"),
    Row("pop.flag = 0.5", lambda c: S(c.pop, "flag", 0.5), V, "Population 'exc'", ".flag:", "a bool attribute",
        "(got 0.5)"),
    Row("pop.r[0] = 1", lambda c: c.pop.r.__setitem__(0, 1.0), V, "Population 'exc'", ".r:",
        "assign the attribute instead: exc.r = values", "(got [0] = 1.0)"),
    Row("view.r[1] = 1", lambda c: c.pop[1:3].r.__setitem__(1, 1.0), V, "PopulationView 'exc[1:3]'", ".r:",
        "read-only copy", "(got [1] = 1.0)"),
    Row("grid.r[0, 1] = 1", lambda c: c.grid.r.__setitem__((0, 1), 1.0), V, "Population 'grid'", ".r:",
        "grid[i].r = x (one neuron)", "(got [0, 1] = 1.0)"),
    Row("pop.v[:] = 0", lambda c: c.pop.v.__setitem__(slice(None), 0.0), V, "Population 'exc'", ".v:",
        "read-only copy", "(got [slice(None, None, None)] = 0.0)"),
    Row("view.tau", lambda c: S(c.pop[0:2], "tau", 1.0), V, "PopulationView 'exc[0:2]'", ".tau:",
        "shared by the whole population: set it on the population", "(got 1.0)"),
    Row("neuron.tau", lambda c: S(c.pop[0], "tau", 1.0), V, "Population 'exc'", ".tau:",
        "shared by the whole population", "(got 1.0)"),
    Row("neuron.v = list", lambda c: S(c.pop[0], "v", [1.0, 2.0]), V, "Population 'exc' (neuron 0)", ".v:",
        "expected a single number", "(got [1.0, 2.0])"),
    Row("view.v = nan", lambda c: S(c.pop[0:2], "v", float("nan")), V, "PopulationView 'exc[0:2]'", ".v:", NONFINITE,
        "(got nan)"),
    Row("neuron.v = inf", lambda c: S(c.pop[1], "v", float("inf")), V, "Population 'exc'", ".v:", NONFINITE,
        "(got inf)"),
    Row("view.v wrong shape", lambda c: S(c.pop[0:2], "v", [1.0, 2.0, 3.0]), V, "PopulationView 'exc[0:2]'", ".v:",
        "shape (2,)", "(got shape (3,))"),
    Row("pop.set not a dict", lambda c: c.pop.set(3), V, "Population 'exc'", ".set:", "a dict {name: value}",
        "(got 3)"),
    Row("pop.set unknown", lambda c: c.pop.set({"tua": 1.0}), A, "Population 'exc'", "no attribute 'tua'",
        "did you mean 'tau'?", "(attributes: tau, gain, n, flag, k, v, r)"),
    Row("pop unknown attribute", lambda c: c.pop.tua, A, "Population 'exc'", "no attribute 'tua'",
        "did you mean 'tau'?", "attributes: tau"),
    Row("pop.set nan", lambda c: c.pop.set({"v": float("nan")}), V, "Population 'exc'", ".v:", NONFINITE,
        "(got nan)"),
    Row("pop.neuron(99)", lambda c: c.pop.neuron(99), V, "Population 'exc'", ".rank:", "an integer in [0, 4)",
        "(got 99)"),
    Row("pop[99]", lambda c: c.pop[99], IndexError, "Population 'exc'", "index 99", "out of range for 4 neurons",
        "99"),
    Row("rank_from_coordinates", lambda c: c.grid.rank_from_coordinates((5, 5)), V, "Population 'grid'", ".coord:",
        "2 integers within (2, 3)", "(got (5, 5))"),
    Row("coordinates_from_rank -1", lambda c: c.grid.coordinates_from_rank(-1), V, "Population 'grid'", ".rank:",
        "an integer in [0, 6)", "(got -1)"),
    Row("coordinates_from_rank 1.5", lambda c: c.grid.coordinates_from_rank(1.5), V, "Population 'grid'", ".rank:",
        "an integer in [0, 6)", "(got 1.5)"),
    Row("pop.sum unknown target", lambda c: c.pop.sum("nope"), V, "Population 'exc'", ".target:",
        "no projection or equation uses this target (known: exc, inh)", "(got 'nope')"),
    Row("pop.reset unknown", lambda c: c.pop.reset(["nope"]), A, "Population 'exc'", "no attribute 'nope'",
        "(attributes:", "'nope'"),
    Row("view ranks out of range", lambda c: PopulationView(c.pop, [7]), V, "PopulationView", ".ranks:",
        "must lie in [0, 4)", "(got array([7]))"),
    Row("view repeats", lambda c: PopulationView(c.pop, [1, 1]), V, "PopulationView", ".ranks:",
        "must not repeat a neuron", "(got array([1, 1]))"),
    Row("view empty", lambda c: PopulationView(c.pop, []), V, "PopulationView", ".ranks:",
        "at least one neuron", "(got [])"),
    Row("geometry change", lambda c: S(c.pop, "geometry", (8,)), A, "Population 'exc'", ".geometry",
        "cannot be changed after creation", ""),
    # -- TimedArray ----------------------------------------------------------------------------------------------
    Row("TimedArray 0 rows", lambda c: TimedArray(np.zeros((0, 3)), network=c.net), V, "TimedArray", ".rates:",
        "at least one array of rates", "(got shape (0, 3))"),
    Row("TimedArray nan", lambda c: TimedArray([[0.0, np.nan]], network=c.net), V, "TimedArray", ".rates:",
        NONFINITE, "rates[0, 1] is nan (got shape (1, 2))"),
    Row("TimedArray inf", lambda c: TimedArray([[0.0, np.inf]], network=c.net), V, "TimedArray", ".rates:",
        NONFINITE, "rates[0, 1] is inf"),
    Row("TimedArray 1-D", lambda c: TimedArray([1.0, 2.0], network=c.net), V, "TimedArray", ".rates:",
        "shape (steps, *geometry)", "(got shape (2,))"),
    Row("TimedArray text", lambda c: TimedArray("rates", network=c.net), V, "TimedArray", ".rates:",
        "an array of numbers", "(got 'rates')"),
    Row("TimedArray geometry mismatch", lambda c: TimedArray(np.zeros((2, 3)), geometry=4, network=c.net), V,
        "TimedArray", ".rates:", "shape (steps, 4)", "(got shape (2, 3))"),
    Row("TimedArray schedule -1", lambda c: TimedArray(np.zeros((2, 3)), schedule=-1.0, network=c.net), V,
        "TimedArray", ".schedule:", "must be >= 0", "(got -1.0)"),
    Row("TimedArray period nan", lambda c: TimedArray(np.zeros((2, 3)), period=float("nan"), network=c.net), V,
        "TimedArray", ".period:", "finite number of ms", "(got nan)"),
    Row("TimedArray schedule text", lambda c: TimedArray(np.zeros((2, 3)), schedule="1", network=c.net), V,
        "TimedArray", ".schedule:", "finite number of ms", "(got '1')"),
    Row("TimedArray.update nan", lambda c: TimedArray(np.zeros((2, 3)), name="ta", network=c.net).update(
        [[np.nan] * 3]), V, "TimedArray 'ta'", ".rates:", NONFINITE, "rates[0, 0] is nan"),
    Row("TimedArray.update 0 rows", lambda c: TimedArray(np.zeros((2, 3)), name="ta", network=c.net).update(
        np.zeros((0, 3))), V, "TimedArray 'ta'", ".rates:", "at least one array", "(got shape (0, 3))"),
    # -- projections ---------------------------------------------------------------------------------------------
    Row("Projection pre a name", lambda c: Projection("inp", c.pop, "exc"), V, "Projection", ".pre:",
        "a Population or a PopulationView", "(got 'inp')"),
    Row("Projection post int", lambda c: Projection(c.inp, 3, "exc"), V, "Projection", ".post:",
        "a Population or a PopulationView", "(got 3)"),
    Row("Projection target int", lambda c: Projection(c.inp, c.pop, 3), V, "Projection", ".target:",
        "a name such as 'exc'", "(got 3)"),
    Row("Projection target with space", lambda c: Projection(c.inp, c.pop, "ex c"), V, "Projection", ".target:",
        "a name such as 'exc'", "(got 'ex c')"),
    Row("Projection synapse a name", lambda c: Projection(c.inp, c.pop, "exc", "Hebb"), V, "Projection",
        ".synapse:", "must be a Synapse", "(got 'Hebb')"),
    Row("Projection across networks", lambda c: Projection(c.inp, Network().create(2, c.model, name="far"), "exc"),
        V, "Projection", ".post:", "the same network as pre", "(got 'far')"),
    Row("synapse reads a missing pre attribute", lambda c: Projection(c.inp, c.pop, "exc", Synapse(psp="w * pre.v"),
                                                                       name="pv"),
        V, "Projection 'pv'", ".synapse:", "has no attribute 'v' (it has: r)", "reads pre.v"),
    Row("weights text", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_all_to_all("a"), V,
        "Projection 'p'", ".weights:", "a finite number or a distribution", "(got 'a')"),
    Row("weights nan", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_all_to_all(float("nan")), V,
        "Projection 'p'", ".weights:", "a finite number", "(got nan)"),
    Row("weights inf one_to_one", lambda c: c.net.connect(c.inp, c.grid, name="p").connect_one_to_one(
        float("inf")), V, "Projection 'p'", ".weights:", "a finite number", "(got inf)"),
    Row("delays -1", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_all_to_all(1.0, delays=-1.0), V,
        "Projection 'p'", ".delays:", "must be >= 0", "(got -1.0)"),
    Row("delays 1e12", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_all_to_all(1.0, delays=1e12), V,
        "Projection 'p'", ".delays:", "more than this machine's memory", "(got 1000000000000.0)"),
    Row("delays text", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_all_to_all(1.0, delays="2"), V,
        "Projection 'p'", ".delays:", "a finite number or a distribution", "(got '2')"),
    Row("probability 1.5", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_fixed_probability(1.5, 1.0), V,
        "Projection 'p'", ".probability:", "a number in [0, 1]", "(got 1.5)"),
    Row("probability -0.1", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_fixed_probability(-0.1, 1.0),
        V, "Projection 'p'", ".probability:", "a number in [0, 1]", "(got -0.1)"),
    Row("fixed_number_pre 10 of 3", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_fixed_number_pre(
        10, 1.0), V, "Projection 'p'", ".number:", "cannot exceed the 3 pre-synaptic neurons", "(got 10)"),
    Row("fixed_number_pre -1", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_fixed_number_pre(-1, 1.0),
        V, "Projection 'p'", ".number:", "non-negative integer", "(got -1)"),
    Row("fixed_number_post 1.5", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_fixed_number_post(
        1.5, 1.0), V, "Projection 'p'", ".number:", "non-negative integer", "(got 1.5)"),
    Row("storage_format dia", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_all_to_all(
        1.0, storage_format="dia"), V, "Projection 'p'", ".storage_format:", "'dense', 'auto'", "(got 'dia')"),
    Row("gaussian sigma -1", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_gaussian(1.0, -1.0), V,
        "Projection 'p'", ".sigma:", "must be > 0", "(got -1.0)"),
    Row("from_matrix wrong shape", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_from_matrix(
        np.ones((2, 2))), V, "Projection 'p'", ".weights:", "shape (4, 3) (post x pre", "(got shape (2, 2))"),
    Row("from_matrix text", lambda c: c.net.connect(c.inp, c.pop, name="p").connect_from_matrix("w"), V,
        "Projection 'p'", ".weights:", "shape (4, 3)", "(got shape ())"),
    Row("connect twice", lambda c: c.proj.connect_all_to_all(1.0), V, "Projection 'ff'", ".connect:",
        "already connected; create a new projection", "is already connected"),
    Row("simulate with an unconnected projection", lambda c: (c.loose(), c.net.simulate(1.0)), V,
        "Projection 'loose'", ".connect:", "call a connector such as connect_all_to_all() before simulating",
        "is not connected"),
    Row("w of an unconnected projection", lambda c: c.loose().w, V, "Projection 'loose'", ".connect:",
        "call a connector", "is not connected yet"),
    Row("proj.w = nan", lambda c: S(c.proj, "w", float("nan")), V, "Projection 'ff'", ".w:", NONFINITE, "(got nan)"),
    Row("proj.w = inf matrix", lambda c: S(c.proj, "w", np.full((4, 3), np.inf)), V, "Projection 'ff'", ".w:",
        NONFINITE, "(got array of shape (4, 3) and dtype float64)"),
    Row("proj.w wrong shape", lambda c: S(c.proj, "w", np.ones((3, 4))), V, "Projection 'ff'", ".w:",
        "a (4, 3) matrix (post x pre), 12 values or one list per dendrite", "(got shape (3, 4))"),
    Row("proj.w text", lambda c: S(c.proj, "w", "strong"), V, "Projection 'ff'", ".w:", "expected numbers",
        "(got 'strong')"),
    Row("sparse.w wrong length", lambda c: S(c.sparse, "w", np.ones(99)), V, "Projection 'sp'", ".w:",
        "values or one list per dendrite", "(got shape (99,))"),
    Row("proj.eta = array", lambda c: S(c.proj, "eta", [0.1, 0.2]), V, "Projection 'ff'", ".eta:",
        "one value for the whole projection", "(got [0.1, 0.2])"),
    Row("proj.eta = nan", lambda c: S(c.proj, "eta", float("nan")), V, "Projection 'ff'", ".eta:", NONFINITE,
        "(got nan)"),
    Row("proj.eta = text", lambda c: S(c.proj, "eta", "fast"), V, "Projection 'ff'", ".eta:", "expected a number",
        "(got 'fast')"),
    Row("proj.c = 2.7", lambda c: S(c.proj, "c", 2.7), V, "Projection 'ff'", ".c:",
        "int attribute: expected whole numbers", "(got 2.7)"),
    Row("proj.beta wrong shape", lambda c: S(c.proj, "beta", [1.0, 2.0]), V, "Projection 'ff'", ".beta:",
        "a number or 4 values (one per post neuron)", "(got shape (2,))"),
    Row("proj.beta = inf", lambda c: S(c.proj, "beta", float("inf")), V, "Projection 'ff'", ".beta:", NONFINITE,
        "(got inf)"),
    Row("proj.alpha = nan", lambda c: S(c.proj, "alpha", float("nan")), V, "Projection 'ff'", ".alpha:", NONFINITE,
        "(got nan)"),
    Row("proj.set unknown", lambda c: c.proj.set({"gamma": 1.0}), V, "Projection 'ff'", ".set:",
        "unknown attribute (known: w, eta, c, alpha, beta)", "(got 'gamma')"),
    Row("proj.get unknown", lambda c: c.proj.get("gamma"), V, "Projection 'ff'", ".name:",
        "unknown attribute (known: w, eta", "(got 'gamma')"),
    Row("proj.dendrite(99)", lambda c: c.proj.dendrite(99), V, "Projection 'ff'", ".post:",
        "not a neuron of the post-synaptic side 'exc'", "(got 99)"),
    Row("dendrite.w = nan", lambda c: S(c.proj.dendrite(0), "w", float("nan")), V, "Projection 'ff'", ".w:",
        NONFINITE, "(got nan)"),
    Row("dendrite.eta", lambda c: S(c.proj.dendrite(0), "eta", 1.0), V, "Projection 'ff'", ".eta:",
        "shared by the whole projection: set it on the projection", "(got 1.0)"),
    Row("dendrite.c = 1.5", lambda c: S(c.proj.dendrite(0), "alpha", "x"), V, "Projection 'ff'", ".alpha:",
        "expected numbers", "(got 'x')"),
    Row("create_synapse that exists", lambda c: c.proj.dendrite(0).create_synapse(0, 1.0), V, "Projection 'ff'",
        ".rank:", "already has a synapse onto post rank 0", "(got 0)"),
    Row("create_synapse rank 9", lambda c: c.proj.dendrite(0).create_synapse(9, 1.0), V, "Projection 'ff'",
        ".rank:", "not a neuron of the pre-synaptic side 'inp'", "(got 9)"),
    Row("create_synapse rank 1.5", lambda c: c.proj.dendrite(0).create_synapse(1.5, 1.0), V, "Projection 'ff'",
        ".rank:", "the integer rank of a pre-synaptic neuron", "(got 1.5)"),
    Row("create_synapse delay -1", lambda c: c.sparse.dendrite(0).create_synapse(c.free_rank(), 1.0, -1.0), V,
        "Projection 'sp'", ".delay:", "must be >= 0", "(got -1.0)"),
    Row("create_synapse w nan", lambda c: c.sparse.dendrite(0).create_synapse(c.free_rank(), float("nan")), V,
        "Projection 'sp'", ".w:", NONFINITE, "(got nan)"),
    Row("create_synapses repeated", lambda c: c.sparse.dendrite(1).create_synapses([2, 2], 1.0), V,
        "Projection 'sp'", ".ranks:", "must not repeat a neuron", "(got [2, 2])"),
    # -- monitors ------------------------------------------------------------------------------------------------
    Row("Monitor of 123", lambda c: Monitor(123, "r"), V, "Monitor", ".obj:",
        "a Population, PopulationView, neuron or Projection", "(got 123)"),
    Row("Monitor variables 123", lambda c: Monitor(c.pop, 123), V, "Monitor", ".variables:",
        "a name or a list of names", "(got 123)"),
    Row("Monitor variables [1]", lambda c: Monitor(c.pop, [1]), V, "Monitor", ".variables:",
        "a name or a list of names", "(got [1])"),
    Row("Monitor variables None", lambda c: Monitor(c.pop, None), V, "Monitor", ".variables:",
        "a name or a list of names", "(got None)"),
    Row("Monitor variables empty", lambda c: Monitor(c.pop, []), V, "Monitor", ".variables:",
        "name at least one variable", "e.g. 'r'"),
    Row("Monitor unknown variable", lambda c: Monitor(c.pop, "rr"), V, "Monitor", ".variables:",
        "'exc' has no attribute of that name; did you mean 'r'?", "(got 'rr')"),
    Row("Monitor unknown sum", lambda c: Monitor(c.pop, "sum(nope)"), V, "Monitor", ".variables:",
        "receives no target 'nope' (targets: exc, inh)", "(got 'sum(nope)')"),
    Row("Monitor period 0", lambda c: Monitor(c.pop, "r", period=0.0), V, "Monitor", ".period:",
        "a positive number of ms", "(got 0.0)"),
    Row("Monitor period -1", lambda c: Monitor(c.pop, "r", period=-1.0), V, "Monitor", ".period:",
        "a positive number of ms", "(got -1.0)"),
    Row("Monitor period nan", lambda c: Monitor(c.pop, "r", period=float("nan")), V, "Monitor", ".period:",
        "a positive number of ms", "(got nan)"),
    Row("Monitor period 0.3", lambda c: Monitor(c.pop, "r", period=0.3), V, "Monitor", ".period:",
        "a multiple of dt = 1.0 ms", "(got 0.3)"),
    Row("Monitor in another network", lambda c: Network().monitor(c.pop, "r"), V, "Network.monitor", ".obj:",
        "belongs to another network", "(got <Population 'exc'"),
    Row("Monitor projection unknown", lambda c: Monitor(c.proj, "nope"), V, "Monitor", ".variables:",
        "'ff' has no synaptic attribute of that name", "(got 'nope')"),
    Row("Monitor.start unknown", lambda c: c.mon.start("rr"), V, "Monitor", ".variables:",
        "has no attribute of that name", "(got 'rr')"),
    # -- state files ---------------------------------------------------------------------------------------------
    Row("save(None)", lambda c: c.net.save(None), V, "save", ".filename:", "a path (a str or os.PathLike)",
        "(got None)"),
    Row("save(3)", lambda c: c.net.save(3), V, "save", ".filename:", "a path", "(got 3)"),
    Row("save(b'path')", lambda c: c.net.save(b"s.npz"), V, "save", ".filename:", "a path", "(got b's.npz')"),
    Row("save into a missing folder", lambda c: c.net.save(os.path.join(c.tmp, "no", "s.npz")), F, "save",
        "cannot write", "No such file or directory", "{tmp}/no/s.npz"),
    Row("save onto a folder", lambda c: c.net.save(c.tmp), F, "save", "cannot write", "it is a folder", "{tmp}"),
    Row("module save(None)", lambda c: rn.save(None, net=c.net), V, "save", ".filename:", "a path", "(got None)"),
    Row("pop.save(None)", lambda c: c.pop.save(None), V, "save", ".filename:", "a path", "(got None)"),
    Row("save of an unconnected projection", lambda c: c.loose().save(os.path.join(c.tmp, "p.npz")), V,
        "Projection 'loose'", ".connect:", "call a connector", "not connected yet"),
    Row("load(None)", lambda c: c.net.load(None), V, "load", ".filename:", "a path", "(got None)"),
    Row("load a missing file", lambda c: c.net.load(os.path.join(c.tmp, "none.npz")), M, "load", "no such file",
        "no such file", "'{tmp}/none.npz'"),
    Row("load a folder", lambda c: c.net.load(c.tmp), F, "load", "cannot read", "it is a folder", "'{tmp}'"),
    Row("load a text file", lambda c: c.net.load(c.file("t.npz", b"r = 1\n")), V, "load", ".filename:",
        "a ratenet state file written by save()", "(got a text file: '{tmp}/t.npz')"),
    Row("load an empty file", lambda c: c.net.load(c.file("e.npz", b"")), V, "load", ".filename:",
        "a ratenet state file", "(got an empty file"),
    Row("load a binary file", lambda c: c.net.load(c.file("b.npz", b"\x00\xff\x10")), V, "load", ".filename:",
        "a ratenet state file", "(got a binary file that is not an .npz archive"),
    Row("load a .npy", lambda c: c.net.load(npy(c)), V, "load", ".filename:", "a ratenet state file",
        "(got a single NumPy array (.npy"),
    Row("load a truncated archive", lambda c: c.net.load(c.file("cut.npz", open(c.path, "rb").read()[:200])), V,
        "load", ".filename:", "a ratenet state file", "(got a truncated or damaged .npz archive: '{tmp}/cut.npz'"),
    Row("load a foreign archive", lambda c: c.net.load(foreign(c)), V, "load", ".filename:",
        "a ratenet state file written by save()", "(got an .npz archive with no '.format' entry"),
    Row("load strings", lambda c: c.net.load(c.corrupt("pop:exc:v", ["a"] * 4)), V, "load('{tmp}/bad.npz')",
        ".pop:exc:v:", "expected numbers of shape (4,)", "(got string values (<U1), shape (4,))"),
    Row("load a wrong shape", lambda c: c.net.load(c.corrupt("pop:exc:v", np.zeros(5))), V, "load('{tmp}/bad.npz')",
        ".pop:exc:v:", "shape (4,)", "(got floating-point values (float64), shape (5,))"),
    Row("load nan", lambda c: c.net.load(c.corrupt("pop:exc:v", [np.nan] * 4)), V, "load('{tmp}/bad.npz')",
        ".pop:exc:v:", "expected finite numbers", "(got 4 non-finite value(s), such as nan)"),
    Row("load a fraction into an int", lambda c: c.net.load(c.corrupt("pop:exc:n", [1.5] * 4)), V,
        "load('{tmp}/bad.npz')", ".pop:exc:n:", "expected integers of shape (4,)", "(got floating-point values"),
    Row("load a population value as array", lambda c: c.net.load(c.corrupt("pop:exc:tau", [1.0, 2.0])), V,
        "load('{tmp}/bad.npz')", ".pop:exc:tau:", "numbers (a single value)", "shape (2,))"),
    Row("load a fractional step", lambda c: c.net.load(c.corrupt(".step", 2.5)), V, "load('{tmp}/bad.npz')",
        "..step:", "a non-negative integer", "(got floating-point values (float64), a single value)"),
    Row("load a negative step", lambda c: c.net.load(c.corrupt(".step", -1)), V, "load('{tmp}/bad.npz')", "..step:",
        "a non-negative integer", "(got -1)"),
    Row("load weights of a wrong shape", lambda c: c.net.load(c.corrupt("proj:ff:w", np.zeros((3, 4)))), V,
        "load('{tmp}/bad.npz')", ".proj:ff:w:", "expected numbers of shape (4, 3)", "shape (3, 4))"),
    Row("load infinite weights", lambda c: c.net.load(c.corrupt("proj:ff:w", np.full((4, 3), np.inf))), V,
        "load('{tmp}/bad.npz')", ".proj:ff:w:", "expected finite numbers", "(got 12 non-finite value(s)"),
    Row("load negative delays", lambda c: c.net.load(c.corrupt("proj:ff:.delays", -2.0)), V,
        "load('{tmp}/bad.npz')", ".proj:ff:.delays:", "expected delays >= 0", "(got -2.0)"),
    Row("load sparse indices out of range", lambda c: c.net.load(c.corrupt(
        "proj:sp:.indices", np.full(c.sparse.nb_synapses, 9))), V, "load('{tmp}/bad.npz')", ".proj:sp:.indices:",
        "pre-synaptic indices in [0, 3)", "(got 9)"),
    Row("load an unknown storage kind", lambda c: c.net.load(c.corrupt("proj:ff:.kind", "coo")), V,
        "load('{tmp}/bad.npz')", ".proj:ff:.kind:", "expected 'dense' or 'csr'", "(got 'coo')"),
    Row("load a file of another network", lambda c: Network().load(c.path), V, "load('{tmp}/state.npz')",
        ".populations:", "the file and the network hold different populations", "not in the network: ["),
    # -- parameter files -----------------------------------------------------------------------------------------
    Row("save_parameters(None)", lambda c: save_parameters(None, net=c.net), V, "save_parameters", ".filename:",
        "a path", "(got None)"),
    Row("save_parameters into a missing folder", lambda c: save_parameters(os.path.join(c.tmp, "no", "p.json"),
                                                                          net=c.net),
        F, "save_parameters", "cannot write", "No such file or directory", "{tmp}/no/p.json"),
    Row("load_parameters missing", lambda c: load_parameters(os.path.join(c.tmp, "none.json"), net=c.net), M,
        "load_parameters", "no such file", "no such file", "'{tmp}/none.json'"),
    Row("load_parameters invalid JSON", lambda c: load_parameters(c.json("{"), net=c.net), V, "load_parameters",
        ".filename:", "a JSON file written by save_parameters()", "(got invalid JSON at line 1, column 2"),
    Row("load_parameters an array", lambda c: load_parameters(c.json({"populations": {"exc": {"tau": [1, 2]}}}),
                                                              net=c.net),
        V, "load_parameters('{tmp}/p.json')", ".populations.exc.tau:", "a single number", "(got [1, 2])"),
    Row("load_parameters NaN", lambda c: load_parameters(c.json('{"populations": {"exc": {"tau": NaN}}}'),
                                                         net=c.net),
        V, "load_parameters('{tmp}/p.json')", ".populations.exc.tau:", NONFINITE, "(got nan)"),
    Row("load_parameters int 2.5", lambda c: load_parameters(c.json({"populations": {"exc": {"k": 2.5}}}),
                                                             net=c.net),
        V, "load_parameters('{tmp}/p.json')", ".populations.exc.k:", "int attribute: expected a whole number",
        "(got 2.5)"),
    Row("load_parameters a list file", lambda c: load_parameters(c.json([1]), net=c.net), V, "load_parameters",
        ".filename:", "a JSON object with the sections", "(got a JSON list"),
    Row("load_parameters section not object", lambda c: load_parameters(c.json({"projections": 3}), net=c.net), V,
        "load_parameters", ".projections:", "a JSON object {name: ...}", "(got 3)"),
    Row("load_parameters constant text", lambda c: load_parameters(c.json({"constants": {"c_a": "x"}}), net=c.net),
        V, "load_parameters('{tmp}/p.json')", ".constants.c_a:", "a single number", "(got 'x')"),
    # -- distributions -------------------------------------------------------------------------------------------
    Row("Uniform(1, 0)", lambda c: Uniform(1.0, 0.0), V, "Uniform", ".min:", "must not exceed max=0.0", "(got 1.0)"),
    Row("Uniform text", lambda c: Uniform("a", 1.0), V, "Uniform", ".min:", "a real number", "(got 'a')"),
    Row("Uniform nan", lambda c: Uniform(0.0, float("nan")), V, "Uniform", ".max:", "must be finite", "(got nan)"),
    Row("Normal sigma -1", lambda c: Normal(0.0, -1.0), V, "Normal", ".sigma:", "must be >= 0", "(got -1.0)"),
    Row("LogNormal sigma -1", lambda c: LogNormal(0.0, -1.0), V, "LogNormal", ".sigma:", "must be >= 0",
        "(got -1.0)"),
    Row("Gamma alpha -1", lambda c: Gamma(-1.0, 1.0), V, "Gamma", ".alpha:", "must be > 0", "(got -1.0)"),
    Row("Binomial p 2", lambda c: Binomial(3, 2.0), V, "Binomial", ".p:", "must lie in [0, 1]", "(got 2.0)"),
    Row("Binomial n -1", lambda c: Binomial(-1, 0.5), V, "Binomial", ".n:", "non-negative integer", "(got -1)"),
    Row("DiscreteUniform(3, 0)", lambda c: DiscreteUniform(3, 0), V, "DiscreteUniform", ".min:",
        "must not exceed max=0", "(got 3)"),
    Row("Exponential -1", lambda c: Exponential(-1.0), V, "Exponential", ".Lambda:", "must be > 0", "(got -1.0)"),
    Row("Normal min > max", lambda c: Normal(0.0, 1.0, min=2.0, max=1.0), V, "Normal", ".min:",
        "must not exceed max=1.0", "(got 2.0)"),
    # -- constants and functions ---------------------------------------------------------------------------------
    Row("Constant name int", lambda c: Constant(3, 1.0), V, "Constant", ".name:", "must be a string", "(got 3)"),
    Row("Constant value nan", lambda c: Constant("c_nan", float("nan")), V, "Constant 'c_nan'", ".value:",
        "a finite number", "(got nan)"),
    Row("Constant value text", lambda c: Constant("c_str", "a"), V, "Constant 'c_str'", ".value:", "a finite number",
        "(got 'a')"),
    Row("Constant.set inf", lambda c: Constant("c_ok", 1.0).set(float("inf")), V, "Constant 'c_ok'", ".value:",
        "a finite number", "(got inf)"),
    Row("functions unknown", lambda c: rn.functions("nope"), V, "functions", ".name:", "no function of that name",
        "(got 'nope')"),
    # -- model definitions: EquationError (object, slot and line; what is wrong; the quoted text) ---------------
    Row("unknown name", lambda c: Neuron(parameters="tau = 1.0", equations="r = tua"), E, "Neuron", "equations, line 1",
        "unknown name 'tua'; did you mean 'tau'?", "    r = tua"),
    Row("min > max flag", lambda c: Neuron(equations="r = 1 : min=2, max=1"), E, "Neuron", "equations, line 1",
        "min=2.0 is greater than max=1.0", "    r = 1 : min=2, max=1"),
    Row("Uniform(1, 0) in an equation", lambda c: Neuron(equations="r = Uniform(1, 0)"), E, "Neuron",
        "equations, line 1", "min must not exceed max (got min=1.0, max=0.0)", "    r = Uniform(1, 0)"),
    Row("Normal(0, -1) in an equation", lambda c: Neuron(equations="r = Normal(0, -1)"), E, "Neuron",
        "equations, line 1", "sigma must be >= 0", "    r = Normal(0, -1)"),
    Row("Gamma(-1, 1) in an equation", lambda c: Neuron(equations="r = Gamma(-1, 1)"), E, "Neuron",
        "equations, line 1", "alpha must be > 0", "    r = Gamma(-1, 1)"),
    Row("Binomial(3, 2) in an equation", lambda c: Neuron(equations="r = Binomial(3, 2)"), E, "Neuron",
        "equations, line 1", "p must be in [0, 1]", "    r = Binomial(3, 2)"),
    Row("init=r", lambda c: Neuron(equations="r = 1 : init=r"), E, "Neuron", "equations, line 1",
        "names the variable itself", "    r = 1 : init=r"),
    Row("init=unknown", lambda c: Neuron(equations="x = 1 : init=y\nr = x"), E, "Neuron", "equations, line 1",
        "unknown name 'y' in the flag 'init'", "    x = 1 : init=y"),
    Row("non-ASCII in an equation", lambda c: Neuron(equations="r = ℯxp(1)"), E, "Neuron", "equations, line 1",
        "names and operators must be ASCII; it looks like 'e'", "    r = ℯxp(1)"),
    Row("non-ASCII in a psp", lambda c: Synapse(psp="pre.ｒ"), E, "Synapse", "psp",
        "names and operators must be ASCII; it looks like 'r'", "    pre.ｒ"),
    Row("unbalanced bracket", lambda c: Neuron(equations="r = (1 + 2"), E, "Neuron", "equations, line 1",
        "'(' was never closed", "    r = (1 + 2"),
    Row("unknown flag", lambda c: Neuron(equations="r = 1 : fast"), E, "Neuron", "equations, line 1",
        "unknown flag 'fast' for an equation", "    r = 1 : fast"),
    Row("unknown function", lambda c: Neuron(equations="r = sinh2(1)"), E, "Neuron", "equations, line 1",
        "unknown name 'sinh2'; did you mean 'sinh'?", "    r = sinh2(1)"),
    Row("wrong arity", lambda c: Neuron(equations="r = exp(1, 2)"), E, "Neuron", "equations, line 1",
        "exp() takes 1 argument(s), got 2", "    r = exp(1, 2)"),
    Row("assign a parameter", lambda c: Neuron(parameters="tau = 1.0", equations="tau = 2"), E, "Neuron",
        "equations, line 1", "'tau' is a parameter and cannot also be a variable", "    tau = 2"),
    Row("int holding log(-1)", run_int_log, E, "Neuron", "equations, line 1", "the int variable 'n' cannot hold nan",
        "    n = log(-1) : int"),
    Row("parameter not a number", lambda c: Neuron(parameters="tau = fast"), E, "Neuron", "parameters, line 1",
        "values must be numbers, True/False or distributions", "    tau = fast"),
    Row("parameter twice", lambda c: Neuron(parameters="tau = 1.0\ntau = 2.0"), E, "Neuron", "parameters, line 2",
        "the parameter 'tau' is defined twice", "    tau = 2.0"),
    Row("nesting too deep", lambda c: Neuron(equations="r = " + "(" * 400 + "1" + ")" * 400), E, "Neuron",
        "equations, line 1", "too deeply nested", "    r = ((("),
    Row("Python code", lambda c: Neuron(equations="r = __import__('os').getpid()"), E, "Neuron", "equations, line 1",
        "only named functions can be called", "    r = __import__('os').getpid()"),
    Row("lambda", lambda c: Neuron(equations="r = (lambda: 1)()"), E, "Neuron", "equations, line 1",
        "only named functions can be called", "    r = (lambda: 1)()"),
    Row("attribute access", lambda c: Neuron(equations="r = t.real"), E, "Neuron", "equations, line 1", "",
        "    r = t.real"),
    Row("psp unknown name", lambda c: Synapse(psp="w * pre.r * gamma"), E, "Synapse", "psp",
        "unknown name 'gamma'", "    w * pre.r * gamma"),
    Row("synapse equation unknown name", lambda c: Synapse(equations="dw/dt = eta"), E, "Synapse",
        "equations, line 1", "unknown name 'eta'", "    dw/dt = eta"),
    Row("stop_condition syntax", lambda c: Population(2, c.model, stop_condition="r >", network=c.net), E,
        "Population '", "stop_condition, line 1", "syntax error", "    r >"),
    Row("operator typo", lambda c: Neuron(equations="r = 1 +* 2"), E, "Neuron", "equations, line 1", "syntax error",
        "    r = 1 +* 2"),
    Row("unknown method", lambda c: Neuron(equations="dr/dt = -r : rk9"), E, "Neuron", "equations, line 1",
        "unknown flag 'rk9' for an equation; did you mean 'rk4'?", "    dr/dt = -r : rk9"),
]


def _message(row: Row, exc: BaseException, tmp: str) -> str:
    return str(exc)


@pytest.mark.parametrize("row", CATALOGUE, ids=[row.ident for row in CATALOGUE])
def test_catalogue(row: Row, tmp_path, recwarn) -> None:
    rn.clear()
    ctx = Ctx(str(tmp_path))
    with pytest.raises(row.error) as error:
        row.action(ctx)
    assert isinstance(error.value, rn.RatenetError) or row.error in (AttributeError, IndexError), type(error.value)
    message = str(error.value)
    for piece in (row.obj, row.argument, row.expected, row.given):
        piece = piece.replace("{tmp}", str(tmp_path))
        assert piece in message, f"{piece!r} not in {message!r}"
    if row.error is ValidationError:
        assert message.startswith(row.obj.replace("{tmp}", str(tmp_path))), message
    rn.clear()


def test_the_catalogue_is_large_and_its_rows_distinct() -> None:
    assert len(CATALOGUE) >= 150, len(CATALOGUE)
    assert len({row.ident for row in CATALOGUE}) == len(CATALOGUE)


SNAPSHOT_ROWS = [row for row in CATALOGUE if row.ident.startswith(("pop.", "view.", "neuron.", "proj.", "dendrite.",
                                                                   "load ", "sparse.", "grid."))]


@pytest.mark.parametrize("row", SNAPSHOT_ROWS, ids=[row.ident for row in SNAPSHOT_ROWS])
def test_refused_assignments_change_nothing(row: Row, tmp_path, recwarn) -> None:
    """A refused assignment or load leaves every array of the network as it was, bit for bit."""
    rn.clear()
    ctx = Ctx(str(tmp_path))
    ctx.net.simulate(2.0)

    def arrays() -> dict[str, bytes]:
        out = {}
        for obj in list(ctx.net.populations) + list(ctx.net.projections):
            state = ctx.net.registry.state(obj)
            for key, value in state.values.items():
                if isinstance(value, (np.ndarray, np.generic)):
                    out[f"{state.name}.{key}"] = np.asarray(value).tobytes()
        return out

    before = arrays()
    with pytest.raises(row.error):
        row.action(ctx)
    assert arrays() == before
    rn.clear()
