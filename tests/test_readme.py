"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ratenet

README = Path(__file__).resolve().parents[1] / "README.md"


def test_first_network_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    ratenet.clear()
    namespace: dict = {}
    # The example is the user's own code (not equation text): running it is the point of the test.
    exec(compile(blocks[0], str(README), "exec"), namespace)  # noqa: S102
    assert namespace["rates"].shape == (100, 100)
    assert namespace["rates"].min() >= 0.0
    ratenet.clear()


def test_batch_example_runs_and_each_sample_is_its_own_unbatched_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2, "the README has no batch example"
    ratenet.clear()
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # noqa: S102 - the user's code, as above
    exec(compile(blocks[1], str(README), "exec"), namespace)  # noqa: S102
    net, pop = namespace["net"], namespace["pop"]
    assert pop.r.shape == (64, 100)
    baselines = pop.baseline  # (64, 100): drawn per sample
    for sample in (0, 17, 63):
        alone = ratenet.Network()
        one = alone.create(100, namespace["LeakyNeuron"])
        one.tau = float(net.populations[0].tau[sample])
        one.baseline = baselines[sample]
        alone.simulate(100.0)
        assert one.r.tobytes() == pop.r[sample].tobytes()
    ratenet.clear()
