"""`@record`: the per-message value types of the pipeline, immutable to the type checker, cheap at run time.

A `@dataclass(frozen=True)` assigns each field through `object.__setattr__` in its `__init__`: on CPython 3.11
that costs ~0.1 µs a field, and one message builds seven records with ~50 fields — about 5 µs of a 50 µs
budget. `record` makes a plain slotted dataclass that mypy nevertheless treats as frozen (PEP 681
`frozen_default`), so assigning to a field is still a type error under `mypy --strict`, and
`dataclasses.replace` is still how a changed copy is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    return dataclass(slots=True)(cls)
