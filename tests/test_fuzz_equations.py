"""Fuzz tests of the equation language (issue 13), a few thousand examples in the suite.

The strategies, the independent evaluator and the checks live in tests/fuzz_equations.py,
which also runs the long campaign (``python tests/fuzz_equations.py --examples 100000``).
Each test asserts that the only exceptions are ratenet's EquationError and ValidationError,
that nothing ran (canaries on os.system, os.popen, subprocess.Popen, exec, eval,
breakpoint, imports and open from generated code; a sentinel file that must not appear),
and that accepted equations compute what the independent evaluator computes.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ratenet  # noqa: E402

import fuzz_equations as fuzz  # noqa: E402 - tests/ is on the path


@pytest.fixture(autouse=True)
def _quiet_and_clean():
    ratenet.clear()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield
    ratenet.clear()


@pytest.fixture
def canaries(tmp_path):
    return fuzz.Canaries(str(tmp_path / fuzz.SENTINEL_NAME))


def assert_clean(totals: fuzz.Totals, canaries: fuzz.Canaries | None = None) -> None:
    assert not totals.foreign, "\n---\n".join(totals.foreign[:5])
    assert not totals.mismatches, "\n---\n".join(totals.mismatches[:5])
    assert not totals.side_effects, totals.side_effects[:5]
    if canaries is not None:
        assert not canaries.calls, canaries.calls[:5]
        assert not os.path.exists(canaries.sentinel)


def test_the_evaluator_follows_c():
    """The reference itself, on cases worked out by hand."""
    env = {"a": 2.0, "b": -0.0, "c": 0.5}
    cases = [
        (("chain", ["-", "+"], [("num", 1.0), ("name", "a"), ("num", 0.5)]), -0.5),
        (("neg", ("compare", [">"], [("name", "a"), ("num", 1.0)])), -1.0),
        (("chain", ["/"], [("num", 1.0), ("name", "b")]), -math.inf),         # IEEE: 1 / -0 = -inf
        (("pow", ("num", 0.0), ("num", -1.0), "^"), math.inf),
        (("pow", ("neg", ("num", 8.0)), ("num", 1 / 3), "**"), math.nan),
        (("compare", ["<", "<"], [("num", 1.0), ("name", "a"), ("num", 1.5)]), 0.0),
        (("ite", ("num", math.nan), ("num", 1.0), ("num", 2.0)), 1.0),         # NaN is true
        (("call", "round", [("num", 2.5)]), 3.0),
        (("call", "round", [("neg", ("num", 2.5))]), -3.0),
        (("call", "modulo", [("num", 7.0), ("num", 0.0)]), math.nan),
        (("call", "clip", [("name", "b"), ("num", 0.0), ("num", 1.0)]), -0.0),
        (("call", "pos", [("name", "b")]), 0.0),
        (("and", [("name", "c"), ("num", 0.0)]), 0.0),
        (("not", ("num", math.nan)), 0.0),
    ]
    for node, expected in cases:
        assert fuzz.same(fuzz.evaluate(node, env).v, expected), (fuzz.render(node), expected)
    with pytest.raises(fuzz.Unrepresentable):
        fuzz.to_int(math.nan)
    assert fuzz.to_int(-2.9) == -2


@pytest.mark.parametrize("node, text", [
    (("neg", ("pow", ("name", "a"), ("num", 2.0), "^")), "-a ^ 2"),
    (("pow", ("neg", ("name", "a")), ("num", 2.0), "**"), "(-a) ** 2"),
    (("pow", ("name", "a"), ("pow", ("name", "b"), ("num", 2.0), "^"), "^"), "a ^ b ^ 2"),
    (("pow", ("pow", ("name", "a"), ("name", "b"), "^"), ("num", 2.0), "^"), "(a ^ b) ^ 2"),
    (("chain", ["-"], [("name", "a"), ("chain", ["+"], [("name", "b"), ("name", "c")])]), "a - (b + c)"),
    (("not", ("compare", ["<"], [("name", "a"), ("name", "b")])), "not a < b"),
    (("compare", ["<"], [("compare", ["<"], [("name", "a"), ("name", "b")]), ("name", "c")]), "(a < b) < c"),
    (("ifexp", ("name", "a"), ("name", "b"), ("ifexp", ("name", "c"), ("num", 1.0), ("num", 2.0))),
     "b if a else 1 if c else 2"),
])
def test_rendering_uses_the_fewest_parentheses(node, text):
    assert fuzz.render(node) == text


@settings(max_examples=1500, **fuzz.FUZZ_SETTINGS)
@given(fuzz.grammar_cases())
def test_grammar_equations_compute_what_the_evaluator_computes(case):
    totals = fuzz.Totals()
    fuzz.check_grammar_case(case, totals)
    assert_clean(totals)


@settings(max_examples=300, **fuzz.FUZZ_SETTINGS)
@given(fuzz.psp_cases)
def test_grammar_psps_compute_what_the_evaluator_computes(case):
    totals = fuzz.Totals()
    fuzz.check_psp_case(case, totals)
    assert_clean(totals)


@settings(max_examples=300, **fuzz.FUZZ_SETTINGS)
@given(fuzz.mutated(fuzz.grammar_cases().map(lambda case: case.text())))
def test_mutated_equations_in_every_slot_raise_only_ratenet_errors(text):
    canaries = fuzz.Canaries(os.path.join(tempfile.gettempdir(), fuzz.SENTINEL_NAME))
    totals = fuzz.Totals()
    fuzz.check_everywhere(text, totals, canaries)
    assert_clean(totals, canaries)


def test_every_payload_in_every_slot(canaries):
    totals = fuzz.Totals()
    for attack in fuzz.payloads(canaries.sentinel):
        for frame in ("{}", "if {}: 1 else: 2"):
            fuzz.check_everywhere(frame.replace("{}", attack), totals, canaries)
    assert_clean(totals, canaries)
    assert totals.outcomes["accepted"] > 0           # some frames are valid around a harmless payload
    assert set(totals.outcomes) <= {"accepted", "EquationError", "ValidationError"}


@settings(max_examples=100, **fuzz.FUZZ_SETTINGS)
@given(st.text(max_size=60))
def test_arbitrary_text_in_every_slot(text):
    canaries = fuzz.Canaries(os.path.join(tempfile.gettempdir(), fuzz.SENTINEL_NAME))
    totals = fuzz.Totals()
    fuzz.check_everywhere(text, totals, canaries)
    assert_clean(totals, canaries)


def test_the_canaries_notice_what_they_guard(tmp_path):
    """A canary that cannot fail proves nothing: trip each one on purpose."""
    import builtins
    import subprocess

    canaries = fuzz.Canaries(str(tmp_path / fuzz.SENTINEL_NAME))
    real_exec = builtins.exec
    with canaries.installed():
        for call in (lambda: os.system("true"), lambda: os.popen("true"), lambda: subprocess.Popen(["true"]),
                     lambda: builtins.exec("1"), lambda: open(canaries.sentinel, "w")):
            with pytest.raises(PermissionError):
                call()
        code = compile("import json", "<ratenet probe>", "exec")
        real_exec(code, {})   # an import made from a frame named like generated code
        # The import system's own exec of a module's body is not an equation running code: a module
        # ratenet imports on first use (here a fresh copy of a small stdlib one) still loads.
        sys.modules.pop("colorsys", None)
        import colorsys
        assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert len(canaries.calls) == 6, canaries.calls
    assert not os.path.exists(canaries.sentinel)
