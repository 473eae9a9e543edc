"""Random distributions for parameters, weights, delays and equations.

A distribution is a small immutable description; the values come from the
network's own :class:`numpy.random.Generator`, so ``setup(seed=...)`` or
``Network(seed=...)`` makes a whole simulation reproducible.  Inside equation
strings the same names draw a fresh value per neuron (or synapse) and per step.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from .exceptions import EquationError, ValidationError

__all__ = [
    "Distribution",
    "Uniform",
    "DiscreteUniform",
    "Normal",
    "LogNormal",
    "Exponential",
    "Gamma",
    "Binomial",
    "DISTRIBUTIONS",
    "argument_error",
    "draw_in_equation",
]


#: Values drawn per piece by Distribution.sample_into (512 KB of float64).
_PIECE = 1 << 16


def _number(owner: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(owner, name, "must be a real number", got=value)
    value = float(value)
    if not math.isfinite(value):
        raise ValidationError(owner, name, "must be finite", got=value)
    return value


class Distribution:
    """Base class: a distribution that fills arrays from a generator.

    Subclasses implement :meth:`_draw`; ``min``/``max`` (where supported) clip
    the drawn values, as ANNarchy does.  Every distribution takes ``seed=``
    (ANNarchy 4) or ``rng=`` (ANNarchy 5): it then draws from its own
    generator rather than the network's, so its values do not depend on
    anything else the network draws.

    Examples
    --------
    >>> import numpy as np
    >>> a = Uniform(0.0, 1.0, seed=42).sample(3, np.random.default_rng(0))
    >>> b = Uniform(0.0, 1.0, seed=42).sample(3, np.random.default_rng(1))
    >>> bool((a == b).all()), bool((a == np.random.default_rng(42).uniform(0.0, 1.0, 3)).all())
    (True, True)
    """

    _params: tuple[str, ...] = ()

    def __init__(self, min: float | None = None, max: float | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        name = type(self).__name__
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValidationError(name, "seed", "must be a non-negative integer or None", got=seed)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValidationError(name, "rng", "must be a numpy.random.Generator or None", got=rng)
        if seed is not None and rng is not None:
            raise ValidationError(name, "seed", "give seed (ANNarchy 4) or rng (ANNarchy 5), not both", got=seed)
        #: The distribution's own generator (``seed=`` or ``rng=``), used instead of the network's; None: the network's.
        self.rng = np.random.default_rng(int(seed)) if seed is not None else rng
        self.min = None if min is None else _number(name, "min", min)
        self.max = None if max is None else _number(name, "max", max)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValidationError(name, "min", f"must not exceed max={self.max}", got=self.min)

    def _draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def sample(
        self,
        shape: int | tuple[int, ...] = (),
        rng: np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> np.ndarray:
        """Draw an array of the given shape.

        Parameters
        ----------
        shape : int or tuple of int
            Shape of the result.
        rng : numpy.random.Generator, optional
            Source of randomness; a fresh unseeded generator when omitted.
        dtype : dtype, optional
            dtype of the result.

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> import numpy as np
        >>> v = Uniform(0.0, 1.0).sample((2, 3), rng=np.random.default_rng(0))
        >>> v.shape, bool(((v >= 0) & (v < 1)).all())
        ((2, 3), True)
        """
        if self.rng is not None:
            rng = self.rng
        elif rng is None:
            rng = np.random.default_rng()
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        values = self._draw(rng, shape)
        if self.min is not None or self.max is not None:
            values = np.clip(values, self.min, self.max)
        return np.asarray(values, dtype=dtype)

    def sample_into(self, out: np.ndarray, rng: np.random.Generator) -> None:
        """Fill ``out`` with the values ``sample(out.shape, rng)`` would return.

        For float64 arrays the common distributions draw straight into ``out``
        (no temporary as large as the result); other dtypes get the float64
        draws cast, as :meth:`sample` does.

        Examples
        --------
        >>> import numpy as np
        >>> out = np.empty(4)
        >>> Uniform(-1.0, 1.0).sample_into(out, np.random.default_rng(3))
        >>> bool(np.array_equal(out, Uniform(-1.0, 1.0).sample(4, np.random.default_rng(3))))
        True
        """
        if self.rng is not None:
            rng = self.rng
        if out.dtype != np.float64 or not out.flags.c_contiguous or not self._draws_into:
            out[...] = self.sample(out.shape, rng, np.float64)
            return
        # Pieces that stay in the cache between the draw and the arithmetic on it;
        # drawing in pieces gives the same values as drawing all at once.
        flat = out.reshape(-1)
        for start in range(0, flat.size, _PIECE):
            piece = flat[start:start + _PIECE]
            self._draw_into(rng, piece)
            if self.min is not None or self.max is not None:
                np.clip(piece, self.min, self.max, out=piece)

    #: whether :meth:`_draw_into` is implemented
    _draws_into = False

    def _draw_into(self, rng: np.random.Generator, out: np.ndarray) -> None:
        """Draw into the contiguous float64 array ``out`` exactly the values of ``_draw``."""
        raise NotImplementedError

    def get_values(self, shape: int | tuple[int, ...], rng: np.random.Generator | None = None) -> np.ndarray:
        """ANNarchy's name for :meth:`sample`."""
        return self.sample(shape, rng)

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._params)
        for bound in ("min", "max"):
            if getattr(self, bound, None) is not None:
                args += f", {bound}={getattr(self, bound)!r}"
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


class Uniform(Distribution):
    """Continuous uniform distribution on ``[min, max)``.

    Examples
    --------
    >>> import numpy as np
    >>> float(Uniform(2.0, 2.0).sample(3, np.random.default_rng(1))[0])
    2.0
    """

    _params = ("low", "high")

    def __init__(self, min: float, max: float, seed: int | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.low = _number("Uniform", "min", min)
        self.high = _number("Uniform", "max", max)
        if self.low > self.high:
            raise ValidationError("Uniform", "min", f"must not exceed max={self.high}", got=self.low)
        super().__init__(seed=seed, rng=rng)
        # NumPy refuses a width that overflows; sample() then reports it.
        self._draws_into = math.isfinite(self.high - self.low)

    def _draw(self, rng, shape):
        return rng.uniform(self.low, self.high, shape)

    def _draw_into(self, rng, out):
        # NumPy computes low + (high - low) * u with u = rng.random(): the same operations, in place.
        rng.random(out=out)
        out *= self.high - self.low
        if self.low != 0.0:  # adding 0.0 to the non-negative products changes nothing
            out += self.low


class DiscreteUniform(Distribution):
    """Uniform distribution over the integers ``min, ..., max`` (both included).

    Examples
    --------
    >>> import numpy as np
    >>> sorted(set(DiscreteUniform(1, 3).sample(200, np.random.default_rng(0)).tolist()))
    [1.0, 2.0, 3.0]
    """

    _params = ("low", "high")

    def __init__(self, min: int, max: int, seed: int | None = None,
                 rng: np.random.Generator | None = None) -> None:
        for name, value in (("min", min), ("max", max)):
            if _number("DiscreteUniform", name, value) != int(value):
                raise ValidationError("DiscreteUniform", name, "must be an integer", got=value)
        self.low, self.high = int(min), int(max)
        if self.low > self.high:
            raise ValidationError("DiscreteUniform", "min", f"must not exceed max={self.high}", got=self.low)
        super().__init__(seed=seed, rng=rng)

    def _draw(self, rng, shape):
        return rng.integers(self.low, self.high, shape, endpoint=True)


class Normal(Distribution):
    """Normal distribution with mean ``mu`` and standard deviation ``sigma``.

    ``min``/``max`` clip the drawn values.

    Examples
    --------
    >>> import numpy as np
    >>> v = Normal(0.0, 1.0, min=-0.5).sample(1000, np.random.default_rng(0))
    >>> bool(v.min() >= -0.5)
    True
    """

    _params = ("mu", "sigma")

    def __init__(self, mu: float, sigma: float, min: float | None = None, max: float | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        self.mu = _number("Normal", "mu", mu)
        self.sigma = _number("Normal", "sigma", sigma)
        if self.sigma < 0:
            raise ValidationError("Normal", "sigma", "must be >= 0", got=sigma)
        super().__init__(min, max, seed=seed, rng=rng)

    def _draw(self, rng, shape):
        return rng.normal(self.mu, self.sigma, shape)

    _draws_into = True

    def _draw_into(self, rng, out):
        # NumPy computes mu + sigma * z with z = rng.standard_normal(): the same operations, in place.
        rng.standard_normal(out=out)
        out *= self.sigma
        out += self.mu


class LogNormal(Distribution):
    """Log-normal distribution: ``exp(N(mu, sigma))``.

    Examples
    --------
    >>> import numpy as np
    >>> bool((LogNormal(0.0, 1.0).sample(10, np.random.default_rng(0)) > 0).all())
    True
    """

    _params = ("mu", "sigma")

    def __init__(self, mu: float, sigma: float, min: float | None = None, max: float | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        self.mu = _number("LogNormal", "mu", mu)
        self.sigma = _number("LogNormal", "sigma", sigma)
        if self.sigma < 0:
            raise ValidationError("LogNormal", "sigma", "must be >= 0", got=sigma)
        super().__init__(min, max, seed=seed, rng=rng)

    def _draw(self, rng, shape):
        return rng.lognormal(self.mu, self.sigma, shape)


class Exponential(Distribution):
    """Exponential distribution with rate ``Lambda`` (mean ``1/Lambda``).

    Examples
    --------
    >>> import numpy as np
    >>> v = Exponential(2.0).sample(100000, np.random.default_rng(0))
    >>> round(float(v.mean()), 1)
    0.5
    """

    _params = ("Lambda",)

    def __init__(self, Lambda: float, min: float | None = None, max: float | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        self.Lambda = _number("Exponential", "Lambda", Lambda)
        if self.Lambda <= 0:
            raise ValidationError("Exponential", "Lambda", "must be > 0", got=Lambda)
        super().__init__(min, max, seed=seed, rng=rng)

    def _draw(self, rng, shape):
        return rng.exponential(1.0 / self.Lambda, shape)


class Gamma(Distribution):
    """Gamma distribution with shape ``alpha`` and scale ``beta``.

    Examples
    --------
    >>> import numpy as np
    >>> v = Gamma(2.0, 3.0).sample(100000, np.random.default_rng(0))
    >>> round(float(v.mean()))
    6
    """

    _params = ("alpha", "beta")

    def __init__(self, alpha: float, beta: float = 1.0, min: float | None = None, max: float | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        self.alpha = _number("Gamma", "alpha", alpha)
        self.beta = _number("Gamma", "beta", beta)
        if self.alpha <= 0:
            raise ValidationError("Gamma", "alpha", "must be > 0", got=alpha)
        if self.beta <= 0:
            raise ValidationError("Gamma", "beta", "must be > 0", got=beta)
        super().__init__(min, max, seed=seed, rng=rng)

    def _draw(self, rng, shape):
        return rng.gamma(self.alpha, self.beta, shape)


class Binomial(Distribution):
    """Binomial distribution: successes in ``n`` trials of probability ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> v = Binomial(10, 0.5).sample(5, np.random.default_rng(0))
    >>> bool(((v >= 0) & (v <= 10)).all())
    True
    """

    _params = ("n", "p")

    def __init__(self, n: int, p: float, min: float | None = None, max: float | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        if _number("Binomial", "n", n) != int(n) or n < 0:
            raise ValidationError("Binomial", "n", "must be a non-negative integer", got=n)
        self.n = int(n)
        self.p = _number("Binomial", "p", p)
        if not 0.0 <= self.p <= 1.0:
            raise ValidationError("Binomial", "p", "must lie in [0, 1]", got=p)
        super().__init__(min, max, seed=seed, rng=rng)

    def _draw(self, rng, shape):
        return rng.binomial(self.n, self.p, shape)


#: name -> (class, least and most positional arguments accepted inside equations)
DISTRIBUTIONS: dict[str, tuple[type[Distribution], int, int]] = {
    "Uniform": (Uniform, 2, 2),
    "DiscreteUniform": (DiscreteUniform, 2, 2),
    "Normal": (Normal, 2, 4),
    "LogNormal": (LogNormal, 2, 4),
    "Exponential": (Exponential, 1, 3),
    "Gamma": (Gamma, 1, 4),
    "Binomial": (Binomial, 2, 4),
}


def _whole(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2.0 ** 63)


#: name -> checks of the positional arguments inside equations: (index, name, test, expectation).
_ARGUMENT_CHECKS: dict[str, tuple[tuple[int, str, Any, str], ...]] = {
    "Uniform": (),
    "DiscreteUniform": ((0, "min", _whole, "a whole number"), (1, "max", _whole, "a whole number")),
    "Normal": ((1, "sigma", lambda v: v >= 0, ">= 0"),),
    "LogNormal": ((1, "sigma", lambda v: v >= 0, ">= 0"),),
    "Exponential": ((0, "Lambda", lambda v: v > 0, "> 0"),),
    "Gamma": ((0, "alpha", lambda v: v > 0, "> 0"), (1, "beta", lambda v: v > 0, "> 0")),
    "Binomial": ((0, "n", lambda v: _whole(v) & (v >= 0), "a whole number >= 0"),
                 (1, "p", lambda v: (v >= 0) & (v <= 1), "in [0, 1]")),
}
#: name -> names of the positional arguments inside equations
_ARGUMENT_NAMES: dict[str, tuple[str, ...]] = {
    "Uniform": ("min", "max"),
    "DiscreteUniform": ("min", "max"),
    "Normal": ("mu", "sigma", "min", "max"),
    "LogNormal": ("mu", "sigma", "min", "max"),
    "Exponential": ("Lambda", "min", "max"),
    "Gamma": ("alpha", "beta", "min", "max"),
    "Binomial": ("n", "p", "min", "max"),
}


def _first_bad(values: np.ndarray, ok: np.ndarray) -> float:
    return float(values.reshape(-1)[np.flatnonzero(~ok.reshape(-1))[0]])


def argument_error(name: str, args: tuple[Any, ...]) -> str | None:
    """What is wrong with the arguments of a distribution written in an equation, or None.

    The arguments may be numbers or arrays (one value per neuron or synapse);
    for arrays the message shows the first bad value.

    Examples
    --------
    >>> argument_error("Normal", (0.0, -1.0))
    'Normal(): sigma must be >= 0 (got -1.0)'
    >>> argument_error("Uniform", (0.0, 1.0)) is None
    True
    """
    names = _ARGUMENT_NAMES[name]
    arrays = []
    for index, value in enumerate(args):
        array = np.asarray(value, dtype=np.float64)
        finite = np.isfinite(array)
        if not finite.all():
            return f"{name}(): {names[index]} must be finite (got {_first_bad(array, finite)})"
        arrays.append(array)
    for index, label, test, expected in _ARGUMENT_CHECKS[name]:
        if index < len(arrays):
            ok = np.asarray(test(arrays[index]))
            if not ok.all():
                return f"{name}(): {label} must be {expected} (got {_first_bad(arrays[index], ok)})"
    # Pairs that must be ordered: (min, max) of Uniform/DiscreteUniform, and the clipping bounds.
    low_at = 0 if name in ("Uniform", "DiscreteUniform") else names.index("min")
    if low_at + 1 < len(arrays):
        low, high = np.broadcast_arrays(arrays[low_at], arrays[low_at + 1])
        ok = low <= high
        if not ok.all():
            at = np.flatnonzero(~ok.reshape(-1))[0]
            return (f"{name}(): {names[low_at]} must not exceed {names[low_at + 1]} "
                    f"(got {names[low_at]}={float(low.reshape(-1)[at])}, "
                    f"{names[low_at + 1]}={float(high.reshape(-1)[at])})")
    return None


_NUMBER_TYPES = frozenset({float, int, np.float64, np.float32, np.int64, np.bool_})
#: (distribution, arguments) already found valid (numbers only: equal numbers pass the same checks)
_GOOD_ARGUMENTS: set[tuple[Any, ...]] = set()


#: (name, arguments) of Uniform draws with a power-of-two range, already checked -> (range, low)
_UNIFORM_SPANS: dict[tuple[Any, ...], tuple[float, float]] = {}


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], span_low: tuple[float, float]) -> np.ndarray:
    """``rng.uniform(low, low + span, shape)`` for a power-of-two ``span``, bit for bit.

    uniform() computes ``low + span * u`` for each double ``u`` of the stream
    that random() returns; the product by a power of two is exact, so one
    addition rounds, as here: the same bits in about half the time (``u``
    itself for Uniform(0, 1)).
    """
    span, low = span_low
    values = rng.random(shape)
    if span != 1.0:
        values *= span
    if low != 0.0:
        values += low
    return values


def _power_of_two(value: float) -> bool:
    """Whether ``value`` is 2**k for an integer k (a positive normal double whose mantissa is 0.5)."""
    if not (value > 0.0 and math.isfinite(value)):
        return False
    mantissa, exponent = math.frexp(value)
    return mantissa == 0.5 and value >= sys.float_info.min


def draw_in_equation(
    name: str, rng: np.random.Generator, shape: tuple[int, ...], args: tuple[Any, ...]
) -> np.ndarray:
    """Draw for a distribution written inside an equation.

    The arguments may be arrays (one value per neuron), so this calls the
    generator directly instead of building a :class:`Distribution`.  The
    generated code passes, as the first argument, a tuple ``(owner, line,
    column)`` naming the equation; arguments that come from variables are
    checked here and a bad one raises an
    :class:`~ratenet.exceptions.EquationError` quoting that equation.

    Examples
    --------
    >>> import numpy as np
    >>> draw_in_equation("Normal", np.random.default_rng(0), (2,), (("equations, line 1", "r = Normal(0, s)", 4),
    ...                  0.0, -1.0))
    Traceback (most recent call last):
    ...
    ratenet.exceptions.EquationError: equations, line 1: Normal(): sigma must be >= 0 (got -1.0)
        r = Normal(0, s)
            ^
    """
    where = None
    if args and isinstance(args[0], tuple):
        where, args = args[0], args[1:]
    # Arguments that are single numbers (literals, parameters of the population) are checked once
    # per distinct value: the check costs more than a draw of a few hundred numbers.
    key: tuple[Any, ...] | None = (name, args)
    try:  # the arguments of a Uniform draw seen before (numbers only): no check again
        uniform = _UNIFORM_SPANS.get((name, args))
    except TypeError:  # an array among the arguments (one value per neuron)
        uniform = None
    if uniform is not None:
        return _uniform(rng, shape, uniform)
    if not all(type(a) in _NUMBER_TYPES for a in args):
        key = None
    if key is None or key not in _GOOD_ARGUMENTS:
        problem = argument_error(name, args)
        if problem is not None:
            owner, text, column = where if where is not None else (None, None, None)
            raise EquationError(problem, text=text, column=column, owner=owner)
        if key is not None:
            if len(_GOOD_ARGUMENTS) >= 1024:
                _GOOD_ARGUMENTS.clear()
            _GOOD_ARGUMENTS.add(key)
    if name == "Uniform":
        if key is not None and _power_of_two(float(args[1]) - float(args[0])):
            if len(_UNIFORM_SPANS) >= 1024:
                _UNIFORM_SPANS.clear()
            _UNIFORM_SPANS[key] = (float(args[1]) - float(args[0]), float(args[0]))
            return _uniform(rng, shape, _UNIFORM_SPANS[key])
        return rng.uniform(args[0], args[1], shape)
    if name == "DiscreteUniform":
        return rng.integers(np.asarray(args[0], dtype=np.int64), np.asarray(args[1], dtype=np.int64),
                            shape, endpoint=True).astype(np.float64)
    if name == "Normal":
        values = rng.normal(args[0], args[1], shape)
        bounds = args[2:]
    elif name == "LogNormal":
        values = rng.lognormal(args[0], args[1], shape)
        bounds = args[2:]
    elif name == "Exponential":
        values = rng.exponential(1.0 / np.asarray(args[0], dtype=np.float64), shape)
        bounds = args[1:]
    elif name == "Gamma":
        scale = args[1] if len(args) > 1 else 1.0
        values = rng.gamma(args[0], scale, shape)
        bounds = args[2:]
    elif name == "Binomial":
        values = rng.binomial(np.asarray(args[0], dtype=np.int64), args[1], shape).astype(np.float64)
        bounds = args[2:]
    else:  # the parser only lets the names of DISTRIBUTIONS through
        raise KeyError(name)
    if bounds:
        values = np.clip(values, bounds[0], bounds[1] if len(bounds) > 1 else None)
    return values
