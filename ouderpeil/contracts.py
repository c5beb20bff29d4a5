"""The source contracts of docs/spec/SOURCES.md as data.

Every loader, the sample-data generator, the dbt sources and the quality gate read the
canonical column names, types and code lists from here, so the contract lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECTORS = ("po", "vo", "mbo")
SES_GROUPS = ("laag", "midden", "hoog", "onbekend")
FREQUENCY = ("dagelijks", "wekelijks", "maandelijks", "zelden")
LIKERT = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Column:
    """One canonical column of a raw table.

    type: text | int | decimal | date | timestamp | timestamptz | bool
    codes: the allowed values for a code column (after profile mapping)
    person_id: pseudonymised with HMAC at the loading boundary, never stored in clear
    """

    name: str
    type: str = "text"
    required: bool = False
    codes: tuple | None = None
    person_id: bool = False
    min: float | None = None
    max: float | None = None
    # Plausible window of a date/timestamp (docs/LOADING.md): not before `not_before`, not more
    # than `days_ahead` days after the day of the load. A value outside is rejected per row.
    not_before: str | None = None
    days_ahead: int | None = None


@dataclass(frozen=True)
class Source:
    name: str  # inbox folder name and raw table name (raw.<name>)
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # natural key: a later row with the same key is a duplicate
    description: str = ""
    file_formats: tuple[str, ...] = ("csv",)
    extra: dict = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


CONTACT_CHANNELS = (
    "tienminutengesprek",
    "rapportgesprek",
    "schooladviesgesprek",
    "intake",
    "ouderavond",
    "informatieavond",
    "huisbezoek",
    "telefoon",
    "email",
    "portaal",
    "informeel",
)
# Collective channels: every other channel is an individual contact about the family's own child.
COLLECTIVE_CONTACT_CHANNELS = ("ouderavond", "informatieavond")
# Channels without an appointment, left out of the no-show rate.
UNSCHEDULED_CONTACT_CHANNELS = ("email", "portaal", "informeel")
CONTACT_TOPICS = (
    "leervorderingen",
    "gedrag",
    "welbevinden",
    "loopbaan",
    "thuisondersteuning",
    "organisatorisch",
    "overig",
)
MESSAGE_CHANNELS = ("sms", "whatsapp", "app", "email")
READ_REPORTING_CHANNELS = ("app", "whatsapp", "email")
MESSAGE_PURPOSES = ("voortgang", "tip", "aanmoediging", "organisatorisch", "herinnering")
EFFECTIVE_PURPOSES = ("voortgang", "tip", "aanmoediging")
EVENT_TYPES = (
    "queued",
    "sent",
    "delivered",
    "read",
    "clicked",
    "replied",
    "failed",
    "bounced",
    "feedback",
)
# Rank of an event for the final status of a message (docs/spec/SOURCES.md): higher wins.
STATUS_RANK = {"failed": 0, "bounced": 0, "queued": 1, "sent": 2, "delivered": 3, "read": 4}

# Plausible windows. Ouderpeil's data starts long after 2000; events cannot lie after the
# moment of loading (the raw gate's "not after now"); an enrolment may be registered ahead for
# the next school year, and its planned end may lie years ahead (the end of the school career).
EARLIEST_DATE = "2000-01-01"
EVENT_DAYS_AHEAD = 0
ENROLMENT_START_DAYS_AHEAD = 400
ENROLMENT_END_DAYS_AHEAD = 20 * 366

SCHOOLS = Source(
    name="schools",
    description="Reference list of schools (BRIN + vestiging) with sector and board.",
    key=("school_id",),
    columns=(
        Column("school_id", required=True),
        Column("school_name", required=True),
        Column("sector", required=True, codes=SECTORS),
        Column("board_id", required=True),
        Column("board_name"),
        Column("municipality"),
        Column("schoolweging", "decimal", min=0, max=100),
    ),
)

FAMILIES = Source(
    name="families",
    description="One row per family per school enrolment.",
    key=("family_ref", "school_id", "enrolled_from"),
    columns=(
        Column("family_ref", required=True, person_id=True),
        Column("school_id", required=True),
        Column(
            "enrolled_from",
            "date",
            required=True,
            not_before=EARLIEST_DATE,
            days_ahead=ENROLMENT_START_DAYS_AHEAD,
        ),
        Column(
            "enrolled_to", "date", not_before=EARLIEST_DATE, days_ahead=ENROLMENT_END_DAYS_AHEAD
        ),
        Column("parent_education", required=True, codes=SES_GROUPS),
        Column("home_language"),
        Column("n_children", "int", min=1, max=20),
    ),
)

CONTACT_LOGS = Source(
    name="contact_logs",
    description="One row per school-parent contact.",
    key=("contact_id",),
    file_formats=("csv", "xlsx"),
    columns=(
        Column("contact_id", required=True),
        Column("school_id", required=True),
        Column("family_ref", required=True, person_id=True),
        Column("student_ref", person_id=True),
        Column("staff_ref", person_id=True),
        Column(
            "contact_at",
            "timestamp",
            required=True,
            not_before=EARLIEST_DATE,
            days_ahead=EVENT_DAYS_AHEAD,
        ),
        Column("channel", required=True, codes=CONTACT_CHANNELS),
        Column("initiated_by", required=True, codes=("school", "ouder")),
        Column("topic", codes=CONTACT_TOPICS),
        Column("status", required=True, codes=("gehouden", "niet_verschenen", "geannuleerd")),
        Column("duration_min", "int", min=0, max=600),
        Column("interpreter", "bool"),
    ),
)

MESSAGES = Source(
    name="messages",
    description="One row per message sent to a family.",
    key=("message_id",),
    columns=(
        Column("message_id", required=True),
        Column("school_id", required=True),
        Column("family_ref", required=True, person_id=True),
        Column(
            "sent_at",
            "timestamp",
            required=True,
            not_before=EARLIEST_DATE,
            days_ahead=EVENT_DAYS_AHEAD,
        ),
        Column("channel", required=True, codes=MESSAGE_CHANNELS),
        Column("purpose", required=True, codes=MESSAGE_PURPOSES),
        Column("language"),
        Column("tip_id"),
    ),
)

MESSAGE_EVENTS = Source(
    name="message_events",
    description="Delivery webhooks as JSON lines: at least once, out of order.",
    key=("event_id",),
    file_formats=("jsonl",),
    columns=(
        Column("event_id", required=True),
        Column("message_id", required=True),
        Column("event_type", required=True, codes=EVENT_TYPES),
        Column(
            "occurred_at",
            "timestamptz",
            required=True,
            not_before=EARLIEST_DATE,
            days_ahead=EVENT_DAYS_AHEAD,
        ),
        Column("error_code"),
        Column("feedback", codes=("nuttig", "niet_nuttig")),
    ),
)

SURVEY_RESPONSES = Source(
    name="survey_responses",
    description="One row per responding parent per wave; items follow the national monitor.",
    key=("response_id",),
    file_formats=("csv", "xlsx"),
    columns=(
        Column("response_id", required=True),
        Column("respondent_ref", person_id=True),
        Column("family_ref", person_id=True),
        Column("school_id", required=True),
        Column("sector", required=True, codes=SECTORS),
        Column("wave", required=True),
        Column(
            "submitted_at",
            "timestamp",
            required=True,
            not_before=EARLIEST_DATE,
            days_ahead=EVENT_DAYS_AHEAD,
        ),
        Column("parent_education", required=True, codes=SES_GROUPS),
        Column("work_hours", codes=("0", "1-19", "20-31", "32+")),
        Column("q_comm_grade", "int", min=1, max=10),
        Column("q_contact_enough", codes=("voldoende", "onvoldoende", "weet_niet")),
        Column("q_talk_school", codes=FREQUENCY),
        Column("q_read_aloud", codes=FREQUENCY),
        Column("q_homework_help", codes=FREQUENCY + ("nvt",)),
        Column("q_support_ask", "int", codes=(0, 1)),
        Column("q_support_tips", "int", codes=(0, 1)),
        Column("q_support_none", "int", codes=(0, 1)),
        Column(
            "q_tips_useful", codes=("heel_veel", "tamelijk_veel", "niet_zo_veel", "weinig_niets")
        ),
        Column("q_helps_school", "int", codes=(0, 1)),
        Column("q_can_contribute", "int", codes=LIKERT),
        Column("q_expectations_clear", "int", codes=LIKERT),
        Column("q_teacher_open", "int", codes=LIKERT),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s for s in (SCHOOLS, FAMILIES, CONTACT_LOGS, MESSAGES, MESSAGE_EVENTS, SURVEY_RESPONSES)
}

# Columns every raw table carries besides the canonical ones (load metadata).
LOAD_METADATA_COLUMNS = (
    ("_file_name", "text"),
    ("_file_hash", "text"),
    ("_row_number", "int"),
    ("_loaded_at", "timestamptz"),
    ("_source_profile", "text"),
    ("_load_id", "text"),
)

DUCKDB_TYPES = {
    "text": "VARCHAR",
    "int": "INTEGER",
    "decimal": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "bool": "BOOLEAN",
}


def raw_table_ddl(source: Source, schema: str = "raw") -> str:
    """CREATE TABLE statement of a source's raw table, canonical columns then load metadata."""
    cols = [f"{c.name} {DUCKDB_TYPES[c.type]}" for c in source.columns]
    cols += [f"{name} {DUCKDB_TYPES[t]}" for name, t in LOAD_METADATA_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {schema}.{source.name} (\n  " + ",\n  ".join(cols) + "\n)"
