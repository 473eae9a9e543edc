"""What Convolution and Pooling share: projections without a weight matrix.

They compute their whole contribution with one kernel call on ``pre``'s
array, so they need populations (not views) on both sides, and they have no
learning rule.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

from .._batch import check_sample
from ..equations import Scope, Source, _parse_expression, build_function, classify, numpy_namespace, resolve, \
    symbols, user_function_namespace
from ..exceptions import EquationError, ValidationError
from ..io import expect
from ..neurons import _CONSTANTS, _GLOBAL_FUNCTIONS
from ..population import Population
from ..state import Transmission
from .projection import Projection


def check_population(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, Population):
        raise ValidationError(owner, name, "must be a Population (views are not supported by this projection)",
                              got=value)


def parse_psp(owner: str, text: str, allowed: tuple[str, ...]) -> ast.expr:
    """Parse a psp written over ``pre.<var>`` (and ``w`` when allowed)."""
    if not isinstance(text, str):
        raise ValidationError(owner, "psp", "must be a string", got=text)
    source = Source(text.strip(), "psp")
    scope = Scope("synapse", {}, dict(_GLOBAL_FUNCTIONS), set(_CONSTANTS))
    try:
        tree = resolve(_parse_expression(source.text, 0, len(source.text), source), scope, source)
    except EquationError as exc:
        raise exc.with_owner(owner) from None
    for symbol in symbols(tree):
        kind = classify(symbol)
        if symbol == "w" and "w" in allowed:
            continue
        if kind[0] == "pre" or kind[0] == "name" and symbol in _CONSTANTS:
            continue
        if kind[0] in ("function", "user"):
            continue
        shown = {"post": "post.", "sumpre": "pre.sum(", "sumpost": "post.sum(", "globalpre": "global operations",
                 "globalpost": "global operations", "random": "random distributions"}.get(kind[0], symbol)
        raise EquationError(f"this projection's psp may only use {', '.join(allowed)} and pre.<variable> "
                            f"(got {shown})", text=source.text, owner=owner)
    return tree


def psp_function(tree: ast.expr, args: tuple[str, ...], name: str) -> Callable[..., np.ndarray]:
    """Compile a psp tree into ``f(*args)`` (constants and functions bound)."""
    ns = numpy_namespace()
    for constant in _CONSTANTS.values():
        ns[constant.name] = constant.array
    ns.update(user_function_namespace(_GLOBAL_FUNCTIONS.values()))
    return build_function([ast.Return(value=tree)], ns, name, args=args)


class KernelProjection(Projection):
    """Base of Convolution and Pooling: a kernel object instead of a weight storage."""

    _replays_connector = True
    _kernel: Any = None
    #: The connector(s) of this kind of projection, for messages.
    connectors = ""
    #: The operations its kernel implements.
    operations: tuple[str, ...] = ()

    def _checked_arguments(self, pre: Any, post: Any, psp: str, operation: str, allowed: tuple[str, ...],
                           name: str | None) -> tuple[str, ast.expr]:
        """Check what Convolution and Pooling both take; returns (owner, parsed psp)."""
        owner = f"{type(self).__name__} '{name}'" if name else type(self).__name__
        check_population(owner, "pre", pre)
        check_population(owner, "post", post)
        if operation not in self.operations:
            choices = ", ".join(repr(o) for o in self.operations[:-1]) + f" or {self.operations[-1]!r}"
            raise ValidationError(owner, "operation", f"must be {choices}", got=operation)
        return owner, parse_psp(owner, psp, allowed)

    def _is_connected(self) -> bool:
        return self._kernel is not None

    def _connector_hint(self) -> str:
        return self.connectors

    def _check_unconnected(self) -> None:
        if self._kernel is not None:
            raise ValidationError(self._owner(), "connect", "is already connected; create a new projection for "
                                                            "another pattern")

    def _require_kernel(self) -> Any:
        if self._kernel is None:
            raise ValidationError(self._owner(), "connect", f"is not connected yet: call {self.connectors} first")
        return self._kernel

    def _connect(self, builder: Any, *args: Any, **kwargs: Any) -> "Projection":
        raise ValidationError(self._owner(), "connect", f"{type(self).__name__} projections are connected with "
                                                        f"{self.connectors}, not with the connectors of Projection")

    def connect_from_function(self, method: Any, storage_format: str | None = None,
                              storage_order: str | None = None, **args: Any) -> "Projection":
        return self._connect(None)

    def _require_connected(self) -> Any:
        self._require_kernel()
        raise ValidationError(self._owner(), "inspection", "is not available: this projection applies one kernel "
                                                           "to every position instead of storing synapses")

    @property
    def delays(self) -> float:
        """The uniform delay in ms."""
        self._require_kernel()
        return float(self._delays)

    def get(self, name: str, sample: int | None = None) -> Any:
        """``weights`` (or its alias ``w``) of a Convolution; other attributes do not exist here.

        The samples of a batch share the kernel: ``sample`` is checked and gives the same weights."""
        self._require_kernel()
        check_sample(self._owner(), sample, self.network.batch)
        if name in ("w", "weights") and hasattr(type(self), "weights"):
            return self.weights
        raise ValidationError(self._owner(), "name", "is not an attribute of this projection (it has "
                                                     + ("'weights')" if hasattr(type(self), "weights")
                                                        else "no synaptic attributes)"), got=name)

    def receptive_fields(self, variable: str = "w", in_post_geometry: bool = True,
                         sample: int | None = None) -> np.ndarray:
        self._require_kernel()
        raise ValidationError(self._owner(), "receptive_fields", "is not available: every post neuron shares the "
                                                                 "same kernel (see weights)")

    def _history_needs(self) -> list[tuple[Any, str, int]]:
        steps = int(self._delay_steps())  # one delay for the whole kernel
        if steps <= 1:
            return []
        names = {"r"} | {classify(s)[1] for s in symbols(self._psp_tree) if classify(s)[0] == "pre"}
        return [(self.pre, name, steps) for name in sorted(names)]

    def _describe_state(self) -> None:
        super()._describe_state()
        self._state.save_kind = "kern"

    def _snapshot(self) -> None:
        """Remember the kernel's weights (if it has any) for ``reset``."""
        weights = getattr(self._kernel, "weights", None)
        self._initial_state = None if weights is None else {"weights": np.array(weights, copy=True)}

    def reset(self, attributes: Any = None) -> None:
        """Restore the kernel's weights (set from Python since compile) to their compile-time values."""
        saved = self._initial_state
        if saved is not None and not np.array_equal(saved["weights"], self._kernel.weights):
            self._kernel.weights = saved["weights"]
            self._changed("weights")

    def _export(self) -> dict[str, np.ndarray]:
        out = {".delays": np.asarray(self._delays)}
        weights = getattr(self._require_kernel(), "weights", None)
        if weights is not None:
            out["weights"] = np.asarray(weights)
        return out

    def _check_saved(self, saved: dict[str, np.ndarray], prefix: str, where: str) -> None:
        kernel = self._require_kernel()
        finite = not self.network.allow_nonfinite
        if ".delays" not in saved:
            raise ValidationError(where, prefix + ".delays", "is missing: the file is incomplete")
        expect(where, prefix + ".delays", saved[".delays"], "biuf", (), True, "a delay in ms")
        if float(saved[".delays"]) < 0:
            raise ValidationError(where, prefix + ".delays", "expected a delay >= 0", got=float(saved[".delays"]))
        if "weights" in saved:
            weights = getattr(kernel, "weights", None)
            expect(where, prefix + "weights", saved["weights"], "biuf", None if weights is None else np.shape(weights),
                   finite, "numbers")

    def _restore(self, saved: dict[str, np.ndarray]) -> None:
        if "weights" in saved:
            self._kernel.weights = saved["weights"]
            self._changed("weights")
        self._delays = float(saved[".delays"])
        self._changed()

    def _pre_values(self, sources: Any, shape: tuple[int, ...] | None = None) -> Callable[[], np.ndarray]:
        """The array the kernel reads: pre.r, or the psp of pre's variables (through the delay).

        ``shape`` is what it returns (pre's geometry, with the batch axis in front for a batch)."""
        raise NotImplementedError

    def _weight_reads(self) -> list[Any]:
        return []

    def _transmission(self) -> Transmission:
        self._require_kernel()
        pre_vars = sorted({classify(s)[1] for s in symbols(self._psp_tree) if classify(s)[0] == "pre"}) or ["r"]
        return Transmission("kernel", self.pre, self.post, self.target, self._delay_steps(), self._describe(),
                            reads=self._weight_reads(), pre_vars=pre_vars,
                            constants=any(s in _CONSTANTS for s in symbols(self._psp_tree)), compute=self._compute,
                            compute_batch=self._compute_batch)

    def _compute(self, sources: Any) -> Callable[[np.ndarray], None]:
        kernel = self._require_kernel()
        values = self._pre_values(sources)
        shape = self.post.geometry

        def compute(target: np.ndarray) -> None:
            kernel.compute(values(), target.reshape(shape))

        return compute

    def _compute_batch(self, sources: Any, batch: int) -> Callable[[np.ndarray], None]:
        """The same over a whole batch in one kernel call: ``target`` is ``(batch, post size)``."""
        run = self._batch_kernel(batch)
        values = self._pre_values(sources, (batch, *self.pre.geometry))
        shape = (batch, *self.post.geometry)
        scratch: list[np.ndarray] = []  # for a target whose rows are not contiguous (a slice of stacked sums)

        def compute(target: np.ndarray) -> None:
            if target.flags.c_contiguous:
                run(values(), target.reshape(shape))
                return
            if not scratch:
                scratch.append(np.empty(shape, dtype=target.dtype))
            run(values(), scratch[0])
            np.copyto(target, scratch[0].reshape(target.shape))

        return compute

    def _batch_kernel(self, batch: int) -> Callable[[np.ndarray, np.ndarray], None]:
        """``run(pre, out)`` over ``(batch, *geometry)`` arrays."""
        raise NotImplementedError

    def _fusable(self) -> bool:
        return False

    def _describe(self) -> str:
        return type(self).__name__

    @property
    def nb_synapses(self) -> int:
        return self._require_kernel().synapse_count()

    @property
    def size(self) -> int:
        return self.post.size

    @property
    def post_ranks(self) -> list[int]:
        self._require_kernel()
        return list(range(self.post.size))

    @property
    def pre_ranks(self) -> list[list[int]]:
        self._require_kernel()
        return [self._receptive_field(rank).tolist() for rank in range(self.post.size)]

    def _receptive_field(self, post_rank: int) -> np.ndarray:
        raise NotImplementedError

    def connectivity_matrix(self, fill: float = 0.0, sample: int | None = None) -> np.ndarray:
        raise ValidationError(self._owner(), "connectivity_matrix", "is not available: this projection shares "
                                                                    "one kernel instead of storing weights")

    def dendrite(self, post: Any) -> Any:
        raise ValidationError(self._owner(), "dendrite", "is not available: this projection shares one kernel "
                                                         "instead of storing weights")
