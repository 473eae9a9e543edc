"""Weight sharing: Copy (same weights, other populations) and Transpose (back through W^T)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._batch import check_sample
from ..exceptions import ValidationError
from ..neurons import Synapse
from ..state import ProjectionState, State, Transmission
from .projection import Projection
from .record import records_connector

if TYPE_CHECKING:  # pragma: no cover
    from ..population import Population, PopulationView

__all__ = ["Copy", "Transpose"]

def _check_source(owner: str, projection: Any) -> Projection:
    if not isinstance(projection, Projection):
        raise ValidationError(owner, "projection", "must be a connected Projection", got=projection)
    if projection.network.registry.state(projection).storage is None:
        raise ValidationError(owner, "projection", "must be a connected projection with weights (not Convolution "
                                                   "or Pooling)", got=projection)
    return projection


class _SharedWeights(Projection):
    """Copy and Transpose read their original's synapses and weights at each use.

    Nothing is copied, so learning, structural changes and loads in the
    original are seen at once.  The original is read through its state record.
    """

    _replays_connector = True

    def _describe_state(self) -> None:
        super()._describe_state()
        self._state.save_kind = None  # the weights belong to the original

    def _linked(self) -> ProjectionState | None:
        """The original's state record once connected (None before)."""
        link = self.__dict__.get("_original_linked")
        return None if link is None else self.network.registry.state(link)

    @property
    def _storage(self) -> Any:
        link = self._linked()
        return link.storage if link is not None else self._state.storage

    @_storage.setter
    def _storage(self, value: Any) -> None:
        self._state.storage = value

    @property
    def _attrs(self) -> dict[str, np.ndarray]:
        link = self._linked()
        return {"w": link.values["w"]} if link is not None else self._state.values

    @_attrs.setter
    def _attrs(self, value: dict[str, np.ndarray]) -> None:
        self._state.values = value

    def _weights(self) -> State:
        link = self._linked()
        assert link is not None
        return link

    def _fusable(self) -> bool:
        return False

    def _snapshot(self) -> None:
        self._initial_state = None

    def reset(self, attributes: Any = None) -> None:
        """Nothing to restore: the weights belong to the original."""

    def _take_snapshot(self) -> None:
        link = self._linked()
        if link is not None:
            link.before_write()

    def _changed(self, name: str | None = None) -> None:
        link = self._linked()
        if link is not None and name is not None:
            link.bump(name)  # a write through the copy is a write to the original's array
        else:
            super()._changed(name)

    def _create_synapses(self, row: int, ranks: Any, weights: Any, delays: Any) -> None:
        raise ValidationError(self._owner(), "create_synapse", "shares the synapses of "
                              f"'{self._original.name}': create synapses there")

    def _prune_synapses(self, row: int, ranks: Any) -> None:
        raise ValidationError(self._owner(), "prune_synapse", "shares the synapses of "
                              f"'{self._original.name}': prune synapses there")


class Copy(_SharedWeights):
    """A projection that uses another projection's weights (shared, not copied).

    Learning in the original changes what the copy transmits; the copy itself
    does not learn.

    Parameters
    ----------
    pre, post : Population or PopulationView
        Of the same sizes as the original's.
    target : str
    psp : str
        ``"w * pre.r"`` by default.
    operation : {"sum", "max", "min", "mean"}
    name : str, optional

    Examples
    --------
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a, b = (net.create(2, Neuron(parameters="r = 1.0")) for _ in range(2))
    >>> c, d = (net.create(2, Neuron(equations="r = sum(exc)")) for _ in range(2))
    >>> original = net.connect(a, c).connect_all_to_all(0.5)
    >>> copy = net.connect(Copy(b, d, "exc")).connect_copy(original)
    >>> net.simulate(2.0); d.r.tolist()
    [1.0, 1.0]
    """

    def __init__(self, pre: "Population | PopulationView", post: "Population | PopulationView", target: str = "exc",
                 psp: str = "w * pre.r", operation: str = "sum", name: str | None = None) -> None:
        synapse = Synapse(psp=psp, operation=operation, name="Copy")
        super().__init__(pre, post, target, synapse, name=name)
        self._original: Projection | None = None

    @records_connector("Copy")
    def connect_copy(self, projection: Projection) -> "Copy":
        """Share the weights (and delays) of ``projection``."""
        self._check_unconnected()
        original = _check_source(self._owner(), projection)
        if original.pre.size != self.pre.size or original.post.size != self.post.size:
            raise ValidationError(self._owner(), "projection", f"connects {original.pre.size} -> "
                                                               f"{original.post.size} neurons but this copy connects "
                                  f"{self.pre.size} -> {self.post.size}")
        self._original = original
        self.__dict__["_original_linked"] = original
        self._locality = {"w": "local"}
        self._changed()
        return self

    copy = connect_copy

    def _connector_hint(self) -> str:
        return "connect_copy(projection)"

    @property
    def _delays(self) -> Any:
        link = self._linked()
        return link.delays if link is not None else self._state.delays

    @_delays.setter
    def _delays(self, value: Any) -> None:
        self._state.delays = value


class Transpose(_SharedWeights):
    """Send ``projection.post``'s rates back to ``projection.pre`` through the transposed weights.

    ``sum(target)`` of ``projection.pre`` neuron ``j`` receives
    ``sum_i w[i, j] * r_post[i]``.  The weights stay shared: learning in the
    original is seen at once.

    Parameters
    ----------
    projection : Projection
    target : str
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> a = net.create(3, Neuron(equations="r = sum(back)"))
    >>> b = net.create(2, Neuron(parameters="r = 1.0"))
    >>> forward = net.connect(a, b).connect_from_matrix(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    >>> back = Transpose(forward, "back").connect()
    >>> net.simulate(2.0); a.r.tolist()
    [5.0, 7.0, 9.0]
    """

    def __init__(self, projection: Projection, target: str = "exc", name: str | None = None) -> None:
        original = _check_source("Transpose", projection)
        super().__init__(original.post, original.pre, target, name=name)
        self._original = original

    @records_connector("Transpose", lambda proj: {"original": proj._original.name})
    def connect(self) -> "Transpose":
        """Bind to the original's weights."""
        self._check_unconnected()
        self.__dict__["_original_linked"] = self._original
        self._locality = {"w": "local"}
        self._changed()
        return self

    transpose = connect

    def _connector_hint(self) -> str:
        return "connect()"

    @property
    def nb_synapses(self) -> int:
        return self._require_connected().nnz

    def _get_attribute(self, name: str, sample: int | None = None) -> Any:
        return self._original.get(name, sample)

    def connectivity_matrix(self, fill: float = 0.0, sample: int | None = None) -> np.ndarray:
        """The original's matrix transposed: ``(pre of the original, post of the original)``.

        One matrix per sample when the original keeps a weight set per sample
        of a batch (the batch axis first), or sample ``sample``'s.
        """
        check_sample(self._owner(), sample, self.network.batch)
        return np.swapaxes(self._original.connectivity_matrix(fill, sample), -1, -2).copy()

    def _matrices(self, variable: str, sample: int | None, fill: float = 0.0) -> list[np.ndarray]:
        return [matrix.T for matrix in super()._matrices(variable, sample, fill)]  # (this post, this pre)

    def dendrite(self, post: Any) -> Any:
        raise ValidationError(self._owner(), "dendrite", "is not available on a transposed projection: use the "
                                                         "original projection's dendrites")

    def _transmission(self) -> Transmission:
        # self.pre is the original's post, self.post the original's pre.
        storage = self._require_connected()
        weights = self._weights()
        return Transmission(storage.kind, self.pre, self.post, self.target, 1, self._describe(), source=weights,
                            storage=storage, transposed=True, reads=[(weights, "w")])

    def _describe(self) -> str:
        return f"transposed weights of {self._original.name}"

    def _history_needs(self) -> list[tuple[Any, str, int]]:
        return []


