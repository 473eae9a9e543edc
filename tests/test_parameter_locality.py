"""A 5.x ``Parameter`` declared without a locality becomes local for a population given one value per neuron.

ANNarchy 5.0.0/5.0.1 made ``Parameter(value)`` local (one value per neuron), 5.0.2 and later global; the
published 5.x notebooks assign such parameters per neuron.  The reference for every run here is the same
model declared ``locality='local'`` from the start: the promoted population must run bit for bit like it.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from ratenet import Network, Neuron, Uniform
from ratenet.attributes import Parameter, Variable
from ratenet.exceptions import RatenetWarning, ValidationError

WARNING = (r"^Population '{pop}'\.{name}: one value per neuron was given for a Parameter declared without a "
           r"locality, which is global \(one value for the population\) since ANNarchy 5\.0\.2; it is now local "
           r"\(one value per neuron\) for this population only, as in ANNarchy 5\.0\.0\. To silence this, declare "
           r"Parameter\(\.\.\., locality='local'\) \(per neuron\) or locality='global' \(per population, refusing "
           r"per-neuron values\)$")


def model(locality: str | None) -> Neuron:
    """Miconi's form: a one-value ``ite`` on the parameter (a Python branch while it is population-level)."""
    given = {} if locality is None else {"locality": locality}
    return Neuron(parameters={"tau": 10.0, "constant": Parameter(0.0, **given)},
                  equations=["tau * dx/dt + x = sum(exc)",
                             Variable("r = if constant == 0.0: tanh(x) else: tanh(constant)")])


def run(locality: str | None, assign, *, batch: int | None = None, reference: bool = False,
        populations: int = 2) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two populations sharing one model, driven by one input; ``assign(pops)`` between two runs."""
    net = Network(batch=batch, reference=reference)
    shared = model(locality)
    pops = [net.create((2, 3), shared) for _ in range(populations)]
    inp = net.create(6, Neuron(parameters="r = 0.0"))
    inp.r = np.linspace(-1.0, 1.0, 6)
    for i, pop in enumerate(pops):
        net.connect(inp, pop, "exc").all_to_all(0.1 * (i + 1))
    monitors = [net.monitor(pop, ["r", "constant"]) for pop in pops]
    net.compile()
    net.simulate(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RatenetWarning)
        assign(pops)
    net.simulate(4.0)
    return [np.array(pop.r) for pop in pops], [m.get("r") for m in monitors]


def per_neuron(pops):
    pops[0][0, 1].constant = 0.5  # pop[i]
    pops[1].neuron(1, 2).constant = -0.25  # pop.neuron(i)
    pops[1][0, :].constant = 0.75  # a view


def same(a, b) -> None:
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        assert x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("reference", [False, True])
def test_per_neuron_assignment_runs_as_the_local_declaration(reference):
    promoted, local = run(None, per_neuron, reference=reference), run("local", per_neuron, reference=reference)
    same(promoted, local)
    # and not as the global one would: the assigned neurons differ from their neighbours
    assert promoted[0][0][0, 1] == np.tanh(0.5) and promoted[0][0][0, 0] != np.tanh(0.5)


@pytest.mark.parametrize("reference", [False, True])
def test_only_one_of_two_populations_sharing_the_model_is_promoted(reference):
    def one(pops):
        pops[0][1, 1].constant = 2.0

    same(run(None, one, reference=reference), run("local", one, reference=reference))
    net = Network(reference=reference)
    shared = model(None)
    a, b = net.create(3, shared), net.create(3, shared)
    with pytest.warns(RatenetWarning):
        a[2].constant = 1.0
    assert a.constant.tolist() == [0.0, 0.0, 1.0] and b.constant == 0.0
    b.constant = 3.0  # still one value for b
    assert b.constant == 3.0 and a.constant.tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValidationError, match=r"^Population 'pop1'\.constant: expected a number or an array of "
                                              r"shape \(3,\) \(got shape \(2,\)\)$"):
        b.constant = np.ones(2)
    assert b.constant == 3.0  # a failed assignment leaves b population-level, without a warning
    with pytest.warns(RatenetWarning):
        b.constant = np.ones(3)
    assert b.constant.tolist() == [1.0, 1.0, 1.0]


def test_an_array_for_the_whole_population_promotes_it():
    def whole(pops):
        pops[0].constant = np.arange(6.0).reshape(2, 3) / 10
        pops[1].constant = 0.3  # one number: stays population-level

    same(run(None, whole), run("local", whole))
    net = Network()
    pop = net.create(3, model(None))
    with pytest.warns(RatenetWarning, match=WARNING.format(pop=pop.name, name="constant")):
        pop.constant = [1.0, 2.0, 3.0]
    assert pop.constant.tolist() == [1.0, 2.0, 3.0]


def test_a_distribution_on_a_view_draws_one_value_per_neuron():
    """StructuralPlasticity: ``pop[:25].baseline = Uniform(0.5, 1.5)`` on ``Parameter(0.0)``."""
    values = {}
    for locality in (None, "local"):
        net = Network(seed=3)
        pop = net.create(6, Neuron(parameters={"baseline": Parameter(0.0, **({} if locality is None else
                                                                               {"locality": locality}))},
                                   equations="r = baseline"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RatenetWarning)
            pop[:4].baseline = Uniform(0.5, 1.5)
        net.simulate(1.0)
        values[locality] = pop.r.copy()
    assert values[None].tobytes() == values["local"].tobytes()
    assert np.all(values[None][4:] == 0.0) and len(set(values[None][:4].tolist())) == 4


def test_the_warning_says_what_happened_once_per_population():
    net = Network()
    pop = net.create(3, model(None), name="p")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop[0].constant = 1.0
        pop[1].constant = 2.0  # already local: no second warning
    assert len(caught) == 1 and caught[0].category is RatenetWarning
    assert re.match(WARNING.format(pop="p", name="constant"), str(caught[0].message))
    # an explicit locality: no warning at all
    with warnings.catch_warnings():
        warnings.simplefilter("error", RatenetWarning)
        other = net.create(3, model("local"))
        other[0].constant = 1.0


def test_explicit_global_and_4x_strings_are_still_refused_with_the_new_message():
    message = (r"is shared by the whole population: set it on the population itself, or declare it "
               r"Parameter\(\.\.\., locality='local'\) \(in a 4\.x string: without ': population'\) for one value "
               r"per neuron \(got 1\.0\)$")
    net = Network()
    explicit = net.create(3, model("global"), name="g")
    four = net.create(3, Neuron(parameters="constant = 0.0 : population", equations="r = constant"), name="s")
    plain = net.create(3, Neuron(parameters={"constant": 0.0}, equations="r = constant"), name="d")
    for pop in (explicit, four, plain):
        with pytest.raises(ValidationError, match=rf"^Population '{pop.name}'\.constant: " + message):
            pop[0].constant = 1.0
        with pytest.raises(ValidationError, match=rf"^PopulationView '{pop.name}\[0:2\]'\.constant: " + message):
            pop[0:2].constant = 1.0
        with pytest.raises(ValidationError, match=rf"^Population '{pop.name}'\.constant: is one value for the "
                                                  r"whole population: expected a single number \(declare it "
                                                  r"Parameter\(\.\.\., locality='local'\) for one value per "
                                                  r"neuron\) \(got \[1\.0, 2\.0, 3\.0\]\)$"):
            pop.constant = [1.0, 2.0, 3.0]
        assert pop.constant == 0.0


def test_the_parameter_records_whether_its_locality_was_given():
    assert not Parameter(1.0).explicit_locality
    assert Parameter(1.0, locality="global").explicit_locality and Parameter(1.0, "local").explicit_locality
    assert repr(Parameter(1.0)) == "Parameter(value=1.0, locality='global', type='float')"
    assert [p.promotable for p in model(None).parameters] == [False, True]
    assert [p.promotable for p in model("global").parameters] == [False, False]


def test_batched_promotion_holds_one_value_per_sample_and_neuron():
    def assign(pops):
        pops[0][1, 1].constant = np.array([0.1, 0.2, 0.3])  # one neuron, one value per sample
        pops[1][0, 2].constant = 0.9

    promoted, local = run(None, assign, batch=3), run("local", assign, batch=3)
    same(promoted, local)
    net = Network(batch=2)
    pop = net.create((2, 3), model(None))
    pop.constant = np.array([0.5, -0.5])
    with pytest.warns(RatenetWarning):
        pop[1, 0].constant = 2.0
    assert pop.constant.shape == (2, 2, 3)
    expected = np.array([np.full((2, 3), 0.5), np.full((2, 3), -0.5)])
    expected[:, 1, 0] = 2.0
    assert pop.constant.tolist() == expected.tolist()


def test_reset_save_load_copy_and_repr_follow_the_promotion(tmp_path):
    net = Network()
    pop = net.create(3, model(None), name="p")
    mon = net.monitor(pop, "constant")
    net.compile()
    net.simulate(1.0)
    with pytest.warns(RatenetWarning):
        pop[1].constant = 4.0
    net.simulate(1.0)
    assert [np.ravel(v).tolist() for v in mon.get("constant")] == [[0.0], [0.0, 4.0, 0.0]]
    assert re.search(r"constant\s+parameter\s+per neuron\s+0\s+1\.333\s+4", str(pop))
    pop.save(str(tmp_path / "p.npz"))
    copy = pop.copy_to(Network())
    assert copy.constant.tolist() == [0.0, 4.0, 0.0]
    pop.reset()
    assert pop.constant.tolist() == [0.0, 0.0, 0.0]  # the compile-time value, now one per neuron
    pop.load(str(tmp_path / "p.npz"))
    assert pop.constant.tolist() == [0.0, 4.0, 0.0]
    # a file saved before the promotion holds one value: every neuron takes it
    Network().create(3, model(None), name="p").save(str(tmp_path / "before.npz"))
    pop.load(str(tmp_path / "before.npz"))
    assert pop.constant.tolist() == [0.0, 0.0, 0.0]
    # a fresh population of the same model takes the saved values and becomes local as well
    fresh = Network().create(3, model(None), name="p")
    fresh.load(str(tmp_path / "p.npz"))
    assert fresh.constant.tolist() == [0.0, 4.0, 0.0]
    fresh.network.simulate(1.0)
    assert fresh.r.tolist() == [0.0, np.tanh(4.0), 0.0]
    explicit = Network().create(3, model("global"), name="p")
    with pytest.raises(ValidationError, match=r"pop:p:constant: expected numbers \(a single value\) \(got "
                                              r"floating-point values \(float64\), shape \(3,\)\)"):
        explicit.load(str(tmp_path / "p.npz"))


def test_a_batched_population_of_one_neuron_loads_its_per_sample_values_without_promotion(tmp_path):
    """Regression (found by the batch differential test on Python 3.13's Hypothesis): with one neuron, a
    population-level value saved per sample has the shape of a per-neuron one, (B, 1); load promoted it."""
    net = Network(batch=3)
    pop = net.create(1, model(None), name="p")
    pop.constant = [0.5, 0.0, -0.5]  # one value per sample
    net.compile()
    path = str(tmp_path / "p.npz")
    net.save(path)
    net.load(path)
    assert np.asarray(pop.constant).ravel().tolist() == [0.5, 0.0, -0.5]
    reference = Network(batch=3)
    same = reference.create(1, model(None), name="p")
    same.constant = [0.5, 0.0, -0.5]
    reference.compile()
    assert np.shape(pop.constant) == np.shape(same.constant)
