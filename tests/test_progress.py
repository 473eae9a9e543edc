"""The tqdm progress bar of simulate() and simulate_until(), and what `import ratenet` loads."""

from __future__ import annotations

import io
import subprocess
import sys

from ratenet import Network, Neuron, simulate, simulate_until, clear, Population
from ratenet.display.progress import ProgressBar


def test_simulate_shows_steps_time_and_rate(capsys):
    net = Network(dt=0.5)
    net.create(2, Neuron(equations="r = t"))
    net.simulate(20.0, progress_bar=True)
    err = capsys.readouterr().err
    final = err.split("\r")[-1]
    assert final.startswith("simulate: 100%") and "40/40" in final and "t=20 ms" in final and "step/s" in final
    assert net.get_current_step() == 40


def test_a_run_stopped_early_shows_where_it_stopped(capsys):
    clear()
    pop = Population(2, Neuron(equations="r = t"), stop_condition="r > 4 : any")
    assert simulate_until(100.0, pop, progress_bar=True) == 6.0
    final = capsys.readouterr().err.split("\r")[-1]
    assert "6/100" in final and "t=6 ms" in final
    simulate(3.0, progress_bar=True)
    assert "3/3" in capsys.readouterr().err
    clear()


def test_the_bar_is_touched_at_most_a_thousand_times():
    out = io.StringIO()
    bar = ProgressBar(10**6, 1.0, 5.0, file=out)
    assert bar.every == 1000
    calls = []
    bar._show = calls.append  # count the redraws
    for step in range(1, 10**5 + 1):
        bar.update(step)
    assert calls == list(range(1000, 10**5 + 1, 1000))
    small = ProgressBar(7, 1.0, 0.0, file=io.StringIO())
    assert small.every == 1


def test_import_loads_no_plotting_progress_or_notebook_package():
    code = ("import sys, ratenet; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'tqdm', 'matplotlib', 'IPython', 'PIL'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
