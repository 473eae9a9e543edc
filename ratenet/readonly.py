"""Read-only copies of attribute values that say how to assign when someone writes into them.

``pop.r`` is a copy: writing ``pop.r[0] = 1`` would change the copy only,
so the copy is read-only, and NumPy's message ("assignment destination is
read-only") does not say what to do instead.  :class:`ReadOnlyArray` is an
``ndarray`` that raises a :class:`~ratenet.ValidationError` naming the
attribute and the assignments that work.  In-place arithmetic
(``pop.r += 1``) gives a new array, which Python then assigns to the
attribute, so it works as it reads.

Anything computed from such an array (``pop.r * 2``, ``pop.r.sum()``) is a
plain ``ndarray`` or NumPy scalar; a ``.copy()`` is writable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import ValidationError

__all__ = ["ReadOnlyArray", "read_only"]

_NUMPY_1 = int(np.__version__.split(".")[0]) < 2


class ReadOnlyArray(np.ndarray):
    """A read-only copy of ``owner.name``: writing into it raises a clear error (see the module).

    Examples
    --------
    >>> values = read_only(np.zeros(3), "Population 'inp'", "r", "inp")
    >>> values[0] = 1.0
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Population 'inp'.r: the array read from inp.r is a read-only copy; ...
    ... inp.r = values (all neurons), inp[i].r = x (one neuron), ... (got [0] = 1.0)
    >>> values + 1, values.copy().flags.writeable
    (array([1., 1., 1.]), True)
    """

    _owner: str | None
    _name: str | None
    _var: str | None

    def __array_finalize__(self, obj: Any) -> None:
        self._owner = getattr(obj, "_owner", None)
        self._name = getattr(obj, "_name", None)
        self._var = getattr(obj, "_var", None)

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: bool = False) -> Any:
        result = np.asarray(array).view(np.ndarray)  # what is computed from the values is a plain array
        # NumPy 1.x does not pass return_scalar: a 0-d result of a reduction is a scalar there too
        return result[()] if return_scalar or (_NUMPY_1 and result.ndim == 0) else result

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.flags.writeable or self._owner is None:
            super().__setitem__(index, value)
            return
        var = self._var
        shown = repr(index) if not isinstance(index, tuple) else ", ".join(repr(i) for i in index)
        raise ValidationError(self._owner, str(self._name),
                              f"the array read from {var}.{self._name} is a read-only copy; writing into it would "
                              f"change nothing: assign the attribute instead: {var}.{self._name} = values (all "
                              f"neurons), {var}[i].{self._name} = x (one neuron), or values = {var}.{self._name}"
                              f".copy(); values[i] = x; {var}.{self._name} = values",
                              got=f"[{shown}] = {value!r}", got_repr=False)

    def _in_place(self, operation: Any, other: Any) -> Any:
        if self.flags.writeable:
            return NotImplemented
        return operation(self.view(np.ndarray), other)  # a new array, which Python assigns to the attribute

    def __iadd__(self, other: Any) -> Any:  # type: ignore[misc]  # numpy's overloads
        result = self._in_place(np.add, other)
        return super().__iadd__(other) if result is NotImplemented else result

    def __isub__(self, other: Any) -> Any:  # type: ignore[misc]  # numpy's overloads
        result = self._in_place(np.subtract, other)
        return super().__isub__(other) if result is NotImplemented else result

    def __imul__(self, other: Any) -> Any:  # type: ignore[misc]  # numpy's overloads
        result = self._in_place(np.multiply, other)
        return super().__imul__(other) if result is NotImplemented else result

    def __itruediv__(self, other: Any) -> Any:  # type: ignore[misc]  # numpy's overloads
        result = self._in_place(np.true_divide, other)
        return super().__itruediv__(other) if result is NotImplemented else result

    def __ipow__(self, other: Any) -> Any:  # type: ignore[misc, override]  # numpy's overloads
        result = self._in_place(np.power, other)
        return super().__ipow__(other) if result is NotImplemented else result

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __reduce__(self) -> Any:  # pickles (and deep-copies) as a plain array
        return self.view(np.ndarray).__reduce__()


def read_only(values: np.ndarray, owner: str, name: str, var: str) -> ReadOnlyArray:
    """``values`` (not copied) as a read-only :class:`ReadOnlyArray` of ``owner``'s attribute ``name``.

    ``var`` is how the message writes the object (``pop``, ``pop[2:5]``...).
    """
    array = values.view(ReadOnlyArray)
    array._owner, array._name, array._var = owner, name, var
    array.flags.writeable = False
    return array
