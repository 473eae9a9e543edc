"""Hypothesis settings for the suite.

The suite runs the same examples every time (``derandomize``): a red CI then means
a change broke something, never that a random draw found an old bug on one
machine. Exploring new examples is a separate, deliberate run::

    python -m pytest --hypothesis-profile=explore tests/test_inplace.py
    python tests/fuzz_equations.py --examples 100000

Tests that set their own ``derandomize`` keep it.
"""

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")
