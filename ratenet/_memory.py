"""Memory estimates: refuse an allocation that cannot fit before trying it.

NumPy raises ``MemoryError`` (or ``ValueError: array is too big``) deep in
an allocation, after the caller has half-built an object.  Callers that know
how many bytes they are about to ask for check them here first and get an
error that says how much it would take.
"""

from __future__ import annotations

import os

from .exceptions import ValidationError

__all__ = ["physical_memory", "describe_bytes", "check_bytes"]


def physical_memory() -> int:
    """The machine's physical memory in bytes (a large default when the system does not say).

    Examples
    --------
    >>> physical_memory() > 2**20
    True
    """
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 2**40


def describe_bytes(count: float) -> str:
    """A byte count for people: ``'1.5 GB'``.

    Examples
    --------
    >>> describe_bytes(512), describe_bytes(3 * 2**30), describe_bytes(8e21)
    ('512 bytes', '3.2 GB', '8e+09 TB')
    """
    if count < 1000:
        return f"{int(count)} bytes"
    for unit, size in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if count < size * 1000:
            return f"{count / size:.1f} {unit}"
    return f"{count / 1e12:.3g} TB"


def check_bytes(count: float, owner: str, argument: str, what: str, got: object) -> None:
    """Refuse ``count`` bytes when they exceed the machine's physical memory.

    Examples
    --------
    >>> check_bytes(10**3, "Population", "geometry", "its arrays", 125)
    >>> check_bytes(8 * 10**12 * 3, "Population", "geometry", "its 3 arrays", 10**12)
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: Population.geometry: its 3 arrays would take 24 TB, more than ...
    """
    limit = physical_memory()
    if count > limit:
        raise ValidationError(owner, argument, f"{what} would take {describe_bytes(count)}, more than this "
                                               f"machine's memory ({describe_bytes(limit)})", got=got)
