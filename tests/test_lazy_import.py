"""``import ratenet`` leaves the parts a first network does not need unimported (ratenet/_lazy.py).

Each check runs in a fresh interpreter and compares ``sys.modules`` before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: Modules ``import ratenet`` must not import; each is imported on first use.
LAZY = [
    "ratenet.parallel", "ratenet.reporting", "ratenet.sweeps", "ratenet.parameter_files", "ratenet._shortcuts",
    "ratenet.projections.convolution", "ratenet.projections.pooling", "ratenet.projections._shared",
    "ratenet.projections._convolution_kernel", "ratenet.projections._pooling_kernel",
    "ratenet.display.html", "ratenet.display.text", "ratenet.display.plots", "ratenet.display.summary",
    "ratenet.display.latex", "ratenet.display.images", "ratenet.image", "ratenet._imageio", "ratenet.tensorboard",
]


def loaded_after(code: str) -> list[str]:
    """The ratenet modules imported in a fresh interpreter after running ``code``."""
    script = (f"import sys\n{code}\nimport json\n"
              "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ratenet'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ),
                         check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_import_ratenet_leaves_the_lazy_modules_unimported():
    loaded = loaded_after("import ratenet")
    assert "ratenet.network" in loaded  # the check itself sees what is imported
    assert [m for m in LAZY if m in loaded] == []


def test_import_ratenet_leaves_numpy_random_and_error_helpers_unimported():
    """numpy.random (with OpenSSL, through secrets), difflib and dataclasses weigh on import; none is needed."""
    out = subprocess.run([sys.executable, "-c", "import sys, numpy\n"
                          "before = {m for m in ('numpy.random', 'difflib', 'dataclasses') if m in sys.modules}\n"
                          "import ratenet\n"
                          "print(sorted({m for m in ('numpy.random', 'difflib', 'dataclasses') if m in sys.modules}"
                          " - before))"], capture_output=True, text=True, env=dict(os.environ), check=True)
    assert out.stdout.split() == ["[]"]


def test_the_network_generator_is_made_on_first_use_from_the_seed():
    import numpy as np

    from ratenet import Network, Neuron
    from ratenet.exceptions import ValidationError

    net = Network(seed=7)
    assert net._rng is None  # nothing drew yet
    expected = np.random.default_rng(7).random(4)
    pop = net.create(4, Neuron(equations="r = Uniform(0, 1)"))
    net.simulate(1.0)
    assert pop.r.tolist() == expected.tolist()  # the same draws as a generator seeded by hand
    net.rng = np.random.default_rng(7)
    net.simulate(1.0)
    assert pop.r.tolist() == expected.tolist()  # generated code follows a new generator
    with pytest.raises(ValidationError, match=r"Network\.rng: must be a numpy\.random\.Generator \(got 7\)"):
        net.rng = 7


def test_a_first_network_imports_none_of_them():
    loaded = loaded_after("from ratenet import Network, Neuron\n"
                          "net = Network()\n"
                          "pop = net.create(3, Neuron(parameters='tau = 10.0', equations='tau * dr/dt + r = 1.0'))\n"
                          "net.simulate(5.0)")
    assert [m for m in LAZY if m in loaded] == []


def test_star_import_gives_every_public_name():
    loaded = loaded_after("from ratenet import *\nimport ratenet\n"
                          "assert all(globals()[name] is getattr(ratenet, name) for name in ratenet.__all__)\n"
                          "assert parallel_run.__module__ == 'ratenet.parallel'\n"
                          "assert sweep.__module__ == 'ratenet.sweeps'")
    assert "ratenet.reporting" in loaded and "ratenet.parameter_files" in loaded


@pytest.mark.parametrize("use, module, check", [
    ("from ratenet import parallel_run", "ratenet.parallel", "parallel_run.__module__ == 'ratenet.parallel'"),
    ("from ratenet import report", "ratenet.reporting", "report.__module__ == 'ratenet.reporting'"),
    ("from ratenet import sweep", "ratenet.sweeps", "sweep.__module__ == 'ratenet.sweeps'"),
    ("from ratenet import load_parameters, save_parameters", "ratenet.parameter_files",
     "save_parameters.__module__ == 'ratenet.parameter_files'"),
    ("Convolution = ratenet.projections.Convolution", "ratenet.projections._convolution_kernel",
     "Convolution.__module__ == 'ratenet.projections.convolution'"),
    ("from ratenet.projections import Pooling", "ratenet.projections._pooling_kernel",
     "Pooling.__module__ == 'ratenet.projections.pooling'"),
    ("plots = ratenet.display.plots", "ratenet.display.plots", "callable(plots.plot_network)"),
    ("tb = ratenet.tensorboard", "ratenet.tensorboard", "tb.__name__ == 'ratenet.tensorboard'"),
])
def test_each_lazy_name_imports_its_module_on_first_use(use, module, check):
    loaded = loaded_after(f"import ratenet\nassert {module!r} not in sys.modules\n{use}\nassert {check}")
    assert module in loaded


def test_using_the_displays_and_learning_imports_them():
    code = ("from ratenet import Network, Neuron, Synapse\n"
            "net = Network()\n"
            "pop = net.create(2, Neuron(equations='r = 1.0'))\n"
            "proj = net.connect(pop, pop, 'exc', Synapse(parameters='eta = 0.1', equations='dw/dt = eta * pre.r'))\n"
            "proj.all_to_all(0.5)\n"
            "net.compile()\n"
            "net.simulate(2.0)\n"
            "assert abs(proj.w[0][0] - 0.7) < 1e-12, proj.w\n"  # 0.5 + 2 steps of 0.1 * 1.0 (dt = 1)
            "assert 'Projection' in repr(proj) and '<' in pop._repr_html_()")
    loaded = loaded_after(code)
    for module in ["ratenet._shortcuts", "ratenet.display.text", "ratenet.display.html", "ratenet.display.summary"]:
        assert module in loaded


def test_dir_and_all_name_every_public_name():
    import ratenet
    import ratenet.display
    import ratenet.projections

    assert set(ratenet.__all__) <= set(dir(ratenet))
    assert {"parallel_run", "report", "sweep", "load_parameters", "save_parameters", "parallel"} <= set(dir(ratenet))
    assert set(ratenet.projections.__all__) <= set(dir(ratenet.projections))
    assert {"plots", "html", "text", "summary", "latex", "images", "progress"} <= set(dir(ratenet.display))
    for name in ratenet.__all__ + ["parallel", "sweeps", "reporting"]:
        getattr(ratenet, name)
    for name in ratenet.projections.__all__:
        assert getattr(ratenet.projections, name).__name__ == name


def test_an_unknown_name_gives_the_usual_error():
    import ratenet
    import ratenet.projections

    with pytest.raises(AttributeError, match="module 'ratenet' has no attribute 'nonexistent'"):
        ratenet.nonexistent  # noqa: B018
    with pytest.raises(AttributeError, match="module 'ratenet.projections' has no attribute 'Nope'"):
        ratenet.projections.Nope  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'Nope'"):
        from ratenet.display import Nope  # noqa: F401


def test_the_lazy_module_stand_in_and_pickling():
    import pickle

    from ratenet._lazy import LazyModule
    from ratenet.projections import Convolution

    stand_in = LazyModule("ratenet.display.summary")
    assert "imported on first use" in repr(stand_in)
    assert stand_in.format_value(0.5) == "0.5"
    assert pickle.loads(pickle.dumps(Convolution)) is Convolution
    with pytest.raises(AttributeError):
        stand_in.no_such_function  # noqa: B018
