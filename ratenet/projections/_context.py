"""Namespaces in which synapse expressions (psp and learning rules) run.

A synapse expression is evaluated at one of three levels:

``local``
    one value per synapse; arrays have the layout of the weight storage
    (``(n_post, n_pre)`` dense or ``(nnz,)`` sparse);
``postsynaptic``
    one value per post-synaptic neuron, ``(n_post,)``;
``projection``
    one value.

Each level gets its own namespace.  Pre- and post-synaptic values are
broadcast to the level by the storage (:meth:`~ratenet.projections.storage.Storage.spread_pre`):
for dense storage a view made once (``pre.r[None, :]``), for sparse storage a
gather made before each use (``pre.r[indices]``).  Synaptic attributes shared
by several levels are kept as arrays (projection-level ones as 0-d arrays) so
that an update made at one level is seen at the others.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import equations as eqmod
from ..equations import classify, numpy_namespace, user_function_namespace
from ..random import draw_in_equation
from ..state import State
from .storage import Storage

LEVELS = ("projection", "postsynaptic", "local")

#: ``reader(var)`` returns a function giving a side's ``var`` flat, in the side's order.
Reader = Callable[[str], Callable[[], np.ndarray]]


class Side:
    """One end of a projection as synapse expressions read it."""

    __slots__ = ("state", "ranks", "sample")

    def __init__(self, state: State, ranks: np.ndarray | None, sample: int | None = None) -> None:
        self.state = state
        self.ranks = ranks  # None: the whole population, in rank order
        self.sample = sample  # in a batch: read this sample's values only

    def values(self, var: str) -> Callable[[], np.ndarray]:
        """A function returning ``var`` flat, in this side's order (looked up at each call: population-level
        values are rebound by their update)."""
        values, ranks, sample = self.state.values, self.ranks, self.sample
        if sample is not None:
            if ranks is None:
                return lambda: values[var][sample].reshape(-1)
            return lambda: values[var][sample].reshape(-1)[ranks]
        if ranks is None:
            return lambda: values[var].reshape(-1)
        return lambda: values[var].reshape(-1)[ranks]

    @property
    def moves(self) -> bool:
        """Whether this side's arrays may be replaced between runs (an ``r`` its owner lends: see
        :attr:`ratenet.state.PopulationState.lends`): then they are looked up at each use."""
        return bool(getattr(self.state, "lends", False))

    def scalar(self, var: str) -> bool:
        """Whether ``var`` is one value for the whole population (``population`` flag)."""
        return getattr(self.state, "locality", {}).get(var) == "population"

    def scalar_value(self, var: str) -> Callable[[], Any]:
        """A function returning the population-level ``var`` (looked up at each call: updates rebind it)."""
        values, sample = self.state.values, self.sample
        if sample is not None:  # a (B, 1, ...) array: this sample's one value
            def one() -> Any:
                value = values[var]
                return value[sample].reshape(()) if np.ndim(value) else value

            return one
        return lambda: values[var]


class SynapseContext:
    """The three namespaces of a connected projection, and how to refresh them.

    Parameters
    ----------
    synapse
        The Synapse model.
    storage : Storage
    attributes, locality : dict
        The synaptic arrays and their level.
    pre, post : Side
    symbols : set of str
        The symbols the expressions read.
    clock, dt, rng, dtype
        The network's time, step, generator and float type.
    pre_reader : callable, optional
        ``pre_reader(var)`` returns a function giving pre's ``var`` as a psp
        must read it (delayed): flat in ``pre`` order, or already one value
        per synapse (storage layout) when ``per_synapse``.
    """

    def __init__(self, synapse: Any, storage: Storage, attributes: dict[str, np.ndarray], locality: dict[str, str],
                 pre: Side, post: Side, symbols: set[str], clock: Any, dt: float, rng: np.random.Generator,
                 dtype: Any, pre_reader: Reader | None = None, per_synapse: bool = False) -> None:
        self._global_refresh: list[Callable[[], None]] = []
        self._pre_reader = pre_reader
        self._per_synapse = per_synapse
        self.storage = storage
        self.pre, self.post = pre, post
        base = numpy_namespace()
        base["t"] = clock.t
        base["dt"] = dt
        for name, constant in synapse.constants.items():
            base[name] = constant.array
        base.update(user_function_namespace(synapse.functions.values()))
        for kind, kind_dtype in (("float", dtype), ("int", np.int64), ("bool", np.bool_)):
            base[f"_cast_{kind}"] = np.dtype(kind_dtype).type
        self.namespaces: dict[str, dict[str, Any]] = {level: dict(base) for level in LEVELS}
        shapes = {"local": storage.shape, "postsynaptic": (storage.n_post,), "projection": ()}
        for ns in self.namespaces.values():
            for dist in eqmod.DISTRIBUTIONS:
                for loc in LEVELS:
                    ns[f"_rnd_{loc}_{dist}"] = _drawer(dist, rng, shapes[loc])
        # synaptic attributes
        self._refresh: dict[str, list[Callable[[], None]]] = {level: [] for level in LEVELS}
        for name, array in attributes.items():
            level_of = locality[name]
            for level, ns in self.namespaces.items():
                if level_of == "local" or level_of == level or level_of == "projection":
                    ns[name] = array
                elif level_of == "postsynaptic" and level == "local":
                    self._broadcast_post(name, _constant(array), static=True)
        for symbol in sorted(symbols):
            what = classify(symbol)
            if what[0] in ("pre", "sumpre"):
                var = what[1] if what[0] == "pre" else f"_sum_{what[1]}"
                self._bind_pre(symbol, var)
            elif what[0] in ("post", "sumpost"):
                var = what[1] if what[0] == "post" else f"_sum_{what[1]}"
                self._bind_post(symbol, var)
            elif what[0] in ("globalpre", "globalpost"):
                self._bind_global(symbol, what)

    def _setter(self, level: str, symbol: str, compute: Callable[[], Any]) -> None:
        ns = self.namespaces[level]

        def refresh() -> None:
            ns[symbol] = compute()

        self._refresh[level].append(refresh)

    def _bind_pre(self, symbol: str, var: str) -> None:
        ns = self.namespaces["local"]
        storage = self.storage
        scalar = self.pre.scalar(var)
        if self._pre_reader is not None and not var.startswith("_sum_"):
            values = self._pre_reader(var)
            if self._per_synapse or scalar:  # already one value per synapse, or one for all
                self._setter("local", symbol, values)
            else:
                self._setter("local", symbol, lambda: storage.spread_pre(values()))
            return
        if scalar:
            self._setter("local", symbol, self.pre.scalar_value(var))
            return
        values = self.pre.values(var)
        if storage.spreads_by_view and self.pre.ranks is None and not self.pre.moves:
            # the population's arrays never move during a run: the broadcast view is made once
            ns[symbol] = storage.spread_pre(values())
            return
        self._setter("local", symbol, lambda: storage.spread_pre(values()))

    def _bind_post(self, symbol: str, var: str) -> None:
        if self.post.scalar(var):  # one value for the whole population, at every level
            for level in LEVELS:
                self._setter(level, symbol, self.post.scalar_value(var))
            return
        values = self.post.values(var)
        whole = self.post.ranks is None and not self.post.moves
        if whole:
            self.namespaces["postsynaptic"][symbol] = values()
        else:
            self._setter("postsynaptic", symbol, values)
        self._broadcast_post(symbol, values, static=whole or not symbol.startswith("_"))

    def _broadcast_post(self, symbol: str, values: Callable[[], np.ndarray], static: bool) -> None:
        storage = self.storage
        if storage.spreads_by_view and static:
            self.namespaces["local"][symbol] = storage.spread_post(values())
            return
        self._setter("local", symbol, lambda: storage.spread_post(values()))

    def _bind_global(self, symbol: str, kind: tuple[str, ...]) -> None:
        _, op, var = kind
        values = self.pre.values(var) if kind[0] == "globalpre" else self.post.values(var)
        fn = self.namespaces["local"][f"_gop_{op}"]
        spaces = list(self.namespaces.values())

        def refresh() -> None:
            value = fn(values())
            for ns in spaces:
                ns[symbol] = value

        self._global_refresh.append(refresh)

    def refresher(self, level: str) -> Callable[[], None] | None:
        """A function bringing the namespace of ``level`` up to date (None if nothing to do)."""
        funcs = self._global_refresh + self._refresh[level]
        if not funcs:
            return None
        if len(funcs) == 1:
            return funcs[0]

        def refresh() -> None:
            for f in funcs:
                f()

        return refresh


def _constant(array: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: array


def _drawer(name: str, rng: np.random.Generator, shape: tuple[int, ...]) -> Callable[..., Any]:
    def draw(*args: Any) -> Any:
        return draw_in_equation(name, rng, shape, args)

    return draw
