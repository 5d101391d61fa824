"""What binds a row's envelopes together: its seal counter, its bound columns, its fields.

`server.vault.fields` declares encrypted fields; this module keeps each model's fields, so that
a write of one field re-seals the others under the row's next counter, a change of a bound
column through the ORM re-seals the fields bound to it, and `seal_holds` can tell whether every
seal of a row still holds.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper

from server.vault.envelopes import Place, VaultError


class RowField(Protocol):
    """An encrypted field as the row's other fields see it (an `EncryptedField`)."""

    binds: tuple[str, ...]
    column_attribute: str

    def read(self, obj: Any) -> object: ...

    def open_raw(self, obj: Any, envelope: bytes, place: Place) -> bytes: ...

    def seal_raw(self, obj: Any, raw: bytes, place: Place) -> bytes: ...

    def place_of(
        self, obj: Any, *, counter: int | None = None, changes: Mapping[str, Any] | None = None
    ) -> Place: ...


#: Each model's encrypted fields, to re-seal a row's fields together.
_BY_MODEL: dict[type, list[RowField]] = {}


def register(model: type, field: RowField) -> None:
    """Remember a field declared on a model."""
    _BY_MODEL.setdefault(model, []).append(field)


def bound_text(value: Any) -> str:
    """How a bound column's value is written into the associated data."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return value.hex
    return str(value)


def bound_value(obj: object, name: str) -> Any:
    """A bound column's value, or the default the row will be inserted with when unset."""
    value = getattr(obj, name)
    if value is None:
        column = inspect(type(obj)).columns[name]
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            value = getattr(default, "arg", None)
    return value


def counter_attribute(model: type) -> str | None:
    """The column a model counts its rows' seals in, if it keeps one."""
    found: str | None = getattr(model, "seal_counter_attribute", None)
    return found


def counter_of(obj: object) -> int | None:
    """A row's seal counter (0 before its first insert), or None for a model without one."""
    name = counter_attribute(type(obj))
    return None if name is None else int(getattr(obj, name) or 0)


def fields_of(model: type) -> tuple[RowField, ...]:
    """The encrypted fields a model declares."""
    return tuple(_BY_MODEL.get(model, ()))


def reseal_row(
    obj: Any,
    *,
    bump: bool,
    changes: Mapping[str, Any],
    skip: RowField | None,
) -> None:
    """Re-seal a row's other fields under its next counter, or for new bound values."""
    counter_name = counter_attribute(type(obj))
    old = counter_of(obj)
    new = old + 1 if bump and old is not None else old
    for field in fields_of(type(obj)):
        if field is skip or (new == old and not set(field.binds) & set(changes)):
            continue
        envelope: bytes | None = getattr(obj, field.column_attribute)
        if envelope is None:
            continue
        raw = field.open_raw(obj, envelope, field.place_of(obj, counter=old))
        place = field.place_of(obj, counter=new, changes=changes)
        setattr(obj, field.column_attribute, field.seal_raw(obj, raw, place))
    if counter_name is not None and new != old:
        setattr(obj, counter_name, new)


def seal_holds(row: object) -> bool:
    """Whether every encrypted field of a row opens where it is: False when a ciphertext was
    moved or rolled back, or a column bound to it (a contact's consent) was edited by hand."""
    for field in fields_of(type(row)):
        try:
            field.read(row)
        except VaultError:
            return False
    return True


def _on_bound_change(target: Any, value: Any, old: Any, initiator: Any) -> None:
    """Before a bound column takes a new value: re-seal its fields for it (and bump)."""
    key = initiator.key
    if bound_text(value) == bound_text(bound_value(target, key)):
        return
    bump = counter_attribute(type(target)) is not None
    reseal_row(target, bump=bump, changes={key: value}, skip=None)


_WATCHED: set[tuple[type, str]] = set()


@event.listens_for(Mapper, "mapper_configured")
def _watch_bound_columns(mapper: Mapper[Any], model: type) -> None:
    """A change of a bound column through the ORM re-seals the fields bound to it."""
    for field in fields_of(model):
        for name in field.binds:
            if (model, name) not in _WATCHED:
                _WATCHED.add((model, name))
                event.listen(getattr(model, name), "set", _on_bound_change, active_history=True)
