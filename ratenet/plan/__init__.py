"""The step plan: a network turned into a flat list of named operators.

* :mod:`.operators`: the operator classes (transmit, update, learn, record...)
  and the wrapper that skips unchanged work;
* :mod:`.blocks`: stacking populations of the same model;
* :mod:`.delays`: ring buffers for delayed projections, and the readers
  projections use;
* :mod:`.build`: network -> plan, optimized or reference;
* :mod:`.runner`: the loop over steps.
"""

from __future__ import annotations

from .build import Plan, build_plan
from .operators import Operator, SkipUnchanged
from .runner import run, steps_for

__all__ = ["Plan", "build_plan", "Operator", "SkipUnchanged", "run", "steps_for"]
