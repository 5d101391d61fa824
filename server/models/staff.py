"""Portal accounts of NGO partners and translators, and the audit chain of what they did.

The organisation an account belongs to is the `CheckinPartner` that takes a region's
escalations and sealed notes: one NGO, one row. `PartnerOrg` names it for the portal's side.
A password is kept only as an argon2id hash over a keyed HMAC, the TOTP seed only sealed
under the master keyring; the audit table is append-only, each row hash-chained to the last.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Uuid,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server import vault
from server.db import Base, UTCDateTime, enum_column
from server.models.checkins import CheckinPartner
from server.models.people import Enveloped
from server.vault import Ciphertext

#: The NGO a portal account belongs to (the partner that holds the note key).
PartnerOrg = CheckinPartner

USERNAME_LENGTH = 64
HASH_LENGTH = 255
ACTION_LENGTH = 32
DIGEST_LENGTH = 64
DIGEST_BYTES = 32


class Permission(enum.Enum):
    """One kind of thing a portal page does; every portal route names the one it needs."""

    MANAGE_ACCOUNTS = "manage_accounts"  # list, create, disable and reset accounts; audit
    EDIT_CONTENT = "edit_content"  # draft changes to content of the account's regions
    REVIEW_CONTENT = "review_content"  # approve or reject others' drafts in those regions
    TRANSLATE = "translate"  # translate into the account's locales
    REVIEW_TRANSLATIONS = "review_translations"  # mark others' translations reviewed
    READ_NOTES = "read_notes"  # list and download the NGO's sealed notes
    READ_SIGNALS = "read_signals"  # what people ask for, counted, in the account's regions


class Role(enum.Enum):
    """What a portal account is for; `permissions` says what each may do.

    The scope (regions, locales, NGO) says where: an account sees only what lies in it.
    """

    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    TRANSLATOR = "translator"
    CASEWORKER = "caseworker"

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this role may do."""
        return ROLE_PERMISSIONS[self]

    @property
    def sees_notes(self) -> bool:
        """Whether this role lists and downloads its organisation's sealed notes."""
        return Permission.READ_NOTES in self.permissions


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.EDIT_CONTENT, Permission.READ_SIGNALS}),
    # A reviewer of regions reviews content there; a reviewer of locales reviews translations.
    Role.REVIEWER: frozenset(
        {
            Permission.EDIT_CONTENT,
            Permission.REVIEW_CONTENT,
            Permission.TRANSLATE,
            Permission.REVIEW_TRANSLATIONS,
            Permission.READ_SIGNALS,
        }
    ),
    Role.TRANSLATOR: frozenset({Permission.TRANSLATE}),
    Role.CASEWORKER: frozenset({Permission.READ_NOTES, Permission.READ_SIGNALS}),
}


class AuditAction(enum.Enum):
    """What an audit row records."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    NOTES_EXPORTED = "notes_exported"
    NOTE_HANDLED = "note_handled"
    USER_CREATED = "user_created"
    TRANSLATION_SAVED = "translation_saved"
    TRANSLATION_REVIEWED = "translation_reviewed"
    TRANSLATIONS_UPLOADED = "translations_uploaded"
    # Account management (by an admin in the portal, or by the operator: no actor).
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an action's name, not a password
    TOTP_RESET = "totp_reset"
    USER_UNLOCKED = "user_unlocked"
    INVITE_SENT = "invite_sent"
    INVITE_ACCEPTED = "invite_accepted"
    CONTENT_DRAFTED = "content_drafted"  # a change saved as a draft, waiting for a reviewer
    CONTENT_CHANGED = "content_changed"  # a change live at once (no review required there)
    CONTENT_APPROVED = "content_approved"
    CONTENT_REJECTED = "content_rejected"
    CONTENT_ROLLED_BACK = "content_rolled_back"  # an older version saved again
    RESOURCE_VERIFIED = "resource_verified"


class User(Enveloped, Base):
    """A portal account: username, argon2id password hash, sealed TOTP seed, role, NGO."""

    __tablename__ = "portal_users"

    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    totp_secret_ct: Mapped[bytes] = mapped_column("totp_secret", Ciphertext)
    role: Mapped[Role] = mapped_column(
        enum_column(Role, 16),
        server_default=Role.CASEWORKER.value,
    )
    # The NGO whose notes a caseworker reads (an admin's, when it has one); None for the rest.
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("checkin_partners.id", ondelete="CASCADE"), index=True
    )
    # The scope: region slugs (each covers its children; empty = every region, admins only)
    # and locale tags the account works in. Read through `server.portal.access.Scope`.
    region_slugs: Mapped[list[str]] = mapped_column("regions", JSON, default=list)
    locale_tags: Mapped[list[str]] = mapped_column("locales", JSON, default=list)
    # A disabled account cannot log in and its sessions end; nothing else about it changes.
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Failures and the lock of clients this account never logged in from (anyone who knows
    # the username): they stop a guesser, never the owner's own browsers (`staff.log_in`).
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same for browsers holding this account's device cookie: only they can count here.
    known_failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    known_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the password or TOTP seed is reset: every device cookie issued before dies.
    device_epoch: Mapped[int] = mapped_column(Integer, server_default="0")
    # The TOTP time step of the last accepted code: a code is never accepted twice.
    last_totp_step: Mapped[int | None] = mapped_column(Integer)
    # Bumped at every login and logout: a copied session cookie of an older one stops working.
    session_epoch: Mapped[int] = mapped_column(Integer, server_default="0")
    created_on: Mapped[date] = mapped_column(Date, server_default=func.current_date())

    organisation: Mapped[PartnerOrg | None] = relationship()

    totp_secret = vault.EncryptedField("totp_secret_ct", under=vault.Under.MASTER, binary=True)


class Invite(Base):
    """A single-use link an admin sends: its holder sets the account's password and TOTP.

    Only a keyed digest of the token is kept (a copied database opens no account), and the
    row goes when it is used, replaced or past `expires_at`.
    """

    __tablename__ = "portal_invites"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_users.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_BYTES), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AuditEvent(Base):
    """One thing done in the portal or by an operator; never personal data, never changed.

    `digest` is SHA-256 over the previous row's digest and this row's canonical content
    (see `server.audit`), so editing or removing a row breaks every digest after it.
    """

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # to the minute
    # No foreign key: an audit row must outlive, unchanged, the account it names.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))


vault.index_rotation.register_peppered(User, "password_hash")
