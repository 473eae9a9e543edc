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
broadcast to the level: for dense storage this is a view made once
(``pre.r[None, :]``), for sparse storage a gather made before each use
(``pre.r[indices]``).  Synaptic attributes shared by several levels are kept
as arrays (projection-level ones as 0-d arrays) so that an update made at one
level is seen at the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import equations as eqmod
from ..equations import classify, numpy_namespace, user_function_namespace
from ..random import draw_in_equation

if TYPE_CHECKING:  # pragma: no cover
    from .projection import Projection

LEVELS = ("projection", "postsynaptic", "local")


class SynapseContext:
    """The three namespaces of a connected projection, and how to refresh them."""

    def __init__(self, proj: "Projection", symbols: set[str],
                 pre_reader: Callable[[str], Callable[[], np.ndarray]] | None = None) -> None:
        """``pre_reader(var)``, when given, returns a function giving pre's ``var`` as the
        psp must read it (delayed): flat in ``pre`` order for a uniform delay, or already one
        value per synapse (storage layout) for per-synapse delays."""
        self.proj = proj
        self._global_refresh: list[Callable[[], None]] = []
        self._pre_reader = pre_reader
        net = proj.network
        storage = proj._storage
        self.storage = storage
        base = numpy_namespace()
        base["t"] = net._t
        base["dt"] = net.dt
        synapse = proj.synapse_type
        for name, constant in synapse.constants.items():
            base[name] = constant._array
        base.update(user_function_namespace(synapse.functions.values()))
        for kind, dtype in (("float", net.dtype), ("int", np.int64), ("bool", np.bool_)):
            base[f"_cast_{kind}"] = np.dtype(dtype).type
        self.namespaces: dict[str, dict[str, Any]] = {level: dict(base) for level in LEVELS}
        shapes = {"local": storage.shape, "postsynaptic": (storage.n_post,), "projection": ()}
        rng = net.rng
        for level, ns in self.namespaces.items():
            for dist in eqmod.DISTRIBUTIONS:
                for loc in LEVELS:
                    ns[f"_rnd_{loc}_{dist}"] = (lambda name, shape: lambda *args: draw_in_equation(
                        name, rng, shape, args))(dist, shapes[loc])
        # synaptic attributes
        self._refresh: dict[str, list[Callable[[], None]]] = {level: [] for level in LEVELS}
        for name, array in proj._attrs.items():
            locality = proj._locality[name]
            for level, ns in self.namespaces.items():
                if locality == "local" or locality == level or locality == "projection":
                    ns[name] = array
                elif locality == "postsynaptic" and level == "local":
                    self._broadcast_post(name, lambda a=array: a)
        for symbol in sorted(symbols):
            kind = classify(symbol)
            if kind[0] in ("pre", "sumpre"):
                var = kind[1] if kind[0] == "pre" else f"_sum_{kind[1]}"
                self._bind_pre(symbol, var)
            elif kind[0] in ("post", "sumpost"):
                var = kind[1] if kind[0] == "post" else f"_sum_{kind[1]}"
                self._bind_post(symbol, var)
            elif kind[0] in ("globalpre", "globalpost"):
                self._bind_global(symbol, kind)

    @staticmethod
    def _values(side: Any, var: str) -> Callable[[], np.ndarray]:
        """A function returning ``var`` of a population or view, flat, in the view's order."""
        ns = side.population._ns
        if side.population is side:
            return lambda: ns[var].reshape(-1)
        ranks = side.ranks
        return lambda: ns[var].reshape(-1)[ranks]

    def _pre_values(self, var: str) -> Callable[[], np.ndarray]:
        return self._values(self.proj.pre, var)

    def _post_values(self, var: str) -> Callable[[], np.ndarray]:
        return self._values(self.proj.post, var)

    def _bind_pre(self, symbol: str, var: str) -> None:
        ns = self.namespaces["local"]
        storage = self.storage
        if self._pre_reader is not None and not var.startswith("_sum_"):
            values = self._pre_reader(var)
            per_synapse = not self.proj._uniform_delay()
            if per_synapse:
                self._refresh["local"].append(lambda: ns.__setitem__(symbol, values()))
            elif storage.kind == "dense":
                self._refresh["local"].append(lambda: ns.__setitem__(symbol, values().reshape(1, -1)))
            else:
                indices = storage.indices
                self._refresh["local"].append(lambda: ns.__setitem__(symbol, values()[indices]))
            return
        values = self._pre_values(var)
        if storage.kind == "dense":
            if self.proj.pre.population is self.proj.pre:
                # the population's arrays never move: the broadcast view is made once
                ns[symbol] = values().reshape(1, -1)
                return
            self._refresh["local"].append(lambda: ns.__setitem__(symbol, values().reshape(1, -1)))
        else:
            indices = storage.indices
            self._refresh["local"].append(lambda: ns.__setitem__(symbol, values()[indices]))

    def _bind_post(self, symbol: str, var: str) -> None:
        values = self._post_values(var)
        post_level = self.namespaces["postsynaptic"]
        if self.proj.post.population is self.proj.post:
            post_level[symbol] = values()
        else:
            self._refresh["postsynaptic"].append(lambda: post_level.__setitem__(symbol, values()))
        self._broadcast_post(symbol, values)

    def _broadcast_post(self, symbol: str, values: Callable[[], np.ndarray]) -> None:
        ns = self.namespaces["local"]
        storage = self.storage
        if storage.kind == "dense":
            static = self.proj.post.population is self.proj.post or not symbol.startswith("_")
            if static:
                ns[symbol] = values().reshape(-1, 1)
                return
            self._refresh["local"].append(lambda: ns.__setitem__(symbol, values().reshape(-1, 1)))
        else:
            rows = storage.rows
            self._refresh["local"].append(lambda: ns.__setitem__(symbol, values()[rows]))

    def _bind_global(self, symbol: str, kind: tuple[str, ...]) -> None:
        _, op, var = kind
        values = self._pre_values(var) if kind[0] == "globalpre" else self._post_values(var)
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
