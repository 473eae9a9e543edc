"""Projection attributes as ANNarchy scripts use them: proj.delay, unknown attributes, population-level pre values."""

from __future__ import annotations

import numpy as np
import pytest

from ratenet import Network, Neuron, Synapse, ValidationError

COUNTER = Neuron(equations="glob_r = glob_r + t : init=-1, population\nr = 1.0")


def _glob_history(steps: int) -> list[float]:
    """pre.glob_r at the end of each step, by hand: glob(k) = -1 + 0 + 1 + ... + k."""
    out, value = [], -1.0
    for k in range(steps):
        value += k
        out.append(value)
    return out


def _expected(steps: int, delay_steps: int) -> list[float]:
    """What post reads at step n: pre.glob_r at the end of step n - delay (its initial value before step 0)."""
    history = _glob_history(steps)
    return [history[n - delay_steps] if n - delay_steps >= 0 else -1.0 for n in range(steps)]


@pytest.mark.parametrize("storage", ["dense", "csr"])
@pytest.mark.parametrize("delay_ms, delay_steps", [(0.0, 1), (10.0, 10), (3.0, 3)])
def test_psp_reads_a_population_level_pre_variable(storage, delay_ms, delay_steps):
    net = Network()
    pre = net.create(3, COUNTER)
    post = net.create(3, Neuron(equations="r = sum(exc)"))
    net.connect(pre, post, "exc", Synapse(psp="pre.glob_r * w")).connect_one_to_one(
        2.0, delays=delay_ms, storage_format=storage)
    got = []
    for _ in range(16):
        net.step()
        got.append(post.r.copy())
    expected = np.repeat(np.array(_expected(16, delay_steps))[:, None] * 2.0, 3, axis=1)
    np.testing.assert_allclose(np.array(got), expected)


def test_population_level_pre_variable_through_per_synapse_delays_and_a_view():
    net = Network()
    pre = net.create(4, COUNTER)
    post = net.create(2, Neuron(equations="r = sum(exc)"))
    # post 0 gets pre 1 (delay 2) and pre 3 (delay 5); post 1 gets pre 2 (delay 1)
    weights = [[None, 1.0, None, 1.0], [None, None, 1.0, None]]
    delays = [[0.0, 2.0, 0.0, 5.0], [0.0, 0.0, 1.0, 0.0]]
    net.connect(pre, post, "exc", Synapse(psp="pre.glob_r * w + pre.r")).connect_from_matrix(
        np.array(weights, dtype=object), delays=np.array(delays))
    view_post = net.create(2, Neuron(equations="r = sum(v)"))
    net.connect(pre[1:3], view_post, "v", Synapse(psp="pre.glob_r")).connect_one_to_one(1.0)
    history = _glob_history(12)

    def at(n: int, d: int) -> float:
        return history[n - d] if n - d >= 0 else -1.0

    def r(n: int, d: int) -> float:  # pre.r is 0 until the end of step 0, then 1
        return 1.0 if n - d >= 0 else 0.0

    for n in range(12):
        net.step()
        np.testing.assert_allclose(post.r, [at(n, 2) + at(n, 5) + r(n, 2) + r(n, 5), at(n, 1) + r(n, 1)])
        np.testing.assert_allclose(view_post.r, [at(n, 1), at(n, 1)])


def test_learning_reads_population_level_pre_and_post_values():
    net = Network()
    pre = net.create(2, Neuron(parameters="g = 2.0 : population\nr = 1.0"))
    post = net.create(3, Neuron(parameters="h = 0.5 : population\nr = 1.0"))
    proj = net.connect(pre, post, "exc", Synapse(equations="w = w + pre.g * post.h")).connect_all_to_all(
        0.0, storage_format="csr")
    net.simulate(3.0)
    np.testing.assert_allclose(np.array(proj.w), np.full((3, 2), 3.0))


class TestDelay:
    def make(self, delays=0.0, storage="csr"):
        net = Network(dt=0.5)
        pre = net.create(3, Neuron(equations="r = t"))
        post = net.create(3, Neuron(equations="r = sum(exc)"))
        proj = net.connect(pre, post, "exc").connect_one_to_one(1.0, delays=delays, storage_format=storage)
        return net, pre, post, proj

    def test_read(self):
        assert self.make()[3].delay == 0.5  # no delay reads as one step, as in ANNarchy
        assert self.make(2.0)[3].delay == 2.0
        net = Network()
        a, b = net.create(2, Neuron(parameters="r = 0.0")), net.create(2, Neuron(equations="r = sum(e)"))
        proj = net.connect(a, b, "e").connect_from_matrix(np.ones((2, 2)), delays=np.array([[1.0, 2.0], [3.0, 4.0]]))
        assert proj.delay == [[1.0, 2.0], [3.0, 4.0]]

    @pytest.mark.parametrize("storage", ["dense", "csr"])
    def test_set_uniform_changes_when_values_arrive(self, storage):
        net, pre, post, proj = self.make(5.0, storage)
        net.simulate(10.0)  # 20 steps; post reads t of step n - 10 (dt = 0.5)
        assert post.r[0] == pytest.approx((19 - 10) * 0.5)
        proj.delay = 2.5  # 5 steps from now on
        net.step()
        assert post.r[0] == pytest.approx((20 - 5) * 0.5)
        assert proj.delay == 2.5

    def test_set_per_synapse(self):
        net, pre, post, proj = self.make()
        proj.delay = [[3], [5], [2]]
        assert proj.delay == [[3.0], [5.0], [2.0]]
        net.simulate(10.0)  # 20 steps
        np.testing.assert_allclose(post.r, [(19 - 6) * 0.5, (19 - 10) * 0.5, (19 - 4) * 0.5])
        proj.delay = [[1.0], [1.0], [1.0]]  # all equal: one number again
        assert proj.delay == 1.0

    def test_errors(self):
        net, pre, post, proj = self.make()
        with pytest.raises(ValidationError, match=r"delay: expected a number or one list per dendrite \(3 lists, "
                                                  r"in post_ranks order\) \(got \[\[1\], \[2\]\]\)"):
            proj.delay = [[1], [2]]
        with pytest.raises(ValidationError, match=r"the dendrite of post rank 1 has 1 synapses \(got 2 values\)"):
            proj.delay = [[1], [2, 3], [4]]
        with pytest.raises(ValidationError, match=r"delay: must be a finite number of ms >= 0 \(got -1.0\)"):
            proj.delay = -1.0
        with pytest.raises(ValidationError, match=r"delay: must be >= 0 ms"):
            proj.delay = [[1], [-2], [4]]
        with pytest.raises(ValidationError, match=r"delay: expected a number"):
            proj.delay = "3"


class TestUnknownAttributes:
    def test_projection_refuses_unknown_names(self):
        net = Network()
        pop = net.create(2, Neuron(equations="r = sum(exc)"))
        proj = net.connect(pop, pop, "exc", Synapse(parameters="eta = 0.1")).connect_all_to_all(1.0)
        with pytest.raises(ValidationError, match=r"Projection '.*'\.delays_: unknown attribute: the projection has "
                                                  r"no attribute of that name \(synaptic attributes: w, eta; delays: "
                                                  r"'delay'\)"):
            proj.delays_ = 3.0
        with pytest.raises(ValidationError, match="etta: unknown attribute"):
            proj.etta = 0.2

    def test_model_attributes_and_own_attributes_can_be_set(self):
        net = Network()
        pop = net.create(2, Neuron(equations="r = sum(exc)"))
        proj = net.connect(pop, pop, "exc", Synapse(parameters="eta = 0.1 : projection")).connect_all_to_all(1.0)
        proj.eta = 0.5
        proj.w = 2.0
        proj.name = proj.name  # an attribute the projection has
        proj.learning = False
        assert proj.eta == 0.5 and np.all(np.array(proj.w) == 2.0)

    def test_unconnected_projection_still_refuses(self):
        net = Network()
        pop = net.create(2, Neuron(equations="r = sum(exc)"))
        proj = net.connect(pop, pop, "exc")
        with pytest.raises(ValidationError, match="foo: unknown attribute"):
            proj.foo = 1

    def test_convolution_and_pooling_refuse_unknown_names_once_connected(self):
        from ratenet.projections import Convolution, Pooling

        net = Network()
        pre = net.create((4, 4), Neuron(parameters="r = 1.0"))
        post = net.create((4, 4), Neuron(equations="r = sum(exc)"))
        small = net.create((2, 2), Neuron(equations="r = sum(exc)"))
        conv = Convolution(pre, post, "exc")
        conv.connect_filter(np.ones((3, 3)))
        conv.weights = 2.0 * np.ones((3, 3))  # the kernel can still be set
        with pytest.raises(ValidationError, match=r"Convolution '.*'\.wieghts: unknown attribute"):
            conv.wieghts = np.ones((3, 3))
        pool = Pooling(pre, small, "exc", operation="max")
        pool.connect_pooling()
        with pytest.raises(ValidationError, match=r"Pooling '.*'\.extend: unknown attribute"):
            pool.extend = (2, 2)
