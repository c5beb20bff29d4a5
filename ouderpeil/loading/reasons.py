"""Reject reason codes: the ``reason`` column of ``raw.raw_rejects`` (documented in
docs/LOADING.md). Short snake_case words so that dbt, GX and people can filter on them."""

MISSING_REQUIRED = "missing_required"  # a required column is empty
INVALID_INT = "invalid_int"  # not a whole number
INVALID_DECIMAL = "invalid_decimal"  # not a number (decimal point or comma)
INVALID_DATE = "invalid_date"  # no date format of the profile fits
INVALID_TIMESTAMP = "invalid_timestamp"  # no timestamp format fits (or offset missing)
INVALID_BOOL = "invalid_bool"  # not one of the profile's true/false values
UNKNOWN_CODE = "unknown_code"  # not a contract code after label mapping
OUT_OF_RANGE = "out_of_range"  # below the contract's min or above its max
DUPLICATE_KEY = "duplicate_key"  # key repeated in the file or already loaded
UNKNOWN_SCHOOL_ID = "unknown_school_id"  # school_id not in raw.schools
MALFORMED_ROW = "malformed_row"  # CSV row with a wrong number of fields
MALFORMED_JSON = "malformed_json"  # JSONL line that is not a JSON object
IMPLAUSIBLE_DATE = "implausible_date"  # a date/time outside the column's plausible window
NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"  # in the spring DST gap (Europe/Amsterdam)
AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"  # in the repeated autumn DST hour
UNDECODABLE_TEXT = "undecodable_text"  # text whose characters cannot be decoded for sure
FORMULA_WITHOUT_VALUE = "formula_without_value"  # Excel formula cell with no cached value
EXCEL_ERROR = "excel_error"  # Excel error value (#N/A, #DIV/0!, ...)
ID_AS_NUMBER = "id_as_number"  # an id written as a number in exponent notation
FORMULA_LIKE_NAME = "formula_like_name"  # a name a spreadsheet would run (=, +, -, @, tab, CR)

INVALID_TYPE = {
    "int": INVALID_INT,
    "decimal": INVALID_DECIMAL,
    "date": INVALID_DATE,
    "timestamp": INVALID_TIMESTAMP,
    "timestamptz": INVALID_TIMESTAMP,
    "bool": INVALID_BOOL,
}

ALL = (
    MISSING_REQUIRED,
    INVALID_INT,
    INVALID_DECIMAL,
    INVALID_DATE,
    INVALID_TIMESTAMP,
    INVALID_BOOL,
    UNKNOWN_CODE,
    OUT_OF_RANGE,
    DUPLICATE_KEY,
    UNKNOWN_SCHOOL_ID,
    MALFORMED_ROW,
    MALFORMED_JSON,
    IMPLAUSIBLE_DATE,
    NONEXISTENT_LOCAL_TIME,
    AMBIGUOUS_LOCAL_TIME,
    UNDECODABLE_TEXT,
    FORMULA_WITHOUT_VALUE,
    EXCEL_ERROR,
    ID_AS_NUMBER,
    FORMULA_LIKE_NAME,
)
