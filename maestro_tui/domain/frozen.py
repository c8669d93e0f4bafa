"""Fast construction and `replace` for frozen, slotted dataclasses (events and RunState).

A frozen dataclass's `__init__` sets each field through `object.__setattr__` by name, and
`dataclasses.replace` loops over the fields in Python before calling it: that is most of the
cost of emitting an event and of the reducer. The functions here are generated once per
class, as dataclasses generate theirs, and fill the slots through their descriptors; the
objects they make are equal to the dataclass's own, and stay frozen (the class keeps its
`__setattr__`, which raises FrozenInstanceError).

Measured (CPython 3.11): building an AgentOutput 797 → 543 ns; replacing two fields of a
TaskView (33 fields) 11.1 → 1.3 µs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_REPLACERS: dict[type, Callable[[Any, dict[str, Any]], Any]] = {}


def _plain(cls: type, *, init: bool) -> bool:
    """Whether the generated functions may stand in for the dataclass's own: no
    `__post_init__`, and for `__init__` no default factory and no field left out of it."""
    fields = dataclasses.fields(cls)
    return (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__post_init__")
        and (not init or all(f.init and f.default_factory is dataclasses.MISSING for f in fields))
    )


def slot_init(cls: type) -> Callable[..., None]:
    """An `__init__` (keyword-only) equal to the frozen dataclass's, or the class's own when
    the class has a default factory, a non-init field or `__post_init__`."""
    if not _plain(cls, init=True):
        # mypy calls reading __init__ off a class unsound (a subclass may differ): wanted here.
        own: Callable[..., None] = cls.__init__  # type: ignore[misc]
        return own
    fields = dataclasses.fields(cls)
    scope: dict[str, Any] = {f"_set_{f.name}": getattr(cls, f.name).__set__ for f in fields}
    params = []
    for f in fields:
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fields) or "    pass\n"
    # Field names are Python identifiers: nothing to quote in the generated source.
    exec(f"def __init__(self, *, {', '.join(params)}):\n{body}", scope)  # noqa: S102
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _replacer(cls: type) -> Callable[[Any, dict[str, Any]], Any]:
    names = [f.name for f in dataclasses.fields(cls)]
    setters = {name: getattr(cls, name).__set__ for name in names}
    scope: dict[str, Any] = {f"_set_{n}": setters[n] for n in names}
    scope.update(_new=object.__new__, _cls=cls, _setters=setters)
    copy = "".join(f"    _set_{n}(new, obj.{n})\n" for n in names)
    exec(  # noqa: S102 - built from dataclass field names only
        f"def replace(obj, changes):\n    new = _new(_cls)\n{copy}"
        "    for name, value in changes.items():\n"
        "        _setters[name](new, value)\n"
        "    return new\n",
        scope,
    )
    made: Callable[[Any, dict[str, Any]], Any] = scope["replace"]
    return made


def replace(obj: T, /, **changes: Any) -> T:
    """`dataclasses.replace` for frozen slotted dataclasses, without going through __init__."""
    cls = obj.__class__
    make = _REPLACERS.get(cls)
    if make is None:
        if not _plain(cls, init=False):
            return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
        make = _REPLACERS[cls] = _replacer(cls)
    try:
        return make(obj, changes)  # type: ignore[no-any-return]
    except KeyError as exc:
        raise TypeError(f"{cls.__name__} has no field {exc.args[0]!r}") from None
