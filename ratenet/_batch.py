"""The ``sample=`` argument of the functions that show or return one sample of a batch.

In a batched network (``Network(batch=B)``) population arrays, and the
synaptic arrays of a learning projection, have a leading axis of B samples.
A function that draws one picture (``pop.plot()``, ``proj.plot_weights()``,
``monitor.plot()``, ``monitor.animate()``) takes ``sample=`` (0 by
default) and says which one it drew; a function that returns values
(``proj.connectivity_matrix()``, ``proj.receptive_fields()``, ``proj.get()``)
returns the batch axis first unless ``sample=`` picks one.  Every one of
them checks the argument here, with the same message.
"""

from __future__ import annotations

import numbers
from typing import Any

from .exceptions import ValidationError

__all__ = ["check_sample", "one_sample"]


def check_sample(owner: str, sample: Any, batch: int | None) -> int | None:
    """``sample`` checked against a batch of ``batch`` samples (None: the network has no batch axis).

    None (every sample, or the only one) is accepted; so is 0 without a batch
    (code written for batches runs unbatched).  Any other value without a
    batch axis, or an index outside ``[0, batch)``, is refused.

    Examples
    --------
    >>> check_sample("Projection 'p'", 2, 3), check_sample("Projection 'p'", None, 3)
    (2, None)
    >>> check_sample("Projection 'p'", 3, 3)
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Projection 'p'.sample: must be an integer in [0, 3) (got 3)
    """
    if sample is None:
        return None
    integer = not isinstance(sample, bool) and isinstance(sample, numbers.Integral)
    if batch is None:
        if integer and sample == 0:
            return 0
        raise ValidationError(owner, "sample", "the network has no batch axis: leave it out (or 0)", got=sample)
    if not integer or not 0 <= sample < batch:
        raise ValidationError(owner, "sample", f"must be an integer in [0, {batch})", got=sample)
    return int(sample)


def one_sample(owner: str, sample: Any, batch: int | None) -> int:
    """``sample`` for a function that draws one sample: an integer in ``[0, batch)`` (0 without a batch axis).

    Examples
    --------
    >>> one_sample("Monitor 'm'", 1, 2), one_sample("Monitor 'm'", 0, None)
    (1, 0)
    >>> one_sample("Monitor 'm'", None, 2)
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Monitor 'm'.sample: must be an integer in [0, 2) (got None)
    """
    if sample is None and batch is not None:
        raise ValidationError(owner, "sample", f"must be an integer in [0, {batch})", got=sample)
    chosen = check_sample(owner, sample, batch)
    return 0 if chosen is None else chosen
