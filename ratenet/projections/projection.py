"""Projections: weighted connections that add into ``post``'s ``sum(target)``.

A projection keeps its synaptic arrays, storage and delays in a
:class:`~ratenet.state.ProjectionState` registered with its network, and
describes the work of a step to the plan (a
:class:`~ratenet.state.Transmission`, a :class:`~ratenet.state.Learning`)
instead of building it: the plan decides how to run it.
"""

from __future__ import annotations

import ast
import inspect
import numbers
import os
import re
import sys
import warnings
from typing import TYPE_CHECKING, Any, Callable, Collection, Sequence

import numpy as np

from .._batch import check_sample
from .._lazy import LazyModule
from .._codegen import update_code
from ..equations import build_function, classify, is_product_of, substitute, symbols
from .._memory import check_bytes
from ..exceptions import RatenetWarning, ValidationError
from ..io import ACCEPTED_KINDS, expect, load_objects, save_objects
from ..neurons import Synapse
from ..population import NONFINITE, IndividualNeuron, Population, PopulationView
from ..random import Distribution
from ..state import Learning, ProjectionState, Rewiring, State, Transmission
from . import connectors as conn
from ._context import Side, SynapseContext
from .record import ConnectorRecord, records_connector
from .storage import Dense, Sparse, Storage, from_arrays

#: Warnings point at the user's code, outside this package (Python 3.12+).
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if TYPE_CHECKING:  # pragma: no cover
    from ..network import Network
    from ..display import html as _html, plots as _plots, text as _text
    from .. import _shortcuts
else:  # imported on first use (see ratenet/_lazy.py)
    _html = LazyModule("ratenet.display.html")
    _plots = LazyModule("ratenet.display.plots")
    _text = LazyModule("ratenet.display.text")
    _shortcuts = LazyModule("ratenet._shortcuts")

__all__ = ["Projection", "Dendrite", "IndividualSynapse", "select", "check_end", "check_target"]

_DEFAULT_SYNAPSE: list[Synapse] = []


def _default_synapse() -> Synapse:
    if not _DEFAULT_SYNAPSE:
        _DEFAULT_SYNAPSE.append(Synapse(name="Default", description="Weighted sum of pre-synaptic rates."))
    return _DEFAULT_SYNAPSE[0]


def check_end(owner: str, name: str, value: Any) -> "Population | PopulationView":
    """``value`` if it is a population or a view, else a ValidationError naming ``owner.name``.

    Examples
    --------
    >>> check_end("Projection", "pre", "layer1")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Projection.pre: must be a Population or a PopulationView (got 'layer1')
    """
    if isinstance(value, IndividualNeuron):  # pop[i]: in ANNarchy a view of one neuron
        return PopulationView(value.population, [value.rank])
    if not isinstance(value, (Population, PopulationView)):
        raise ValidationError(owner, name, "must be a Population or a PopulationView", got=value)
    return value


def select(projections: Sequence["Projection"], post: Any = None, pre: Any = None,
           target: str | None = None) -> list["Projection"]:
    """The projections with this post, pre (a population or a view) and target (None: any).

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b, "exc").connect_one_to_one(1.0)
    >>> select(net.projections, pre=a) == [proj], select(net.projections, target="inh")
    (True, [])
    """
    return [p for p in projections
            if (post is None or p.post is post or p.post.population is post)
            and (pre is None or p.pre is pre or p.pre.population is pre)
            and (target is None or p.target == target)]


def check_target(owner: str, target: Any) -> str:
    """``target`` if it is a name a model can read as ``sum(target)``, else a ValidationError.

    Examples
    --------
    >>> check_target("Projection", "exc")
    'exc'
    >>> check_target("Projection", "2nd")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Projection.target: must be a name such as 'exc' (letters, digits, ...
    """
    if not isinstance(target, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", target):
        raise ValidationError(owner, "target", "must be a name such as 'exc' (letters, digits, underscores)",
                              got=target)
    return target


class Projection:
    """Connections from ``pre`` to ``post`` adding into ``post``'s ``sum(target)``.

    Create it, then call one connector (``connect_all_to_all``,
    ``connect_one_to_one``, ``connect_fixed_probability``,
    ``connect_fixed_number_pre``, ``connect_fixed_number_post``,
    ``connect_gaussian``, ``connect_dog``, ``connect_from_matrix``,
    ``connect_from_sparse``, ``connect_from_function``; each also without the
    ``connect_`` prefix).  Connectors return the projection.

    Parameters
    ----------
    pre, post : Population or PopulationView
    target : str
        The name post's equations read as ``sum(target)``.
    synapse : Synapse, optional
        Transmission and learning; ``w * pre.r`` summed, no learning, by default.
    name : str, optional

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> inp = net.create(3, Neuron(parameters="r = 1.0"))
    >>> out = net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(inp, out, "exc").connect_all_to_all(weights=0.5)
    >>> net.simulate(2.0)
    >>> out.r
    array([1.5, 1.5])
    """

    #: Whether copy_to() calls the connector again (kernels, shared weights) instead of copying the synapses.
    _replays_connector = False

    def __new__(cls, *args: Any, **kwargs: Any) -> "Projection":
        self = super().__new__(cls)
        self.__dict__["_init_call"] = (args, kwargs)  # for copy_to()
        return self

    def __init__(
        self,
        pre: "Population | PopulationView",
        post: "Population | PopulationView",
        target: str = "exc",
        synapse: Synapse | type[Synapse] | None = None,
        name: str | None = None,
        disable_omp: bool = True,
        *,
        _register: bool = True,
    ) -> None:
        owner = type(self).__name__
        self.pre = pre = check_end(owner, "pre", pre)
        self.post = post = check_end(owner, "post", post)
        if pre.network is not post.network:
            raise ValidationError(owner, "post", "must belong to the same network as pre",
                                  got=getattr(post, "name", post))
        self.target = check_target(owner, target)
        if synapse is None:
            synapse = _default_synapse()
        elif isinstance(synapse, type) and issubclass(synapse, Synapse):
            synapse = synapse()
        if not isinstance(synapse, Synapse):
            raise ValidationError(owner, "synapse", "must be a Synapse", got=synapse)
        synapse.refuse_spiking(owner, "synapse")
        self.synapse_type = synapse
        self.network: "Network" = pre.network
        registry = self.network.registry
        self.name = registry.unique_name(name, "proj")
        self._state = ProjectionState(self.name)
        self._locality: dict[str, str] = {}
        self._initial_state: dict[str, Any] | None = None
        self.learning = synapse.plastic
        self._learning_period = 1
        self._learning_offset = 0
        try:
            self._check_synapse_names()
        except ValidationError:
            registry.release_name(self.name)  # a refused projection leaves nothing behind
            raise
        registry.state(self.post).ensure_sum(self.target)  # post receives this target from now on
        self._describe_state()
        if _register:
            registry.add_projection(self, self._state)
        if type(self) is Projection:
            self._ready = True  # from now on, setting an unknown attribute is an error (subclasses: once connected)

    def _describe_state(self) -> None:
        """Tell the plan, monitors and state files how to use this projection (see :mod:`ratenet.state`)."""
        state = self._state
        state.transmission = self._transmission
        state.learning = self._learning
        state.rewiring = self._rewiring
        state.history_needs = self._history_needs
        state.save_kind = "proj"
        state.export = self._export
        state.check = self._check_saved
        state.restore = self._restore
        state.recordable = self._monitor_source
        state.before_write = self._take_snapshot
        state.compiled = self._compiled
        state.check_connected = self._check_connected

    # the arrays live in the state record
    @property
    def _storage(self) -> Storage | None:
        return self._state.storage

    @_storage.setter
    def _storage(self, value: Storage | None) -> None:
        self._state.storage = value

    @property
    def _attrs(self) -> dict[str, np.ndarray]:
        return self._state.values

    @_attrs.setter
    def _attrs(self, value: dict[str, np.ndarray]) -> None:
        self._state.values = value

    @property
    def _delays(self) -> float | np.ndarray:
        return self._state.delays

    @_delays.setter
    def _delays(self, value: float | np.ndarray) -> None:
        self._state.delays = value

    def _changed(self, name: str | None = None) -> None:
        """Note a write from Python: of attribute ``name``, or of the structure (synapses, storage)."""
        if name is None:
            self.network.registry.structure_changed()
        else:
            self._state.bump(name)

    def _samples(self) -> int | None:
        """The batch size when this projection keeps one set of synaptic values per sample, else None.

        A learning synapse (one with equations) in a batched network: each
        sample learns on its own, so its synaptic arrays gain a leading batch
        axis (dense ``(B, post, pre)``, sparse ``(B, nnz)`` over the shared
        structure, postsynaptic ``(B, post)``, projection-level ``(B,)``).
        """
        storage = self._storage
        if self.network.batch is None or storage is None:
            return None
        weights = self._attrs.get("w")  # a Copy's are its original's
        return None if weights is None or weights.ndim == len(storage.shape) else int(weights.shape[0])

    @property
    def batch(self) -> int | None:
        """The batch axis of the synaptic values: B when each sample of ``Network(batch=B)`` keeps its own.

        A learning synapse (one with equations) in a batched network keeps one
        set of synaptic values per sample: its attributes read with the batch
        axis first (dense ``(B, post, pre)``, sparse: B lists of dendrites,
        postsynaptic ``(B, post)``, projection-level ``(B,)``).  None when the
        samples share the values (a static synapse, a network without batch,
        a projection not connected yet).

        Examples
        --------
        >>> from ratenet import Hebb, Network, Neuron
        >>> net = Network(batch=3)
        >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
        >>> net.connect(a, b).connect_all_to_all(0.5).batch is None  # static: shared by the samples
        True
        >>> proj = net.connect(a, b, "exc", Hebb()).connect_all_to_all(0.5)
        >>> proj.batch, proj.w.shape, proj.get("w", sample=1).shape
        (3, (3, 2, 2), (2, 2))
        """
        return self._samples()

    def _sample_attrs(self, sample: int | None) -> dict[str, np.ndarray]:
        """The synaptic arrays of one sample (views), or all of them (``sample`` None or shared values)."""
        if sample is None or self._samples() is None:
            return self._attrs
        return {k: v[sample, ...] for k, v in self._attrs.items()}  # views, 0-d ones too

    # ---------------------------------------------------------------- checks
    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _check_synapse_names(self) -> None:
        """Every ``pre.x``/``post.x`` the synapse reads must exist on that side."""
        synapse = self.synapse_type
        trees = [eq.rhs for eq in synapse.equations] + [synapse.psp]
        trees += [rule.condition for rule in (synapse.pruning, synapse.creating) if rule is not None]
        for tree in trees:
            for symbol in symbols(tree):
                kind = classify(symbol)
                side = {"pre": "pre", "sumpre": "pre", "globalpre": "pre", "post": "post", "sumpost": "post",
                        "globalpost": "post"}.get(kind[0])
                if side is None:
                    continue
                end = self.pre if side == "pre" else self.post
                var = kind[-1]
                if kind[0] in ("sumpre", "sumpost"):
                    self.network.registry.state(end).ensure_sum(var)
                    continue
                if var not in end.population.attributes:
                    raise ValidationError(self._owner(), "synapse",
                                          f"reads {side}.{var}, but the {side}-synaptic population "
                                          f"'{end.population.name}' has no attribute '{var}' "
                                          f"(it has: {', '.join(end.population.attributes)})")

    def _is_connected(self) -> bool:
        return self._storage is not None

    def _check_connected(self) -> None:
        if not self._is_connected():
            raise ValidationError(self._owner(), "connect", f"is not connected: call {self._connector_hint()} "
                                                            "before simulating")

    def _connector_hint(self) -> str:
        return "a connector such as connect_all_to_all()"

    def _check_unconnected(self) -> None:
        if self._storage is not None:
            raise ValidationError(self._owner(), "connect", "is already connected; create a new projection for "
                                                            "another pattern")

    # ------------------------------------------------------------ connectors
    def _connect(self, builder: Callable[..., conn.Connectivity], *args: Any, **kwargs: Any) -> "Projection":
        self._check_unconnected()
        result = builder(self.pre, self.post, *args, rng=self.network.rng, dtype=self.network.dtype,
                         owner=self._owner(), **kwargs)
        self._install(result)
        return self

    @records_connector("All-to-All")
    def connect_all_to_all(self, weights: float | Distribution, delays: float | Distribution = 0.0,
                           allow_self_connections: bool = False, force_multiple_weights: bool = False,
                           storage_format: str | None = None, storage_order: str | None = None) -> "Projection":
        """Connect every pre neuron to every post neuron.

        Parameters
        ----------
        weights : float or Distribution
        delays : float or Distribution
            In ms.
        allow_self_connections : bool
            When pre and post are the same population, whether a neuron
            connects to itself.
        storage_format : {"dense", "csr"}, optional
            Forces a storage; chosen from the density otherwise.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> pop = net.create(3, Neuron(equations="r = sum(exc)"))
        >>> net.connect(pop, pop, "exc").connect_all_to_all(1.0).nb_synapses
        6
        """
        return self._connect(conn.all_to_all, weights, delays, allow_self_connections, storage_format)

    @records_connector("One-to-One")
    def connect_one_to_one(self, weights: float | Distribution = 1.0, delays: float | Distribution = 0.0,
                           force_multiple_weights: bool = False, storage_format: str | None = None,
                           storage_order: str | None = None) -> "Projection":
        """Connect neuron i of pre to neuron i of post (same sizes)."""
        return self._connect(conn.one_to_one, weights, delays, storage_format)

    @records_connector("Random")
    def connect_fixed_probability(self, probability: float, weights: float | Distribution,
                                  delays: float | Distribution = 0.0, allow_self_connections: bool = False,
                                  force_multiple_weights: bool = False, storage_format: str | None = None,
                                  storage_order: str | None = None) -> "Projection":
        """Create each possible synapse independently with ``probability``."""
        return self._connect(conn.fixed_probability, probability, weights, delays, allow_self_connections,
                             storage_format)

    @records_connector("Random Convergent")
    def connect_fixed_number_pre(self, number: int, weights: float | Distribution,
                                 delays: float | Distribution = 0.0, allow_self_connections: bool = False,
                                 force_multiple_weights: bool = False, storage_format: str | None = None,
                                 storage_order: str | None = None) -> "Projection":
        """Give each post neuron ``number`` distinct pre neurons, chosen at random."""
        return self._connect(conn.fixed_number_pre, number, weights, delays, allow_self_connections,
                             storage_format)

    @records_connector("Random Divergent")
    def connect_fixed_number_post(self, number: int, weights: float | Distribution = 1.0,
                                  delays: float | Distribution = 0.0, allow_self_connections: bool = False,
                                  force_multiple_weights: bool = False, storage_format: str | None = None,
                                  storage_order: str | None = None) -> "Projection":
        """Give each pre neuron ``number`` distinct post neurons, chosen at random."""
        return self._connect(conn.fixed_number_post, number, weights, delays, allow_self_connections,
                             storage_format)

    @records_connector("Gaussian")
    def connect_gaussian(self, amp: float, sigma: float, delays: float | Distribution = 0.0, limit: float = 0.01,
                         allow_self_connections: bool = False, storage_format: str | None = None,
                         storage_order: str | None = None) -> "Projection":
        """Weights ``amp * exp(-d^2 / (2 sigma^2))`` of the distance between normalized coordinates.

        Synapses whose weight is below ``limit * |amp|`` are not created.
        """
        return self._connect(conn.gaussian, amp, sigma, delays, limit, allow_self_connections, storage_format)

    @records_connector("Difference-of-Gaussian")
    def connect_dog(self, amp_pos: float, sigma_pos: float, amp_neg: float, sigma_neg: float,
                    delays: float | Distribution = 0.0, limit: float = 0.01, allow_self_connections: bool = False,
                    storage_format: str | None = None, storage_order: str | None = None) -> "Projection":
        """Difference of Gaussians of the distance between normalized coordinates.

        Synapses with ``|w| <= limit * |amp_pos - amp_neg|`` are not created.
        """
        return self._connect(conn.dog, amp_pos, sigma_pos, amp_neg, sigma_neg, delays, limit,
                             allow_self_connections, storage_format)

    @records_connector("Connectivity matrix")
    def connect_from_matrix(self, weights: Any, delays: Any = 0.0, pre_post: bool = False,
                            storage_format: str | None = None, storage_order: str | None = None) -> "Projection":
        """Weights from a (post.size, pre.size) matrix; ``None`` entries mean no synapse.

        With ``pre_post=True`` the matrix is (pre.size, post.size).  ``delays``
        is a number, a distribution or a matrix like ``weights``.
        """
        return self._connect(conn.from_matrix, weights, delays, pre_post, storage_format)

    @records_connector("Sparse connectivity matrix")
    def connect_from_sparse(self, weights: Any, delays: float = 0.0, storage_format: str | None = None,
                            storage_order: str | None = None) -> "Projection":
        """Weights from a scipy.sparse matrix of shape (pre.size, post.size)."""
        return self._connect(conn.from_sparse, weights, delays, storage_format)

    @records_connector("User-defined")
    def connect_from_function(self, method: Callable[..., conn.LILConnectivity], storage_format: str | None = None,
                              storage_order: str | None = None, **args: Any) -> "Projection":
        """Connectivity from ``method(pre, post, **args)``, which returns a :class:`LILConnectivity`.

        A method written for ANNarchy 5, ``method(pre, post, dt, **args)``
        (a third positional parameter that ``args`` does not fill), is given
        the network's ``dt`` there; ANNarchy 4's form takes none.

        Examples
        --------
        >>> from ratenet import LILConnectivity, Network, Neuron
        >>> def diagonal(pre, post, dt, weight):           # the ANNarchy 5 form
        ...     lil = LILConnectivity(dt=dt)
        ...     for rank in range(post.size):
        ...         lil.add(rank, [rank], [weight], [dt])
        ...     return lil
        >>> net = Network(dt=0.5)
        >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
        >>> net.connect(a, b, "exc").from_function(diagonal, weight=2.0).connectivity_matrix().tolist()
        [[2.0, 0.0], [0.0, 2.0]]
        """
        self._check_unconnected()
        if not callable(method):
            raise ValidationError(self._owner(), "method", "must be callable", got=method)
        if _takes_dt(method, args):
            lil = method(self.pre, self.post, self.network.dt, **args)
        else:
            lil = method(self.pre, self.post, **args)
        return self._connect(conn.from_lil, lil, storage_format)

    connect_with_func = connect_from_function
    all_to_all = connect_all_to_all
    one_to_one = connect_one_to_one
    fixed_probability = connect_fixed_probability
    fixed_number_pre = connect_fixed_number_pre
    fixed_number_post = connect_fixed_number_post
    gaussian = connect_gaussian
    dog = connect_dog
    from_matrix = connect_from_matrix
    from_sparse = connect_from_sparse
    from_function = connect_from_function

    @property
    def connector(self) -> ConnectorRecord | None:
        """How the projection was connected (the connector and its arguments); None before.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create(3, Neuron(parameters="r = 1.0"))
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b, "exc").connect_all_to_all(weights=0.5)
        >>> proj.connector.method, proj.connector.arguments["weights"]
        ('connect_all_to_all', 0.5)
        >>> proj.connector_name, proj.connector_description
        ('All-to-All', 'all-to-all with weights 0.5')
        """
        return self.__dict__.get("_connector")

    @property
    def connector_name(self) -> str | None:
        """ANNarchy's name of the connection pattern ("All-to-All", "Gaussian"...); None before connecting."""
        record = self.connector
        return record.name if record is not None else None

    @property
    def connector_description(self) -> str | None:
        """The connection pattern in a sentence ("Gaussian with amp 0.2, sigma 0.1"); None before connecting."""
        record = self.connector
        return record.description if record is not None else None

    def copy_to(self, lookup: Callable[[Any], Any]) -> "Projection":
        """A projection built like this one between the objects ``lookup`` maps this one's ends to.

        ``lookup`` maps each population, view or projection among the
        constructor's arguments to its counterpart in the other network
        (``Network.add`` passes its ``get``).  The copy keeps the name, the
        synapses, their delays and the current values of every synaptic
        attribute (no random draw is repeated), and the learning switch.
        Convolutions, poolings, copies and transposes call their connector
        again with the same arguments.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net, other = Network(), Network()
        >>> a = net.create(2, Neuron(parameters="r = 1.0"), name="a")
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"), name="b")
        >>> proj = net.connect(a, b, "exc").connect_all_to_all(0.5)
        >>> copies = {id(p): p.copy_to(other) for p in (a, b)}
        >>> twin = proj.copy_to(lambda obj: copies[id(obj)])
        >>> twin.w.tolist(), twin.network is other
        ([[0.5, 0.5], [0.5, 0.5]], True)
        """
        def convert(value: Any) -> Any:
            return lookup(value) if isinstance(value, (Population, PopulationView, Projection)) else value

        args, kwargs = self.__dict__.get("_init_call", ((), {}))
        bound = inspect.signature(type(self).__init__).bind(None, *args, **kwargs)
        copy = type(self)(*[convert(v) for v in bound.args[1:]], **{k: convert(v) for k, v in bound.kwargs.items()})
        call = self.__dict__.get("_connect_call")
        if call is not None:
            method, call_args, call_kwargs = call
            getattr(copy, method)(*[convert(v) for v in call_args], **{k: convert(v) for k, v in call_kwargs.items()})
        elif self._storage is not None:
            copy._take_synapses(self)
        copy.learning = self.learning
        copy._learning_period, copy._learning_offset = self._learning_period, self._learning_offset
        copy._changed()
        return copy

    def _take_synapses(self, source: "Projection") -> None:
        """Hold a copy of ``source``'s synapses, delays and synaptic attributes (storage is never changed in
        place, so it is shared)."""
        dtype = self.network.dtype
        self._storage = source._storage
        self._delays = np.array(source._delays) if np.ndim(source._delays) else float(source._delays)
        self._attrs = {k: v.astype(dtype if v.dtype.kind == "f" else v.dtype) for k, v in source._attrs.items()}
        self._locality = dict(source._locality)
        self._state.locality = self._locality
        self._state.track(*self._attrs)
        self.__dict__["_connector"] = source.connector
        self._changed()

    # ----------------------------------------------------------- attributes
    def _check_delays(self, delays: Any) -> None:
        """Refuse delays whose history cannot fit in memory; warn when they are not multiples of dt.

        Delays are rounded to whole steps as ANNarchy does (``round(delay / dt)``,
        halves to even), so 0.5 ms with dt = 1 ms is no delay at all; the
        warning says what a delay became.
        """
        values = np.asarray(delays, dtype=np.float64)
        if values.size == 0:
            return
        dt = self.network.dt
        longest = float(values.max())
        steps = round(longest / dt)
        sources = 1 + sum(1 for s in symbols(self.synapse_type.psp) if classify(s)[0] == "pre")
        check_bytes(float(steps) * self.pre.population.size * 8 * sources, self._owner(), "delays",
                    f"the history of {steps:,} steps of '{self.pre.population.name}' that a delay of {longest:g} ms "
                    f"needs (dt = {dt:g} ms)", longest)
        ratio = longest / dt
        if values.ndim == 0 and abs(ratio - round(ratio)) > 1e-6 * max(1.0, abs(ratio)):
            # one delay given as a number: say what it becomes (per-synapse delays, often drawn from a
            # distribution, are rounded silently, as ANNarchy does)
            where = {"skip_file_prefixes": (_PACKAGE,)} if sys.version_info >= (3, 12) else {"stacklevel": 6}
            warnings.warn(f"{self._owner()}: the delay {longest:g} ms is not a multiple of dt = {dt:g} ms: it is "
                          f"rounded to {round(ratio) * dt:g} ms ({round(ratio)} steps, halves to even as in "
                          "ANNarchy; less than one step is no delay)", RatenetWarning, **where)

    def _install(self, result: conn.Connectivity) -> None:
        storage = result.storage
        self._check_delays(result.delays if np.ndim(result.delays) == 0
                           else storage.synapse_values(np.asarray(result.delays)))
        self._storage = storage
        self._delays = result.delays
        attrs: dict[str, np.ndarray] = {"w": result.w}
        locality = {"w": "local"}
        synapse = self.synapse_type
        shapes = {"local": storage.shape, "postsynaptic": (storage.n_post,), "projection": ()}
        for p in synapse.parameters:
            locality[p.name] = p.locality
            attrs[p.name] = self._initial(p.value, shapes[p.locality], p.dtype, attrs)
        for eq in synapse.equations:
            if eq.target in attrs:
                locality[eq.target] = eq.locality if eq.target != "w" else "local"
                continue
            locality[eq.target] = eq.locality
            init = eq.init if eq.init is not None else 0.0
            attrs[eq.target] = self._initial(init, shapes[eq.locality], eq.dtype, attrs)
        samples = self.network.batch if self.synapse_type.equations else None
        if samples is not None:  # a learning synapse in a batch: one set of synaptic values per sample
            check_bytes(samples * sum(a.nbytes for a in attrs.values()), self._owner(), "synapse",
                        f"its synaptic values, one set per sample of the batch ({samples} x "
                        f"{len(attrs)} arrays of {storage.nnz} synapses)", f"batch={samples}")
            attrs = {k: np.array(np.broadcast_to(v, (samples,) + v.shape), order="C") for k, v in attrs.items()}
        self._attrs = attrs
        self._locality = locality
        #: Post neurons with a dendrite (ANNarchy creates synapses only on those).
        self._dendrite_rows = storage.row_sizes() > 0
        self._state.locality = locality
        self._state.track(*attrs)
        self._ready = True
        self._changed()

    def _initial(self, value: Any, shape: tuple[int, ...], kind: str, attrs: dict[str, np.ndarray]) -> np.ndarray:
        dtype = {"int": np.int64, "bool": np.bool_}.get(kind, self.network.dtype)
        if isinstance(value, str):
            source = attrs[value] if value in attrs else float(self.synapse_type.constants[value])
            return np.array(np.broadcast_to(source, shape), dtype=dtype)
        if isinstance(value, Distribution):
            return conn.fill(value, shape, self.network.rng, dtype)
        return np.full(shape, value, dtype=dtype)

    @property
    def attributes(self) -> list[str]:
        return list(self._attrs) if self._attrs else ["w"] + [n for n in self.synapse_type.parameter_names
                                                              + self.synapse_type.variable_names if n != "w"]

    @property
    def parameters(self) -> list[str]:
        return self.synapse_type.parameter_names

    @property
    def variables(self) -> list[str]:
        return self.synapse_type.variable_names

    def _require_connected(self) -> Storage:
        if self._storage is None:
            raise ValidationError(self._owner(), "connect", "is not connected yet: call a connector such as "
                                                            "connect_all_to_all() first")
        return self._storage

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attrs = self._attrs if "_state" in self.__dict__ else {}
        if name in attrs:
            return self._get_attribute(name)
        synapse = self.__dict__.get("synapse_type")
        if synapse is not None and name in synapse.functions:
            return synapse.functions[name]
        if synapse is not None and name in self.attributes:
            self._require_connected()
        raise AttributeError(f"{self._owner()} has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            try:
                attrs = self._attrs
            except AttributeError:  # still in __init__
                attrs = None
            if attrs is not None and name in attrs:
                self._set_attribute(name, value)
                return
            if attrs is not None and "synapse_type" in self.__dict__ and name in self.attributes:
                self._require_connected()  # a synaptic attribute of a projection not connected yet
            if self.__dict__.get("_ready") and name not in self.__dict__ and not hasattr(type(self), name):
                # a typo would otherwise be stored silently and change nothing
                known = ", ".join(self.attributes)
                raise ValidationError(self._owner(), name, f"unknown attribute: the projection has no attribute "
                                                           f"of that name (synaptic attributes: {known}; delays: "
                                                           f"'delay')")
        object.__setattr__(self, name, value)

    def _get_attribute(self, name: str, sample: int | None = None) -> Any:
        storage = self._require_connected()
        array = self._attrs[name]
        locality = self._locality[name]
        if self._samples() is not None and sample is not None:  # one sample's values, read as unbatched ones
            array = array[sample, ...]
        elif self._samples() is not None:  # one set per sample: the batch axis first
            if locality == "projection":  # one Python number per sample, as an unbatched projection returns one
                return np.array([value.item() for value in array])
            if storage.full:
                return array.copy()
            if locality == "postsynaptic":
                return array[:, self.post_rows].copy()
            return [[storage.row_values(one, row).copy() for row in self.post_rows] for one in array]
        if locality == "projection":
            return array.item()
        if locality == "postsynaptic":
            return array[self.post_rows].copy()
        if storage.full:
            return array.copy()
        return [storage.row_values(array, row).copy() for row in self.post_rows]

    def _set_attribute(self, name: str, value: Any) -> None:
        self._require_connected()
        self._take_snapshot()
        array = self._attrs[name]
        samples = self._samples()
        if isinstance(value, Distribution) and samples is not None:
            # one draw, as an unbatched network makes it, for every sample (as at connect time)
            one = array[0, ...].copy()
            self._assign(name, one, value)
            array[...] = one
            self._changed(name)
            return
        if samples is None:
            self._assign(name, array, value)
        elif self._one_per_sample(name, value, samples):
            for b, part in enumerate(value):
                self._assign(name, array[b, ...], part)
        else:  # shaped like one sample's values: every sample gets them
            for b in range(samples):
                self._assign(name, array[b, ...], value)
        self._changed(name)

    def _one_per_sample(self, name: str, value: Any, samples: int) -> bool:
        """Whether ``value`` gives each sample of the batch its own values (a leading axis of the batch size)."""
        # (np.ndim of ragged lists, one list of dendrites per sample, is an error in NumPy: lists are sized as lists)
        sized = isinstance(value, (list, tuple)) or (not isinstance(value, Distribution) and np.ndim(value) > 0)
        if not sized or len(value) != samples:
            return False
        storage = self._require_connected()
        locality = self._locality[name]
        if locality == "projection":
            return True
        if isinstance(value, list) and not all(isinstance(v, np.ndarray) for v in value) and \
                any(isinstance(v, list) and v and np.ndim(v[0]) == 1 for v in value):
            return True  # one list of dendrites per sample
        try:
            shape = np.shape(value)
        except ValueError:  # ragged: lists of dendrites
            return False
        if locality == "postsynaptic":
            return shape in ((samples, storage.n_post), (samples, len(self.post_rows)))
        return shape in ((samples, storage.n_post, storage.n_pre), (samples, storage.nnz))

    def _assign(self, name: str, array: np.ndarray, value: Any) -> None:
        """Write ``value`` into ``array`` (one sample's values of ``name``), checked."""
        storage = self._require_connected()
        locality = self._locality[name]
        owner = self._owner()
        finite = not self.network.allow_nonfinite
        if isinstance(value, Distribution):
            shape = {"local": storage.shape, "postsynaptic": (storage.n_post,), "projection": ()}[locality]
            value = conn.fill(value, shape, self.network.rng, array.dtype)
            if locality == "local":
                storage.clear_absent(value)
            array[...] = value
        elif locality == "projection":
            if np.ndim(value) != 0:
                raise ValidationError(owner, name, "is one value for the whole projection: expected a number",
                                      got=value)
            array[...] = _number(owner, name, value, array.dtype, finite)
        elif locality == "postsynaptic":
            values = _numbers(owner, name, value, array.dtype, finite)
            if values.ndim == 0:
                array[...] = values
            elif values.shape == (len(self.post_rows),):
                array[self.post_rows] = values
            elif values.shape == (storage.n_post,):
                array[...] = values
            else:
                raise ValidationError(owner, name, f"expected a number or {storage.n_post} values (one per post "
                                                   f"neuron)", got=f"shape {values.shape}", got_repr=False)
        else:
            self._set_local(name, array, value)

    def _set_local(self, name: str, array: np.ndarray, value: Any) -> None:
        storage = self._require_connected()
        owner = self._owner()
        finite = not self.network.allow_nonfinite
        full_matrix = isinstance(value, list) and len(value) == storage.n_post and all(
            np.ndim(v) == 1 and len(v) == storage.n_pre for v in value)
        if isinstance(value, list) and value and all(np.ndim(v) == 1 for v in value) and \
                len(value) == len(self.post_rows) and not full_matrix:
            sizes = storage.row_sizes()[self.post_rows]
            for row, size, row_values in zip(self.post_rows, sizes, value):
                values = _numbers(owner, name, row_values, array.dtype, finite)
                if values.shape != (size,):
                    raise ValidationError(owner, name, f"the dendrite of post rank {int(self.post.ranks[row])} has "
                                                       f"{size} synapses",
                                          got=f"{values.shape[0]} values", got_repr=False)
                storage.set_row_values(array, row, values)
            return
        values = _numbers(owner, name, value, array.dtype, finite)
        if values.ndim == 0 or values.shape == (storage.nnz,):
            storage.set_synapse_values(array, values)
        elif values.shape == (storage.n_post, storage.n_pre):
            array[...] = storage.from_matrix(values, array.dtype)
        else:
            raise ValidationError(owner, name, f"expected a number, a ({storage.n_post}, {storage.n_pre}) matrix "
                                               f"(post x pre), {storage.nnz} values or one list per dendrite",
                                  got=f"shape {values.shape}", got_repr=False)

    def get(self, name: str, sample: int | None = None) -> Any:
        """Value(s) of a synaptic attribute; same as ``proj.<name>``.

        ``sample`` (a batched network): that sample's values, as an unbatched
        projection returns them; without it, a projection that keeps one set
        per sample (see :attr:`batch`) returns the batch axis first.

        Examples
        --------
        >>> from ratenet import Hebb, Network, Neuron
        >>> net = Network(batch=2)
        >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(1, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b, "exc", Hebb(eta=0.1)).connect_all_to_all(0.5)
        >>> proj.w = [[[0.5, 0.5]], [[1.0, 2.0]]]  # one (post, pre) matrix per sample
        >>> proj.get("w", sample=1).tolist(), proj.get("eta", sample=0), proj.get("eta").tolist()
        ([[1.0, 2.0]], 0.1, [0.1, 0.1])
        """
        if name not in self._attrs:
            self._require_connected()
            raise ValidationError(self._owner(), "name", f"unknown attribute (known: {', '.join(self._attrs)})",
                                  got=name)
        return self._get_attribute(name, check_sample(self._owner(), sample, self.network.batch))

    def set(self, values: dict[str, Any]) -> None:
        """Set several synaptic attributes: ``proj.set({"w": 0.5})``."""
        for name, value in values.items():
            if name not in self._attrs:
                self._require_connected()
                raise ValidationError(self._owner(), "set", f"unknown attribute (known: {', '.join(self._attrs)})",
                                      got=name)
            self._set_attribute(name, value)

    # ---------------------------------------------------------- inspection
    @property
    def storage_format(self) -> str:
        """How the weights are stored: ``"dense"`` or ``"csr"``."""
        return self._require_connected().kind

    @property
    def post_rows(self) -> np.ndarray:
        """Rows (post indices within ``post``) that have at least one synapse."""
        storage = self._require_connected()
        return np.flatnonzero(storage.row_sizes() > 0)

    @property
    def post_ranks(self) -> list[int]:
        """Population ranks of the post neurons that receive synapses."""
        return [int(r) for r in self.post.ranks[self.post_rows]]

    @property
    def pre_ranks(self) -> list[list[int]]:
        """For each post neuron of ``post_ranks``, the population ranks of its pre neurons."""
        storage = self._require_connected()
        return [self.pre.ranks[storage.pre_ranks_of(row)].tolist() for row in self.post_rows]

    @property
    def nb_synapses(self) -> int:
        return self._require_connected().nnz

    @property
    def size(self) -> int:
        """Number of post neurons that receive at least one synapse (dendrites)."""
        return len(self.post_rows)

    def __len__(self) -> int:
        return self.size

    def nb_synapses_per_dendrite(self) -> list[int]:
        """Number of synapses of each dendrite, in ``post_ranks`` order."""
        storage = self._require_connected()
        return storage.row_sizes()[self.post_rows].tolist()

    @property
    def delays(self) -> Any:
        """Delays in ms: one number if uniform, else one list per dendrite."""
        storage = self._require_connected()
        if np.ndim(self._delays) == 0:
            return float(self._delays)
        delays = np.asarray(self._delays)
        return [storage.row_values(delays, row).copy() for row in self.post_rows]

    @property
    def delay(self) -> Any:
        """Delays in ms as ANNarchy reports them: one number when uniform, else one list per dendrite.

        A delay below one step reads as ``dt`` (a projection always transmits
        the previous step's values).  Set a number (every synapse) or one list
        of values per dendrite (``post_ranks`` order, one value per synapse);
        a longer delay keeps more of the pre-synaptic history from then on.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network(dt=0.5)
        >>> a = net.create(2, Neuron(parameters="r = 1.0"))
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b).connect_all_to_all(1.0)
        >>> proj.delay
        0.5
        >>> proj.delay = 3.0; proj.delay
        3.0
        >>> proj.delay = [[1.0, 2.0], [1.5, 0.5]]; proj.delay
        [[1.0, 2.0], [1.5, 0.5]]
        """
        storage = self._require_connected()
        dt = self.network.dt
        steps = self._delay_steps()
        if np.ndim(steps) == 0:
            return float(steps) * dt
        return [(storage.row_values(np.asarray(steps), row) * dt).tolist() for row in self.post_rows]

    @delay.setter
    def delay(self, value: Any) -> None:
        storage = self._require_connected()
        owner = self._owner()
        if isinstance(value, Distribution):
            raise ValidationError(owner, "delay", "expected a number or one list of delays per dendrite (draw "
                                                  "the values first)", got=value)
        self._take_snapshot()
        if not isinstance(value, (list, tuple, np.ndarray)) or (isinstance(value, np.ndarray) and value.ndim == 0):
            number = _number(owner, "delay", value)
            if not np.isfinite(number) or number < 0:
                raise ValidationError(owner, "delay", "must be a finite number of ms >= 0", got=value)
            self._delays = number
            self._changed()
            return
        rows = self.post_rows
        sizes = storage.row_sizes()[rows]
        if not isinstance(value, (list, tuple, np.ndarray)) or len(value) != len(rows):
            raise ValidationError(owner, "delay", f"expected a number or one list per dendrite ({len(rows)} "
                                                  f"lists, in post_ranks order)", got=value)
        delays = storage.empty(np.float64)
        for row, size, row_values in zip(rows, sizes, value):
            values = _numbers(owner, "delay", row_values)
            if values.shape != (size,):
                raise ValidationError(owner, "delay", f"the dendrite of post rank {int(self.post.ranks[row])} has "
                                                      f"{size} synapses", got=f"{values.size} values", got_repr=False)
            if (values < 0).any():
                raise ValidationError(owner, "delay", "must be >= 0 ms", got=value)
            storage.set_row_values(delays, row, values)
        existing = storage.synapse_values(delays)
        self._delays = float(existing[0]) if existing.size and bool((existing == existing[0]).all()) else delays
        self._changed()

    def connectivity_matrix(self, fill: float = 0.0, sample: int | None = None) -> np.ndarray:
        """Dense ``(post.size, pre.size)`` matrix of the weights, ``fill`` where no synapse.

        A projection that keeps one weight set per sample of a batch (see
        :attr:`batch`) gives ``(B, post.size, pre.size)``, or the matrix of
        sample ``sample``.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create(2, Neuron(parameters="r = 0.0"))
        >>> b = net.create(2, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b).connect_one_to_one(0.5)
        >>> proj.connectivity_matrix().tolist()
        [[0.5, 0.0], [0.0, 0.5]]
        """
        self._require_connected()
        chosen = check_sample(self._owner(), sample, self.network.batch)
        matrices = self._matrices("w", chosen, fill)
        matrix = np.stack(matrices) if self._samples() is not None and chosen is None else matrices[0]
        return matrix.astype(np.float64) if np.isnan(fill) else matrix

    def receptive_fields(self, variable: str = "w", in_post_geometry: bool = True,
                         sample: int | None = None) -> np.ndarray:
        """All receptive fields tiled in one 2-D array (for ``imshow``).

        Each post neuron's values of ``variable`` are laid out in the pre
        geometry (2-D, or one row for 1-D pre); the tiles are arranged like the
        post geometry (``in_post_geometry``) or in a near-square grid.  Missing
        synapses show as 0.  (ANNarchy prepends a row of zeros; ratenet does
        not.)  A projection that keeps one weight set per sample of a batch
        (see :attr:`batch`) gives one such array per sample (the batch axis
        first), or the one of sample ``sample``.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create((2, 2), Neuron(parameters="r = 0.0"))
        >>> b = net.create((1, 3), Neuron(equations="r = sum(exc)"))
        >>> net.connect(a, b).connect_all_to_all(1.0).receptive_fields().shape
        (2, 6)
        """
        self._require_connected()
        if variable not in self._attrs or self._locality[variable] != "local":
            raise ValidationError(self._owner(), "variable", "must be a per-synapse attribute such as 'w'",
                                  got=variable)
        chosen = check_sample(self._owner(), sample, self.network.batch)
        pre_geo: tuple[int, ...] = self.pre.population.geometry if self.pre.population is self.pre \
            else (self.pre.size,)
        if len(pre_geo) == 1:
            pre_geo = (1, pre_geo[0])
        if len(pre_geo) != 2:
            raise ValidationError(self._owner(), "receptive_fields", f"needs a 1-D or 2-D pre-synaptic geometry "
                                                                     f"(got {pre_geo})")
        post_geo = self.post.geometry
        if in_post_geometry and len(post_geo) <= 2:
            rows, cols = (1, post_geo[0]) if len(post_geo) == 1 else post_geo
        else:
            cols = int(np.floor(np.sqrt(self.post.size)))
            rows = int(np.ceil(self.post.size / cols))
        matrices = self._matrices(variable, chosen)  # one tiling per sample, or the only one
        out = np.zeros((len(matrices), rows * pre_geo[0], cols * pre_geo[1]))
        for one, matrix in zip(out, matrices):
            tiles = np.zeros((rows * cols, pre_geo[0], pre_geo[1]))
            tiles[:self.post.size] = matrix.reshape(self.post.size, *pre_geo)
            one[...] = tiles.reshape(rows, cols, *pre_geo).transpose(0, 2, 1, 3).reshape(one.shape)
        return out if self._samples() is not None and chosen is None else out[0]

    def _matrices(self, variable: str, sample: int | None, fill: float = 0.0) -> list[np.ndarray]:
        """``(post, pre)`` matrices of a per-synapse attribute (``fill`` where no synapse): one per sample when
        the projection keeps one set per sample and ``sample`` is None, else one."""
        storage = self._require_connected()
        values = self._attrs[variable]
        if self._samples() is None:
            return [storage.to_matrix(values, fill)]
        if sample is None:
            return [storage.to_matrix(one, fill) for one in values]
        return [storage.to_matrix(values[sample], fill)]

    def dendrite(self, post: int | Sequence[int]) -> "Dendrite":
        """The synapses of one post-synaptic neuron (population rank or coordinates)."""
        self._require_connected()
        rank = post if isinstance(post, numbers.Integral) else self.post.population.rank_from_coordinates(post)
        rows = np.flatnonzero(self.post.ranks == rank)
        if len(rows) == 0:
            raise ValidationError(self._owner(), "post", f"is not a neuron of the post-synaptic side "
                                                         f"'{self.post.name}'", got=post)
        if self._require_connected().row_sizes()[rows[0]] == 0:
            raise ValidationError(self._owner(), "post", f"the neuron of rank {rank} has no dendrite in this "
                                                         "projection (it receives no synapse)", got=post)
        return Dendrite(self, int(rows[0]))

    def __getitem__(self, post: int) -> "Dendrite":
        return self.dendrite(post)

    def __iter__(self):
        for row in self.post_rows:
            yield Dendrite(self, int(row))

    @property
    def dendrites(self) -> list["Dendrite"]:
        return list(self)

    def save(self, filename: str) -> None:
        """Save the connectivity, synaptic attributes and delays to an ``.npz`` file."""
        if not self._is_connected():  # (a connected Convolution or Pooling has no storage, but saves its kernel)
            self._require_connected()
        save_objects(filename, [], [self._state])

    def load(self, filename: str) -> None:
        """Load what :meth:`save` wrote (the connectivity included)."""
        load_objects(filename, None, [self._state], finite=not self.network.allow_nonfinite)

    def _export(self) -> dict[str, np.ndarray]:
        """This projection's entries of a state file (see :mod:`ratenet.io`)."""
        storage = self._require_connected()
        out: dict[str, np.ndarray] = {".shape": np.array([storage.n_post, storage.n_pre]),
                                      ".kind": np.array(storage.kind), ".delays": np.asarray(self._delays)}
        out.update(storage.arrays())
        out.update(self._attrs)
        return out

    def _check_saved(self, saved: dict[str, np.ndarray], prefix: str, where: str) -> None:
        """Check every entry of this projection in a state file (keys ``prefix + field``) before any change."""
        owner = f"projection '{self.name}'"
        for key in (".shape", ".kind", ".delays"):
            if key not in saved:
                raise ValidationError(where, prefix + key, "is missing: the file is incomplete")
        expect(where, prefix + ".shape", saved[".shape"], "iu", (2,), what="the two sizes (post, pre)")
        shape = tuple(int(v) for v in saved[".shape"])
        if shape != (self.post.size, self.pre.size):
            raise ValidationError(where, owner, f"connects {shape[1]} -> {shape[0]} neurons in the file but "
                                                f"{self.pre.size} -> {self.post.size} in the network")
        n_post, n_pre = shape
        kind = saved[".kind"]
        if kind.dtype.kind != "U" or kind.shape != () or kind.item() not in ("dense", "csr"):
            raise ValidationError(where, prefix + ".kind", "expected 'dense' or 'csr'", got=kind.tolist())
        finite = not self.network.allow_nonfinite
        if kind.item() == "dense":
            if ".mask" in saved:
                expect(where, prefix + ".mask", saved[".mask"], "b", (n_post, n_pre), what="booleans")
            synapses: tuple[int, ...] = (n_post, n_pre)
        else:
            for key in (".indptr", ".indices"):
                if key not in saved:
                    raise ValidationError(where, prefix + key, "is missing: the file is incomplete")
            indptr, indices = saved[".indptr"], saved[".indices"]
            expect(where, prefix + ".indptr", indptr, "iu", (n_post + 1,), what="integers")
            if indices.ndim != 1:
                expect(where, prefix + ".indices", indices, "iu", (int(indptr[-1]),), what="integers")
            expect(where, prefix + ".indices", indices, "iu", None, what="integers")
            steps = np.diff(indptr)
            if indptr[0] != 0 or (steps < 0).any() or indptr[-1] != len(indices):
                raise ValidationError(where, prefix + ".indptr", f"expected row starts rising from 0 to the number "
                                                                 f"of synapses ({len(indices)})",
                                      got=indptr.tolist() if len(indptr) <= 8 else indptr, got_repr=True)
            if len(indices) and (indices.min() < 0 or indices.max() >= n_pre):
                bad = indices[(indices < 0) | (indices >= n_pre)][0]
                raise ValidationError(where, prefix + ".indices", f"expected pre-synaptic indices in [0, {n_pre})",
                                      got=int(bad))
            if len(indices) > 1:
                rising = np.diff(indices.astype(np.int64)) > 0
                starts = np.zeros(len(indices) - 1, dtype=bool)
                inner = indptr[1:-1]
                starts[inner[(inner > 0) & (inner < len(indices))] - 1] = True
                if not (rising | starts).all():
                    raise ValidationError(where, prefix + ".indices", "expected each row's indices sorted and "
                                                                      "without repeats",
                                          got="a row with indices out of order or repeated", got_repr=False)
            synapses = (len(indices),)
        delays = saved[".delays"]
        if delays.ndim == 0:
            expect(where, prefix + ".delays", delays, "biuf", (), True, "a delay in ms")
        else:
            expect(where, prefix + ".delays", delays, "biuf", synapses, True, "delays in ms")
        if (delays < 0).any():
            raise ValidationError(where, prefix + ".delays", "expected delays >= 0",
                                  got=float(np.min(delays)))
        attrs = {k for k in saved if not k.startswith(".")}
        if attrs != set(self._attrs):
            raise ValidationError(where, owner, f"the file has synaptic attributes {sorted(attrs)}, the "
                                                f"projection {sorted(self._attrs)}")
        shapes = {"local": synapses, "postsynaptic": (n_post,), "projection": ()}
        samples = self._samples()
        if samples is not None:  # one set per sample of the batch
            shapes = {k: (samples,) + v for k, v in shapes.items()}
        for attr in sorted(attrs):
            current = self._attrs[attr]
            kind_name = {"i": "int", "b": "bool"}.get(current.dtype.kind, "float")
            what = {"float": "numbers", "int": "integers", "bool": "booleans"}[kind_name]
            if samples is not None:  # a file saved without a batch, or with another one, says so by its shape
                what += f" (one set per sample of the network's batch of {samples})"
            expect(where, prefix + attr, saved[attr], ACCEPTED_KINDS[kind_name],
                   shapes[self._locality.get(attr, "local")], finite and kind_name == "float", what)

    def _restore(self, saved: dict[str, np.ndarray]) -> None:
        n_post, n_pre = (int(v) for v in saved[".shape"])
        self._storage = from_arrays(str(saved[".kind"].item()), n_post, n_pre, saved)
        for attr in list(self._attrs):
            current = self._attrs[attr]
            if current.shape == saved[attr].shape:
                current[...] = saved[attr]  # in place: copies and transposes share this array
            else:
                self._attrs[attr] = np.array(saved[attr], dtype=current.dtype)
        delays = saved[".delays"]
        self._delays = float(delays) if delays.ndim == 0 else np.array(delays)
        self._state.bump_all()
        self._changed()

    # ------------------------------------------------- structural plasticity
    def _column_of(self, rank: Any) -> int:
        pre = self.pre
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
            raise ValidationError(self._owner(), "rank", "must be the integer rank of a pre-synaptic neuron",
                                  got=rank)
        cols = np.flatnonzero(pre.ranks == rank)
        if len(cols) == 0:
            raise ValidationError(self._owner(), "rank", f"is not a neuron of the pre-synaptic side "
                                                         f"'{pre.name}'", got=rank)
        return int(cols[0])

    def _exists(self, row: int, col: int) -> bool:
        return self._require_connected().has(row, col)

    def _new_values(self, name: str, count: int) -> np.ndarray:
        """Initial values of attribute ``name`` for ``count`` new synapses."""
        synapse = self.synapse_type
        dtype = self._attrs[name].dtype
        for p in synapse.parameters:
            if p.name == name:
                return self._initial(p.value, (count,), p.dtype, self._attrs)
        for eq in synapse.equations:
            if eq.target == name:
                init = eq.init if eq.init is not None else 0.0
                return self._initial(init, (count,), eq.dtype, self._attrs)
        return np.zeros(count, dtype=dtype)

    def _create_synapses(self, row: int, ranks: Any, weights: Any, delays: Any) -> None:
        storage = self._require_connected()
        self._take_snapshot()
        owner = self._owner()
        cols = [self._column_of(r) for r in np.atleast_1d(np.asarray(ranks)).tolist()]
        if len(set(cols)) != len(cols):
            raise ValidationError(owner, "ranks", "must not repeat a neuron", got=ranks)
        for col, rank in zip(cols, np.atleast_1d(ranks)):
            if self._exists(row, col):
                raise ValidationError(owner, "rank", f"already has a synapse onto post rank "
                                                     f"{int(self.post.ranks[row])}", got=int(rank))
        n = len(cols)
        w = np.broadcast_to(_numbers(owner, "w", weights), (n,))
        d = np.broadcast_to(_numbers(owner, "delay", delays), (n,))
        if (d < 0).any():
            raise ValidationError(owner, "delay", "must be >= 0", got=delays)
        local = [name for name, loc in self._locality.items() if loc == "local"]
        values = {name: (w if name == "w" else self._new_values(name, n)) for name in local}
        cols_arr = np.asarray(cols)
        if np.ndim(self._delays) == 0 and np.all(d == float(self._delays)):
            new_delays = None
        else:
            if np.ndim(self._delays) == 0:
                self._delays = storage.empty(np.float64, float(self._delays))
            new_delays = d
        # a new storage object: the compile-time snapshot keeps the old one
        self._storage, grow = storage.with_synapses(row, cols_arr)
        for name in local:
            self._attrs[name] = grow(self._attrs[name], values[name])
        if new_delays is not None:
            self._delays = grow(np.asarray(self._delays), new_delays)
        rows = self.__dict__.get("_dendrite_rows")
        if rows is not None:
            rows[row] = True
        self._changed()

    def _prune_synapses(self, row: int, ranks: Any) -> None:
        storage = self._require_connected()
        self._take_snapshot()
        owner = self._owner()
        cols = [self._column_of(r) for r in np.atleast_1d(np.asarray(ranks)).tolist()]
        for col, rank in zip(cols, np.atleast_1d(ranks)):
            if not self._exists(row, col):
                raise ValidationError(owner, "rank", f"has no synapse onto post rank {int(self.post.ranks[row])}",
                                      got=int(rank))
        cols_arr = np.asarray(cols)
        local = [name for name, loc in self._locality.items() if loc == "local"]
        self._storage, shrink = storage.without_synapses(row, cols_arr)
        for name in local:
            self._attrs[name] = shrink(self._attrs[name])
        if np.ndim(self._delays):
            self._delays = shrink(np.asarray(self._delays))
        self._changed()

    def start_pruning(self, period: float | None = None) -> None:
        """Evaluate the synapse's ``pruning`` rule every ``period`` ms (every step by default), from now on.

        At each evaluation, every existing synapse whose condition holds is
        removed with the rule's probability (one uniform draw per synapse whose
        condition holds, post neuron by post neuron, pre rank by pre rank).
        Rules run after learning and before monitors record, creating before
        pruning, at steps ``k`` with ``(k - start) % period == 0``, where
        ``start`` is the current step: the first evaluation is in the next
        simulated step.  The network needs ``setup(structural_plasticity=True)``
        (a synapse whose rules are ANNarchy 5 ``Pruning``/``Creating`` objects
        switches it on by itself, as in ANNarchy 5).

        Examples
        --------
        >>> from ratenet import Network, Neuron, Synapse
        >>> net = Network(); net.setup(structural_plasticity=True)
        >>> pop = net.create(3, Neuron(parameters="r = 1.0"))
        >>> syn = Synapse(pruning="w < 0.5 : proba=1.0")
        >>> proj = net.connect(pop, pop, "exc", syn).connect_all_to_all(0.1)
        >>> proj.w = [[0.0, 0.1, 0.9], [0.9, 0.0, 0.1], [0.9, 0.9, 0.0]]
        >>> proj.start_pruning(period=5.0); net.simulate(1.0)
        >>> proj.nb_synapses, proj.pre_ranks
        (4, [[2], [0], [0, 1]])
        """
        self._start_rule("pruning", period)

    def stop_pruning(self) -> None:
        """Stop evaluating the pruning rule (see :meth:`start_pruning`)."""
        self._stop_rule("pruning")

    def start_creating(self, period: float | None = None) -> None:
        """Evaluate the synapse's ``creating`` rule every ``period`` ms (every step by default), from now on.

        At each evaluation, for every post neuron that has a dendrite in this
        projection (it received synapses when connected, or one created since)
        and every pre neuron, a missing synapse whose condition holds is
        created with the rule's probability, with the rule's weight ``w`` (0.0
        by default), delay ``d`` (the projection's delay by default) and the
        initial values of the other synaptic attributes.  Timing and
        requirements as :meth:`start_pruning`.

        Examples
        --------
        >>> from ratenet import Network, Neuron, Synapse
        >>> net = Network(); net.setup(structural_plasticity=True)
        >>> pop = net.create(3, Neuron(parameters="r = 1.0"))
        >>> syn = Synapse(creating="pre.r * post.r > 0.5 : proba=1.0, w=0.2")
        >>> proj = net.connect(pop, pop, "exc", syn).connect_one_to_one(1.0)
        >>> proj.start_creating(); net.simulate(1.0)
        >>> proj.connectivity_matrix().tolist()
        [[1.0, 0.2, 0.2], [0.2, 1.0, 0.2], [0.2, 0.2, 1.0]]
        """
        self._start_rule("creating", period)

    def stop_creating(self) -> None:
        """Stop evaluating the creating rule (see :meth:`start_creating`)."""
        self._stop_rule("creating")

    def _check_rule(self, kind: str, action: str) -> Any:
        rule = getattr(self.synapse_type, kind)
        owner = self._owner()
        if rule is None:
            raise ValidationError(owner, f"{action}_{kind}", f"the synapse '{self.synapse_type.name}' defines no "
                                                             f"'{kind}' rule: give Synapse({kind}=\"condition : "
                                                             f"proba=...\")")
        if not (self.network.structural_plasticity or self.synapse_type.structural_auto):
            raise ValidationError(owner, f"{action}_{kind}", "structural plasticity is off in this network: call "
                                                             "setup(structural_plasticity=True) (or "
                                                             "net.setup(structural_plasticity=True)) first, as "
                                                             "ANNarchy asks")
        if self._samples() is not None:
            raise ValidationError(owner, f"{action}_{kind}", f"a learning synapse in a batched network (batch="
                                                             f"{self._samples()}) keeps one weight set per sample "
                                                             "over one shared structure: it cannot create or "
                                                             "prune synapses; run without batch")
        return rule

    def _start_rule(self, kind: str, period: float | None) -> None:
        rule = self._check_rule(kind, "start")
        storage = self._require_connected()
        owner = self._owner()
        dt = self.network.dt
        if period is None or period == 0:
            steps = 1
        else:
            value = conn.check_number(owner, "period", period)
            if value < 0:
                raise ValidationError(owner, "period", "must be a positive number of ms", got=period)
            steps = max(1, int(value / dt + 1e-9))
        if kind == "creating" and rule.d is not None:
            delays = self._delay_steps()
            d = max(1, int(round(rule.d / dt)))
            if np.ndim(delays) == 0 and storage.nnz and d != int(delays):
                raise ValidationError(owner, "creating", f"creates synapses with delay d={rule.d} ms, but the "
                                                         f"projection's delays are all {float(self._delays)} ms: "
                                                         "a uniform delay cannot change")
            if np.ndim(delays) and d > int(np.max(delays)):
                raise ValidationError(owner, "creating", f"creates synapses with delay d={rule.d} ms, more than "
                                                         "the projection's longest delay")
        self._rules = {**self.__dict__.get("_rules", {}), kind: (steps, self.network.get_current_step())}
        self._changed()

    def _stop_rule(self, kind: str) -> None:
        self._check_rule(kind, "stop")
        rules = dict(self.__dict__.get("_rules", {}))
        if rules.pop(kind, None) is not None:
            self._rules = rules
            self._changed()

    def _rewiring(self) -> list[Rewiring]:
        """The structural rules switched on, creating first (see :class:`~ratenet.state.Rewiring`)."""
        rules = self.__dict__.get("_rules", {})
        out = []
        for kind in ("creating", "pruning"):
            if kind in rules:
                period, offset = rules[kind]
                apply = self._create_where_due if kind == "creating" else self._prune_where_due
                out.append(Rewiring(kind, period, offset, apply, getattr(self.synapse_type, kind).text))
        return out

    def _rule_condition(self, kind: str, storage: Storage, attrs: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
        """A function evaluating the condition of rule ``kind`` over ``storage``'s layout."""
        rule = getattr(self.synapse_type, kind)
        names = symbols(rule.condition)
        net = self.network
        context = SynapseContext(self.synapse_type, storage, attrs, self._locality, self._side(self.pre),
                                 self._side(self.post), names, net.registry.clock, net.dt, net.rng, net.dtype)
        condition = substitute(rule.condition, {sym: ast.Name(id=f"_rnd_local_{classify(sym)[1]}", ctx=ast.Load())
                                                for sym in names if classify(sym)[0] == "random"})
        evaluate = build_function([ast.Return(value=condition)], context.namespaces["local"],
                                  f"{kind} condition of {self.name}", dtype=net.dtype)
        refresh = context.refresher("local")
        shape = storage.shape

        def holds() -> np.ndarray:
            if refresh is not None:
                refresh()
            return np.broadcast_to(np.asarray(evaluate(), dtype=bool), shape)

        return holds

    def _cached_condition(self, kind: str, storage: Storage, attrs: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
        cache = self.__dict__.setdefault("_conditions", {})
        # the plan may give a population new arrays (stacking adopts them): a condition built on the
        # old ones would read values that no longer change
        registry = self.network.registry
        ends = tuple(id(value) for end in (self.pre, self.post) for value in registry.state(end).values.values())
        key = (kind, id(storage), tuple(id(a) for a in attrs.values()), ends)
        if key not in cache:
            if len(cache) > 4:
                cache.clear()
            cache[key] = (storage, self._rule_condition(kind, storage, attrs))
        return cache[key][1]

    def _draw(self, count: int, proba: float) -> np.ndarray:
        """Which of ``count`` candidates (in row-major order) pass the rule's probability."""
        if proba >= 1.0:
            return np.ones(count, dtype=bool)
        return self.network.rng.random(count) < proba

    def _prune_where_due(self) -> bool:
        storage = self._require_connected()
        rule = self.synapse_type.pruning
        assert rule is not None
        holds = storage.synapse_values(self._cached_condition("pruning", storage, self._attrs)())
        candidates = np.flatnonzero(holds)
        if len(candidates) == 0:
            return False
        removed = candidates[self._draw(len(candidates), rule.proba)]
        if len(removed) == 0:
            return False
        rows, cols = storage.rows_of_synapses()[removed], storage.columns_of_synapses()[removed]
        exists = storage.existing()
        exists[rows, cols] = False
        self._rewire(exists, None)
        return True

    def _create_where_due(self) -> bool:
        storage = self._require_connected()
        rule = self.synapse_type.creating
        assert rule is not None
        full = self.__dict__.get("_every_pair")
        if full is None or full.shape != (storage.n_post, storage.n_pre):
            full = self._every_pair = Dense(storage.n_post, storage.n_pre)  # kept: the condition compiles once
        shared = {name: array for name, array in self._attrs.items() if self._locality[name] != "local"}
        holds = self._cached_condition("creating", full, shared)()
        dendrites = self.__dict__.get("_dendrite_rows")
        if dendrites is None:
            dendrites = storage.row_sizes() > 0
        exists = storage.existing()
        candidates = np.flatnonzero(holds & ~exists & dendrites[:, None])
        if len(candidates) == 0:
            return False
        created = candidates[self._draw(len(candidates), rule.proba)]
        if len(created) == 0:
            return False
        new = np.zeros(exists.shape, dtype=bool)
        new.flat[created] = True
        self._rewire(exists | new, new, rule.w, rule.d)
        return True

    def _rewire(self, exists: np.ndarray, created: np.ndarray | None, w: float | None = None,
                d: float | None = None) -> None:
        """Give the projection the synapses of the boolean (post, pre) matrix ``exists``.

        Kept synapses keep their values; ``created`` ones take ``w``, delay ``d``
        (ms, None: the projection's) and the initial values of the other
        attributes.  The storage keeps its kind.
        """
        storage = self._require_connected()
        self._take_snapshot()
        count = 0 if created is None else int(np.count_nonzero(created))
        local = [name for name, loc in self._locality.items() if loc == "local"]
        matrices = {name: storage.to_matrix(self._attrs[name]) for name in local}
        per_synapse_delays = np.ndim(self._delays) != 0
        if per_synapse_delays:
            matrices[".delays"] = storage.to_matrix(np.asarray(self._delays, dtype=np.float64))
        if count:
            assert created is not None
            for name in local:
                new = np.full(count, 0.0 if w is None else w) if name == "w" else self._new_values(name, count)
                matrices[name][created] = new
            if per_synapse_delays:
                matrices[".delays"][created] = 0.0 if d is None else d
            self.__dict__["_dendrite_rows"] = self.__dict__.get("_dendrite_rows", storage.row_sizes() > 0) | \
                created.any(axis=1)
        if storage.kind == "dense":
            new_storage: Storage = Dense(storage.n_post, storage.n_pre, exists)
            for name in local:
                self._attrs[name][...] = np.where(exists, matrices[name], 0)  # in place: the layout stays
        else:
            rows, cols = np.nonzero(exists)
            indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=storage.n_post))))
            new_storage = Sparse(storage.n_post, storage.n_pre, indptr, cols)
            for name in local:
                self._attrs[name] = np.ascontiguousarray(matrices[name][rows, cols])
        if per_synapse_delays:
            self._delays = new_storage.from_matrix(matrices[".delays"], np.float64)
        self._storage = new_storage
        self._state.bump_all()
        self._changed()

    # ------------------------------------------------------------ learning
    def enable_learning(self, period: float | None = None, offset: float | None = None) -> None:
        """Run the synapse's learning rule (every ``period`` ms, from ``offset``)."""
        dt = self.network.dt
        self.learning = True
        self._learning_period = max(1, int(round(period / dt))) if period else 1
        self._learning_offset = int(round(offset / dt)) if offset else 0
        self._changed()

    def disable_learning(self) -> None:
        """Stop the learning rule; weights keep their values."""
        self.learning = False
        self._changed()

    # ------------------------------------------------------------ simulation
    def _compiled(self, first: bool) -> None:
        if first or self._initial_state is None:
            self._snapshot()

    def _snapshot(self) -> None:
        """Remember the compile-time values that ``reset`` returns to.

        Only learning changes weights during a run; for other projections the
        copy is taken just before the first change made from Python, so a
        large static weight matrix is never held twice.
        """
        self._initial_state = None
        self._snapshot_due = True
        if self.synapse_type.equations:
            self._take_snapshot()

    def _take_snapshot(self) -> None:
        if self.__dict__.get("_snapshot_due"):
            self._initial_state = {"attrs": {k: v.copy() for k, v in self._attrs.items()},
                                   "storage": self._storage, "delays": np.copy(self._delays)}
            self._snapshot_due = False

    def initial_value(self, name: str) -> Any:
        """The value ``reset`` returns synaptic attribute ``name`` to: its value at compile time (the current
        one before); ANNarchy's ``proj.init[name]``, as ``save_parameters`` writes it.

        Examples
        --------
        >>> from ratenet import Hebb, Network, Neuron
        >>> net = Network()
        >>> a, b = net.create(2, Neuron(parameters="r = 1.0")), net.create(2, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b, "exc", Hebb(eta=0.1)).connect_all_to_all(0.5)
        >>> _ = net.compile(); proj.eta = 0.2
        >>> proj.initial_value("eta"), proj.eta
        (0.1, 0.2)
        """
        self._require_connected()
        if name not in self._attrs:
            raise ValidationError(self._owner(), "name", f"unknown attribute (known: {', '.join(self._attrs)})",
                                  got=name)
        saved = self._initial_state
        value = self._attrs[name] if saved is None else saved["attrs"][name]
        return value.item() if np.ndim(value) == 0 else np.array(value, copy=True)

    def reset(self, attributes: Sequence[str] | None = None) -> None:
        """Restore synaptic attributes (and synapses) to their state when the network was compiled."""
        saved = self._initial_state
        if saved is None:  # nothing changed since compile
            return
        if saved["storage"] is not self._storage:  # synapses were created or pruned
            self._storage = saved["storage"]
            self._delays = saved["delays"] if np.ndim(saved["delays"]) else float(saved["delays"])
            self._attrs.update({k: v.copy() for k, v in saved["attrs"].items()})
            self._state.bump_all()
            self._changed()
            return
        for name in attributes if attributes is not None else list(self._attrs):
            self._attrs[name][...] = saved["attrs"][name]
            self._changed(name)

    def _psp_is_default(self) -> bool:
        psp = self.synapse_type.psp
        return self.synapse_type.operation == "sum" and is_product_of(psp, "w", "_pre_r")

    # --------------------------------------------------------------- delays
    def _set_delay(self, delays: Any) -> None:
        """A uniform delay in ms (Convolution, Pooling)."""
        value = conn.check_number(self._owner(), "delays", delays)
        if value < 0:
            raise ValidationError(self._owner(), "delays", "must be >= 0", got=delays)
        self._check_delays(value)
        self._delays = value

    def _delay_steps(self) -> int | np.ndarray:
        """Delays in steps; 1 is the ordinary lag (``delays`` of 0 or dt).

        Per-synapse delays that are all equal are reported as one number, so
        they take the fast path.
        """
        dt = self.network.dt
        if np.ndim(self._delays) == 0:
            return max(1, int(round(float(self._delays) / dt)))
        steps = np.maximum(1, np.rint(np.asarray(self._delays) / dt)).astype(np.int64)
        existing = self._require_connected().synapse_values(steps)
        if existing.size == 0 or bool((existing == existing.flat[0]).all()):
            return int(existing.flat[0]) if existing.size else 1
        return steps

    def _uniform_delay(self) -> bool:
        return np.ndim(self._delay_steps()) == 0

    def _history_needs(self) -> list[tuple[Any, str, int]]:
        """(population, variable, depth) ring buffers this projection reads."""
        steps = self._delay_steps()
        depth = int(np.max(steps)) if np.size(steps) else 1
        if depth <= 1:
            return []
        names = {"r"} | {classify(s)[1] for s in symbols(self.synapse_type.psp) if classify(s)[0] == "pre"}
        return [(self.pre.population, name, depth) for name in sorted(names)]

    # ---------------------------------------------------------- transmission
    def _side(self, end: "Population | PopulationView", sample: int | None = None) -> Side:
        """An end as synapse expressions read it (``sample``: that sample's values in a batch)."""
        return Side(self.network.registry.state(end), None if end.population is end else end.ranks, sample)

    def _weights(self) -> State:
        """The record holding the weights this projection transmits through (its own, or an original's)."""
        return self._state

    def _describe(self) -> str:
        """What the transmission computes, for ``step_order``."""
        delay = self._delay_steps()
        late = "" if np.ndim(delay) == 0 and delay == 1 else (
            f" (delay {delay} steps)" if np.ndim(delay) == 0 else " (per-synapse delays)")
        op = "" if self.synapse_type.operation == "sum" else f" [{self.synapse_type.operation}]"
        return f"{self.synapse_type.psp_text}{op}{late}"

    def _psp_moves(self) -> bool:
        """Whether the psp reads time or draws random numbers (its result changes at every step)."""
        psp_symbols = symbols(self.synapse_type.psp)
        return "t" in psp_symbols or any(classify(sym)[0] == "random" for sym in psp_symbols)

    def _fusable(self) -> bool:
        """Whether this projection can join others in one sparse product (see the planner)."""
        storage = self._storage
        return (type(self) is Projection and storage is not None and storage.kind == "csr"
                and self._psp_is_default() and self._uniform_delay() and not self.synapse_type.equations
                and self.pre.population is self.pre and self.post.population is self.post)

    def _transmission(self) -> Transmission:
        """The phase-2 work of this projection, described for the plan (see :class:`~ratenet.state.Transmission`)."""
        storage = self._require_connected()
        weights = self._weights()
        delay = self._delay_steps()
        label = self._describe()
        if self._psp_is_default() and np.ndim(delay) == 0:
            return Transmission(storage.kind, self.pre, self.post, self.target, delay, label, source=weights,
                                storage=storage, reads=[(weights, "w")], fusable=self._fusable())
        psp_symbols = symbols(self.synapse_type.psp)
        pre_vars = sorted({classify(s)[1] for s in psp_symbols if classify(s)[0] == "pre"})
        post_vars = sorted({classify(s)[1] if classify(s)[0] == "post" else f"_sum_{classify(s)[1]}"
                            for s in psp_symbols if classify(s)[0] in ("post", "sumpost")})
        sums_pre = sorted({f"_sum_{classify(s)[1]}" for s in psp_symbols if classify(s)[0] == "sumpre"})
        moves = self._psp_moves() or any(classify(s)[0] in ("globalpre", "globalpost") for s in psp_symbols)
        return Transmission("generic", self.pre, self.post, self.target, delay, label, source=weights,
                            storage=storage, reads=[(weights, name) for name in weights.slots],
                            pre_vars=pre_vars, pre_live=sums_pre, post_vars=post_vars, volatile=moves,
                            constants=bool(self.synapse_type.constants), compute=self._generic_psp)

    def _generic_psp(self, sources: Any) -> Callable[[np.ndarray], None]:
        """Any psp and operation: evaluate per synapse, then reduce per post neuron.

        ``sources`` gives pre's values as they must be read (delayed): see
        :mod:`ratenet.plan.delays`.
        """
        storage = self._require_connected()
        synapse = self.synapse_type
        reader, per_synapse = self._psp_pre_reader(sources)
        net = self.network
        # the sides as ``sources`` reads them (one sample's values in a batch)
        pre_side = Side(sources.state(self.pre), None if self.pre.population is self.pre else self.pre.ranks)
        post_side = Side(sources.state(self.post), None if self.post.population is self.post else self.post.ranks)
        attrs = self._sample_attrs(getattr(sources, "sample", None))
        context = SynapseContext(synapse, storage, attrs, self._locality, pre_side, post_side,
                                 symbols(synapse.psp), net.registry.clock, net.dt, net.rng,
                                 net.dtype, pre_reader=reader, per_synapse=per_synapse)
        ns = context.namespaces["local"]
        # random draws in a psp are made per synapse
        psp = substitute(synapse.psp, {sym: ast.Name(id=f"_rnd_local_{classify(sym)[1]}", ctx=ast.Load())
                                       for sym in symbols(synapse.psp) if classify(sym)[0] == "random"})
        evaluate = build_function([ast.Return(value=psp)], ns, f"psp of {self.name}", dtype=net.dtype)
        refresh = context.refresher("local")
        combine = storage.reducer(synapse.operation)

        def compute(target: np.ndarray) -> None:
            if refresh is not None:
                refresh()
            combine(evaluate(), target)

        return compute

    def _psp_pre_reader(self, sources: Any) -> tuple[Callable[[str], Callable[[], np.ndarray]] | None, bool]:
        """How a psp reads pre's values: (reader, whether it gives one value per synapse).

        None for the ordinary one-step lag (the context reads pre directly).
        """
        steps = self._delay_steps()
        pre = self.pre
        side = self._side(pre)
        if np.ndim(steps) == 0:
            if steps == 1:
                return None, False

            def delayed(var: str) -> Callable[[], Any]:
                if side.scalar(var):  # a population-level value: its history holds one value per step
                    one = sources.flat(pre.population, var, int(steps))
                    return lambda: one()[0]
                return sources.flat(pre, var, int(steps))

            return delayed, False
        columns = self._require_connected().columns()
        first = np.zeros_like(columns)
        return (lambda var: sources.per_synapse(pre.population, var, steps, first) if side.scalar(var)
                else sources.per_synapse(pre, var, steps, columns)), True

    def _learning(self, defer: Collection[str] | None = None) -> Learning | None:
        """The phase-5 work: the synapse's equations, or None when not learning.

        Equations run grouped by locality (projection-level ones, then
        postsynaptic ones, then per-synapse ones), each group in declaration
        order with the usual ODE-block semantics; per-synapse equations see the
        shared values already updated this step.

        Outside the reference mode the per-synapse group takes the shortcuts
        of :mod:`ratenet._shortcuts`: exact ones, and, for the attributes in
        ``defer`` (the plan's decision: nothing else reads them during a run;
        None: none), outer-product updates accumulated lazily (dense storage,
        no batch).
        """
        synapse = self.synapse_type
        if not self.learning or not synapse.equations:
            return None
        trees = [eq.rhs for eq in synapse.equations]
        names = set().union(*(symbols(t) for t in trees))
        storage = self._require_connected()
        net = self.network
        samples = self._samples()
        stages: list[Callable[[], Any]] = []
        # the scratch arrays of the first sample's functions, by level (see below)
        scratch: dict[str, dict[str, np.ndarray]] = {}
        shortcuts: _shortcuts.Shortcuts | None = None
        settles: list[Callable[[], None]] = []
        lazy: list[_shortcuts.Shortcuts] = []
        floats = [name for name, level in self._locality.items() if level == "local"]
        # a value the other levels or the psp read must be up to date at every step
        elsewhere = set(symbols(synapse.psp)).union(*(symbols(eq.rhs) for eq in synapse.equations
                                                      if eq.locality != "local" and eq.target != "w"))
        waiting = set(defer or ()) - elsewhere if samples is None and storage.kind == "dense" else set()
        written = {eq.target for eq in synapse.equations}
        stable = {name for name, level in self._locality.items() if level == "projection" and name not in written}
        stable.add("dt")
        # in a batch each sample runs the unbatched rule over its own weights and its own rates (the same bits)
        for sample in [None] if samples is None else range(samples):
            attrs = self._sample_attrs(sample)
            rng = net.rng if sample is None else net.sample_rngs[sample]
            context = SynapseContext(synapse, storage, attrs, self._locality, self._side(self.pre, sample),
                                     self._side(self.post, sample), names, net.registry.clock, net.dt, rng,
                                     net.dtype)
            for level in ("projection", "postsynaptic", "local"):
                group = [eq for eq in synapse.equations if (eq.locality if eq.target != "w" else "local") == level]
                if not group:
                    continue
                code = update_code(group, lambda name: False)
                shortcuts = None
                if level == "local" and not net.reference:
                    shortcuts = _shortcuts.Shortcuts(context.namespaces[level], storage.shape, floats, waiting, stable)
                    settles.append(shortcuts.settle)
                    lazy.append(shortcuts)
                fn = build_function(code.statements, context.namespaces[level],
                                    f"learning of {self.name} ({level})", dtype=net.dtype, rewrite=shortcuts)
                # The samples' functions run one after the other and hold nothing in their scratch arrays from
                # one call to the next: they share the first sample's (same code, same shapes), which stay in
                # the cache instead of B sets of synapse-sized temporaries.
                shared = scratch.setdefault(level, fn.__kwdefaults__ or {})
                if fn.__kwdefaults__ and _same_arrays(shared, fn.__kwdefaults__):
                    fn.__kwdefaults__ = shared
                refresh = context.refresher(level)
                if refresh is not None:
                    stages.append(refresh)
                stages.append(fn)
            if any(eq.target == "w" for eq in synapse.equations):
                absent = storage.absent_stage(attrs["w"])  # keep absent synapses at 0
                if absent is not None and shortcuts is not None:  # idempotent: not needed while w is unchanged
                    absent = shortcuts.unless_unchanged("w", absent)
                if absent is not None:
                    stages.append(absent)
        sets = list(dict.fromkeys(eq.target for eq in synapse.equations))
        return Learning(stages, self._learning_period, self._learning_offset, sets,
                        "; ".join(eq.text for eq in synapse.equations), _settle_all(settles),
                        sorted({name for shortcuts in lazy for name in shortcuts.deferred}))

    def _monitor_source(self, var: str) -> tuple[Callable[[], Any], tuple[int, ...], Any]:
        """(getter, sample shape, dtype) for a Monitor of a synaptic attribute."""
        self._require_connected()
        if var not in self._attrs:
            raise ValidationError("Monitor", "variables", f"'{self.name}' has no synaptic attribute of that name "
                                                          f"(attributes: {', '.join(self._attrs)})", got=var)
        attrs = self._attrs
        array = attrs[var]
        # looked up at each sample: structural plasticity gives sparse arrays a new length within a step
        return (lambda: attrs[var]), array.shape, array.dtype

    def __repr__(self) -> str:
        return _text.projection_repr(self)

    def __str__(self) -> str:
        return _text.projection_text(self)

    def _repr_html_(self) -> str:
        """pre -> post, target, connector, synapse, storage, delays and weight statistics, for notebooks."""
        return _html.projection_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _text.pretty(self, printer, cycle)

    def plot_weights(self, variable: str = "w", ax: Any = None, kind: str = "auto", sample: int = 0,
                     **kwargs: Any) -> Any:
        """Draw the weights: receptive fields as a grid of images, or the (post, pre) matrix.

        See :func:`ratenet.display.plots.plot_weights`.  A Convolution draws
        its filter or filter bank.  A projection that keeps one weight set per
        sample of a batch (see :attr:`batch`) draws sample ``sample``.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a = net.create((3, 3), Neuron(parameters="r = 0.0"))
        >>> b = net.create((2, 2), Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b).connect_all_to_all(1.0)
        >>> proj.plot_weights().images[0].get_array().shape  # 2 x 2 tiles of 3 x 3
        (6, 6)
        """
        return _plots.plot_weights(self, variable, ax=ax, kind=kind, sample=sample, **kwargs)


def _settle_all(settles: list[Callable[[], None]]) -> Callable[[], None] | None:
    """One function calling each of ``settles`` (None when there are none)."""
    if not settles:
        return None

    def settle() -> None:
        for each in settles:
            each()

    return settle


def _takes_dt(method: Callable[..., Any], args: dict[str, Any]) -> bool:
    """Whether ``method`` has a third positional parameter that ``args`` leaves empty (ANNarchy 5's ``dt``)."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: the 4.x form
        return False
    positional = [p for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                      inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 and positional[2].name not in args and positional[2].default is inspect.Parameter.empty


def _number(owner: str, name: str, value: Any, dtype: Any = None, finite: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise ValidationError(owner, name, "expected a number", got=value)
    return float(_fits(owner, name, np.asarray(value, dtype=np.float64), value, dtype, finite))


def _numbers(owner: str, name: str, value: Any, dtype: Any = None, finite: bool = True) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(owner, name, "expected numbers", got=value) from None
    return _fits(owner, name, array, value, dtype, finite)


def _fits(owner: str, name: str, array: np.ndarray, given: Any, dtype: Any, finite: bool) -> np.ndarray:
    """Refuse values an attribute of ``dtype`` would change: NaN/inf (unless allowed), fractions for int/bool."""
    kind = np.dtype(dtype).kind if dtype is not None else "f"
    if kind == "f":
        if finite and not np.isfinite(array).all():
            raise ValidationError(owner, name, NONFINITE, got=given)
        return array
    if not np.isfinite(array).all() or (array != np.round(array)).any():
        raise ValidationError(owner, name, f"is an {'int' if kind in 'iu' else 'bool'} attribute: expected whole "
                                           "numbers, not truncated fractions", got=given)
    if kind == "b" and not np.isin(array, (0.0, 1.0)).all():
        raise ValidationError(owner, name, "is a bool attribute: expected True/False (or 0/1)", got=given)
    return array


class Dendrite:
    """The synapses onto one post-synaptic neuron.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a = net.create(3, Neuron(parameters="r = 0.0"))
    >>> b = net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b).connect_all_to_all(0.5)
    >>> d = proj.dendrite(1)
    >>> d.size, d.pre_ranks
    (3, [0, 1, 2])
    >>> d.w = [1.0, 2.0, 3.0]; proj.w[1].tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, proj: Projection, row: int) -> None:
        object.__setattr__(self, "proj", proj)
        object.__setattr__(self, "row", row)

    @property
    def post_rank(self) -> int:
        return int(self.proj.post.ranks[self.row])

    @property
    def pre_ranks(self) -> list[int]:
        return self.proj.pre.ranks[self.proj._storage.pre_ranks_of(self.row)].tolist()

    @property
    def size(self) -> int:
        return int(self.proj._storage.row_sizes()[self.row])

    def __len__(self) -> int:
        return self.size

    @property
    def attributes(self) -> list[str]:
        """The synaptic parameters and variables."""
        return list(self.proj._attrs)

    def _unknown(self, name: str) -> ValidationError:
        return ValidationError(f"Dendrite of {self.proj._owner()} onto post rank {self.post_rank}", name,
                               f"the dendrite has no parameter or variable of that name (it has: "
                               f"{', '.join(self.attributes)})")

    def get(self, name: str) -> Any:
        """The values of a synaptic attribute (one per synapse, or one shared value), or ``"pre_ranks"``.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a, b = net.create(3, Neuron(parameters="r = 0.0")), net.create(2, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b).connect_all_to_all(0.5)
        >>> proj.dendrite(0).get("w").tolist(), proj.dendrite(0).get("pre_ranks")
        ([0.5, 0.5, 0.5], [0, 1, 2])
        """
        if name == "pre_ranks":
            return self.pre_ranks
        if name not in self.proj._attrs:
            raise self._unknown(name)
        return getattr(self, name)

    def set(self, values: dict[str, Any]) -> None:
        """Set several attributes of this dendrite: ``dendrite.set({"w": 0.5})``."""
        if not isinstance(values, dict):
            raise ValidationError("Dendrite", "set", "expects a dict {name: value}", got=values)
        for name, value in values.items():
            if name not in self.proj._attrs:
                raise self._unknown(name)
            setattr(self, name, value)

    def synapse(self, pos: Any) -> "IndividualSynapse":
        """The synapse from pre neuron ``pos`` (a population rank, or coordinates); ``dendrite[pos]`` too.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a, b = net.create(3, Neuron(parameters="r = 0.0")), net.create(3, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b, name="ab").connect_one_to_one(0.5)
        >>> proj.dendrite(1)[1].w = 3.0; proj.dendrite(1)[1].w
        3.0
        >>> proj.dendrite(1)[2]
        Traceback (most recent call last):
        ...
        ratenet.exceptions.ValidationError: Dendrite of Projection 'ab' onto post rank 1.pos: the neuron of rank 2 ...
        """
        proj = self.proj
        rank = pos if isinstance(pos, numbers.Integral) else proj.pre.population.rank_from_coordinates(pos)
        columns = np.flatnonzero(proj.pre.ranks == rank)
        if len(columns) == 0 or not proj._storage.has(self.row, int(columns[0])):
            raise ValidationError(f"Dendrite of {proj._owner()} onto post rank {self.post_rank}", "pos",
                                  f"the neuron of rank {rank} has no synapse in this dendrite (pre ranks: "
                                  f"{self.pre_ranks})", got=pos)
        return IndividualSynapse(self, int(rank), int(columns[0]))

    def __getitem__(self, pos: Any) -> "IndividualSynapse":
        return self.synapse(pos)

    def synapses(self) -> list["IndividualSynapse"]:
        """The synapses, by ascending pre rank."""
        return [self.synapse(rank) for rank in self.pre_ranks]

    def __iter__(self):
        return iter(self.synapses())

    def __getattr__(self, name: str) -> Any:
        proj = self.proj
        if name in proj._attrs:
            locality = proj._locality[name]
            array = proj._attrs[name]
            if proj._samples() is not None:  # one value (or row) per sample
                if locality == "projection":
                    return array.copy()
                if locality == "postsynaptic":
                    return array[:, self.row].copy()
                return np.array([proj._storage.row_values(one, self.row) for one in array])
            if locality == "projection":
                return array.item()
            if locality == "postsynaptic":
                return array[self.row].item()
            return proj._storage.row_values(array, self.row).copy()
        raise AttributeError(f"dendrite of {proj._owner()} has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        proj = self.proj
        if name not in proj._attrs:
            raise AttributeError(f"dendrite of {proj._owner()} has no attribute '{name}'")
        locality = proj._locality[name]
        proj._take_snapshot()
        array = proj._attrs[name]
        values = _numbers(proj._owner(), name, value, array.dtype, not proj.network.allow_nonfinite)
        samples = proj._samples()
        if samples is not None and locality != "projection":  # each sample's values, or one set for all
            width = () if locality == "postsynaptic" else (self.size,)
            per_sample = values.shape in ((samples,) + width,) and values.shape != width
            for b, one in enumerate(array):
                self._assign(proj, name, locality, one, values[b] if per_sample else values, value)
        else:
            self._assign(proj, name, locality, array, values, value)
        proj._changed(name)

    def _assign(self, proj: Projection, name: str, locality: str, array: np.ndarray, values: np.ndarray,
                value: Any) -> None:
        if locality == "projection":
            raise ValidationError(proj._owner(), name, "is shared by the whole projection: set it on the "
                                                       "projection", got=value)
        if locality == "postsynaptic":
            if values.ndim:
                raise ValidationError(proj._owner(), name, "expected one number per dendrite", got=value)
            array[self.row] = values
        else:
            if values.ndim and values.shape != (self.size,):
                raise ValidationError(proj._owner(), name, f"expected a number or {self.size} values",
                                      got=f"shape {values.shape}", got_repr=False)
            storage = proj._storage
            assert storage is not None  # a dendrite exists only once the projection is connected
            storage.set_row_values(array, self.row, values)

    def create_synapse(self, rank: int, w: float = 0.0, delay: float = 0.0) -> None:
        """Add a synapse from pre neuron ``rank`` (population rank) with weight ``w``."""
        self.proj._create_synapses(self.row, [rank], w, delay)

    def create_synapses(self, ranks: Sequence[int], weights: Any = 0.0, delays: Any = 0.0) -> None:
        """Add synapses from several pre neurons."""
        self.proj._create_synapses(self.row, list(ranks), weights, delays)

    def prune_synapse(self, rank: int) -> None:
        """Remove the synapse from pre neuron ``rank``."""
        self.proj._prune_synapses(self.row, [rank])

    def prune_synapses(self, ranks: Sequence[int]) -> None:
        """Remove the synapses from several pre neurons."""
        self.proj._prune_synapses(self.row, list(ranks))

    def receptive_field(self, variable: str = "w", fill: float = 0.0, sample: int | None = None) -> np.ndarray:
        """The values of ``variable`` laid out in the pre-synaptic geometry.

        A projection that keeps one set per sample of a batch (see
        :attr:`Projection.batch`) gives ``(B, *pre geometry)``, or the values
        of sample ``sample``.

        Examples
        --------
        >>> from ratenet import Network, Neuron
        >>> net = Network()
        >>> a, b = net.create((2, 2), Neuron(parameters="r = 0.0")), net.create(1, Neuron(equations="r = sum(exc)"))
        >>> proj = net.connect(a, b).connect_from_matrix([[1.0, 2.0, None, 4.0]])
        >>> proj.dendrite(0).receptive_field(fill=-1.0).tolist()
        [[1.0, 2.0], [-1.0, 4.0]]
        """
        proj = self.proj
        chosen = check_sample(f"Dendrite of {proj._owner()} onto post rank {self.post_rank}", sample,
                              proj.network.batch)
        if variable not in self.attributes:
            raise self._unknown(variable)
        values = np.asarray(getattr(self, variable))
        samples = proj.batch
        if samples is not None and chosen is not None:
            values, samples = values[chosen], None
        if samples is not None and values.ndim == 1:  # one shared value per sample (postsynaptic or projection)
            values = values[:, None]
        size, geometry = proj.pre.population.size, tuple(proj.pre.population.geometry)
        out = np.full((size,) if samples is None else (samples, size), fill, dtype=np.float64)
        out[..., self.pre_ranks] = values
        return out.reshape(geometry if samples is None else (samples, *geometry))

    def __repr__(self) -> str:
        return f"<Dendrite of {self.proj.name} onto post rank {self.post_rank}: {self.size} synapses>"


class IndividualSynapse:
    """One synapse of a dendrite: ``proj.dendrite(post_rank)[pre_rank].w``.

    Per-synapse attributes read and write this synapse; shared ones read the
    dendrite's (postsynaptic) or the projection's value.

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a, b = net.create(2, Neuron(parameters="r = 0.0")), net.create(2, Neuron(equations="r = sum(exc)"))
    >>> proj = net.connect(a, b).connect_all_to_all(0.5)
    >>> syn = proj.dendrite(0)[1]
    >>> syn.w = 2.0; proj.connectivity_matrix().tolist()
    [[0.5, 2.0], [0.5, 0.5]]
    """

    def __init__(self, dendrite: Dendrite, rank: int, column: int) -> None:
        object.__setattr__(self, "dendrite", dendrite)
        object.__setattr__(self, "rank", rank)
        object.__setattr__(self, "column", column)

    def _where(self, name: str) -> tuple[np.ndarray, Any]:
        """The array holding ``name`` and this synapse's index in it."""
        dendrite = self.dendrite
        proj = dendrite.proj
        if name not in proj._attrs:
            raise AttributeError(f"synapse {self.rank} -> {dendrite.post_rank} of {proj._owner()} has no attribute "
                                 f"'{name}' (it has: {', '.join(proj._attrs)})")
        locality = proj._locality[name]
        array = proj._attrs[name]
        if locality == "projection":
            return array, ()
        if locality == "postsynaptic":
            return array, dendrite.row
        storage = proj._storage
        columns = storage.pre_ranks_of(dendrite.row)
        position = int(np.flatnonzero(columns == self.column)[0])
        if storage.kind == "dense":
            return array, (dendrite.row, self.column)
        return array, int(storage.indptr[dendrite.row]) + position

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        array, index = self._where(name)
        if self.dendrite.proj.batch is not None:  # one value per sample (Python numbers, as unbatched)
            return np.array(array[_every_sample(index)].tolist())
        return array[index].item()

    def __setattr__(self, name: str, value: Any) -> None:
        proj = self.dendrite.proj
        array, index = self._where(name)
        if proj._locality[name] == "projection":
            raise ValidationError(proj._owner(), name, "is shared by the whole projection: set it on the projection")
        samples = proj.batch
        if samples is not None:  # a number for every sample, or one per sample
            values = _numbers(proj._owner(), name, value, array.dtype, not proj.network.allow_nonfinite)
            if values.shape not in ((), (samples,)):
                raise ValidationError(proj._owner(), name, f"expected a number (every sample) or {samples} values "
                                                           f"(one per sample of the batch)",
                                      got=f"shape {values.shape}", got_repr=False)
            proj._take_snapshot()
            array[_every_sample(index)] = values
            proj._changed(name)
            return
        number = _number(proj._owner(), name, value)
        proj._take_snapshot()
        array[index] = number
        proj._changed(name)

    def __repr__(self) -> str:
        return f"<synapse {self.rank} -> {self.dendrite.post_rank} of {self.dendrite.proj.name}>"


def _every_sample(index: Any) -> tuple[Any, ...]:
    """``index`` into one sample's array, as an index into every sample's (the batch axis first)."""
    return (slice(None),) + (index if isinstance(index, tuple) else (index,))


def _same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Whether two sets of scratch arrays have the same names, shapes and dtypes (one can stand for the other)."""
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and a[k].dtype == b[k].dtype for k in a)
