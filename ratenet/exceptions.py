"""Exceptions raised by ratenet.

Every error ratenet raises on purpose derives from :class:`RatenetError`, so a
caller can catch the library's errors without catching unrelated ones.  The two
errors about user input also derive from :class:`ValueError`, which is what
generic code expects for a bad value.
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["RatenetError", "EquationError", "ValidationError", "RatenetWarning", "FileError", "MissingFileError"]


class RatenetError(Exception):
    """Base class of every error raised by ratenet on purpose."""


class FileError(RatenetError, OSError):
    """Writing or reading a file failed in the operating system (disk full, no permission...).

    The message names the operation (``save``, ``load``...) and the path; the
    :class:`OSError` that caused it is the exception's ``__cause__``.  It is
    an :class:`OSError` too, so ``except OSError`` keeps working.

    Examples
    --------
    >>> err = FileError("save: cannot write '/x/state.npz' (No space left on device)")
    >>> isinstance(err, OSError), str(err)
    (True, "save: cannot write '/x/state.npz' (No space left on device)")
    """


class MissingFileError(FileError, FileNotFoundError):
    """The file to read does not exist (a :class:`FileNotFoundError`, naming the operation and the path).

    Examples
    --------
    >>> isinstance(MissingFileError("load: no such file: 'a.npz'"), FileNotFoundError)
    True
    """


class RatenetWarning(UserWarning):
    """Something that works but is probably not what was meant.

    ratenet warns, for instance, when a population is added to the default
    network after it has been compiled or simulated: in a notebook this is
    what re-running the cell that builds the network does, and the network
    then holds two copies of everything.  Silence it with the standard
    :mod:`warnings` filters.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", RatenetWarning)   # or filterwarnings, for a whole session
    ...     warnings.warn("not shown", RatenetWarning)
    >>> issubclass(RatenetWarning, UserWarning)
    True
    """


class EquationError(RatenetError, ValueError):
    """An equation, parameter or flag string that ratenet cannot accept.

    The message quotes the offending line and puts a caret under the column
    where the problem starts.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    text : str, optional
        The line (or logical line) that holds the problem.
    column : int, optional
        0-based column in ``text`` where the problem starts.
    owner : str, optional
        What the text belongs to, e.g. ``"Neuron 'LIF' equations, line 2"``.
    hint : str, optional
        A suggestion, such as the closest known name.

    Examples
    --------
    >>> err = EquationError("unknown name 'tua'", text="tau*dr/dt = -r/tua",
    ...                     column=15, hint="did you mean 'tau'?")
    >>> print(err)
    unknown name 'tua'; did you mean 'tau'?
        tau*dr/dt = -r/tua
                       ^
    """

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        column: int | None = None,
        owner: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.column = column
        self.owner = owner
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.owner}: {self.message}" if self.owner else self.message
        if self.hint:
            head += f"; {self.hint}"
        if self.text is None:
            return head
        lines = [head, "    " + self.text]
        if self.column is not None:
            lines.append("    " + " " * max(self.column, 0) + "^")
        return "\n".join(lines)

    def with_owner(self, owner: str) -> "EquationError":
        """Return a copy of this error that names what the text belongs to."""
        if self.owner:
            owner = f"{owner}, {self.owner}"
        return EquationError(
            self.message, text=self.text, column=self.column, owner=owner, hint=self.hint
        )


class ValidationError(RatenetError, ValueError):
    """A bad argument, named as ``Object.argument: what is wrong (got X)``.

    Parameters
    ----------
    owner : str
        The object (or class) that received the argument, e.g. ``"Population"``
        or ``"Population 'exc'"``.
    argument : str
        The argument's name.
    message : str
        What was expected.
    got : object, optional
        What was given; shown with ``repr`` unless it is a string already
        describing it (pass ``got_repr=False``).

    Examples
    --------
    >>> print(ValidationError("Population", "geometry", "must be positive integers", got=(0, 3)))
    Population.geometry: must be positive integers (got (0, 3))
    """

    #: The default of ``got``: nothing was given (``None`` is a value worth showing).
    NOTHING = object()

    def __init__(
        self,
        owner: str,
        argument: str,
        message: str,
        got: object = NOTHING,
        *,
        got_repr: bool = True,
    ) -> None:
        self.owner = owner
        self.argument = argument
        self.message = message
        text = f"{owner}.{argument}: {message}"
        if got is not ValidationError.NOTHING:
            shown = _short_repr(got) if got_repr else str(got)
            text += f" (got {shown})"
        super().__init__(text)


def _short_repr(value: object, limit: int = 80) -> str:
    """A repr that stays readable for large arrays and long strings."""
    if isinstance(value, type):
        return getattr(value, "__name__", repr(value))
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None and getattr(value, "size", 0) > 6:
        return f"array of shape {tuple(shape)} and dtype {dtype}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``word`` (for "did you mean ...?" hints), or None below ``cutoff``.

    Examples
    --------
    >>> closest("tua", ["tau", "r", "baseline"]), closest("xyz", ["tau"])
    ('tau', None)
    """
    import difflib  # only error messages need it: kept out of `import ratenet`

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None
