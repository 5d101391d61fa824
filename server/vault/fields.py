"""Encrypted columns: the one way to encrypt a field, and the registry of every one of them.

A model declares a column of type `Ciphertext` and, beside it, an `EncryptedField` that reads
and writes it in plaintext. A field sits either under its row owner's data key (personal data:
erasing the owner's key erases it) or directly under the master keyring (what belongs to no
person). A row that holds its own data key inherits `OwnsDataKey` and keeps it, wrapped, in a
`WrappedKey` column. Declaring either registers it, so `refuge keys rotate` can walk every
wrapped key and master-sealed field, and a test can find a column the registry does not know.

A field's envelope is bound to its place (table, field, row) and, since migration 0013, to two
more things a seized-and-edited database could otherwise change unseen:

- the row's seal counter, when its model names one (`seal_counter_attribute`): every write of
  any field of the row bumps it and re-seals the row's other fields under the new value, so an
  older ciphertext rolled back into the row no longer opens (rolling back the counter too breaks
  every other field written since);
- the columns a field declares as `binds` (a contact's consent, a message's recipient): a change
  through the ORM re-seals the field, a change by hand leaves a field that fails to open, which
  `seal_holds` reports before anything is sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast, overload

from sqlalchemy import LargeBinary, TypeDecorator
from sqlalchemy.orm import Session, object_session

from server.vault import rows
from server.vault.core import Vault
from server.vault.envelopes import DecryptionFailed, Place, open_bytes, seal_bytes


class VaultUnavailable(RuntimeError):
    """A personal field was read or written outside a session that carries the vault."""


def vault_of(session: Session) -> Vault:
    """The vault a session of a `Database` carries: every encrypted field reaches keys here."""
    found = session.info.get("vault")
    if not isinstance(found, Vault):
        raise VaultUnavailable("this session was not opened by a Database with a Vault")
    return found


def vault_for(row: object) -> Vault:
    """The vault of the session a row belongs to."""
    session = object_session(row)
    if session is None:
        raise VaultUnavailable("add the row to a session of a Database built with a Vault first")
    return vault_of(session)


class Ciphertext(TypeDecorator[bytes]):
    """A column holding an envelope; read and written only through an `EncryptedField`."""

    impl = LargeBinary
    cache_ok = True


class WrappedKey(TypeDecorator[bytes]):
    """A column holding a row's data key wrapped under a master key (see `OwnsDataKey`)."""

    impl = LargeBinary
    cache_ok = True


class Under(enum.Enum):
    """What a field is encrypted under."""

    DATA_KEY = "data key"  # the owner's data key: erased with the person
    MASTER = "master keyring"  # the current master key: re-sealed by rotation


@dataclass(frozen=True)
class SealedColumn:
    """One registered encrypted field: its model, name (in the AAD) and column attribute."""

    model: type
    field: str
    column_attribute: str
    under: Under

    @property
    def table(self) -> str:
        """The table the field's rows live in."""
        return str(getattr(self.model, "__tablename__"))  # noqa: B009


@dataclass(frozen=True)
class KeyHolder:
    """One registered kind of row that holds its own wrapped data key."""

    model: type
    wrapped_attribute: str
    key_id_attribute: str | None

    @property
    def table(self) -> str:
        """The table the rows live in."""
        return str(getattr(self.model, "__tablename__"))  # noqa: B009


_FIELDS: list[SealedColumn] = []
_HOLDERS: list[KeyHolder] = []


def sealed_columns() -> tuple[SealedColumn, ...]:
    """Every encrypted field declared on a model imported so far."""
    return tuple(_FIELDS)


def key_holders() -> tuple[KeyHolder, ...]:
    """Every kind of row holding a wrapped data key, of the models imported so far."""
    return tuple(_HOLDERS)


class Sealable(Protocol):
    """A model row whose envelopes are bound to its table and id."""

    __tablename__: str

    @property
    def envelope_row_id(self) -> str: ...


class DataKeyOwner(Sealable, Protocol):
    """A row whose personal fields are under a data key it can produce."""

    def data_key(self) -> bytes: ...


V = TypeVar("V", str, bytes)


class EncryptedField(Generic[V]):
    """Plaintext on the model, an envelope in the column: the one way to encrypt a field.

    Declared as ``phone = EncryptedField("phone_ct")`` beside the `Ciphertext` column that
    stores the envelope; ``binary=True`` for bytes, ``under=Under.MASTER`` for a field that
    belongs to no person, ``binds=("consent",)`` for columns whose values the envelope covers.
    The associated data names the table, this field's name, the row, the row's seal counter
    (when its model keeps one) and the bound columns' values.
    """

    @overload
    def __init__(
        self: EncryptedField[str],
        column_attribute: str,
        *,
        under: Under = Under.DATA_KEY,
        binds: tuple[str, ...] = (),
    ) -> None: ...
    @overload
    def __init__(
        self: EncryptedField[bytes],
        column_attribute: str,
        *,
        under: Under = Under.DATA_KEY,
        binary: Literal[True],
        binds: tuple[str, ...] = (),
    ) -> None: ...
    def __init__(
        self,
        column_attribute: str,
        *,
        under: Under = Under.DATA_KEY,
        binary: bool = False,
        binds: tuple[str, ...] = (),
    ) -> None:
        self.column_attribute = column_attribute
        self.name = column_attribute
        self.under = under
        self.binary = binary
        self.binds = binds
        self.owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner
        _FIELDS.append(SealedColumn(owner, name, self.column_attribute, self.under))
        rows.register(owner, self)

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> EncryptedField[V]: ...
    @overload
    def __get__(self, obj: Sealable, objtype: type | None = None) -> V | None: ...
    def __get__(
        self, obj: Sealable | None, objtype: type | None = None
    ) -> V | EncryptedField[V] | None:
        if obj is None:
            return self
        envelope: bytes | None = getattr(obj, self.column_attribute)
        if envelope is None:
            return None
        return self._decode(self.open_raw(obj, envelope, self.place_of(obj)))

    def read(self, obj: Sealable) -> V | None:
        """The field's value in a row (as reading the attribute gives it)."""
        return self.__get__(obj)

    def __set__(self, obj: Sealable, value: V | None) -> None:
        rows.reseal_row(obj, bump=True, changes={}, skip=self)
        envelope = None
        if value is not None:
            envelope = self.seal_raw(obj, self._encode(value), self.place_of(obj))
        setattr(obj, self.column_attribute, envelope)

    def seal(
        self, data_key: bytes, row_id: str, value: V, *, bound: Mapping[str, Any] | None = None
    ) -> bytes:
        """The envelope of a value for a row written without the ORM (a bulk statement); a
        row with a seal counter gets counter 0, as the column's default."""
        place = self._place(row_id, self._new_counter(), self._bound_from(bound or {}))
        return seal_bytes(
            data_key,
            self._encode(value),
            place.table,
            place.column,
            row_id,
            counter=place.counter,
            bound=place.bound,
        )

    def open(
        self,
        data_key: bytes,
        row_id: str,
        envelope: bytes,
        *,
        counter: int | None = None,
        bound: Mapping[str, Any] | None = None,
    ) -> V:
        """The value of an envelope read without the ORM."""
        place = self._place(row_id, counter, self._bound_from(bound or {}))
        raw = open_bytes(
            data_key,
            envelope,
            place.table,
            place.column,
            row_id,
            counter=place.counter,
            bound=place.bound,
        )
        return self._decode(raw)

    def _new_counter(self) -> int | None:
        return None if rows.counter_attribute(self._model()) is None else 0

    def _bound_from(self, values: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        missing = [name for name in self.binds if name not in values]
        if missing:
            raise TypeError(f"{self.name} is bound to {', '.join(missing)}: give their values")
        return tuple((name, rows.bound_text(values[name])) for name in self.binds)

    def _model(self) -> type:
        if self.owner is None:
            raise TypeError("an EncryptedField is used only as a model's attribute")
        return self.owner

    def _place(self, row_id: str, counter: int | None, bound: tuple[tuple[str, str], ...]) -> Place:
        if self.under is not Under.DATA_KEY:
            raise TypeError("only fields under a data key are sealed outside their row")
        table = str(getattr(self._model(), "__tablename__"))  # noqa: B009
        return Place(table, self.name, row_id, counter, bound)

    def place_of(
        self, obj: Sealable, *, counter: int | None = None, changes: Mapping[str, Any] | None = None
    ) -> Place:
        """Where this field of a row belongs now (or with a counter and bound values to be)."""
        changes = changes or {}
        bound = tuple(
            (
                name,
                rows.bound_text(changes[name] if name in changes else rows.bound_value(obj, name)),
            )
            for name in self.binds
        )
        if counter is None:
            counter = rows.counter_of(obj)
        return Place(obj.__tablename__, self.name, obj.envelope_row_id, counter, bound)

    def open_raw(self, obj: Sealable, envelope: bytes, place: Place) -> bytes:
        if self.under is Under.MASTER:
            return vault_for(obj).open_master_field(
                envelope, place.table, place.column, place.row_id, place.counter
            )
        data_key = cast(DataKeyOwner, obj).data_key()
        return open_bytes(
            data_key,
            envelope,
            place.table,
            place.column,
            place.row_id,
            counter=place.counter,
            bound=place.bound,
        )

    def seal_raw(self, obj: Sealable, raw: bytes, place: Place) -> bytes:
        if self.under is Under.MASTER:
            return vault_for(obj).seal_master_field(
                raw, place.table, place.column, place.row_id, place.counter
            )
        data_key = cast(DataKeyOwner, obj).data_key()
        return seal_bytes(
            data_key,
            raw,
            place.table,
            place.column,
            place.row_id,
            counter=place.counter,
            bound=place.bound,
        )

    def _encode(self, value: V) -> bytes:
        return value if isinstance(value, bytes) else value.encode("utf-8")

    def _decode(self, raw: bytes) -> V:
        return cast(V, raw if self.binary else raw.decode("utf-8"))


class OwnsDataKey:
    """A row that holds its own random data key, wrapped under the master keyring.

    The subclass maps a `WrappedKey` column named by `wrapped_key_attribute`, and may keep the
    wrapping master key's id in a column named by `key_id_attribute` (rotation then selects by
    it). Subclassing registers the row kind for `refuge keys rotate`.
    """

    wrapped_key_attribute: ClassVar[str] = "wrapped_data_key"
    key_id_attribute: ClassVar[str | None] = None
    #: What `data_key` says once the key has been destroyed.
    destroyed_message: ClassVar[str] = "this row's data key has been destroyed"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__tablename__" in cls.__dict__:
            _HOLDERS.append(KeyHolder(cls, cls.wrapped_key_attribute, cls.key_id_attribute))

    def data_key(self) -> bytes:
        """This row's data key, unwrapped once per loaded row and kept only in memory."""
        cached: bytes | None = self.__dict__.get("_data_key")
        if cached is None:
            wrapped: bytes | None = getattr(self, self.wrapped_key_attribute)
            if wrapped is None:
                raise DecryptionFailed(self.destroyed_message)
            row = cast(Sealable, self)
            cached = vault_for(self).unwrap_data_key(
                wrapped, row.__tablename__, row.envelope_row_id
            )
            self.__dict__["_data_key"] = cached
        return cached

    def issue_data_key(self) -> None:
        """Give a new row its own random data key, wrapped by the current master key."""
        keys = vault_for(self)
        row = cast(Sealable, self)
        data_key, wrapped = keys.new_data_key(row.__tablename__, row.envelope_row_id)
        setattr(self, self.wrapped_key_attribute, wrapped)
        if self.key_id_attribute is not None:
            setattr(self, self.key_id_attribute, keys.current_key_id)
        self.__dict__["_data_key"] = data_key

    def forget_data_key(self) -> None:
        """Destroy the wrapped data key and drop the unwrapped one from memory."""
        setattr(self, self.wrapped_key_attribute, None)
        self.__dict__.pop("_data_key", None)
