"""The generated replace of frozen slotted dataclasses gives what dataclasses.replace gives."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from maestro_tui.domain import frozen
from maestro_tui.domain.state import ModelUsage, RunState, RunStatus, TaskStatus, TaskView


def _task() -> TaskView:
    return TaskView(id="a", title="A", role="coder", prompt="p", files=("x",), depends_on=())


@pytest.mark.parametrize(
    ("obj", "changes"),
    [
        (_task(), {}),
        (_task(), {"status": TaskStatus.RUNNING, "tokens_in": 5, "cost_usd": 0.5}),
        (RunState(), {"status": RunStatus.RUNNING, "tasks": {"a": _task()}}),
        (ModelUsage(calls=1), {"simulated": True}),
    ],
)
def test_replace_equals_the_dataclass_replace(obj: object, changes: dict[str, Any]) -> None:
    fast = frozen.replace(obj, **changes)
    assert fast == dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    assert type(fast) is type(obj) and fast is not obj
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(fast)[0].name, None)  # type: ignore[arg-type]


def test_replace_refuses_a_field_the_class_lacks() -> None:
    with pytest.raises(TypeError, match="TaskView has no field 'colour'"):
        frozen.replace(_task(), colour="red")


def test_classes_it_cannot_stand_in_for_keep_the_dataclass_behaviour() -> None:
    @dataclasses.dataclass(frozen=True)
    class WithDict:
        n: int

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("negative")

    assert frozen.replace(WithDict(1), n=2) == WithDict(2)
    with pytest.raises(ValueError, match="negative"):
        frozen.replace(WithDict(1), n=-1)
