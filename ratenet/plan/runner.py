"""Running a plan: the loop over steps, the step count of a duration, a progress bar."""

from __future__ import annotations

import ast
import math
import numbers
import sys
import types
import weakref
from typing import Any, Callable, cast

from ..display.progress import ProgressBar
from .._trees import copy_tree
from ..equations import generated_builtins
from ..exceptions import ValidationError
from ..registry import Clock
from .build import Plan
from .operators import LOCAL, Fresh

__all__ = ["run", "steps_for", "loop_of"]


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
    try:
        return _steps(plan, clock, dt, steps, stop, progress)
    finally:  # deferred work is finished before anything outside the run can read it
        plan.settle()


def _steps(plan: Plan, clock: Clock, dt: float, steps: int, stop: Callable[[], bool] | None,
           progress: bool) -> int:
    if not progress:
        return loop_of(plan, clock, dt)(steps, stop)
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


_LOOPS: "weakref.WeakKeyDictionary[Plan, tuple[Any, float, Callable[..., int]]]"


def loop_of(plan: Plan, clock: Clock, dt: float) -> Callable[[int, Callable[[], bool] | None], int]:
    """The plan's steps as one generated function ``loop(steps, stop) -> steps run``.

    The function body is built from the operators' own descriptions (see
    :meth:`~ratenet.plan.operators.Operator.inline`): straight-line calls of
    each operator's step callable, or its few inlined statements; time is set
    once per step and the step counted in a local.  No text is parsed: the
    statements are syntax trees built here and compiled.  It does exactly what
    the plain loop of :func:`run` does, in the same order.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(1, Neuron(equations="r = t"))
    >>> plan = net.plan; plan.prepare()
    True
    >>> loop_of(plan, net.registry.clock, net.dt)(3, None), pop.r.tolist(), net.get_current_step()
    (3, [2.0], 3)
    """
    cached = _LOOPS.get(plan)
    if cached is not None and cached[0] is clock and cached[1] == dt:
        return cached[2]
    # inlined updates may raise NumPy's floating-point warnings: the loop needs their import hook too
    namespace: dict[str, Any] = {"__builtins__": {**generated_builtins(), "range": range}, "clock": clock,
                                 "t": clock.t, "dt": dt}
    body: list[ast.stmt] = []
    prelude: list[ast.stmt] = []  # once per run, before the first step: the Fresh values into locals
    timed = False  # whether something in the steps reads the time (a call might: any call counts)
    called = False  # whether the steps call anything (it might read the step count)
    for k, (op, call) in enumerate(zip(plan.operators, plan.calls)):
        inlined = op.inline()
        if inlined is None:
            namespace[f"_call{k}"] = call
            body.append(ast.Expr(value=ast.Call(func=_load(f"_call{k}"), args=[], keywords=[])))
            timed = called = True
            continue
        statements, names = inlined
        prefix = f"_op{k}_"
        for name, value in names.items():
            if (value.mapping.get(value.key) if isinstance(value, Fresh) else value) is clock.t:
                timed = True
            if isinstance(value, Fresh):
                namespace[f"{prefix}{name}_in"] = value.mapping
                read: ast.expr = ast.Subscript(value=_load(f"{prefix}{name}_in"), slice=ast.Constant(value=value.key),
                                               ctx=ast.Load())
                if value.convert is not None:
                    namespace[f"{prefix}{name}_as"] = value.convert
                    read = ast.Call(func=_load(f"{prefix}{name}_as"), args=[read], keywords=[])
                prelude.append(ast.Assign(targets=[_store(prefix + name)], value=read))
            elif value is not LOCAL:  # a local too: a little faster to load than a global, at every step
                namespace[f"{prefix}{name}_in"] = value
                prelude.append(ast.Assign(targets=[_store(prefix + name)], value=_load(f"{prefix}{name}_in")))
        for statement in statements:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and node.id in names:
                    node.id = prefix + node.id
            body.append(statement)
    function = _compile_loop(body, namespace, prelude, timed, called)
    _LOOPS[plan] = (clock, dt, function)
    return function


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _store(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Store())


def _compile_loop(work: list[ast.stmt], namespace: dict[str, Any], prelude: list[ast.stmt], timed: bool,
                  called: bool) -> Callable[..., int]:
    """def loop(steps, stop):
           <prelude>
           start = step = clock.step
           done = 0
           if stop is None:
               try:
                   for done in range(1, steps + 1):
                       t[()] = step * dt      # only when something in <work> may read the time
                       <work>
                       step += 1
                       clock.step = step      # only when <work> calls something (it might read the step)
               finally:                       # otherwise, once: the step, and the time of the last step run
                   clock.step = step
                   if done:
                       t[()] = (start + done - 1) * dt
           else:
               for done in range(1, steps + 1):
                   t[()] = step * dt
                   <work>
                   step += 1
                   clock.step = step
                   if stop():
                       break
           return done
    """
    def set_time(step: ast.expr) -> ast.stmt:
        return ast.Assign(targets=[ast.Subscript(value=_load("t"), slice=ast.Tuple(elts=[], ctx=ast.Load()),
                                                 ctx=ast.Store())],
                          value=ast.BinOp(left=step, op=ast.Mult(), right=_load("dt")))

    set_step = ast.Assign(targets=[ast.Attribute(value=_load("clock"), attr="step", ctx=ast.Store())],
                          value=_load("step"))

    def steps_loop(first: list[ast.stmt], last: list[ast.stmt]) -> ast.For:
        count = [ast.AugAssign(target=_store("step"), op=ast.Add(), value=ast.Constant(value=1))]
        end = ast.BinOp(left=_load("steps"), op=ast.Add(), right=ast.Constant(value=1))
        return ast.For(target=_store("done"),
                       iter=ast.Call(func=_load("range"), args=[ast.Constant(value=1), end], keywords=[]),
                       body=first + [cast(ast.stmt, copy_tree(statement)) for statement in work] + count + last,
                       orelse=[])

    stopping = ast.If(test=ast.Call(func=_load("stop"), args=[], keywords=[]), body=[ast.Break()], orelse=[])
    with_stop: list[ast.stmt] = [steps_loop([set_time(_load("step"))], [set_step, stopping])]
    without: list[ast.stmt] = [steps_loop([set_time(_load("step"))] if timed else [], [set_step] if called else [])]
    after: list[ast.stmt] = [] if called else [set_step]
    if not timed:
        last = ast.BinOp(left=ast.BinOp(left=_load("start"), op=ast.Add(), right=_load("done")), op=ast.Sub(),
                         right=ast.Constant(value=1))
        after.append(ast.If(test=_load("done"), body=[set_time(last)], orelse=[]))
    if after:
        without = [ast.Try(body=without, handlers=[], orelse=[], finalbody=after)]
    choice = ast.If(test=ast.Compare(left=_load("stop"), ops=[ast.Is()], comparators=[ast.Constant(value=None)]),
                    body=without, orelse=with_stop)
    body = prelude + [ast.Assign(targets=[_store("start"), _store("step")],
                                 value=ast.Attribute(value=_load("clock"), attr="step", ctx=ast.Load())),
                      ast.Assign(targets=[_store("done")], value=ast.Constant(value=0)),
                      choice, ast.Return(value=_load("done"))]
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg="steps"), ast.arg(arg="stop")], vararg=None,
                              kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    extra: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
    fdef = ast.FunctionDef(name="plan_loop", args=arguments, body=body, decorator_list=[], returns=None, **extra)
    module = ast.fix_missing_locations(ast.Module(body=[fdef], type_ignores=[]))
    code = compile(module, "<ratenet plan loop>", "exec")
    fcode = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(fcode, namespace, "plan_loop")


_LOOPS = weakref.WeakKeyDictionary()
