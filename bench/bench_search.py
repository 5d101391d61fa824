"""Resource search among 100,000 resources against the bare FTS5 query; HSDS import rate.

- A SQLite file of 50 regions (5 countries > 15 areas > 30 sites), 50 organisations and 100,000
  resources with 1-3 categories and 1-3 languages each, and about 150,000 search documents in
  five locales (en, ar, uk, my, bn) written from an aligned vocabulary of service words, filler
  words, place names and block numbers. A mix of 200 one- and two-word queries (some with a
  region, category or language filter) is timed through `search_resources`, against the bare
  `MATCH ... ORDER BY rank LIMIT 20` on the same terms, through the same session.
- `import_hsds` of 2,000 generated HSDS 3.0 services (nested organisation, phones, schedules,
  languages, taxonomy attributes and a location each) into a fresh SQLite file, against the
  same JSON parsed and written as the same rows through plain ORM `add_all` and one commit.
"""

from __future__ import annotations

import importlib
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import server.models  # noqa: F401  (registers every table on Base.metadata)
from bench.harness import Result, interleave
from server.content.search import (
    MAX_TERMS,
    MIN_TRIGRAM,
    ResourceQuery,
    facets,
    search_resources,
)
from server.content.text import fold
from server.db import Base, Database
from server.models.content import (
    Category,
    Location,
    Organization,
    Phone,
    PhoneKind,
    Region,
    RegionKind,
    Resource,
    ResourceCategory,
    ResourceLanguage,
    Schedule,
    ServiceStatus,
)
from server.models.search import SQLITE_FTS_DDL, SearchDocument

SEED = 20_261_128
RESOURCES = 100_000
ORGANIZATIONS = 50
QUERIES_PER_LOCALE = 40
LIMIT = 20
WARM_QUERIES = 20
#: Per query: ours then the baseline, then the baseline then ours; each side's mean of two.
#: (A third round would take the median, at about 12 s more while the filters are slow.)
ROUNDS = 2
INSERT_BATCH = 10_000
MILLISECONDS = 1e3
P95_GOAL_MS = 20.0
RATIO_GOAL = 3.0
SEARCH_GOAL = f"p95 < {P95_GOAL_MS:.0f} ms and <= {RATIO_GOAL:.1f}x the bare FTS query"
#: The mix keeps queries whose terms the bare FTS query finds in this many documents.
MIN_HITS, MAX_HITS = 1, 5_000
HSDS_SERVICES = 2_000
HSDS_ROUNDS = 3
HSDS_BUDGET_S = 15.0  # no further round of the import starts after this many seconds
LOCALES = ("en", "ar", "uk", "my", "bn")
TODAY = date(2026, 11, 28)
#: The bare FTS5 query for the same terms: FTS5's own bm25() ranking, no filter, no grouping.
BARE_FTS = text(
    "SELECT rowid, bm25(search_fts) FROM search_fts WHERE search_fts MATCH :q "
    "ORDER BY rank LIMIT :limit"
)
COUNT_FTS = text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q")
#: The trigger that fills search_fts on insert, as create_all makes it; dropped while loading.
INSERT_TRIGGER = "search_documents_ai"
INSERT_TRIGGER_DDL = next(ddl for ddl in SQLITE_FTS_DDL if f"TRIGGER {INSERT_TRIGGER} " in ddl)

# --- The vocabulary ----------------------------------------------------------------------------

#: Service words, aligned across LOCALES, most frequent first. Some are two words, some are
#: shorter than a trigram (Burmese "ရေ", water): search handles both.
CONCEPTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("help", "مساعدة", "допомога", "အကူအညီ", "সাহায্য"),
    ("support", "دعم", "підтримка", "ပံ့ပိုးမှု", "সমর্থন"),
    ("centre", "مركز", "центр", "စင်တာ", "কেন্দ্র"),
    ("free", "مجاني", "безкоштовно", "အခမဲ့", "বিনামূল্যে"),
    ("clinic", "عيادة", "клініка", "ဆေးခန်း", "ক্লিনিক"),
    ("health", "صحة", "здоров'я", "ကျန်းမာရေး", "স্বাস্থ্য"),
    ("water", "مياه", "вода", "ရေ", "পানি"),
    ("children", "أطفال", "діти", "ကလေး", "শিশু"),
    ("women", "نساء", "жінки", "အမျိုးသမီး", "নারী"),
    ("shelter", "مأوى", "прихисток", "အမိုးအကာ", "আশ্রয়"),
    ("daily", "يومي", "щодня", "နေ့စဉ်", "প্রতিদিন"),
    ("documents", "وثائق", "документи", "စာရွက်စာတမ်း", "নথি"),
    ("food", "طعام", "їжа", "အစားအစာ", "খাদ্য"),
    ("legal advice", "استشارة قانونية", "правова консультація", "ဥပဒေ အကြံဉာဏ်", "আইনি পরামর্শ"),
    ("emergency", "طوارئ", "екстрена", "အရေးပေါ်", "জরুরি"),
    ("hospital", "مستشفى", "лікарня", "ဆေးရုံ", "হাসপাতাল"),
    ("registration", "تسجيل", "реєстрація", "မှတ်ပုံတင်", "নিবন্ধন"),
    ("trauma", "صدمة", "травма", "စိတ်ဒဏ်ရာ", "ট্রমা"),
    ("family", "عائلة", "родина", "မိသားစု", "পরিবার"),
    ("pharmacy", "صيدلية", "аптека", "ဆေးဆိုင်", "ফার্মেসি"),
    ("refugees", "لاجئين", "біженці", "ဒုက္ခသည်", "শরণার্থী"),
    ("hotline", "خط ساخن", "гаряча лінія", "အရေးပေါ်ဖုန်း", "হটলাইন"),
    ("vaccination", "تطعيم", "вакцинація", "ကာကွယ်ဆေး", "টিকা"),
    ("counselling", "إرشاد", "психолог", "စိတ်ပညာ", "কাউন্সেলিং"),
    ("housing", "سكن", "житло", "အိမ်ရာ", "আবাসন"),
    ("blankets", "بطانيات", "ковдри", "စောင်", "কম্বল"),
    ("hygiene kits", "مستلزمات نظافة", "гігієнічні набори", "သန့်ရှင်းရေး ပစ္စည်း", "হাইজিন কিট"),
    ("cash", "نقد", "гроші", "ငွေ", "নগদ"),
    ("transport", "نقل", "транспорт", "သယ်ယူပို့ဆောင်ရေး", "পরিবহন"),
    ("maternity", "أمومة", "пологовий", "မီးဖွား", "মাতৃত্ব"),
    ("interpreter", "مترجم", "перекладач", "စကားပြန်", "দোভাষী"),
    ("nutrition", "تغذية", "харчування", "အာဟာရ", "পুষ্টি"),
    ("protection", "حماية", "захист", "ကာကွယ်ရေး", "সুরক্ষা"),
    ("mobile team", "فريق متنقل", "мобільна бригада", "ရွေ့လျားအဖွဲ့", "ভ্রাম্যমাণ দল"),
    ("disability", "إعاقة", "інвалідність", "မသန်စွမ်း", "প্রতিবন্ধী"),
    ("elderly", "مسنين", "літні", "သက်ကြီး", "বয়স্ক"),
    ("dental", "أسنان", "стоматологія", "သွားဆေး", "দন্ত"),
    ("school", "مدرسة", "школа", "ကျောင်း", "স্কুল"),
    ("kitchen", "مطبخ", "кухня", "မီးဖိုချောင်", "রান্নাঘর"),
    ("distribution", "توزيع", "розподіл", "ဖြန့်ဝေ", "বিতরণ"),
    ("tracing", "تتبع", "розшук", "ရှာဖွေ", "খোঁজ"),
    ("evacuation", "إخلاء", "евакуація", "ဘေးလွတ်ရာ", "উদ্ধার"),
)
#: Each locale's words, in CONCEPTS order.
CONCEPTS_BY_LOCALE = {
    locale: [concept[index] for concept in CONCEPTS] for index, locale in enumerate(LOCALES)
}
#: Zipf exponent of how often each concept is drawn: the first is about 25x the last.
ZIPF = 0.9
#: Words descriptions are padded with (common; the mix does not search for them alone).
FILLER = {
    "en": "open to all people and families walk in service or by appointment near the camp",
    "ar": "مفتوح للجميع الناس والعائلات خدمة بدون موعد أو بموعد قرب المخيم",
    "uk": "відкрито для всіх людей та родин послуги без запису чи за записом поруч",
    "my": "လူတိုင်း အတွက် ဖွင့် မိသားစု ဝန်ဆောင်မှု ချိန်းဆို အနီး စခန်း",
    "bn": "সবার জন্য খোলা মানুষ পরিবার সেবা সাক্ষাৎ ছাড়াই কাছে ক্যাম্প",
}
BLOCK = {"en": "block", "ar": "قطاع", "uk": "блок", "my": "ဘလောက်", "bn": "ব্লক"}
#: The English words index_resource adds for each category: every document carries them.
CATEGORY_WORDS = {category: category.value.replace("_", " ") for category in Category}
ORG_FIRST = (
    *("Harbour", "Bridge", "Open Door", "Crescent", "Lantern", "Riverside", "Northstar"),
    *("Olive Branch", "Safe Passage", "Common Ground"),
)
ORG_SECOND = ("Aid", "Relief Network", "Partners", "Foundation", "Collective")
STATUSES = (ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED, ServiceStatus.INACTIVE)
STATUS_WEIGHTS = (95, 3, 2)

Name = tuple[str, str]  # (English, in the country's own locale)
Row = dict[str, Any]


@dataclass(frozen=True)
class Country:
    """A country, the locale spoken there, and its three areas of two sites each."""

    code: str
    timezone: str
    locale: str
    name: Name
    areas: tuple[tuple[Name, tuple[Name, Name]], ...]


COUNTRIES = (
    Country(
        "JO",
        "Asia/Amman",
        "ar",
        ("Jordan", "الأردن"),
        (
            (("Amman", "عمان"), (("Sahab", "سحاب"), ("Zarqa", "الزرقاء"))),
            (("Irbid", "إربد"), (("Ramtha", "الرمثا"), ("Jerash", "جرش"))),
            (("Mafraq", "المفرق"), (("Zaatari", "الزعتري"), ("Azraq", "الأزرق"))),
        ),
    ),
    Country(
        "UA",
        "Europe/Kyiv",
        "uk",
        ("Ukraine", "Україна"),
        (
            (("Kyiv", "Київ"), (("Irpin", "Ірпінь"), ("Bucha", "Буча"))),
            (("Lviv", "Львів"), (("Stryi", "Стрий"), ("Drohobych", "Дрогобич"))),
            (("Kharkiv", "Харків"), (("Izium", "Ізюм"), ("Chuhuiv", "Чугуїв"))),
        ),
    ),
    Country(
        "MM",
        "Asia/Yangon",
        "my",
        ("Myanmar", "မြန်မာ"),
        (
            (("Yangon", "ရန်ကုန်"), (("Hlaing Tharyar", "လှိုင်သာယာ"), ("Insein", "အင်းစိန်"))),
            (("Mandalay", "မန္တလေး"), (("Pyin Oo Lwin", "ပြင်ဦးလွင်"), ("Meiktila", "မိတ္ထီလာ"))),
            (("Sittwe", "စစ်တွေ"), (("Pauktaw", "ပေါက်တော"), ("Kyauktaw", "ကျောက်တော်"))),
        ),
    ),
    Country(
        "BD",
        "Asia/Dhaka",
        "bn",
        ("Bangladesh", "বাংলাদেশ"),
        (
            (("Cox's Bazar", "কক্সবাজার"), (("Kutupalong", "কুতুপালং"), ("Teknaf", "টেকনাফ"))),
            (("Dhaka", "ঢাকা"), (("Mirpur", "মিরপুর"), ("Uttara", "উত্তরা"))),
            (("Chattogram", "চট্টগ্রাম"), (("Patenga", "পতেঙ্গা"), ("Hathazari", "হাটহাজারী"))),
        ),
    ),
    Country(
        "GB",
        "Europe/London",
        "en",
        ("United Kingdom", "United Kingdom"),
        (
            (("London", "London"), (("Croydon", "Croydon"), ("Hackney", "Hackney"))),
            (("Manchester", "Manchester"), (("Salford", "Salford"), ("Stockport", "Stockport"))),
            (("Glasgow", "Glasgow"), (("Govan", "Govan"), ("Paisley", "Paisley"))),
        ),
    ),
)


@dataclass(frozen=True)
class Place:
    """One region of the corpus: where it sits, and what documents call it."""

    id: int
    country: Country
    kind: RegionKind
    name: Name
    #: A site's area (documents name both), else None.
    area: Name | None

    def called(self, locale: str) -> list[str]:
        """Its name (and its area's) as a document in `locale` writes them."""
        index = 1 if locale == self.country.locale else 0
        return [self.name[index], *([self.area[index]] if self.area else [])]


@dataclass
class Corpus:
    """What was generated: regions, organisations and counts the query mix and report use."""

    places: list[Place] = field(default_factory=list)
    organizations: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    resources: int = 0
    documents: int = 0
    #: A few (text, body) pairs: the body is built from pre-folded words, checked against fold.
    samples: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


# --- Building the database ---------------------------------------------------------------------


def region_rows(corpus: Corpus) -> list[dict[str, Any]]:
    """5 countries, 15 areas and 30 sites (50 regions); `corpus.places` gets each of them."""
    rows: list[dict[str, Any]] = []

    def add(country: Country, kind: RegionKind, name: Name, parent: int | None) -> int:
        region_id = len(rows) + 1
        rows.append(
            {
                "id": region_id,
                "slug": f"{country.code.lower()}-{fold(name[0]).replace(' ', '-')}",
                "parent_id": parent,
                "kind": kind,
                "name": name[1],
                "country_code": country.code,
                "timezone": country.timezone,
                "default_locale": country.locale,
                "source_locale": country.locale,
                "position": region_id,
            }
        )
        return region_id

    for country in COUNTRIES:
        country_id = add(country, RegionKind.COUNTRY, country.name, None)
        corpus.places.append(Place(country_id, country, RegionKind.COUNTRY, country.name, None))
        for area, sites in country.areas:
            area_id = add(country, RegionKind.AREA, area, country_id)
            corpus.places.append(Place(area_id, country, RegionKind.AREA, area, None))
            for site in sites:
                site_id = add(country, RegionKind.SITE, site, area_id)
                corpus.places.append(Place(site_id, country, RegionKind.SITE, site, area))
    return rows


def new_id(rng: random.Random) -> str:
    """A random (seeded) UUID string, the shape of the HSDS ids resources carry."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Writer:
    """Writes one resource's rows at a time; every word is folded once, not every body."""

    def __init__(self, corpus: Corpus, rng: random.Random) -> None:
        self.corpus, self.rng = corpus, rng
        self.weights = list(
            itertools.accumulate(1 / (rank + 1) ** ZIPF for rank in range(len(CONCEPTS)))
        )
        self.filler = {locale: words.split() for locale, words in FILLER.items()}
        self.spots = [place for place in corpus.places if place.kind is not RegionKind.COUNTRY]
        self.categories = list(Category)
        self.folded: dict[str, str] = {}
        self.document_ids = itertools.count(1)

    def fold(self, phrase: str) -> str:
        """fold(phrase), computed once per distinct phrase."""
        folded = self.folded.get(phrase)
        if folded is None:
            folded = self.folded[phrase] = fold(phrase)
        return folded

    def concepts(self, count: int) -> list[int]:
        """Up to `count` distinct concept indices, drawn by their Zipf weights."""
        drawn = self.rng.choices(range(len(CONCEPTS)), cum_weights=self.weights, k=count)
        return list(dict.fromkeys(drawn))

    def locales(self, place: Place) -> list[str]:
        """The resource's source locale, and in half the cases one translation."""
        home = place.country.locale
        others = [locale for locale in LOCALES if locale != home]
        source = home if self.rng.random() < 0.85 else self.rng.choice(others)
        if self.rng.random() < 0.5:
            second = "en" if source != "en" else self.rng.choice(LOCALES[1:])
            return [source, second]
        return [source]

    def rows(self, number: int) -> tuple[Row, list[Row], list[Row], list[Row]]:
        """One resource: its row, category rows, language rows and search document rows."""
        rng = self.rng
        place = rng.choice(self.spots)
        organization_id, organization = rng.choice(self.corpus.organizations)
        resource_id = new_id(rng)
        locales = self.locales(place)
        named, described = self.concepts(2), self.concepts(3)
        block = f"{rng.randint(1, 999)}"
        categories = rng.sample(self.categories, rng.randint(1, 3))
        languages = {locales[0], *rng.sample(LOCALES, rng.randint(1, 3))}
        texts: dict[str, tuple[list[str], list[str]]] = {}
        for locale in locales:
            words = CONCEPTS_BY_LOCALE[locale]
            name = [words[i] for i in named] + place.called(locale)[:1]
            description = [
                *(words[i] for i in described),
                *rng.sample(self.filler[locale], rng.randint(3, 6)),
                BLOCK[locale],
                block,
                *place.called(locale),
            ]
            texts[locale] = (name, description)
        shared = [organization, place.name[0], *(CATEGORY_WORDS[c] for c in categories)]
        documents = []
        for locale, (name, description) in texts.items():
            parts = [*name, *description, *shared]
            body = " ".join(folded for part in parts if (folded := self.fold(part)))
            documents.append(
                {
                    "id": next(self.document_ids),
                    "resource_id": resource_id,
                    "locale": locale,
                    "body": body,
                    "region_id": place.id,
                    "categories": facets(c.value for c in categories),
                    "languages": facets(languages),
                }
            )
            if len(self.corpus.samples) < 500:
                self.corpus.samples.append((" ".join(parts), body))
        source_name, source_description = texts[locales[0]]
        resource = {
            "id": resource_id,
            "organization_id": organization_id,
            "region_id": place.id,
            "name": " ".join(source_name),
            "description": " ".join(source_description),
            "status": rng.choices(STATUSES, STATUS_WEIGHTS)[0],
            "source_locale": locales[0],
            "verified_on": TODAY - timedelta(days=rng.randint(0, 120)),
            "verified_by": organization,
            "retired": number % 100 == 99,  # one in a hundred withdrawn
        }
        category_rows = [{"resource_id": resource_id, "category": c} for c in categories]
        language_rows = [{"resource_id": resource_id, "code": code} for code in sorted(languages)]
        return resource, category_rows, language_rows, documents


def organization_rows(corpus: Corpus, rng: random.Random) -> list[dict[str, Any]]:
    """ORGANIZATIONS organisations with English names; `corpus.organizations` gets each one."""
    names = [f"{a} {b}" for a, b in itertools.product(ORG_FIRST, ORG_SECOND)][:ORGANIZATIONS]
    rows = [
        {"id": new_id(rng), "name": name, "description": f"{name} runs services."} for name in names
    ]
    corpus.organizations = [(row["id"], row["name"]) for row in rows]
    return rows


def build(database: Database, *, triggers: bool = False) -> Corpus:
    """Create the schema (search_fts too) and bulk-insert the corpus; verify a sample's folding.

    With `triggers`, search_fts fills row by row through its insert trigger (about 45 s here);
    without, the trigger is dropped during the load, the index rebuilt from search_documents in
    one pass and the trigger created again from the same DDL (about 20 s, the same index).
    """
    began = time.perf_counter()
    rng = random.Random(SEED)
    corpus = Corpus()
    Base.metadata.create_all(database.engine)
    tables = Base.metadata.tables
    resources, categories, languages, documents = (
        tables[model.__tablename__]
        for model in (Resource, ResourceCategory, ResourceLanguage, SearchDocument)
    )
    with database.engine.begin() as connection:
        if not triggers:
            connection.exec_driver_sql(f"DROP TRIGGER {INSERT_TRIGGER}")
        connection.execute(insert(tables[Region.__tablename__]), region_rows(corpus))
        connection.execute(
            insert(tables[Organization.__tablename__]), organization_rows(corpus, rng)
        )
        writer = Writer(corpus, rng)
        for start in range(0, RESOURCES, INSERT_BATCH):
            batch: dict[Table, list[dict[str, Any]]] = {
                resources: [],
                categories: [],
                languages: [],
                documents: [],
            }
            for number in range(start, min(start + INSERT_BATCH, RESOURCES)):
                resource, category_rows, language_rows, document_rows = writer.rows(number)
                batch[resources].append(resource)
                batch[categories] += category_rows
                batch[languages] += language_rows
                batch[documents] += document_rows
            for table, rows in batch.items():
                connection.execute(insert(table), rows)
            corpus.resources += len(batch[resources])
            corpus.documents += len(batch[documents])
        loaded = time.perf_counter()
        if not triggers:
            connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES('rebuild')")
            connection.exec_driver_sql(INSERT_TRIGGER_DDL)
    corpus.seconds["fts"] = time.perf_counter() - loaded
    corpus.seconds["total"] = time.perf_counter() - began
    for raw, body in corpus.samples:  # bodies joined from pre-folded words: as fold() has them
        assert fold(raw) == body, (raw, body)
    return corpus


# --- The query mix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One query of the mix: what search_resources gets, and the MATCH the bare query gets."""

    query: ResourceQuery
    match: str
    hits: int  # documents the bare MATCH finds, before any filter

    @property
    def filtered(self) -> bool:
        """True when a region, category or language filter applies."""
        q = self.query
        return q.region_id is not None or q.category is not None or q.language is not None


def fts_match(query_text: str) -> str:
    """The MATCH expression search_resources builds from the terms it can match by trigram."""
    terms = fold(query_text).split()[:MAX_TERMS]
    return " AND ".join(
        '"' + term.replace('"', '""') + '"' for term in terms if len(term) >= MIN_TRIGRAM
    )


def candidate_texts(corpus: Corpus, locale: str, rng: random.Random) -> Iterator[str]:
    """Endless one- and two-word queries in `locale`: service words, places, block numbers."""
    words = CONCEPTS_BY_LOCALE[locale]
    places = [name for place in corpus.places for name in place.called(locale)[:1]]
    home = [p for p in corpus.places if p.country.locale == locale] or corpus.places
    home_names = [place.called(locale)[0] for place in home]
    tail = range(6, len(words))  # the six commonest words find too much on their own
    kinds: list[Callable[[], str]] = [
        lambda: words[rng.choice(tail)],
        lambda: words[rng.choice(tail)],
        lambda: words[rng.choice(tail)],
        lambda: rng.choice(home_names),
        lambda: rng.choice(places),
        lambda: f"{rng.randint(100, 999)}",
        lambda: f"{BLOCK[locale]} {rng.randint(1, 999)}",
        lambda: f"{rng.choice(words)} {rng.choice(words)}",
        lambda: f"{rng.choice(words)} {rng.choice(words)}",
        lambda: f"{rng.choice(words)} {rng.choice(home_names)}",
        lambda: f"{rng.choice(words)} {rng.choice(home_names)}",
    ]
    while True:
        yield rng.choice(kinds)()


def query_mix(session: Session, corpus: Corpus) -> list[Query]:
    """QUERIES_PER_LOCALE queries per locale finding MIN_HITS..MAX_HITS documents, some filtered."""
    rng = random.Random(SEED + 1)
    counts: dict[str, int] = {}
    mix: list[Query] = []
    for locale in LOCALES:
        country = next(place for place in corpus.places if place.country.locale == locale)
        inside = [place for place in corpus.places if place.country is country.country]
        candidates = candidate_texts(corpus, locale, rng)
        kept = 0
        while kept < QUERIES_PER_LOCALE:
            query_text = next(candidates)
            match = fts_match(query_text)
            if not match:
                continue
            if match not in counts:
                counts[match] = int(session.execute(COUNT_FTS, {"q": match}).scalar_one())
            if not MIN_HITS <= counts[match] <= MAX_HITS:
                continue
            region_id = category = language = None
            if rng.random() < 0.25:  # a country (children and grandchildren), an area or a site
                region_id = rng.choice(
                    [country.id, country.id, *(place.id for place in inside)]
                    if rng.random() < 0.8
                    else [place.id for place in corpus.places]
                )
            if rng.random() < 0.2:
                category = rng.choice(list(Category))
            if rng.random() < 0.15:
                language = locale if rng.random() < 0.7 else rng.choice(LOCALES)
            resource_query = ResourceQuery(
                text=query_text,
                region_id=region_id,
                category=category,
                language=language,
                limit=LIMIT,
            )
            mix.append(Query(resource_query, match, counts[match]))
            kept += 1
    rng.shuffle(mix)
    return mix


# --- Timing ------------------------------------------------------------------------------------


def _timed(func: Callable[[], object]) -> Callable[[], float]:
    """A measurement for `interleave`: seconds one call of `func` takes."""

    def measure() -> float:
        began = time.perf_counter()
        func()
        return time.perf_counter() - began

    return measure


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile of `values`, interpolated (statistics' inclusive method)."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def search_figures(session: Session, corpus: Corpus) -> list[Result]:
    """p50 and p95 of search_resources over the mix, each against the bare FTS query's."""
    mix = query_mix(session, corpus)

    def ours(item: Query) -> Callable[[], object]:
        return lambda: search_resources(session, item.query)

    def bare(item: Query) -> Callable[[], object]:
        return lambda: session.execute(BARE_FTS, {"q": item.match, "limit": LIMIT}).all()

    for index, item in enumerate(mix):  # warm: the FTS pages, then the statement caches
        bare(item)()
        if index < WARM_QUERIES:
            ours(item)()
    ours_ms: list[float] = []
    bare_ms: list[float] = []
    for item in mix:
        ours_s, bare_s = interleave(_timed(ours(item)), _timed(bare(item)), ROUNDS)
        ours_ms.append(ours_s * MILLISECONDS)
        bare_ms.append(bare_s * MILLISECONDS)
    report_mix(mix, ours_ms, bare_ms)
    size = f"{corpus.resources // 1000}k"
    return [
        Result(
            figure=f"resource search {name} ({size}, SQLite)",
            unit="ms/query",
            ours=round(percentile(ours_ms, fraction), 3),
            baseline=round(percentile(bare_ms, fraction), 3),
            goal=SEARCH_GOAL + " (lower is better)",
        )
        for name, fraction in (("p50", 0.50), ("p95", 0.95))
    ]


def report_mix(mix: list[Query], ours_ms: list[float], bare_ms: list[float]) -> None:
    """Print what the mix held and where its time went, for whoever reads the run."""
    hits = sorted(item.hits for item in mix)
    groups = {
        "no filter": [i for i, item in enumerate(mix) if not item.filtered],
        "region": [i for i, item in enumerate(mix) if item.query.region_id is not None],
        "category": [i for i, item in enumerate(mix) if item.query.category is not None],
        "language": [i for i, item in enumerate(mix) if item.query.language is not None],
        "> 2000 hits": [i for i, item in enumerate(mix) if item.hits > 2000],
    }
    lines = [
        f"  search mix: {len(mix)} queries, documents matched min {hits[0]}, "
        f"median {statistics.median(hits):.0f}, max {hits[-1]}",
    ]
    for name, indexes in groups.items():
        if len(indexes) >= 2:
            ours = [ours_ms[i] for i in indexes]
            bare = [bare_ms[i] for i in indexes]
            lines.append(
                f"    {name:>11}: {len(indexes):3d} queries, median {statistics.median(ours):.2f}"
                f" vs {statistics.median(bare):.2f} ms, max {max(ours):.2f} vs {max(bare):.2f} ms"
            )
    slowest = sorted(range(len(mix)), key=ours_ms.__getitem__, reverse=True)[:3]
    for i in slowest:
        q = mix[i].query
        lines.append(
            f"    slow: {ours_ms[i]:.2f} vs {bare_ms[i]:.2f} ms, {mix[i].hits} docs, "
            f"text={q.text!r} region={q.region_id} category={q.category} language={q.language}"
        )
    print("\n".join(lines), file=sys.stderr, flush=True)


# --- HSDS import -------------------------------------------------------------------------------

HSDS_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HSDS_LANGUAGES = (
    *(("en", "English"), ("ar", "Arabic"), ("uk", "Ukrainian")),
    *(("my", "Burmese"), ("bn", "Bengali")),
)
WEEKDAYS = ("MO,TU,WE,TH,FR", "SA,SU", "MO,WE,FR", "TU,TH")


def hsds_services(count: int = HSDS_SERVICES) -> list[dict[str, Any]]:
    """`count` HSDS 3.0 services shaped like the specification's service_full.json example."""
    rng = random.Random(SEED + 2)
    organizations = [
        {
            "id": new_id(rng),
            "name": name,
            "description": f"{name} runs services for people on the move.",
            "website": f"https://{fold(name).replace(' ', '-')}.example.org",
            "email": f"contact@{fold(name).replace(' ', '-')}.example.org",
        }
        for name in (f"{a} {b}" for a, b in itertools.product(ORG_FIRST, ORG_SECOND))
    ]
    words = CONCEPTS_BY_LOCALE["en"]
    sites = [
        (site, area) for country in COUNTRIES for area, sites in country.areas for site in sites
    ]
    services = []
    for number in range(count):
        service_id = new_id(rng)
        (site, _), area = rng.choice(sites)
        name = f"{' '.join(rng.sample(words, 2)).title()} {site}"
        categories = rng.sample(list(Category), rng.randint(1, 3))
        services.append(
            {
                "id": service_id,
                "name": name,
                "alternate_name": f"{area[0]} {words[number % len(words)]}",
                "description": " ".join(rng.sample(words, 8))
                + f" {BLOCK['en']} {number % 999 + 1}",
                "url": f"https://services.example.org/{service_id}",
                "email": f"desk-{number}@services.example.org",
                "status": rng.choices(["active", "temporarily closed", "inactive"], [95, 3, 2])[0],
                "assured_date": (TODAY - timedelta(days=rng.randint(0, 120))).isoformat(),
                "assurer_email": "verifier@example.org",
                "organization": rng.choice(organizations),
                "phones": [
                    {
                        "id": new_id(rng),
                        "number": f"+447700900{rng.randint(0, 999):03d}",
                        "type": kind,
                        "description": "Reception" if kind == "voice" else "Text us any time",
                        "languages": [{"id": new_id(rng), "name": "English", "code": "en"}],
                    }
                    for kind in rng.sample(["voice", "text"], rng.randint(1, 2))
                ],
                "schedules": [
                    {
                        "id": new_id(rng),
                        "freq": "WEEKLY",
                        "byday": byday,
                        "opens_at": f"{rng.randint(7, 10):02d}:00",
                        "closes_at": f"{rng.randint(15, 20):02d}:00",
                        "description": "Walk in, or call first",
                    }
                    for byday in rng.sample(WEEKDAYS, rng.randint(1, 2))
                ],
                "languages": [
                    {"id": new_id(rng), "name": language, "code": code}
                    for code, language in rng.sample(HSDS_LANGUAGES, rng.randint(1, 3))
                ],
                "attributes": [
                    {
                        "id": new_id(rng),
                        "link_id": service_id,
                        "link_type": "service",
                        "link_entity": "service",
                        "taxonomy_term_id": f"term-{category.value}",
                        "taxonomy_term": {
                            "id": f"term-{category.value}",
                            "code": category.value,
                            "name": CATEGORY_WORDS[category].title(),
                            "taxonomy": "refuge-categories",
                        },
                    }
                    for category in categories
                ],
                "service_at_locations": [
                    {
                        "id": new_id(rng),
                        "description": f"{name}, at the {site[0]} centre",
                        "location": {
                            "id": new_id(rng),
                            "location_type": "physical",
                            "name": f"{site[0]} community centre",
                            "latitude": round(rng.uniform(-60, 60), 5),
                            "longitude": round(rng.uniform(-170, 170), 5),
                            "addresses": [
                                {
                                    "id": new_id(rng),
                                    "address_1": f"{rng.randint(1, 200)} Main Road",
                                    "city": site[0],
                                    "region": area[0],
                                    "postal_code": f"{rng.randint(10000, 99999)}",
                                    "country": "GB",
                                    "address_type": "physical",
                                }
                            ],
                        },
                    }
                ],
            }
        )
    return services


def orm_rows(services: list[dict[str, Any]], region_id: int) -> tuple[list[Base], list[Base]]:
    """The rows an import of `services` writes, straight from the JSON with no checks: the
    organisations and resources (with their children), then their search documents."""
    organizations: dict[str, Organization] = {}
    rows: list[Base] = []
    documents: list[Base] = []
    for service in services:
        org = service["organization"]
        if org["id"] not in organizations:
            organizations[org["id"]] = Organization(
                id=org["id"],
                name=org["name"],
                description=org["description"],
                website=org["website"],
                email=org["email"],
                origin="hsds",
                updated_at=HSDS_NOW,
            )
            rows.append(organizations[org["id"]])
        categories = [Category(a["taxonomy_term"]["code"]) for a in service["attributes"]]
        places = [sal["location"] for sal in service["service_at_locations"]]
        resource = Resource(
            id=service["id"],
            organization_id=org["id"],
            region_id=region_id,
            name=service["name"],
            alternate_name=service["alternate_name"],
            description=service["description"],
            url=service["url"],
            email=service["email"],
            status=ServiceStatus(service["status"]),
            verified_on=date.fromisoformat(service["assured_date"]),
            verified_by=service["assurer_email"],
            source_locale="en",
            origin="hsds",
            updated_at=HSDS_NOW,
            categories=[ResourceCategory(category=category) for category in categories],
            languages=[
                ResourceLanguage(code=language["code"]) for language in service["languages"]
            ],
            locations=[
                Location(
                    id=place["id"],
                    name=place["name"],
                    address=", ".join(
                        place["addresses"][0][key] for key in ("address_1", "postal_code")
                    ),
                    city=place["addresses"][0]["city"],
                    country_code=place["addresses"][0]["country"],
                    latitude=place["latitude"],
                    longitude=place["longitude"],
                )
                for place in places
            ],
            phones=[
                Phone(
                    id=phone["id"],
                    number=phone["number"],
                    kind=PhoneKind(phone["type"]),
                    description=phone["description"],
                )
                for phone in service["phones"]
            ],
            schedules=[
                Schedule(
                    byday=schedule["byday"],
                    opens_at=clock.fromisoformat(schedule["opens_at"]),
                    closes_at=clock.fromisoformat(schedule["closes_at"]),
                    description=schedule["description"],
                )
                for schedule in service["schedules"]
            ],
        )
        shared = [org["name"], *(place["addresses"][0]["city"] for place in places)]
        shared += [CATEGORY_WORDS[category] for category in categories]
        body = fold(" ".join([service["name"], service["alternate_name"], service["description"]]))
        body = fold(" ".join([body, *shared]))
        rows.append(resource)
        documents.append(SearchDocument(resource_id=service["id"], locale="en", body=body))
    return rows, documents


def _fresh_database(folder: Path, name: str) -> tuple[Database, int]:
    """A new SQLite file with Refuge's schema and one region; its id."""
    database = Database(make_url(f"sqlite:///{folder / name}"))
    Base.metadata.create_all(database.engine)
    with database.session() as session:
        region = Region(
            slug="gb-london",
            kind=RegionKind.AREA,
            name="London",
            country_code="GB",
            timezone="Europe/London",
            default_locale="en",
        )
        session.add(region)
        session.flush()
        region_id = region.id
    return database, region_id


def hsds_figures() -> list[Result]:
    """Services per second through import_hsds, against the same rows through plain ORM."""
    try:
        import_hsds = importlib.import_module("server.content.hsds").import_hsds
    except (ImportError, AttributeError) as error:
        print(
            f"  note: HSDS import rate skipped: server.content.hsds.import_hsds is not "
            f"importable ({error})",
            file=sys.stderr,
            flush=True,
        )
        return []
    services = hsds_services()
    with tempfile.TemporaryDirectory(prefix="refuge-bench-hsds-") as tmp:
        folder = Path(tmp)
        path = folder / "services.json"
        path.write_text(json.dumps(services), encoding="utf-8")
        runs = itertools.count()

        def ours() -> float:
            database, region_id = _fresh_database(folder, f"ours-{next(runs)}.sqlite3")
            try:
                with database.session() as session:
                    region = session.get(Region, region_id)
                    began = time.perf_counter()
                    report = import_hsds(session, path, region=region, now=HSDS_NOW)
                    session.commit()
                    elapsed = time.perf_counter() - began
            finally:
                database.dispose()
            created = report.get("service", "created")
            if created != len(services):
                raise RuntimeError(f"import_hsds created {created} of {len(services)} services")
            return len(services) / elapsed

        def plain() -> float:
            database, region_id = _fresh_database(folder, f"plain-{next(runs)}.sqlite3")
            try:
                with database.session() as session:
                    began = time.perf_counter()
                    with path.open(encoding="utf-8") as handle:
                        parsed = json.load(handle)
                    rows, documents = orm_rows(parsed, region_id)
                    session.add_all(rows)
                    session.flush()  # no relationship tells the ORM documents come after
                    session.add_all(documents)
                    session.commit()
                    elapsed = time.perf_counter() - began
            finally:
                database.dispose()
            return len(services) / elapsed

        ours_rate, plain_rate = budgeted_interleave(ours, plain, HSDS_ROUNDS, HSDS_BUDGET_S)
    return [
        Result(
            figure=f"HSDS import ({len(services):,} services, SQLite)",
            unit="records/s",
            ours=round(ours_rate, 1),
            baseline=round(plain_rate, 1),
            goal=(
                "higher is better; baseline: json.load of the same file and the same rows "
                "(organisations, resources, locations, phones, schedules, languages, categories, "
                "one search document each) through ORM add_all and one commit, no validation"
            ),
        )
    ]


def budgeted_interleave(
    ours: Callable[[], float], baseline: Callable[[], float], rounds: int, budget: float
) -> tuple[float, float]:
    """harness.interleave's AB, BA, AB... order, stopping early once `budget` seconds pass."""
    ours_runs: list[float] = []
    baseline_runs: list[float] = []
    began = time.perf_counter()
    for index in range(rounds):
        if index and time.perf_counter() - began > budget:
            break
        order = [(ours, ours_runs), (baseline, baseline_runs)]
        if index % 2:
            order.reverse()
        for measure, runs in order:
            runs.append(measure())
    return statistics.median(ours_runs), statistics.median(baseline_runs)


# --- The benchmark -----------------------------------------------------------------------------


def run() -> list[Result]:
    """Search latency among 100,000 resources, and the HSDS import rate, against baselines."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="refuge-bench-search-") as tmp:
        database = Database(make_url(f"sqlite:///{Path(tmp) / 'search.sqlite3'}"))
        try:
            corpus = build(database)
            print(
                f"  search corpus: {corpus.resources:,} resources, {corpus.documents:,} documents"
                f" in {corpus.seconds['total']:.1f} s ({corpus.seconds['fts']:.1f} s of it"
                " rebuilding search_fts)",
                file=sys.stderr,
                flush=True,
            )
            with database.session() as session:
                results += search_figures(session, corpus)
        finally:
            database.dispose()
    results += hsds_figures()
    return results
