"""The state file (``.npz``): every array of populations and projections, bit for bit.

Functions here work on :mod:`state records <ratenet.state>`, so populations
and projections can save themselves and :func:`ratenet.save` /
:func:`ratenet.load` (in :mod:`ratenet.api`) can save a whole network with
its delay histories and step.  Loading checks the whole file against the
objects before changing anything, so a file that does not fit leaves them as
they were.

Keys: ``pop:<name>:<attribute>``, ``proj:<name>:<attribute or .storage field>``,
``kern:<name>:...`` (Convolution and Pooling), ``hist:<population>:<variable>``
and ``.step``.  Names may hold any character, ``:`` included: a key is split
at its first ``:`` (the kind) and its last (attributes and storage fields
are identifiers or ``.name``, never holding one), so ``pop:a:b:r`` is
attribute ``r`` of population ``a:b``.  Files written before this rule read
the same.

Writing is atomic: the archive goes to a temporary file in the target's
folder, is flushed to disk, then replaces the target in one ``os.replace``;
an interrupt or a full disk leaves the previous file as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from typing import IO, Any, Callable, Iterable

import numpy as np

from .exceptions import FileError, MissingFileError, ValidationError
from .state import PopulationState, ProjectionState

__all__ = ["save_objects", "load_objects", "Loaded", "check_path", "write_atomic", "read_file", "expect",
           "split_key"]

_FORMAT = "ratenet-state-1"

_KIND_NAMES = {"f": "floating-point", "i": "integer", "u": "integer", "b": "boolean", "U": "string", "S": "bytes",
               "O": "object", "c": "complex", "V": "raw", "M": "date", "m": "time-delta"}


class Loaded:
    """What a network-level load hands back besides the objects: the step and the delay histories.

    Examples
    --------
    >>> Loaded(3).step, Loaded().histories
    (3, {})
    """

    def __init__(self, step: int | None = None, histories: dict[tuple[str, str], np.ndarray] | None = None) -> None:
        self.step = step
        self.histories: dict[tuple[str, str], np.ndarray] = {} if histories is None else histories


# ------------------------------------------------------------------ paths and files
def check_path(filename: Any, owner: str) -> str:
    """The path as a string; anything but a non-empty str or os.PathLike is refused.

    Examples
    --------
    >>> check_path("state.npz", "save")
    'state.npz'
    >>> check_path(None, "save")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: save.filename: must be a path (a str or os.PathLike) (got None)
    """
    if isinstance(filename, os.PathLike):
        filename = os.fspath(filename)
    if not isinstance(filename, str) or not filename:
        raise ValidationError(owner, "filename", "must be a path (a str or os.PathLike)", got=filename)
    return filename


def _new_file_mode(target: str) -> int:
    """The permissions a plain ``open(target, "w")`` would give: the target's own, or 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)  # the only portable way to read it; set back at once
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(filename: Any, write: Callable[[IO[bytes]], None], owner: str = "save") -> str:
    """Write a file through ``write(handle)`` so that it is either wholly new or untouched.

    ``write`` fills a temporary file in the target's folder; it is flushed
    and synced to disk, given the permissions the target has (or a new file
    would get), then renamed over the target.  If anything fails or the
    process is interrupted before the rename, the temporary file is removed
    and the target keeps its previous content.  Failures of the operating
    system become :class:`~ratenet.exceptions.FileError` naming ``owner`` and
    the path (with the OSError as cause).  Returns the path written.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> write_atomic(path, lambda handle: handle.write(b"hello")) == path
    True
    >>> open(path).read()
    'hello'
    >>> def broken(handle):
    ...     handle.write(b"half")
    ...     raise KeyboardInterrupt
    >>> try:
    ...     write_atomic(path, broken)
    ... except KeyboardInterrupt:
    ...     pass
    >>> open(path).read(), sorted(os.listdir(os.path.dirname(path)))
    ('hello', ['note.txt'])
    """
    path = check_path(filename, owner)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise FileError(f"{owner}: cannot write '{path}': it is a folder")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as exc:
        raise FileError(f"{owner}: cannot write '{path}' ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, FileError):
            raise FileError(f"{owner}: cannot write '{path}' ({exc.strerror or exc})") from exc
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return path
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dir_fd)
    return path


def _what_file(path: str) -> str:
    """What a file that is not an ``.npz`` archive looks like, from its first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy array (.npy, as numpy.save writes)"
    if head.startswith(b"PK"):
        return "a truncated or damaged .npz archive"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "a binary file that is not an .npz archive"


def read_file(filename: Any, owner: str, expected: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive, or a clear error saying what the file is instead.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.npz")
    >>> _ = open(path, "w").write("not an archive")
    >>> read_file(path, "load", "a ratenet state file")
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: load.filename: expected a ratenet state file (got a text file: '...notes.npz')
    """
    path = check_path(filename, owner)
    if not os.path.exists(path):
        raise MissingFileError(f"{owner}: no such file: '{path}'")
    if os.path.isdir(path):
        raise FileError(f"{owner}: cannot read '{path}': it is a folder")
    try:
        with open(path, "rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"
        if not is_zip:
            raise ValidationError(owner, "filename", f"expected {expected}", got=f"{_what_file(path)}: '{path}'",
                                  got_repr=False)
        arrays: dict[str, np.ndarray] = {}
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                try:
                    arrays[key] = data[key]
                except ValueError as exc:
                    if "allow_pickle" in str(exc):
                        raise ValidationError(owner, key, "expected an array of numbers or text",
                                              got="Python objects (pickled data, which ratenet never reads)",
                                              got_repr=False) from None
                    raise
    except (ValidationError, FileError):
        raise
    except OSError as exc:
        raise FileError(f"{owner}: cannot read '{path}' ({exc.strerror or exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError, ValueError from a damaged member
        raise ValidationError(owner, "filename", f"expected {expected}",
                              got=f"a truncated or damaged .npz archive: '{path}' ({type(exc).__name__}: {exc})",
                              got_repr=False) from None
    return arrays


def split_key(key: str) -> tuple[str, str, str]:
    """``(kind, name, field)`` of a state-file key; the name may hold ``:``.

    Examples
    --------
    >>> split_key("pop:input:r"), split_key("pop:layer:1:r"), split_key("proj:a:b:.indptr")
    (('pop', 'input', 'r'), ('pop', 'layer:1', 'r'), ('proj', 'a:b', '.indptr'))
    """
    kind, rest = key.split(":", 1)
    name, attr = rest.rsplit(":", 1)
    return kind, name, attr


def _describe(value: np.ndarray) -> str:
    kind = _KIND_NAMES.get(value.dtype.kind, str(value.dtype))
    shape = "a single value" if value.ndim == 0 else f"shape {value.shape}"
    return f"{kind} values ({value.dtype}), {shape}"


def expect(owner: str, key: str, value: np.ndarray, kinds: str, shape: tuple[int, ...] | None = None,
           finite: bool = False, what: str = "numbers") -> None:
    """Refuse a saved array whose dtype kind is not in ``kinds``, whose shape differs, or that is not finite.

    The error names the key, what was expected and what the file holds.

    Examples
    --------
    >>> import numpy as np
    >>> expect("load('s.npz')", "pop:p:r", np.zeros(3), "biuf", (3,), finite=True)
    >>> expect("load('s.npz')", "pop:p:r", np.array(["a", "b", "c"]), "biuf", (3,))
    Traceback (most recent call last):
    ...
    ratenet.exceptions.ValidationError: load('s.npz').pop:p:r: expected numbers of shape (3,) (got string values ...
    """
    expected = what + (" (a single value)" if shape == () else f" of shape {shape}" if shape is not None else "")
    if value.dtype.kind not in kinds or (shape is not None and value.shape != shape):
        raise ValidationError(owner, key, f"expected {expected}", got=_describe(value), got_repr=False)
    if finite and value.dtype.kind in "fc" and not np.isfinite(value).all():
        bad = np.ravel(value)[~np.isfinite(np.ravel(value))][0]
        raise ValidationError(owner, key, f"expected finite {expected} (pass allow_nonfinite=True to the network "
                                          f"to accept NaN and infinities)",
                              got=f"{int(np.sum(~np.isfinite(value)))} non-finite value(s), such as {bad}",
                              got_repr=False)


#: The dtype kinds a saved array may have, by the kind of attribute it restores (no silent truncation).
ACCEPTED_KINDS = {"float": "biuf", "int": "biu", "bool": "b"}


# ------------------------------------------------------------------ save
def _population_arrays(state: PopulationState) -> dict[str, np.ndarray]:
    return {f"pop:{state.name}:{name}": state.per_sample(name) if state.batch is not None and level != "local"
            else np.asarray(state.values[name]) for name, level in state.locality.items()}


def save_objects(filename: str | os.PathLike[str], populations: Iterable[PopulationState],
                 projections: Iterable[ProjectionState], step: int | None = None,
                 histories: dict[tuple[str, str], np.ndarray] | None = None, owner: str = "save") -> None:
    """Write the given objects' state to ``filename`` (exactly that path), atomically.

    ``histories`` holds the ring buffers of delayed projections, by (population
    name, variable), so that a loaded network continues exactly as the saved one.

    Examples
    --------
    >>> import os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(parameters="r = 0.0"), name="inp")
    >>> pop.r = [1.0, 2.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "pop.npz")
    >>> save_objects(path, [net.registry.state(pop)], [])
    >>> sorted(np.load(path).files)
    ['.format', 'pop:inp:r']
    """
    path = check_path(filename, owner)
    arrays: dict[str, np.ndarray] = {".format": np.array(_FORMAT)}
    if step is not None:
        arrays[".step"] = np.array(step)
    for pop in populations:
        arrays.update(_population_arrays(pop))
    for proj in projections:
        if proj.save_kind is not None:
            arrays.update({f"{proj.save_kind}:{proj.name}:{key}": value for key, value in proj.export().items()})
    for (pop_name, var), ring in (histories or {}).items():
        arrays[f"hist:{pop_name}:{var}"] = ring
    entries: dict[str, Any] = arrays  # savez's stubs type **kwds like its own keywords
    write_atomic(path, lambda handle: np.savez(handle, **entries), owner)


# ------------------------------------------------------------------ load
def _read(filename: Any) -> dict[str, np.ndarray]:
    arrays = read_file(filename, "load", "a ratenet state file written by save() (an .npz archive)")
    path = os.fspath(filename)
    fmt = arrays.get(".format")
    if fmt is None or fmt.dtype.kind != "U" or fmt.shape != () or fmt.item() != _FORMAT:
        found = "no '.format' entry" if fmt is None else f"'.format' = {fmt!r}"
        raise ValidationError("load", "filename", "expected a ratenet state file written by save()",
                              got=f"an .npz archive with {found}: '{path}'", got_repr=False)
    return arrays


def _group(arrays: dict[str, np.ndarray], kind: str) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        if key.startswith(kind + ":") and key.count(":") >= 2:
            _, name, attr = split_key(key)
            groups.setdefault(name, {})[attr] = value
    return groups


def _match(saved: dict[str, Any], current: dict[str, Any], what: str, where: str) -> dict[str, Any]:
    """Pair saved groups with objects by name (a single object takes a single saved one by any name)."""
    if len(saved) == 1 and len(current) == 1:
        (saved_name,), (name,) = saved, current
        return {saved_name: current[name]}
    if set(saved) != set(current):
        missing = sorted(set(current) - set(saved))
        extra = sorted(set(saved) - set(current))
        detail = "; ".join(part for part in (f"not in the file: {missing}" if missing else "",
                                             f"not in the network: {extra}" if extra else "") if part)
        raise ValidationError(where, what, f"the file and the network hold different {what} ({detail})")
    return {name: current[name] for name in saved}


def _check_population(state: PopulationState, name: str, saved: dict[str, np.ndarray], where: str,
                      finite: bool) -> None:
    attributes = list(state.locality)
    if set(saved) != set(attributes):
        raise ValidationError(where, f"population '{name}'", f"the file has attributes {sorted(saved)}, the "
                                                             f"population {sorted(attributes)}")
    for attr, value in saved.items():
        kind = state.kinds.get(attr, "float")
        local = state.locality[attr] == "local" or _made_local(state, attr, value)
        if local and attr in state.promotable and np.shape(value) != tuple(state.shape):
            local = False  # saved before a per-neuron assignment made it local here: one value, spread on restore
        if state.batch is None:
            shape = tuple(state.geometry) if local else ()
        else:  # one value per sample: (B, *geometry), or (B, 1, ...) for population-level ones
            shape = tuple(state.shape) if local else \
                (state.batch,) + (1,) * len(state.geometry)
        what = {"float": "numbers", "int": "integers", "bool": "booleans"}[kind]
        if state.batch is not None:  # a file saved without a batch, or with another one, says so by its shape
            what += f" (one set per sample of the network's batch of {state.batch})"
        expect(where, f"pop:{name}:{attr}", value, ACCEPTED_KINDS[kind], shape, finite and kind == "float", what)


def _made_local(state: PopulationState, attr: str, value: np.ndarray) -> bool:
    """Whether a saved array holds one value per neuron for a parameter that may become local (5.0.0's default).

    In a batch, a population of one neuron holds a population-level value with the shape of a
    per-neuron one, ``(B, 1, ...)``: such a file holds one value per sample, nothing to promote.
    """
    shared = () if state.batch is None else (state.batch,) + (1,) * len(state.geometry)
    return attr in state.promotable and np.shape(value) == tuple(state.shape) != shared


def _restore_population(state: PopulationState, saved: dict[str, np.ndarray]) -> None:
    values = state.values
    for attr, value in saved.items():
        if state.locality[attr] != "local" and _made_local(state, attr, value):
            state.promote(attr)  # saved after a per-neuron assignment made it local
        if state.locality[attr] != "local" and state.batch is not None:
            state.set_per_sample(attr, value)
        elif state.locality[attr] != "local":
            values[attr] = np.asarray(values[attr]).dtype.type(value)
        else:
            state.writable(attr, keep=False)[...] = value  # never into an array the caller lent (see writable)
        state.bump(attr)


def _check_step(arrays: dict[str, np.ndarray], where: str) -> int | None:
    if ".step" not in arrays:
        return None
    step = arrays[".step"]
    if step.dtype.kind not in "iu" or step.shape != () or int(step) < 0:
        raise ValidationError(where, ".step", "expected a non-negative integer (a single value)",
                              got=_describe(step) if step.dtype.kind not in "iu" or step.shape != ()
                              else f"{int(step)}", got_repr=False)
    return int(step)


def _check_histories(arrays: dict[str, np.ndarray], where: str, finite: bool,
                     shapes: dict[tuple[str, str], tuple[int, ...]] | None) -> dict[tuple[str, str], np.ndarray]:
    histories: dict[tuple[str, str], np.ndarray] = {}
    for key, value in arrays.items():
        if not key.startswith("hist:"):
            continue
        if key.count(":") < 2:
            raise ValidationError(where, key, "expected a key 'hist:<population>:<variable>'", got=key)
        _, name, var = split_key(key)
        shape = None if shapes is None else shapes.get((name, var))
        if value.ndim < 1:
            raise ValidationError(where, key, "expected a history of one array per step",
                                  got=_describe(value), got_repr=False)
        if shape is not None and shape[0] < 0:
            # any depth: the projections loaded with the history decide how many steps it holds
            if value.shape[1:] != shape[1:]:
                raise ValidationError(where, key, f"expected a history of arrays of shape {shape[1:]}, one per step",
                                      got=_describe(value), got_repr=False)
            shape = None
        expect(where, key, value, "biuf", shape, finite)
        histories[(name, var)] = value
    return histories


def load_objects(filename: str | os.PathLike[str], populations: Iterable[PopulationState] | None,
                 projections: Iterable[ProjectionState] | None, finite: bool = True,
                 history_shapes: dict[tuple[str, str], tuple[int, ...]] | None = None) -> Loaded:
    """Restore the given objects from ``filename`` (``None``: leave that kind alone).

    The whole file is checked before anything changes: every entry's dtype,
    shape and (with ``finite``) finiteness, the step, the connectivity of
    projections (see their ``check``) and, when ``history_shapes`` gives
    them, the delay histories.  A refused file leaves every object exactly
    as it was.  Returns the saved step and delay histories, for the network
    to continue where the file left off.

    Examples
    --------
    >>> import os, tempfile
    >>> from ratenet import Network, Neuron
    >>> net = Network()
    >>> pop = net.create(2, Neuron(parameters="r = 0.0"), name="inp")
    >>> pop.r = [1.0, 2.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "pop.npz")
    >>> save_objects(path, [net.registry.state(pop)], [], step=7)
    >>> pop.r = 0.0
    >>> load_objects(path, [net.registry.state(pop)], None).step, pop.r.tolist()
    (7, [1.0, 2.0])
    """
    arrays = _read(filename)
    where = f"load('{os.fspath(filename)}')"
    matched: list[tuple[Any, dict[str, np.ndarray]]] = []
    step = _check_step(arrays, where)
    histories = _check_histories(arrays, where, finite, history_shapes) if populations is not None else {}
    if populations is not None:
        saved_pops = _group(arrays, "pop")
        pops = _match(saved_pops, {p.name: p for p in populations}, "populations", where)
        for name, saved in saved_pops.items():
            _check_population(pops[name], name, saved, where, finite)
            matched.append((pops[name], saved))
    if projections is not None:
        projections = list(projections)
        for kind, what in (("proj", "projections"), ("kern", "convolution and pooling projections")):
            saved_projs = _group(arrays, kind)
            current = {p.name: p for p in projections if p.save_kind == kind}
            if kind == "kern" and not saved_projs and not current:
                continue
            projs = _match(saved_projs, current, what, where)
            for name, saved in saved_projs.items():
                projs[name].check(saved, f"{kind}:{name}:", where)
                matched.append((projs[name], saved))
    # -- then change
    for state, saved in matched:
        if isinstance(state, PopulationState):
            _restore_population(state, saved)
        else:
            state.restore(saved)
    return Loaded(step, histories)
