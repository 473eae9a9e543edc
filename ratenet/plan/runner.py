"""Running a plan: the loop over steps, the step count of a duration, a progress bar."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

from ..display.progress import ProgressBar
from ..exceptions import ValidationError
from ..registry import Clock
from .build import Plan

__all__ = ["run", "steps_for"]


def steps_for(duration: Any, dt: float, owner: str) -> int:
    """``ceil(duration / dt)``, robust to the float error just above an integer.

    Examples
    --------
    >>> steps_for(0.07, 0.01, "simulate"), steps_for(2.1, 0.3, "simulate"), steps_for(0.25, 0.1, "simulate")
    (7, 7, 3)
    """
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration):
        raise ValidationError(owner, "duration", "must be a finite number of ms", got=duration)
    if duration < 0:
        raise ValidationError(owner, "duration", "must be >= 0", got=duration)
    ratio = float(duration) / dt
    nearest = round(ratio)
    if abs(ratio - nearest) <= 1e-9 * max(1.0, abs(nearest)):
        return int(nearest)
    return int(math.ceil(ratio))


def run(plan: Plan, clock: Clock, dt: float, steps: int, stop: Callable[[], bool] | None = None,
        progress: bool = False) -> int:
    """Run ``steps`` steps of ``plan`` (fewer if ``stop()`` holds after one); returns the steps run.

    Each step sets ``t``, calls every operator of the plan in order, then
    counts the step.  The plan must have been prepared (:meth:`Plan.prepare`).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(1, Neuron(equations="r = t"))
    >>> plan = net.plan; plan.prepare()
    True
    >>> run(plan, net.registry.clock, net.dt, 3), pop.r.tolist(), net.get_current_step()
    (3, [2.0], 3)
    """
    calls = plan.calls
    t = clock.t
    bar = ProgressBar(steps, dt, clock.step * dt) if progress else None
    done = 0
    try:
        for done in range(1, steps + 1):
            t[()] = clock.step * dt
            for call in calls:
                call()
            clock.step += 1
            if bar is not None:
                bar.update(done)
            if stop is not None and stop():
                break
        else:
            done = steps
    finally:
        if bar is not None:
            bar.close(done)
    return done
