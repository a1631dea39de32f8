"""The demo organization: a bilingual network of local committees with people, households,
contact points, tags, relationships, partners and one user per role.

`demo_load` is deterministic for a seed (one `random.Random(seed)`, timestamps derived from
a fixed base date) and idempotent (a database that already holds the demo network is left
alone). The few structural rows (units, users, roles, tags, partners) go through the ORM and
the core services; the many rows (people and everything hanging off them) are written in
batches with `executemany` on a raw cursor (`COPY` on PostgreSQL), one transaction per
batch, with the encrypted and derived columns filled exactly as the models and services
fill them.

Nothing here records immigration status, country of birth, a visa or an A-number.
"""

from __future__ import annotations

import bisect
import json
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max, Model

from leaven.core import crypto
from leaven.core.audit import audit_record
from leaven.core.models import AuditEvent, OrgUnit, Role, RoleAssignment, User
from leaven.core.services import role_grant, unit_create
from leaven.people import normalize
from leaven.people.models import (
    Affiliation,
    Email,
    Household,
    Note,
    PartnerOrganization,
    Person,
    PersonUnit,
    Phone,
    Relationship,
    Stage,
    StageChange,
    Tag,
    Tagging,
)

DEMO_SLUG = "red-solidaria"
DEMO_NETWORK_NAME = "Red Solidaria · Solidarity Network"
# One password and one TOTP secret for every demo user. They are printed by `leaven demo`
# and are only ever meant for a demo database.
DEMO_PASSWORD = "demo-leaven-2025"  # noqa: S105
DEMO_TOTP_SECRET = "LEAVENDEMOLEAVENDEMOLEAVENDEMO22"  # noqa: S105
DEMO_EMAIL_DOMAIN = "demo.example.org"
BASE_DATE = datetime(2025, 9, 1, 15, 0, tzinfo=UTC)
DEFAULT_BATCH = 20_000


def _nfc(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", item) for item in items)


# ---------------------------------------------------------------------------------------
# Names. Four groups: Latino, Black, white working-class, Vietnamese.

LATINO, BLACK, WHITE, VIET = 0, 1, 2, 3

GIVEN_F: tuple[tuple[str, ...], ...] = (
    _nfc(
        "María Guadalupe Rosa Juana Verónica Alejandra Leticia Araceli Yesenia Maricela "
        "Daniela Ximena Sofía Valeria Andrea Citlali Itzel Mónica Adriana Lucía Carmen Elena "
        "Marisol Beatriz Gabriela Paola Noemí Inés Dolores Rocío Angélica Brenda Karina "
        "Graciela Yolanda".split()
    ),
    _nfc(
        "Keisha Tanya Denise Monique Aaliyah Jasmine Latoya Imani Ebony Brianna Tamika "
        "Shanice Angela Patricia Gloria Dorothy Nia Kiara Destiny Renee Yvonne Tiana".split()
    ),
    _nfc(
        "Jennifer Amanda Heather Tammy Crystal Kayla Brittany Sarah Jessica Donna Brenda "
        "Kathleen Megan Ashley Rebecca Carol Debra Emily Hannah Katie Colleen".split()
    ),
    _nfc("Linh Mai Lan Hương Thảo Ngọc Trang Hạnh Phương Thủy Vy Anh".split()),
)
GIVEN_M: tuple[tuple[str, ...], ...] = (
    _nfc(
        "José Juan Luis Carlos Jesús Miguel Francisco Alejandro Jorge Ricardo Efraín Rubén "
        "Héctor Óscar Iván Martín Raúl Andrés Sergio Rogelio Emiliano Mateo Santiago Diego "
        "Ángel Julián Tomás Ramón Joaquín Álvaro Eduardo Fernando Gerardo Arturo".split()
    ),
    _nfc(
        "DeShawn Marcus Terrence Darnell Andre Jamal Tyrone Malik Curtis Reginald Jerome "
        "Cedric Isaiah Xavier Darius Kevin Anthony Lamar Calvin Derrick Maurice".split()
    ),
    _nfc(
        "Michael Brian Kevin Cody Travis Dustin Jason Joseph Daniel Ryan Patrick Kyle "
        "Timothy Steven Bobby Ronald Tyler Sean Matthew Gary Dennis".split()
    ),
    _nfc("Minh Tuấn Hùng Dũng Long Quang Huy Khoa Bảo Đức Nam Phúc".split()),
)
FAMILY: tuple[tuple[str, ...], ...] = (
    _nfc(
        "García Hernández Martínez López González Rodríguez Pérez Sánchez Ramírez Torres "
        "Flores Rivera Gómez Díaz Cruz Morales Reyes Gutiérrez Ortiz Chávez Ruiz Jiménez "
        "Mendoza Vásquez Castillo Muñoz Peña Núñez Ibáñez Domínguez Álvarez Ramos Salazar "
        "Aguilar Medina Soto Ríos Velázquez Zúñiga Cervantes Maldonado Avendaño Santiago "
        "Bautista Juárez Acevedo Ordóñez Benítez".split()
    ),
    _nfc(
        "Washington Jackson Johnson Williams Brown Jones Davis Harris Robinson Thomas "
        "Walker Lewis Coleman Jenkins Banks Simmons Freeman Holloway McNeil Battle Hairston "
        "Mitchell Bryant Alston Pettiford Dixon Gaines Porter".split()
    ),
    _nfc(
        "Smith Miller Kowalski Nowak O'Brien Murphy Sullivan Wilson Anderson Baker Carter "
        "Kelly Walsh Schmidt Fischer Novak Lewandowski Jansen Hughes Parker Cooper Reed "
        "Hall Young O'Connor Mazur Ryan Dunn Horvath Cole".split()
    ),
    _nfc("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ".split()),
)
NICKNAMES = {
    unicodedata.normalize("NFC", given): nick
    for given, nick in {
        "Guadalupe": "Lupe",
        "Jesús": "Chuy",
        "Francisco": "Paco",
        "Dolores": "Lola",
        "Alejandro": "Alex",
        "Graciela": "Chela",
        "Eduardo": "Lalo",
        "Michael": "Mike",
        "Patricia": "Trish",
        "Timothy": "Tim",
        "Rebecca": "Becky",
        "Anthony": "Tony",
    }.items()
}
PRONOUNS = ("she/her", "he/him", "they/them", "ella", "él")
SOURCES = (
    "Door knock",
    "Know Your Rights training",
    "Event sign-in",
    "Referral",
    "Parish sign-up",
    "Online form",
    "Hotline",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
NOTES = _nfc(
    (
        "Wants to host a house meeting in the fall.",
        "Prefiere llamadas después de las 6 pm.",
        "Offered to drive people to the next mobilization.",
        "Su hija puede ayudar con interpretación en las reuniones.",
        "Interested in the tenant union; landlord has not made repairs.",
        "Vino a la clínica de Conoce tus Derechos con su vecina.",
        "Can bring food for the monthly meeting.",
        "Quiere aprender a facilitar talleres.",
        "Works nights; text before calling.",
        "Trae a sus compañeros de trabajo a la próxima asamblea.",
    )
)
ACCESS_NEEDS = _nfc(
    (
        "Uses a wheelchair; needs step-free venues.",
        "Necesita interpretación en la asamblea.",
        "Needs childcare to attend evening meetings.",
        "Diabético: necesita descansos en marchas largas.",
    )
)

# ---------------------------------------------------------------------------------------
# The tree.


@dataclass(frozen=True)
class Place:
    """A local committee and the neighborhood it organizes in."""

    name: str
    region: str
    city: str
    state: str
    zips: tuple[str, ...]
    area_codes: tuple[str, ...]
    streets: tuple[str, ...]
    wards: tuple[str, ...]
    mix: tuple[float, float, float, float]  # Latino, Black, white, Vietnamese
    weight: int
    center: tuple[float, float]
    time_zone: str = ""


REGIONS = (
    ("Midwest", "America/Chicago"),
    ("Southwest", "America/Phoenix"),
    ("Southeast", "America/New_York"),
)

CHICAGO = ("312", "773", "872")
PHOENIX = ("602", "623", "480")
LOS_ANGELES = ("213", "323")
DURHAM = ("919", "984")

PLACES: tuple[Place, ...] = (
    Place(
        "Pilsen", "Midwest", "Chicago", "IL", ("60608",), CHICAGO,
        ("W 18th St", "W 19th St", "W Cullerton St", "S Blue Island Ave", "S Ashland Ave",
         "S Loomis St", "S Racine Ave", "W 21st Pl"),
        ("25", "25", "11"), (0.80, 0.05, 0.12, 0.03), 14, (41.8565, -87.6597),
    ),
    Place(
        "Little Village", "Midwest", "Chicago", "IL", ("60623",), CHICAGO,
        ("W 26th St", "S Pulaski Rd", "S Kedzie Ave", "S Central Park Ave", "W 28th St",
         "S Millard Ave", "W Cermak Rd", "S Lawndale Ave"),
        ("22", "22", "24"), (0.88, 0.05, 0.06, 0.01), 13, (41.8445, -87.7130),
    ),
    Place(
        "Back of the Yards", "Midwest", "Chicago", "IL", ("60609",), CHICAGO,
        ("S Ashland Ave", "W 47th St", "W 51st St", "S Damen Ave", "S Hermitage Ave",
         "W 49th St", "S Marshfield Ave", "W Garfield Blvd"),
        ("20", "15"), (0.62, 0.28, 0.08, 0.02), 9, (41.8089, -87.6664),
    ),
    Place(
        "Brighton Park", "Midwest", "Chicago", "IL", ("60632",), CHICAGO,
        ("S Archer Ave", "S Kedzie Ave", "W 38th St", "S California Ave", "W Pershing Rd",
         "S Sacramento Ave", "W 43rd St", "S Albany Ave"),
        ("12", "12", "14"), (0.76, 0.04, 0.13, 0.07), 8, (41.8190, -87.6990),
    ),
    Place(
        "Albany Park", "Midwest", "Chicago", "IL", ("60625",), CHICAGO,
        ("W Lawrence Ave", "N Kedzie Ave", "W Montrose Ave", "N Kimball Ave", "W Leland Ave",
         "N Spaulding Ave", "W Wilson Ave", "N Drake Ave"),
        ("33", "39"), (0.48, 0.08, 0.27, 0.17), 6, (41.9683, -87.7239),
    ),
    Place(
        "Maryvale", "Southwest", "Phoenix", "AZ", ("85031", "85033", "85035"), PHOENIX,
        ("W Indian School Rd", "N 59th Ave", "N 67th Ave", "W Thomas Rd", "W Campbell Ave",
         "N 75th Ave", "W Osborn Rd", "W Encanto Blvd"),
        ("D5", "D7"), (0.76, 0.07, 0.09, 0.08), 11, (33.4942, -112.1890),
    ),
    Place(
        "South Phoenix", "Southwest", "Phoenix", "AZ", ("85040", "85041", "85042"), PHOENIX,
        ("S Central Ave", "E Baseline Rd", "S 16th St", "E Southern Ave", "E Broadway Rd",
         "S 7th Ave", "E Roeser Rd", "S 20th St"),
        ("D7", "D8"), (0.60, 0.26, 0.11, 0.03), 8, (33.3900, -112.0740),
    ),
    Place(
        "Boyle Heights", "Southwest", "Los Angeles", "CA", ("90033", "90023"), LOS_ANGELES,
        ("E Cesar E Chavez Ave", "E 1st St", "S Soto St", "N Breed St", "Whittier Blvd",
         "E 4th St", "S Boyle Ave", "N Evergreen Ave"),
        ("CD14",), (0.88, 0.03, 0.05, 0.04), 10, (34.0330, -118.2050), "America/Los_Angeles",
    ),
    Place(
        "Pico-Union", "Southwest", "Los Angeles", "CA", ("90006", "90015"), LOS_ANGELES,
        ("W Pico Blvd", "S Alvarado St", "W 11th St", "S Hoover St", "S Union Ave",
         "W 12th St", "S Burlington Ave", "W Venice Blvd"),
        ("CD1",), (0.80, 0.07, 0.05, 0.08), 6, (34.0470, -118.2850), "America/Los_Angeles",
    ),
    Place(
        "East Durham", "Southeast", "Durham", "NC", ("27703", "27701"), DURHAM,
        ("Angier Ave", "Driver St", "Holloway St", "S Alston Ave", "Liberty St",
         "N Miami Blvd", "Taylor St", "Hyde Park Ave"),
        ("W1", "W3"), (0.36, 0.50, 0.13, 0.01), 7, (35.9870, -78.8700),
    ),
    Place(
        "Walltown", "Southeast", "Durham", "NC", ("27705",), DURHAM,
        ("W Club Blvd", "Onslow St", "Berkeley St", "Sedgefield St", "W Knox St", "Guess Rd",
         "Lancaster St", "Clarendon St"),
        ("W2",), (0.20, 0.60, 0.19, 0.01), 4, (36.0150, -78.9150),
    ),
    Place(
        "Southside", "Southeast", "Durham", "NC", ("27701", "27707"), DURHAM,
        ("Fayetteville St", "Lakewood Ave", "S Roxboro St", "Cornwallis Rd", "Enterprise St",
         "Dunstan Ave", "Umstead St", "Cecil St"),
        ("W3",), (0.30, 0.55, 0.14, 0.01), 4, (35.9800, -78.9000),
    ),
)  # fmt: skip

PRECINCTS_PER_WARD = 30
APARTMENTS = ("", "", "", "", "1", "2", "Apt 1", "Apt 2", "Apt 3", "Garden", "1R", "2R", "Unit B")

# Ward teams (under a committee) and their precinct teams.
WARD_TEAMS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    # committee: (ward code, team name, precinct numbers with a team)
    "Pilsen": ("25", "25th Ward team", (14, 22)),
    "Brighton Park": ("12", "12th Ward team", (3,)),
    "Little Village": ("22", "22nd Ward team", ()),
}


@dataclass(frozen=True)
class CircleSpec:
    """A circle under `parent`; its members come only from committees at or under `parent`,
    so a committee's coordinator never sees another committee's people through it."""

    name: str
    parent: str  # a committee's or a region's name
    committees: tuple[str, ...]
    group: int | None  # only people of this name group join, or anyone
    chance: float


CIRCLES = (
    CircleSpec(
        "Club Oaxaqueño · Oaxaca hometown club", "Pilsen", ("Pilsen",), LATINO, 0.08
    ),
    CircleSpec(
        "Civilian Police Accountability circle", "Midwest",
        ("Pilsen", "Little Village", "Back of the Yards", "Brighton Park", "Albany Park"),
        None, 0.03,
    ),
    CircleSpec("Grupo parroquial Santa Rosa de Lima", "Maryvale", ("Maryvale",), LATINO, 0.07),
    CircleSpec("Madres Unidas parents circle", "Boyle Heights", ("Boyle Heights",), None, 0.04),
)  # fmt: skip

# Tags: (owner unit name, tag name, chance by stage unknown..leader).
TAGS: tuple[tuple[str, str, tuple[float, float, float, float, float]], ...] = (
    ("network", "Know Your Rights 2024", (0.05, 0.18, 0.30, 0.55, 0.80)),
    ("network", "Rapid response volunteer", (0.0, 0.01, 0.06, 0.35, 0.60)),
    ("network", "Parent leader", (0.0, 0.01, 0.03, 0.10, 0.25)),
    ("network", "May Day 2025 march", (0.02, 0.06, 0.15, 0.30, 0.50)),
    ("network", "Monthly donor", (0.0, 0.005, 0.04, 0.08, 0.20)),
    ("Midwest", "Bus to Springfield", (0.0, 0.02, 0.08, 0.20, 0.35)),
    ("Southwest", "Heat relief volunteer", (0.0, 0.02, 0.08, 0.20, 0.35)),
    ("Southeast", "Durham budget hearing", (0.0, 0.02, 0.08, 0.20, 0.35)),
    ("Pilsen", "Clínica de impuestos", (0.01, 0.04, 0.08, 0.12, 0.20)),
    ("Boyle Heights", "Vendedores ambulantes", (0.01, 0.05, 0.08, 0.12, 0.20)),
    ("East Durham", "Tenant union", (0.01, 0.05, 0.10, 0.20, 0.30)),
)

# Partner organizations: (owner unit name, name, sector, titles).
PARTNERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("network", "Fondo Comunitario Solidario", "donors", ("Donor", "Board member")),
    ("network", "Artistas por la Justicia", "artists", ("Muralist", "Member")),
    ("network", "Colectivo de Promotoras y Curanderas", "healers", ("Promotora", "Healer")),
    ("Midwest", "Hotel and Warehouse Workers Local 7", "labor", ("Member", "Steward")),
    ("Midwest", "Parroquia San Martín de Porres", "faith", ("Parishioner", "Catechist")),
    ("Pilsen", "Taller de Gráfica Popular Pilsen", "artists", ("Printmaker", "Member")),
    ("Southwest", "Desert Farmworkers Union", "labor", ("Member", "Organizer")),
    ("Southwest", "Iglesia Santa Rosa de Lima", "faith", ("Parishioner", "Usher")),
    ("Boyle Heights", "Clínica Popular del Este", "healers", ("Promotora", "Volunteer")),
    ("Southeast", "Carolina Poultry Workers Committee", "labor", ("Member", "Steward")),
    ("Southeast", "Durham Interfaith Sanctuary Network", "faith", ("Congregant", "Deacon")),
    ("Southeast", "Neighbors Giving Circle", "donors", ("Donor",)),
)


@dataclass(frozen=True)
class DemoUser:
    local: str
    first_name: str
    last_name: str
    role: str
    unit: str  # "network", a region's, a committee's or a team's name
    language: str = "en"

    @property
    def email(self) -> str:
        return f"{self.local}@{DEMO_EMAIL_DOMAIN}"


DEMO_USERS = (
    DemoUser("admin", "Rosa", "Hernández", Role.ADMIN, "network", "es"),
    DemoUser("organizer", "Marcus", "Washington", Role.ORGANIZER, "Midwest"),
    DemoUser("coordinator", "Guadalupe", "Peña", Role.COORDINATOR, "Pilsen", "es"),
    DemoUser("coordinator.maryvale", "Alejandra", "Núñez", Role.COORDINATOR, "Maryvale", "es"),
    DemoUser("captain", "José", "Muñoz", Role.CAPTAIN, "25th Ward team", "es"),
    DemoUser("dispatcher", "Linh", "Nguyễn", Role.DISPATCHER, "Midwest"),
    DemoUser("responder", "Keisha", "Jackson", Role.RESPONDER, "Pilsen"),
    DemoUser("attorney", "Daniel", "Kowalski", Role.ATTORNEY, "Midwest"),
    DemoUser("viewer", "Itzel", "Ramírez", Role.VIEWER, "Pilsen", "es"),
)

STAGES = tuple(Stage.values)  # unknown, contacted, supporter, volunteer, leader
STAGE_CUMULATIVE = (0.44, 0.74, 0.89, 0.975, 1.0)
STAGE_REASONS = (
    ("Door knock", "Llamada telefónica", "Event sign-in"),
    ("Signed the pledge", "Came to a community meeting", "Firmó la petición"),
    ("Came to Know Your Rights training", "Volunteered at the food drive", "Se unió al comité"),
    ("Led a house meeting", "Facilitó un taller", "Took on a turf as captain"),
)
FAMILY_TIE = str(Relationship.Kind.FAMILY.value)
RECRUITED_BY_TIE = str(Relationship.Kind.RECRUITED_BY.value)
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_CUMULATIVE = (0.27, 0.57, 0.76, 0.90, 0.97, 1.0)


# ---------------------------------------------------------------------------------------
# Results.


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    unit: str


@dataclass
class DemoResult:
    created: bool
    logins: list[DemoLogin]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    complete: bool = True


def demo_network() -> OrgUnit | None:
    return OrgUnit.objects.filter(slug=DEMO_SLUG).first()


def demo_logins() -> list[DemoLogin]:
    """The demo's users with their role and unit, as they are in the database."""
    emails = [spec.email for spec in DEMO_USERS]
    assignments = RoleAssignment.objects.filter(user__email__in=emails).select_related(
        "user", "unit"
    )
    by_email = {(a.user.email, a.role): a.unit.name for a in assignments}
    return [
        DemoLogin(spec.email, DEMO_PASSWORD, spec.role, by_email[(spec.email, spec.role)])
        for spec in DEMO_USERS
        if (spec.email, spec.role) in by_email
    ]


def demo_code(at: float | None = None) -> str:
    """The current 6-digit TOTP code of the demo users' shared secret."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    moment = time.time() if at is None else at
    return str(
        format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(moment) // app_settings.TOTP_PERIOD))
    )


# ---------------------------------------------------------------------------------------
# Writing many rows.


class _Bulk:
    """Append rows per table, then write them all with executemany (COPY on PostgreSQL)."""

    def __init__(self) -> None:
        self.rows: dict[type[Model], list[tuple[Any, ...]]] = {}
        self.columns: dict[type[Model], tuple[str, ...]] = {}
        self.written: dict[str, int] = {}

    def table(self, model: type[Model], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        self.columns[model] = columns
        return self.rows.setdefault(model, [])

    def flush(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for model, rows in self.rows.items():
                if rows:
                    _write(cursor, model, self.columns[model], rows)
                    key = model._meta.model_name or model.__name__
                    self.written[key] = self.written.get(key, 0) + len(rows)
                    rows.clear()


def _write(cursor: Any, model: type[Model], columns: tuple[str, ...], rows: list[Any]) -> None:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _next_id(model: type[Model]) -> int:
    top = model._default_manager.aggregate(top=Max("pk"))["top"]
    return int(top or 0) + 1


def _reset_sequences(models: list[type[Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _analyze(models: list[type[Model]]) -> None:
    """Refresh the planner's statistics after a bulk load (SQLite and PostgreSQL alike), so
    that it picks the right index for lists and counts at this size."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# ---------------------------------------------------------------------------------------
# The generator.


class _Clock:
    """Timestamps a whole number of days (and a few hours) before BASE_DATE, adapted once
    for the database."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], Any] = {}

    def at(self, days_before: int, hour: int = 0) -> Any:
        key = (days_before, hour)
        value = self._cache.get(key)
        if value is None:
            moment = BASE_DATE - timedelta(days=days_before, hours=hour)
            value = connection.ops.adapt_datetimefield_value(moment)
            self._cache[key] = value
        return value


@dataclass
class _Committee:
    place: Place
    unit: OrgUnit
    unit_id: int
    region: OrgUnit
    tags: list[tuple[int, tuple[float, float, float, float, float]]]
    partners: list[tuple[int, tuple[str, ...]]]
    ward_team: tuple[str, int, dict[int, int]] | None  # ward code, unit id, precinct -> id
    circles: list[tuple[int, int | None, float]]  # unit id, group, chance
    addresses: set[str] = field(default_factory=set)
    recruiters: list[int] = field(default_factory=list)


class _Generator:
    def __init__(self, *, rng: random.Random, committees: list[_Committee]) -> None:
        self.rng = rng
        self.committees = committees
        total = float(sum(c.place.weight for c in committees))
        running = 0.0
        self.committee_cumulative: list[float] = []
        for committee in committees:
            running += committee.place.weight / total
            self.committee_cumulative.append(running)
        self.committee_cumulative[-1] = 1.0
        self.clock = _Clock()
        self.bulk = _Bulk()
        self.next_person = _next_id(Person)
        self.next_household = _next_id(Household)
        self.first_person = self.next_person
        self.first_household = self.next_household
        self.sort_keys: dict[tuple[str, str], str] = {}
        self.given_sorts: dict[str, str] = {}
        self.ascii_names: dict[str, str] = {}
        self.phone_indexes: dict[str, str] = {}
        self.address_keys: dict[tuple[str, int, str, str], str] = {}
        self.json_cache: dict[str, str] = {}
        self.voter_fields = (
            json.dumps({"registered_voter": False}),
            json.dumps({"registered_voter": True}),
            json.dumps({}),
        )
        b = self.bulk
        self.households = b.table(
            Household,
            ("id", "owner_unit_id", "street", "unit", "city", "state", "zip_code",
             "address_key", "latitude", "longitude", "precinct_code", "ward_code",
             "created_at", "modified_at"),
        )  # fmt: skip
        self.people = b.table(
            Person,
            ("id", "owner_unit_id", "household_id", "given_name", "family_name",
             "preferred_name", "pronouns", "language", "stage", "custom_fields",
             "sensitive_fields", "source", "sort_name", "given_sort", "has_email", "has_phone",
             "created_at", "modified_at", "created_by_id"),
        )  # fmt: skip
        self.links = b.table(PersonUnit, ("person_id", "unit_id", "since"))
        self.changes = b.table(
            StageChange, ("person_id", "from_stage", "to_stage", "reason", "actor_id", "at")
        )
        self.emails = b.table(
            Email,
            ("person_id", "address", "address_index", "status", "is_primary", "source",
             "consent_at", "created_at"),
        )  # fmt: skip
        self.phones = b.table(
            Phone,
            ("person_id", "number", "number_index", "kind", "sms_status", "urgent_alerts",
             "is_primary", "source", "consent_at", "created_at"),
        )  # fmt: skip
        self.taggings = b.table(Tagging, ("tag_id", "person_id", "created_at"))
        self.relationships = b.table(Relationship, ("person_id", "other_id", "kind", "created_at"))
        self.affiliations = b.table(
            Affiliation, ("person_id", "organization_id", "title", "created_at")
        )
        self.notes = b.table(Note, ("person_id", "body", "author_id", "created_at"))

    # Draws. Indexing with random() is several times faster than choice() and randrange(),
    # which matters a million times over; the stream stays fixed by the seed.

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]

    def below(self, n: int) -> int:
        return int(self.rng.random() * n)

    def between(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low))

    # Derived values, computed exactly as the services do and cached by name.

    def sort_key(self, family: str, given: str) -> str:
        key = (family, given)
        value = self.sort_keys.get(key)
        if value is None:
            value = self.sort_keys[key] = normalize.sort_key(family, given)
        return value

    def given_sort(self, given: str) -> str:
        value = self.given_sorts.get(given)
        if value is None:
            value = self.given_sorts[given] = normalize.fold(given)[:100]
        return value

    def ascii_name(self, name: str) -> str:
        value = self.ascii_names.get(name)
        if value is None:
            value = "".join(ch for ch in normalize.fold(name) if ch.isascii() and ch.isalnum())
            self.ascii_names[name] = value
        return value

    def phone_index(self, number: str) -> str:
        value = self.phone_indexes.get(number)
        if value is None:
            value = self.phone_indexes[number] = crypto.blind_index(number)
        return value

    # One household and its people.

    def household(self, remaining: int) -> int:
        rng = self.rng
        committee = self.committees[bisect.bisect_right(self.committee_cumulative, rng.random())]
        place = committee.place
        street_no, number, apartment, key = self._address(committee)
        street = f"{number} {place.streets[street_no]}"
        ward = place.wards[(street_no + number // 1000) % len(place.wards)]
        precinct = (street_no * 7 + number // 130) % PRECINCTS_PER_WARD + 1
        household_id = self.next_household
        self.next_household += 1
        founded = self.between(60, 1400)
        household_at = self.clock.at(founded, 2)
        lat = round(place.center[0] + (rng.random() - 0.5) * 0.03, 6)
        lng = round(place.center[1] + (rng.random() - 0.5) * 0.03, 6)
        self.households.append(
            (household_id, committee.unit_id, street, apartment, place.city, place.state,
             place.zips[number % len(place.zips)], key, lat, lng, f"{ward}-{precinct:03d}",
             ward, household_at, household_at)
        )  # fmt: skip

        mix = place.mix
        r = rng.random()
        group = LATINO if r < mix[0] else BLACK if r < mix[0] + mix[1] else WHITE
        if group == WHITE and r >= mix[0] + mix[1] + mix[2]:
            group = VIET
        family = self.pick(FAMILY[group])
        home_language = "en"
        if group == LATINO and rng.random() < 0.76:
            home_language = "es"
        elif group == VIET and rng.random() < 0.5:
            home_language = "vi"
        size = HOUSEHOLD_SIZES[bisect.bisect_left(HOUSEHOLD_CUMULATIVE, rng.random())]
        size = min(size, remaining)
        area_code = self.pick(place.area_codes)
        head = 0
        for index in range(size):
            person_id = self._person(
                committee=committee,
                household_id=household_id,
                group=group,
                family=family if index == 0 or rng.random() < 0.8 else self.pick(FAMILY[group]),
                language=home_language if index < 2 or rng.random() < 0.6 else "en",
                area_code=area_code,
                founded=founded,
                ward=ward,
                precinct=precinct,
            )
            if index == 0:
                head = person_id
            else:
                self.relationships.append((person_id, head, FAMILY_TIE, self.clock.at(founded, 3)))
        return size

    def _address_rest(self, place: Place, street_no: int, apartment: str, number: int) -> str:
        """normalize.address_key of the address without its house number: the key of
        "2189 W 19th St" is "2189 " followed by the key of "W 19th St" (a house number is
        one word that no street-word spelling changes), so the rest is computed once."""
        zip_code = place.zips[number % len(place.zips)]
        cache_key = (place.name, street_no, apartment, zip_code)
        value = self.address_keys.get(cache_key)
        if value is None:
            value = normalize.address_key(
                place.streets[street_no], apartment, place.city, place.state, zip_code
            )
            self.address_keys[cache_key] = value
        return value

    def _address(self, committee: _Committee) -> tuple[int, int, str, str]:
        place = committee.place
        for attempt in range(1000):
            street_no = self.below(len(place.streets))
            number = self.between(100, 4900)
            apartment = self.pick(APARTMENTS) if attempt < 20 else f"Apt {attempt}"
            key = f"{number} {self._address_rest(place, street_no, apartment, number)}"
            if key not in committee.addresses:
                committee.addresses.add(key)
                return street_no, number, apartment, key
        raise RuntimeError("no free address left for the demo")  # pragma: no cover

    def _person(
        self,
        *,
        committee: _Committee,
        household_id: int,
        group: int,
        family: str,
        language: str,
        area_code: str,
        founded: int,
        ward: str,
        precinct: int,
    ) -> int:
        rng, clock = self.rng, self.clock
        person_id = self.next_person
        self.next_person += 1
        female = rng.random() < 0.53
        given = self.pick(GIVEN_F[group] if female else GIVEN_M[group])
        preferred = NICKNAMES.get(given, "") if rng.random() < 0.3 else ""
        pronouns = self.pick(PRONOUNS) if rng.random() < 0.04 else ""
        r = rng.random()
        stage_no = 0
        while r >= STAGE_CUMULATIVE[stage_no]:
            stage_no += 1
        stage = STAGES[stage_no]
        created_days = max(founded - self.between(0, 90), 30)
        created_at = clock.at(created_days)

        # The ladder, one step at a time, each later than the last.
        day = created_days
        for step in range(stage_no):
            day = max(day - self.between(5, 120), 1)
            self.changes.append(
                (person_id, STAGES[step], STAGES[step + 1], self.pick(STAGE_REASONS[step]),
                 None, clock.at(day, 1))
            )  # fmt: skip
        modified_at = clock.at(day, 1) if stage_no else created_at

        r = rng.random()
        custom = self.voter_fields[0 if r < 0.33 else 1 if r < 0.80 else 2]
        sensitive = ""
        if stage_no >= 3 and rng.random() < 0.05:
            value = {"access_needs": self.pick(ACCESS_NEEDS)}
            sensitive = crypto.encrypt(json.dumps(value, sort_keys=True, ensure_ascii=False))

        # Contact points, each with its own consent.
        has_email = rng.random() < 0.55
        if has_email:
            count = 2 if rng.random() < 0.05 else 1
            for n in range(count):
                domain = EMAIL_DOMAINS[(person_id + n) % len(EMAIL_DOMAINS)]
                address = (
                    f"{self.ascii_name(given)}.{self.ascii_name(family)}"
                    f"{self.between(1, 9999)}@{domain}"
                )
                r = rng.random()
                status = "subscribed" if r < 0.87 else "unsubscribed" if r < 0.95 else "bouncing"
                self.emails.append(
                    (person_id, crypto.encrypt(address), crypto.blind_index(address), status,
                     n == 0, "demo", created_at if status == "subscribed" else modified_at,
                     created_at)
                )  # fmt: skip
        has_phone = rng.random() < 0.68
        if has_phone:
            numbers = [f"+1{area_code}55501{self.below(100):02d}"]
            if rng.random() < 0.08:
                second = f"+1{area_code}55501{self.below(100):02d}"
                if second != numbers[0]:
                    numbers.append(second)
            for n, number in enumerate(numbers):
                r = rng.random()
                sms = "opted_in" if r < 0.55 else "none" if r < 0.92 else "opted_out"
                urgent = sms == "opted_in" and stage_no >= 3 and rng.random() < 0.6
                self.phones.append(
                    (person_id, crypto.encrypt(number), self.phone_index(number),
                     "mobile" if n == 0 else "home", sms, urgent, n == 0, "demo",
                     None if sms == "none" else created_at, created_at)
                )  # fmt: skip

        self.people.append(
            (person_id, committee.unit_id, household_id, given, family, preferred, pronouns,
             language, stage, custom, sensitive, self.pick(SOURCES), self.sort_key(family, given),
             self.given_sort(given), has_email, has_phone, created_at, modified_at, None)
        )  # fmt: skip

        # Memberships: the owner committee always, then ward and precinct teams and circles.
        self.links.append((person_id, committee.unit_id, created_at))
        if committee.ward_team and committee.ward_team[0] == ward and stage_no >= 1:
            _code, team_id, precinct_teams = committee.ward_team
            if rng.random() < 0.6:
                self.links.append((person_id, team_id, modified_at))
            if precinct in precinct_teams and stage_no >= 2 and rng.random() < 0.7:
                self.links.append((person_id, precinct_teams[precinct], modified_at))
        for circle_id, circle_group, chance in committee.circles:
            if (circle_group is None or circle_group == group) and rng.random() < chance:
                self.links.append((person_id, circle_id, modified_at))

        for tag_id, chances in committee.tags:
            if rng.random() < chances[stage_no]:
                self.taggings.append((tag_id, person_id, modified_at))

        if stage_no >= 2 and committee.recruiters and rng.random() < 0.25:
            recruiter = self.pick(committee.recruiters)
            self.relationships.append((person_id, recruiter, RECRUITED_BY_TIE, created_at))
        if stage_no >= 3:
            committee.recruiters.append(person_id)

        if stage_no >= 1 and committee.partners and rng.random() < 0.04:
            organization_id, titles = self.pick(committee.partners)
            self.affiliations.append((person_id, organization_id, self.pick(titles), created_at))
        if stage_no >= 2 and rng.random() < 0.05:
            self.notes.append((person_id, crypto.encrypt(self.pick(NOTES)), None, modified_at))
        return person_id


# ---------------------------------------------------------------------------------------
# The structure: units, tags, partners, users.


def _build_structure() -> tuple[OrgUnit, dict[str, OrgUnit], list[_Committee]]:
    units: dict[str, OrgUnit] = {}
    network = unit_create(
        actor=None,
        name=DEMO_NETWORK_NAME,
        kind=OrgUnit.Kind.NETWORK,
        parent=None,
        slug=DEMO_SLUG,
        languages=["en", "es"],
        time_zone="America/Chicago",
        as_operator=True,
    )
    units["network"] = network
    for name, zone in REGIONS:
        units[name] = unit_create(
            actor=None,
            name=name,
            kind=OrgUnit.Kind.REGION,
            parent=network,
            time_zone=zone,
            as_operator=True,
        )
    for place in PLACES:
        units[place.name] = unit_create(
            actor=None,
            name=place.name,
            kind=OrgUnit.Kind.COMMITTEE,
            parent=units[place.region],
            time_zone=place.time_zone,
            languages=["en", "es", "vi"] if place.mix[VIET] >= 0.07 else ["en", "es"],
            as_operator=True,
        )
    ward_teams: dict[str, tuple[str, int, dict[int, int]]] = {}
    for committee_name, (ward, team_name, precincts) in WARD_TEAMS.items():
        team = unit_create(
            actor=None,
            name=team_name,
            kind=OrgUnit.Kind.WARD_TEAM,
            parent=units[committee_name],
            as_operator=True,
        )
        units[team_name] = team
        precinct_ids: dict[int, int] = {}
        for precinct in precincts:
            precinct_team = unit_create(
                actor=None,
                name=f"{team_name.removesuffix(' team')}, Precinct {precinct} team",
                kind=OrgUnit.Kind.PRECINCT_TEAM,
                parent=team,
                as_operator=True,
            )
            units[precinct_team.name] = precinct_team
            precinct_ids[precinct] = precinct_team.pk
        ward_teams[committee_name] = (ward, team.pk, precinct_ids)
    circles: dict[str, list[tuple[int, int | None, float]]] = {}
    for spec in CIRCLES:
        circle = unit_create(
            actor=None,
            name=spec.name,
            kind=OrgUnit.Kind.CIRCLE,
            parent=units[spec.parent],
            as_operator=True,
        )
        units[spec.name] = circle
        for committee_name in spec.committees:
            circles.setdefault(committee_name, []).append((circle.pk, spec.group, spec.chance))

    tags = Tag.objects.bulk_create(
        Tag(owner_unit=units[owner], name=name, created_at=BASE_DATE - timedelta(days=700))
        for owner, name, _chances in TAGS
    )
    partners = PartnerOrganization.objects.bulk_create(
        PartnerOrganization(
            owner_unit=units[owner],
            name=name,
            sector=sector,
            created_at=BASE_DATE - timedelta(days=800),
        )
        for owner, name, sector, _titles in PARTNERS
    )

    def visible_from(owner: str, place: Place) -> bool:
        return owner in ("network", place.region, place.name)

    committees = [
        _Committee(
            place=place,
            unit=units[place.name],
            unit_id=units[place.name].pk,
            region=units[place.region],
            tags=[
                (tag.pk, chances)
                for tag, (owner, _name, chances) in zip(tags, TAGS, strict=True)
                if visible_from(owner, place)
            ],
            partners=[
                (partner.pk, titles)
                for partner, (owner, _n, _s, titles) in zip(partners, PARTNERS, strict=True)
                if visible_from(owner, place)
            ],
            ward_team=ward_teams.get(place.name),
            circles=circles.get(place.name, []),
        )
        for place in PLACES
    ]
    return network, units, committees


def _create_users(units: dict[str, OrgUnit]) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    password_hash = make_password(DEMO_PASSWORD)  # hashed once, shared by the demo users
    for spec in DEMO_USERS:
        user = User.objects.filter(email__iexact=spec.email).first()
        if user is None:
            user = User.objects.create_user(
                email=spec.email,
                password=None,
                first_name=unicodedata.normalize("NFC", spec.first_name),
                last_name=unicodedata.normalize("NFC", spec.last_name),
                language=spec.language,
            )
            user.password = password_hash
            user.save(update_fields=["password"])
        role_grant(actor=None, user=user, unit=units[spec.unit], role=spec.role, as_operator=True)
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)


# ---------------------------------------------------------------------------------------
# The service.


def _generate(
    generator: _Generator,
    *,
    people: int,
    batch_size: int,
    say: Callable[[str], None],
    started: float,
) -> int:
    made = 0
    in_batch = 0
    last_report = started
    while made < people:
        size = generator.household(people - made)
        made += size
        in_batch += size
        if in_batch >= batch_size:
            generator.bulk.flush()
            in_batch = 0
            now = time.perf_counter()
            if now - last_report >= 5:
                rate = made / (now - started)
                say(f"  {made:,} / {people:,} people ({rate:,.0f} people/s)")
                last_report = now
    generator.bulk.flush()
    return made


def _load_other_apps(committees: list[_Committee], *, seed: int) -> dict[str, int]:
    """Dues memberships, events, turfs and rapid-response responders for the first
    committees, from their own people."""
    from leaven.canvass.demo import canvass_demo
    from leaven.events.demo import events_demo
    from leaven.membership.demo import membership_demo
    from leaven.rapid_response.demo import rapid_response_demo

    rng = random.Random(seed + 1)
    counts = {"memberships": 0, "events": 0, "canvass": 0, "rapid_response": 0}
    for committee in committees[:4]:
        people = list(Person.objects.filter(owner_unit_id=committee.unit_id).order_by("pk")[:400])
        if not people:
            continue
        with transaction.atomic():
            unit = committee.unit
            counts["memberships"] += len(membership_demo(unit=unit, people=people[:300], rng=rng))
            counts["events"] += len(events_demo(unit=unit, people=people, rng=rng))
            counts["canvass"] += len(canvass_demo(unit=unit, people=people, rng=rng))
            counts["rapid_response"] += len(rapid_response_demo(unit=unit, people=people, rng=rng))
    return counts


def demo_load(
    *,
    people: int = 5000,
    seed: int = 1,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Load the demo organization with about `people` people, unless it is already there."""
    say = progress or (lambda message: None)
    existing = demo_network()
    if existing is not None:
        loaded = AuditEvent.objects.filter(
            verb="demo.loaded", object_type="orgunit", object_id=str(existing.pk)
        ).exists()
        return DemoResult(created=False, logins=demo_logins(), complete=loaded)

    started = time.perf_counter()
    rng = random.Random(seed)
    with transaction.atomic():
        network, units, committees = _build_structure()
        _create_users(units)
    say(f"Built {len(units)} units and {len(DEMO_USERS)} users.")

    generator = _Generator(rng=rng, committees=committees)
    made = _generate(generator, people=people, batch_size=batch_size, say=say, started=started)
    _reset_sequences([Person, Household])
    _analyze(list(generator.bulk.columns))
    counts = dict(generator.bulk.written)
    counts["people"] = made
    counts["households"] = counts.pop("household", 0)
    counts.pop("person", None)
    counts["units"] = len(units)
    counts["users"] = len(DEMO_USERS)
    counts.update(_load_other_apps(committees, seed=seed))
    say(
        f"Added {counts['memberships']:,} dues memberships, {counts['events']:,} events, "
        f"{counts['canvass']:,} canvass scripts and turfs and "
        f"{counts['rapid_response']:,} rapid-response responders and incidents."
    )
    audit_record(
        actor=None,
        verb="demo.loaded",
        obj=network,
        unit=network,
        detail={"people": made, "seed": seed, "households": counts["households"]},
    )
    seconds = time.perf_counter() - started
    say(f"Loaded {made:,} people in {seconds:,.1f} s ({made / max(seconds, 1e-9):,.0f}/s).")
    return DemoResult(created=True, logins=demo_logins(), counts=counts, seconds=seconds)
