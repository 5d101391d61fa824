"""Who may do what, and where, in the portal: one rule per route, one scope per account.

Every portal view carries a rule: `@public` (the login form and logging out) or
`@rule(permission)`, which sends a visitor without a session to the login form, answers 403
to an account whose role lacks the permission, and puts the account's `Scope` in `g.scope`.
A route without a rule fails `tests/test_portal_matrix.py`, which is generated from the
route map.

The scope is where an account may look: its regions and every region below them, its
locales, its NGO. Queries of region-bound records filter through `Scope.regions_clause`, and
a single record is fetched through `found`, so a record outside the scope answers 404 exactly
like one that does not exist: nobody learns what lies outside their regions by guessing ids.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from flask import abort, g, redirect, url_for
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.db import request_session
from server.models.content import Region
from server.models.staff import Permission, Role, User
from server.portal.session import signed_in

View = TypeVar("View", bound=Callable[..., Any])
Record = TypeVar("Record")

#: The attribute a guarded view carries: its permission, `PUBLIC`, or `SIGNED_IN`.
RULE_ATTRIBUTE: Final = "portal_rule"
PUBLIC: Final = "public"
SIGNED_IN: Final = "signed in"


@dataclass(frozen=True)
class Scope:
    """Where one account may look: regions (with their children), locales and NGO."""

    everywhere: bool
    region_ids: frozenset[int]
    all_locales: bool
    locales: frozenset[str]
    partner_id: uuid.UUID | None

    @classmethod
    def of(cls, session: Session, user: User) -> Scope:
        """The scope of `user`: an admin without regions or locales has every one."""
        admin = user.role is Role.ADMIN
        return cls(
            everywhere=admin and not user.region_slugs,
            region_ids=frozenset(below(session, user.region_slugs)),
            all_locales=admin and not user.locale_tags,
            locales=frozenset(user.locale_tags),
            partner_id=user.organisation_id,
        )

    def covers_region(self, region_id: int | None) -> bool:
        """Whether the region (or a record bound to it) lies in this scope."""
        return self.everywhere or (region_id is not None and region_id in self.region_ids)

    def covers_any(self, region_ids: Iterable[int]) -> bool:
        """Whether a record of several regions (a bulletin) has one in this scope."""
        return self.everywhere or not self.region_ids.isdisjoint(region_ids)

    def covers_locale(self, tag: str) -> bool:
        """Whether the account works in this locale."""
        return self.all_locales or tag in self.locales

    def regions_clause(self, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose region `column` lies in this scope."""
        if self.everywhere:
            return true()
        if not self.region_ids:
            return false()
        return column.in_(sorted(self.region_ids))


def below(session: Session, slugs: Iterable[str]) -> set[int]:
    """The ids of the regions named and of every region under them."""
    tree = session.execute(select(Region.id, Region.parent_id, Region.slug)).all()
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id, _slug in tree:
        children.setdefault(parent_id, []).append(region_id)
    wanted = set(slugs)
    pending = [region_id for region_id, _parent, slug in tree if slug in wanted]
    covered: set[int] = set()
    while pending:
        region_id = pending.pop()
        if region_id not in covered:
            covered.add(region_id)
            pending.extend(children.get(region_id, ()))
    return covered


def scope() -> Scope:
    """The scope of this request's account (set by the route's rule)."""
    found_scope: Scope = g.portal_scope
    return found_scope


def account() -> User:
    """This request's account (set by the route's rule)."""
    user: User = g.portal_account
    return user


def found(record: Record | None, covered: Callable[[Scope, Record], bool]) -> Record:
    """The record when it exists and lies in the scope; otherwise the same 404 either way."""
    if record is None or not covered(scope(), record):
        abort(404)
    return record


def public(view: View) -> View:
    """Mark a view anyone may reach (the login form, logging out)."""
    setattr(view, RULE_ATTRIBUTE, PUBLIC)
    return view


def rule(permission: Permission | None) -> Callable[[View], View]:
    """Guard a view: signed in, and holding `permission` (None: any signed-in account)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = signed_in()
            if user is None:
                return redirect(url_for("portal.login"))
            if permission is not None and permission not in user.role.permissions:
                abort(403)
            g.portal_scope = Scope.of(request_session(), user)
            return view(*args, **kwargs)

        setattr(guarded, RULE_ATTRIBUTE, SIGNED_IN if permission is None else permission)
        return cast(View, guarded)

    return decorate
