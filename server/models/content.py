"""Places and the help found there: regions, organisations and resources (HSDS 3.0 aligned).

Every resource says who verified it and when (HSDS `assured_date` and assurer) and how often
it must be reviewed; past that it is stale, and never shown as if it were current.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, enum_column
from server.models.versions import ContentModel

ID_LENGTH = 64
NAME_LENGTH = 200
SHORT_LENGTH = 64
URL_LENGTH = 500
PHONE_LENGTH = 40
ENUM_LENGTH = 24


class RegionKind(enum.Enum):
    """Where a region sits in the hierarchy: country > area > site."""

    COUNTRY = "country"
    AREA = "area"
    SITE = "site"


class Category(enum.Enum):
    """Refuge's one small taxonomy of help."""

    HELPLINE = "helpline"
    MEDICAL = "medical"
    SHELTER = "shelter"
    FOOD_WATER = "food_water"
    LEGAL_AID = "legal_aid"
    DOCUMENTATION = "documentation"
    PSYCHOSOCIAL = "psychosocial"
    PROTECTION = "protection"
    EVACUATION = "evacuation"
    FAMILY_TRACING = "family_tracing"


class ServiceStatus(enum.Enum):
    """HSDS 3.0 service status."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class PhoneKind(enum.Enum):
    """How a number is used: call it, text it, or message it on WhatsApp."""

    VOICE = "voice"
    TEXT = "text"
    WHATSAPP = "whatsapp"


class Region(ContentModel, Base):
    """A country, an area in it, or a site (a camp, a district); people pick one by number."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(SHORT_LENGTH), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    kind: Mapped[RegionKind] = mapped_column(enum_column(RegionKind, ENUM_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    country_code: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(SHORT_LENGTH))
    default_locale: Mapped[str] = mapped_column(String(16))
    source_locale: Mapped[str] = mapped_column(String(16), server_default="en")
    position: Mapped[int] = mapped_column(Integer, server_default="0")
    # Past its review date a resource is shown with its verification date, or hidden here.
    hide_stale: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Whether an editor's change to a resource here waits for a reviewer; None: as the parent
    # region says (no region saying so: it goes live at once, versioned and audited).
    review_resources: Mapped[bool | None] = mapped_column(Boolean)
    retired: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The number to call in an emergency (police, ambulance); places below inherit it.
    emergency: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")


class Organization(ContentModel, Base):
    """An organisation that runs resources or issues bulletins (HSDS organization)."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    alternate_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    email: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    source_locale: Mapped[str] = mapped_column(String(16), server_default="en")
    sample: Mapped[bool] = mapped_column(Boolean, server_default=false())
    retired: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Who keeps the record: "files" (content/), "hsds" or "cap" imports, "portal".
    origin: Mapped[str] = mapped_column(String(16), server_default="files")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class Resource(ContentModel, Base):
    """A service a person can use: a helpline, a clinic, a shelter (HSDS service)."""

    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    alternate_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    email: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    status: Mapped[ServiceStatus] = mapped_column(
        enum_column(ServiceStatus, ENUM_LENGTH), server_default=ServiceStatus.ACTIVE.value
    )
    # What the partner says about the status ("closed until the vehicle is repaired").
    status_note: Mapped[str | None] = mapped_column(Text)
    # How to get the help (HSDS eligibility_description, fees_description, application_process):
    # plain text a person reads before going, kept so an HSDS round trip loses none of it.
    eligibility: Mapped[str | None] = mapped_column(Text)
    fees: Mapped[str | None] = mapped_column(Text)
    application_process: Mapped[str | None] = mapped_column(Text)
    source_locale: Mapped[str] = mapped_column(String(16), server_default="en")
    # Who verified it and when (HSDS assured_date / assurer), and how often to re-check.
    verified_on: Mapped[date] = mapped_column(Date)
    verified_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    review_interval_days: Mapped[int] = mapped_column(Integer, server_default="90")
    sample: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # A file removed from content/ retracts its record; nothing is hard-deleted.
    retired: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Who keeps the record: "files" (content/), "hsds" or "cap" imports, "portal".
    origin: Mapped[str] = mapped_column(String(16), server_default="files")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    organization: Mapped[Organization] = relationship()
    region: Mapped[Region] = relationship()
    categories: Mapped[list[ResourceCategory]] = relationship(
        cascade="all, delete-orphan", order_by="ResourceCategory.category"
    )
    languages: Mapped[list[ResourceLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="ResourceLanguage.code"
    )
    locations: Mapped[list[Location]] = relationship(
        cascade="all, delete-orphan", order_by="Location.id"
    )
    phones: Mapped[list[Phone]] = relationship(cascade="all, delete-orphan", order_by="Phone.id")
    schedules: Mapped[list[Schedule]] = relationship(
        cascade="all, delete-orphan", order_by="Schedule.id"
    )

    def review_due_on(self) -> date:
        """The day after which this resource counts as stale."""
        return self.verified_on + timedelta(days=self.review_interval_days)

    def is_stale(self, today: date) -> bool:
        """True when the last verification is older than the review interval."""
        return today > self.review_due_on()

    @property
    def category_codes(self) -> list[Category]:
        """The resource's categories."""
        return [entry.category for entry in self.categories]


class ResourceCategory(ContentModel, Base):
    """A resource's place in the taxonomy."""

    __tablename__ = "resource_categories"

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[Category] = mapped_column(enum_column(Category, ENUM_LENGTH), primary_key=True)


class ResourceLanguage(ContentModel, Base):
    """A language the resource's staff speak (BCP 47 code)."""

    __tablename__ = "resource_languages"

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True)


class Location(ContentModel, Base):
    """Where a resource is; a confidential one (a shelter) shows only its call-first phone."""

    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    country_code: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    confidential: Mapped[bool] = mapped_column(Boolean, server_default=false())
    call_first_phone: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))


class Phone(ContentModel, Base):
    """A number of a resource: to call, to text, or on WhatsApp (HSDS phone)."""

    __tablename__ = "phones"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(PHONE_LENGTH))
    kind: Mapped[PhoneKind] = mapped_column(enum_column(PhoneKind, ENUM_LENGTH))
    description: Mapped[str | None] = mapped_column(String(NAME_LENGTH))


class Schedule(ContentModel, Base):
    """Opening hours: days (RFC 5545 BYDAY codes) with opening and closing times."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True
    )
    byday: Mapped[str] = mapped_column(String(SHORT_LENGTH))  # e.g. "MO,TU,WE,TH,FR"
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    description: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
