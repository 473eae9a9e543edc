"""Walking syntax trees without recursion, and room on the stack for what must recurse.

Equations may hold a flat sum of thousands of terms (a left-leaning chain of
``BinOp`` nodes as deep as it is long) and may nest up to
:data:`ratenet.equations.MAX_DEPTH` levels.  Python's own tree helpers
(``copy.deepcopy``, ``ast.NodeTransformer``, ``ast.unparse``,
``ast.fix_missing_locations``) recurse once or more per level and give up near
1000 frames, so ratenet walks its trees with an explicit stack
(:func:`transform`, :func:`copy_tree`, :func:`set_locations`).

What cannot be iterative (the validator's handlers, CPython's compiler on 3.10
and 3.11, whose limit is the recursion limit minus the current depth) runs
under :func:`headroom`, which makes sure the interpreter allows enough frames
for the deepest tree ratenet accepts.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import sys
import threading
from types import FrameType
from typing import Any, Callable, Iterator, TypeVar

__all__ = ["transform", "copy_tree", "set_locations", "depth_of", "headroom", "with_headroom", "unparse"]

_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def transform(node: ast.AST, visit: Callable[[ast.AST], ast.AST] | None = None) -> ast.AST:
    """Rebuild ``node`` bottom-up, children first, with an explicit stack.

    Every node is copied (with its location); ``visit(copy)``, called once the
    copy's children are final, may return a replacement.  Subtrees shared by
    several parents are rebuilt once and stay shared; nodes without fields
    (operators such as ``ast.Add``, contexts such as ``ast.Load``) are shared,
    not copied, and not visited.

    Examples
    --------
    >>> import ast
    >>> tree = ast.parse("a + b * a", mode="eval").body
    >>> swap = lambda n: ast.Name(id="c", ctx=ast.Load()) if isinstance(n, ast.Name) and n.id == "a" else n
    >>> ast.unparse(transform(tree, swap))
    'c + b * c'
    """
    AST = ast.AST
    done: dict[int, Any] = {}
    stack: list[tuple[ast.AST, bool]] = [(node, False)]
    push, pop = stack.append, stack.pop
    while stack:
        current, ready = pop()
        key = id(current)
        if key in done:
            continue
        fields = current._fields
        if not fields and not current._attributes:
            done[key] = current
            continue
        if not ready:
            push((current, True))
            children: list[ast.AST] = []
            for name in fields:
                value = getattr(current, name, None)
                if isinstance(value, AST):
                    children.append(value)
                elif isinstance(value, list):
                    children.extend(v for v in value if isinstance(v, AST))
            for child in reversed(children):
                if id(child) not in done:
                    push((child, False))
            continue
        cls = type(current)
        new = cls.__new__(cls)
        for name in fields:
            value = getattr(current, name, None)
            if isinstance(value, AST):
                value = done[id(value)]
            elif isinstance(value, list):
                value = [done[id(v)] if isinstance(v, AST) else v for v in value]
            setattr(new, name, value)
        for attribute in current._attributes:
            value = getattr(current, attribute, None)
            if value is not None:
                setattr(new, attribute, value)
        done[key] = visit(new) if visit is not None else new
    return done[id(node)]


def copy_tree(node: ast.AST) -> ast.AST:
    """A deep copy of a syntax tree (``copy.deepcopy`` fails on deep trees).

    Examples
    --------
    >>> import ast
    >>> tree = ast.parse("x + 1", mode="eval").body
    >>> copied = copy_tree(tree)
    >>> copied is tree, ast.dump(copied) == ast.dump(tree)
    (False, True)
    """
    return transform(node)


def set_locations(node: ast.AST, lineno: int = 1, col_offset: int = 0) -> ast.AST:
    """Give every node of ``node`` the same location (for compiling generated trees)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if "lineno" in current._attributes:
            for attribute, value in zip(_LOCATION, (lineno, col_offset, lineno, col_offset), strict=True):
                setattr(current, attribute, value)
        stack.extend(ast.iter_child_nodes(current))
    return node


def depth_of(node: ast.AST) -> int:
    """Number of levels of ``node`` (a leaf has depth 1).

    Examples
    --------
    >>> import ast
    >>> depth_of(ast.parse("-(-x)", mode="eval").body)  # UnaryOp > UnaryOp > Name > Load
    4
    """
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


# ---------------------------------------------------------------------------
# room on the stack

#: Frames ratenet may need on top of the caller's: validating and compiling the deepest
#: accepted tree takes a few frames per level.
FRAMES_NEEDED = 5000

_lock = threading.Lock()
_users = 0
_saved_limit: int | None = None
_raised_to: int | None = None


def _stack_depth() -> int:
    depth = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


_inside = threading.local()


@contextlib.contextmanager
def headroom(frames: int = FRAMES_NEEDED) -> Iterator[None]:
    """Make sure ``frames`` more Python frames fit under the recursion limit.

    The limit is raised only when needed and restored when the last user
    leaves (unless someone else changed it in the meantime).  CPython 3.10 and
    3.11 also bound their compiler's recursion by this limit.  Nested uses in
    one thread cost nothing: the outermost one made the room.
    """
    global _users, _saved_limit, _raised_to
    depth = getattr(_inside, "depth", 0)
    if depth and frames <= FRAMES_NEEDED:
        _inside.depth = depth + 1
        try:
            yield
        finally:
            _inside.depth = depth
        return
    needed = _stack_depth() + frames
    with _lock:
        if _users == 0:
            _saved_limit, _raised_to = None, None
        _users += 1
        current = sys.getrecursionlimit()
        if current < needed:
            if _saved_limit is None:
                _saved_limit = current
            sys.setrecursionlimit(needed)
            _raised_to = needed
    _inside.depth = depth + 1
    try:
        yield
    finally:
        _inside.depth = depth
        with _lock:
            _users -= 1
            if _users == 0 and _saved_limit is not None and sys.getrecursionlimit() == _raised_to:
                sys.setrecursionlimit(_saved_limit)


F = TypeVar("F", bound=Callable[..., Any])


def with_headroom(function: F) -> F:
    """Decorator: run ``function`` under :func:`headroom`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with headroom():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def unparse(node: ast.AST) -> str:
    """``ast.unparse`` with room for deep trees (a placeholder when even that is not enough).

    Examples
    --------
    >>> import ast
    >>> unparse(ast.parse("a+b", mode="eval").body)
    'a + b'
    """
    with headroom():
        try:
            return ast.unparse(node)
        except RecursionError:
            return f"<expression of {depth_of(node)} levels>"
