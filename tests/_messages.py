"""Helpers shared by the tests of error messages: where the caret points, concise failures."""

from __future__ import annotations

import contextlib

import pytest


@contextlib.contextmanager
def concise():
    """Report an unexpected exception from ratenet in one line.

    pytest's long tracebacks through ratenet's generated-code machinery are slow
    to render and say little more than the exception itself.
    """
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - turned into a test failure below
        message = f"{type(exc).__name__}: {exc}"
    else:
        return
    try:
        pytest.fail(message, pytrace=False)
    except pytest.fail.Exception as failure:
        raise failure from None  # not "during handling of the above exception"


def caret(exc: BaseException) -> tuple[str, int]:
    """(quoted line, caret column in that line) of a rendered EquationError."""
    lines = str(exc).splitlines()
    assert len(lines) >= 3, f"no quoted line and caret in:\n{exc}"
    quoted, marker = lines[-2], lines[-1]
    assert marker.strip() == "^", f"last line is not a caret line:\n{exc}"
    assert quoted.startswith("    ") and marker.startswith("    ")
    return quoted[4:], marker.index("^") - 4


def column_of(line: str, token: str, occurrence: int = 0) -> int:
    start = -1
    for _ in range(occurrence + 1):
        start = line.index(token, start + 1)
    return start


def check_caret(exc: BaseException, text: str, token, *, also=()) -> None:
    """The caret sits under ``token`` (str, or (str, occurrence), or int column) of ``text``.

    ``also`` lists other acceptable tokens (for errors about a whole construct,
    where the start of the construct and the offending part are both fair).
    """
    quoted, column = caret(exc)
    assert quoted == text, f"quoted line {quoted!r} != {text!r}"
    accepted = set()
    for tok in (token, *also):
        if isinstance(tok, int):
            accepted.add(tok)
        elif isinstance(tok, tuple):
            accepted.add(column_of(text, *tok))
        else:
            accepted.add(column_of(text, tok))
    assert column in accepted, (
        f"caret at column {column}, expected {sorted(accepted)}:\n{exc}")


def assert_sealed_builtins(builtins_: dict) -> None:
    """Generated code's builtins: only an import hook that gives CPython's warning machinery ``warnings``.

    (Python 3.13 imports ``warnings`` through the running frame's builtins when NumPy
    warns; every other import is refused.)
    """
    import warnings

    assert set(builtins_) == {"__import__"}, sorted(builtins_)
    hook = builtins_["__import__"]
    assert hook("warnings") is warnings
    for name in ("os", "sys", "builtins", "subprocess", "importlib", "warnings.os"):
        with pytest.raises(ImportError, match=rf"generated equation code cannot import '{name}'"):
            hook(name)
    with pytest.raises(ImportError):
        hook("warnings", None, None, (), 1)   # a relative import is not the warnings module
