"""How a projection was connected: the connector's name and arguments.

Every connector method (``connect_all_to_all``, ``connect_gaussian``,
``Convolution.connect_filter``...) is wrapped by :func:`records_connector`,
which keeps a :class:`ConnectorRecord` once the connection succeeded.  Reports
and displays read it as ``proj.connector`` and describe the pattern in a
sentence ("all-to-all with weights 0.5").  Large arguments (weight matrices,
filter banks) are kept as a short summary, not as a second copy.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

import numpy as np

from .._lazy import LazyModule

if TYPE_CHECKING:  # pragma: no cover
    from ..display import summary as _display_summary
else:  # imported on first use (see ratenet/_lazy.py)
    _display_summary = LazyModule("ratenet.display.summary")

__all__ = ["ConnectorRecord", "ArraySummary", "records_connector"]


def format_value(value: Any) -> str:
    """:func:`ratenet.display.summary.format_value`, whose module is imported on first use."""
    return _display_summary.format_value(value)

F = TypeVar("F", bound=Callable[..., Any])


class ArraySummary:
    """What a report needs to know about an array argument: its shape and range."""

    __slots__ = ("shape", "kind", "nonzero", "minimum", "maximum")

    def __init__(self, shape: tuple[int, ...], kind: str = "matrix", nonzero: int | None = None,
                 minimum: float | None = None, maximum: float | None = None) -> None:
        self.shape, self.kind, self.nonzero, self.minimum, self.maximum = shape, kind, nonzero, minimum, maximum

    def __repr__(self) -> str:
        return f"ArraySummary({self.describe()!r})"

    def describe(self, noun: str | None = None) -> str:
        """``"weight matrix (16 x 16, values from 0 to 1)"`` with ``noun="weight matrix"``."""
        parts = [" x ".join(str(n) for n in self.shape) if self.shape else "scalar"]
        if self.nonzero is not None:
            parts.append(f"{self.nonzero} entries")
        if self.minimum is not None and self.maximum is not None:
            parts.append(f"values {format_value(self.minimum)}" if self.minimum == self.maximum
                         else f"values from {format_value(self.minimum)} to {format_value(self.maximum)}")
        return f"{noun or self.kind} ({', '.join(parts)})"

    def __str__(self) -> str:
        return self.describe()


def _kind(ndim: int) -> str:
    return "matrix" if ndim == 2 else ("vector" if ndim == 1 else "array")


def _summary(value: Any) -> Any:
    """Keep numbers, strings, booleans and distributions; summarise arrays and objects."""
    if value is None or isinstance(value, (bool, str, numbers.Number)):
        return value
    if hasattr(value, "sample") and hasattr(value, "get_values"):  # a distribution: small and immutable
        return value
    if hasattr(value, "tocsr") and hasattr(value, "nnz"):  # a scipy.sparse matrix
        try:
            data = np.asarray(value.data, dtype=np.float64)
        except (TypeError, ValueError):  # lil_matrix keeps one list per row
            data = np.asarray(value.tocsr().data, dtype=np.float64)
        return ArraySummary(tuple(value.shape), "sparse matrix", int(value.nnz),
                            *((float(data.min()), float(data.max())) if data.size else (None, None)))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        # no copy: a large weight matrix must not be duplicated to be described
        bounds = (float(np.fmin.reduce(value, axis=None)), float(np.fmax.reduce(value, axis=None))) \
            if value.size else (None, None)
        return ArraySummary(tuple(value.shape), _kind(value.ndim), None, *bounds)
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            array = np.asarray(value, dtype=np.float64)  # None entries (no synapse) become nan
        except (TypeError, ValueError):
            return ArraySummary((len(value),), "list")
        bounds = (float(np.fmin.reduce(array, axis=None)), float(np.fmax.reduce(array, axis=None))) \
            if array.size and not np.isnan(array).all() else (None, None)
        return ArraySummary(tuple(array.shape), _kind(array.ndim), None, *bounds)
    if hasattr(value, "nb_synapses") and hasattr(value, "add"):  # a LILConnectivity
        return ArraySummary((int(value.nb_synapses),), "list of synapses")
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    name = getattr(value, "name", None)  # a projection (Copy, Transpose)
    return name if isinstance(name, str) else type(value).__name__


class ConnectorRecord:
    """How a projection was connected.

    Attributes
    ----------
    method : str
        The method called, e.g. ``"connect_gaussian"``.
    name : str
        ANNarchy's name of the pattern, e.g. ``"Gaussian"``.
    arguments : dict
        The arguments, defaults included (arrays as :class:`ArraySummary`).
    details : dict
        What the projection adds (a pooling's operation and extent...).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create((10, 10), Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(pop, pop, "exc").connect_gaussian(amp=0.2, sigma=0.1)
    >>> proj.connector.name, proj.connector.arguments["sigma"]
    ('Gaussian', 0.1)
    >>> proj.connector.description
    'Gaussian with amp 0.2, sigma 0.1'
    """

    __slots__ = ("method", "name", "arguments", "details")

    def __init__(self, method: str, name: str, arguments: Mapping[str, Any] | None = None,
                 details: Mapping[str, Any] | None = None) -> None:
        self.method, self.name = method, name
        self.arguments = dict(arguments or {})
        self.details = dict(details or {})

    def __repr__(self) -> str:
        return f"ConnectorRecord({self.method!r}, {self.name!r}, {self.arguments!r})"

    @property
    def description(self) -> str:
        """One sentence (without a final period) describing the pattern."""
        describe = _DESCRIPTIONS.get(self.method)
        text = describe(self.arguments, self.details) if describe else self.name
        return text + _common(self.arguments)

    def __str__(self) -> str:
        return self.description


def _common(args: Mapping[str, Any]) -> str:
    extra = []
    delays = args.get("delays", args.get("delay"))
    if delays is not None and not (isinstance(delays, numbers.Real) and float(delays) == 0.0):
        extra.append(f"delays {format_value(delays)}" + (" ms" if isinstance(delays, numbers.Real) else ""))
    if args.get("allow_self_connections"):
        extra.append("self-connections allowed")
    return "".join(", " + e for e in extra)


def _weights(args: Mapping[str, Any]) -> str:
    return f"weights {format_value(args.get('weights'))}"


def _array(value: Any, noun: str) -> str:
    return value.describe(noun) if isinstance(value, ArraySummary) else f"{noun} {format_value(value)}"


def _kernel(args: Mapping[str, Any], details: Mapping[str, Any], bank: bool) -> str:
    weights = args.get("weights")
    shape = tuple(getattr(weights, "shape", ()))
    if bank and shape:
        text = f"convolution with a bank of {shape[0]} filters of shape {shape[1:]}"
    else:
        text = f"convolution with a {shape} filter"
    options = []
    operation = details.get("operation", "sum")
    if operation != "sum":
        options.append(f"{operation} over each window")
    padding = args.get("padding", 0.0)
    if padding == "border":
        options.append("border padding")
    elif padding not in (0, 0.0, None):
        options.append(f"padding {format_value(padding)}")
    if args.get("subsampling") is not None:
        options.append("explicit subsampling")
    if args.get("keep_last_dimension"):
        options.append("applied to each slice of the last dimension")
    return text + "".join(", " + o for o in options)


_DESCRIPTIONS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    "connect_all_to_all": lambda a, d: f"all-to-all with {_weights(a)}",
    "connect_one_to_one": lambda a, d: f"one-to-one with {_weights(a)}",
    "connect_fixed_probability": lambda a, d: f"random with probability {format_value(a.get('probability'))}, "
                                              f"{_weights(a)}",
    "connect_fixed_number_pre": lambda a, d: f"{format_value(a.get('number'))} random pre-synaptic neurons per "
                                             f"post-synaptic neuron, {_weights(a)}",
    "connect_fixed_number_post": lambda a, d: f"{format_value(a.get('number'))} random post-synaptic neurons per "
                                              f"pre-synaptic neuron, {_weights(a)}",
    "connect_gaussian": lambda a, d: f"Gaussian with amp {format_value(a.get('amp'))}, sigma "
                                     f"{format_value(a.get('sigma'))}"
                                     + ("" if a.get("limit") == 0.01 else f", limit {format_value(a.get('limit'))}"),
    "connect_dog": lambda a, d: f"difference of Gaussians with amp_pos {format_value(a.get('amp_pos'))}, sigma_pos "
                                f"{format_value(a.get('sigma_pos'))}, amp_neg {format_value(a.get('amp_neg'))}, "
                                f"sigma_neg {format_value(a.get('sigma_neg'))}"
                                + ("" if a.get("limit") == 0.01 else f", limit {format_value(a.get('limit'))}"),
    "connect_from_matrix": lambda a, d: "from a " + _array(a.get("weights"), "weight matrix")
                                        + (", given pre x post" if a.get("pre_post") else ""),
    "connect_from_sparse": lambda a, d: "from a " + _array(a.get("weights"), "sparse weight matrix"),
    "connect_from_function": lambda a, d: "from the function " + str(a.get("method")) + "(" + ", ".join(
        f"{k}={format_value(v)}" for k, v in a.items()
        if k not in ("method", "storage_format", "storage_order")) + ")",
    "connect_filter": lambda a, d: _kernel(a, d, bank=False),
    "connect_filters": lambda a, d: _kernel(a, d, bank=True),
    "connect_pooling": lambda a, d: f"{d.get('operation', '')}-pooling over windows of "
                                    f"{tuple(d.get('extent', ()))}",
    "connect_copy": lambda a, d: f"copy of the weights of {a.get('projection')}",
    "connect": lambda a, d: f"transpose of the weights of {d.get('original')}",
}


def records_connector(name: str, details: Callable[[Any], Mapping[str, Any]] | None = None) -> Callable[[F], F]:
    """Decorate a connector method so the projection remembers how it was connected.

    The record is made after the method returns, so a connection that fails
    leaves none.  ``details(projection)`` adds what the projection knows once
    connected (a pooling's extent...).
    """

    def decorate(method: F) -> F:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments: dict[str, Any] = {}
            for key, value in list(bound.arguments.items())[1:]:
                if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                    arguments.update({k: _summary(v) for k, v in value.items()})
                else:
                    arguments[key] = _summary(value)
            self._connector = ConnectorRecord(method.__name__, name, arguments,
                                              dict(details(self)) if details else {})
            if self._replays_connector:  # small arguments (kernels, a projection): kept to connect a copy
                self.__dict__["_connect_call"] = (method.__name__, args, kwargs)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
