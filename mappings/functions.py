"""Which functions a mapping rule may call, per Mart dialect (DESIGN.md, decision 2).

A rule runs on the client's Mart, so a function that reads a file, sleeps, reaches the network or
reads the server's settings is a way out of the sandbox: those are refused by name everywhere.
What remains allowed is an allow-list, never a deny-list:

- sqlglot's typed function classes that compute on values (string, date, number, conditional,
  cast) — `SCALAR`; aggregates and window functions only inside a join's lookup SELECT;
- for the dialects we know well (PostgreSQL, MySQL/MariaDB, SQLite, DuckDB), the function names
  the engine itself has (`NATIVE`): every call is checked by the name the BA wrote, so a
  PostgreSQL-only `SPLIT_PART` is refused on a SQLite Mart even though sqlglot reads it, and a
  native function sqlglot only knows as an anonymous call (PostgreSQL's `AGE`) is allowed.
"""

from __future__ import annotations

from sqlglot import exp


def _classes(*names: str) -> tuple[type[exp.Expr], ...]:
    """sqlglot classes by name (a name a sqlglot version lacks is skipped)."""
    return tuple(getattr(exp, name) for name in names if hasattr(exp, name))


# --- what is allowed anywhere ----------------------------------------------------------------------

SCALAR = _classes(
    # conditional and cast
    "Coalesce", "Nullif", "If", "Case", "Nvl2", "Decode", "DecodeCase", "EqualNull",
    "Cast", "TryCast", "CastToStrType", "Convert", "ToDouble", "ToBoolean",
    # string
    "Upper", "Lower", "Initcap", "Trim", "Substring", "SubstringIndex", "Concat", "ConcatWs",
    "Length", "BitLength", "ByteLength", "Left", "Right", "Pad", "Replace", "Translate", "Reverse",
    "Repeat", "Ascii", "Chr", "Unicode", "Space", "StrPosition", "SplitPart", "StartsWith",
    "EndsWith", "Contains", "RegexpReplace", "RegexpLike", "RegexpILike", "RegexpExtract",
    "RegexpSubstr", "RegexpCount", "RegexpInstr", "Format", "Overlay", "Levenshtein", "Soundex",
    "Normalize", "Hex", "Unhex", "MD5", "SHA", "SHA2", "ToChar", "NumberToStr", "ToNumber",
    # date and time
    "CurrentDate", "CurrentTimestamp", "CurrentTime", "CurrentDatetime", "Localtimestamp",
    "Localtime", "Date", "Datetime", "Time", "Timestamp", "DateTrunc", "TimestampTrunc",
    "DatetimeTrunc", "TimeTrunc", "Extract", "StrToDate", "StrToTime", "StrToUnix", "TimeToStr",
    "TimeToUnix", "UnixToTime", "UnixToStr", "TimeStrToDate", "TimeStrToTime", "DateStrToDate",
    "DateToDateStr", "TsOrDsToDate", "TsOrDsToTimestamp", "TsOrDsToDatetime", "TsOrDsToTime",
    "TsOrDsToDateStr", "TsOrDsAdd", "TsOrDsDiff", "DateAdd", "DateSub", "DateDiff", "DatetimeAdd",
    "DatetimeSub", "DatetimeDiff", "TimestampAdd", "TimestampSub", "TimestampDiff", "TimeAdd",
    "TimeSub", "TimeDiff", "AddMonths", "MonthsBetween", "LastDay", "DateFromParts",
    "TimestampFromParts", "Year", "Month", "Day", "DayOfMonth", "DayOfWeek", "DayOfWeekIso",
    "DayOfYear", "Quarter", "Week", "WeekOfYear", "Hour", "Minute", "Second", "Dayname",
    "Monthname", "ParseDatetime", "ParseTime", "UnixDate", "UnixSeconds", "JustifyDays",
    "JustifyHours",
    # number
    "Round", "Abs", "Floor", "Ceil", "Trunc", "Sign", "Sqrt", "Cbrt", "Pow", "Exp", "Ln", "Log",
    "Greatest", "Least", "SafeDivide", "WidthBucket", "Degrees", "Radians", "Pi",
)  # fmt: skip

AGGREGATES = _classes(
    "Count", "Sum", "Avg", "Min", "Max", "CountIf", "GroupConcat", "ArrayAgg", "AnyValue",
    "Median", "Stddev", "StddevPop", "StddevSamp", "Variance", "VariancePop", "LogicalAnd",
    "LogicalOr", "ApproxDistinct", "ArgMax", "ArgMin", "First", "Last",
)  # fmt: skip

WINDOW_FUNCTIONS = _classes(
    "RowNumber", "Rank", "DenseRank", "Lag", "Lead", "FirstValue", "LastValue", "NthValue",
    "Ntile", "PercentRank", "CumeDist",
)  # fmt: skip

# Aggregates some dialects parse as anonymous calls.
ANONYMOUS_AGGREGATES = {"EVERY", "TOTAL", "BOOL_AND", "BOOL_OR"}

# Anonymous calls allowed in a dialect we have no native list for (sqlglot's generic reading).
GENERIC_ANONYMOUS = {"REPLACE", "LPAD", "RPAD", "TO_CHAR", "TRANSLATE", "MD5", "SHA256"}


# --- what is refused everywhere, and why ------------------------------------------------------------

_FILES = "reads or writes files on the database server"
_SLEEP = "makes the database wait"
_NETWORK = "opens connections to other servers"
_SERVER = "reads or changes the server's settings or identity"
_EXTENSION = "loads code into the database"

REFUSED: dict[str, str] = {
    **dict.fromkeys(
        [
            "PG_READ_FILE", "PG_READ_BINARY_FILE", "PG_LS_DIR", "PG_STAT_FILE", "PG_LS_LOGDIR",
            "PG_LS_WALDIR", "PG_LS_TMPDIR", "LO_IMPORT", "LO_EXPORT", "LO_GET", "LO_PUT",
            "LOAD_FILE", "READFILE", "WRITEFILE", "READ_CSV", "READ_CSV_AUTO", "READ_PARQUET",
            "PARQUET_SCAN", "READ_JSON", "READ_JSON_AUTO", "READ_JSON_OBJECTS", "READ_TEXT",
            "READ_BLOB", "READ_NDJSON", "READ_NDJSON_AUTO", "GLOB", "COPY", "PG_FILE_WRITE",
        ],
        _FILES,
    ),
    **dict.fromkeys(
        ["PG_SLEEP", "PG_SLEEP_FOR", "PG_SLEEP_UNTIL", "SLEEP", "BENCHMARK", "WAITFOR"], _SLEEP
    ),
    **dict.fromkeys(
        ["DBLINK", "DBLINK_EXEC", "DBLINK_CONNECT", "DBLINK_SEND_QUERY", "HTTPFS", "POSTGRES_SCAN",
         "SQLITE_SCAN", "MYSQL_QUERY", "POSTGRES_QUERY"],
        _NETWORK,
    ),
    **dict.fromkeys(
        ["CURRENT_SETTING", "SET_CONFIG", "VERSION", "SQLITE_VERSION", "SQLITE_SOURCE_ID",
         "PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "PG_RELOAD_CONF", "CURRENT_USER",
         "SESSION_USER", "SYSTEM_USER", "USER", "DATABASE", "CURRENT_DATABASE", "CURRENT_SCHEMA",
         "CURRENT_ROLE", "INET_SERVER_ADDR", "CONNECTION_ID", "LAST_INSERT_ID", "GET_LOCK",
         "PG_ADVISORY_LOCK", "TXID_CURRENT", "DUCKDB_SETTINGS", "DUCKDB_TABLES", "DUCKDB_COLUMNS"],
        _SERVER,
    ),
    **dict.fromkeys(["LOAD_EXTENSION", "INSTALL", "LOAD"], _EXTENSION),
}  # fmt: skip

# System catalogs: never a table of a lookup.
SYSTEM_SCHEMAS = {"pg_catalog", "information_schema", "mysql", "performance_schema", "sys"}
SYSTEM_TABLES = {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence"}


# --- the Mart dialects' own functions ---------------------------------------------------------------

_COMMON = {
    "UPPER", "LOWER", "TRIM", "LTRIM", "RTRIM", "COALESCE", "NULLIF", "CAST", "SUBSTRING",
    "SUBSTR", "LENGTH", "REPLACE", "ABS", "ROUND", "FLOOR", "CEIL", "CONCAT", "EXTRACT",
    "CURRENT_DATE", "CURRENT_TIMESTAMP",
    # aggregates and windows (lookups only)
    "COUNT", "SUM", "AVG", "MIN", "MAX", "ROW_NUMBER", "RANK", "DENSE_RANK", "LAG", "LEAD",
    "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE", "NTILE", "PERCENT_RANK", "CUME_DIST",
}  # fmt: skip

NATIVE: dict[str, frozenset[str]] = {
    "postgres": frozenset(
        _COMMON
        | {
            "TO_DATE", "TO_CHAR", "TO_NUMBER", "TO_TIMESTAMP", "DATE_PART", "DATE_TRUNC",
            "REGEXP_REPLACE", "REGEXP_SUBSTR", "REGEXP_COUNT", "REGEXP_LIKE", "SPLIT_PART",
            "INITCAP", "LPAD", "RPAD", "BTRIM", "TRANSLATE", "LEFT", "RIGHT", "CHAR_LENGTH",
            "CHARACTER_LENGTH", "OCTET_LENGTH", "POSITION", "STRPOS", "CONCAT_WS", "MD5", "AGE",
            "MAKE_DATE", "MAKE_TIMESTAMP", "NOW", "LOCALTIMESTAMP", "REVERSE", "REPEAT", "ASCII",
            "CHR", "FORMAT", "TRUNC", "CEILING", "POWER", "SIGN", "SQRT", "EXP", "LN", "LOG",
            "MOD", "DIV", "WIDTH_BUCKET", "STARTS_WITH", "GREATEST", "LEAST", "DATE",
            "JUSTIFY_DAYS", "JUSTIFY_HOURS", "STRING_AGG", "ARRAY_AGG", "BOOL_AND", "BOOL_OR",
            "EVERY",
        }
    ),
    "mysql": frozenset(
        _COMMON
        | {
            "STR_TO_DATE", "DATE_FORMAT", "TIME_FORMAT", "IFNULL", "IF", "SUBSTRING_INDEX",
            "UCASE", "LCASE", "LPAD", "RPAD", "REVERSE", "REPEAT", "INSTR", "LOCATE", "POSITION",
            "REGEXP_REPLACE", "REGEXP_SUBSTR", "REGEXP_LIKE", "REGEXP_INSTR", "DATE", "DATE_ADD",
            "DATE_SUB", "ADDDATE", "SUBDATE", "DATEDIFF", "TIMESTAMPDIFF", "TIMESTAMPADD", "YEAR",
            "MONTH", "DAY", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR", "HOUR", "MINUTE", "SECOND",
            "QUARTER", "WEEK", "WEEKOFYEAR", "LAST_DAY", "CURDATE", "NOW", "UNIX_TIMESTAMP",
            "FROM_UNIXTIME", "MAKEDATE", "TRUNCATE", "CEILING", "POW", "POWER", "SQRT", "SIGN",
            "MOD", "GREATEST", "LEAST", "MD5", "SHA1", "SHA2", "FORMAT", "CONVERT", "HEX",
            "ASCII", "CHAR_LENGTH", "CHARACTER_LENGTH", "CONCAT_WS", "LEFT", "RIGHT",
            "GROUP_CONCAT",
        }
    ),
    "sqlite": frozenset(
        _COMMON
        | {
            "STRFTIME", "DATE", "TIME", "DATETIME", "JULIANDAY", "UNIXEPOCH", "INSTR", "IFNULL",
            "IIF", "PRINTF", "FORMAT", "HEX", "UNHEX", "QUOTE", "CONCAT_WS", "CHAR", "UNICODE",
            "SIGN", "OCTET_LENGTH", "CEILING", "TRUNC", "SQRT", "POW", "POWER", "EXP", "LN",
            "LOG", "MOD", "GROUP_CONCAT", "TOTAL",
        }
    ),
    "duckdb": frozenset(
        _COMMON
        | {
            "STRPTIME", "TRY_STRPTIME", "STRFTIME", "DATE_PART", "DATEPART", "DATE_TRUNC",
            "DATE_DIFF", "DATEDIFF", "DATE_ADD", "DATE_SUB", "MAKE_DATE", "MAKE_TIMESTAMP",
            "REGEXP_REPLACE", "REGEXP_EXTRACT", "REGEXP_MATCHES", "SPLIT_PART", "LEFT", "RIGHT",
            "LPAD", "RPAD", "STRLEN", "REVERSE", "REPEAT", "INSTR", "POSITION", "STRPOS",
            "STARTS_WITH", "ENDS_WITH", "CONTAINS", "IFNULL", "GREATEST", "LEAST", "TRUNC",
            "SIGN", "POW", "POWER", "SQRT", "LN", "LOG", "EXP", "MOD", "MD5", "SHA256",
            "TO_TIMESTAMP", "EPOCH", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND",
            "QUARTER", "WEEK", "DAYOFWEEK", "DAYOFYEAR", "LAST_DAY", "FORMAT", "PRINTF", "NOW",
            "TODAY", "CONCAT_WS", "CHR", "ASCII", "UCASE", "LCASE", "TRY_CAST", "STRING_AGG",
            "LIST", "ARRAY_AGG", "BOOL_AND", "BOOL_OR", "ARG_MAX", "ARG_MIN", "ANY_VALUE",
            "FIRST", "LAST",
        }
    ),
}  # fmt: skip

# What to write instead of a function the Mart's dialect lacks (the common cases).
INSTEAD: dict[str, dict[str, str]] = {
    "sqlite": {
        "TO_DATE": "date() or strftime()",
        "DATE_PART": "strftime()",
        "DATE_TRUNC": "date() or strftime()",
        "TO_CHAR": "strftime() or printf()",
        "SPLIT_PART": "substr() with instr()",
        "LEFT": "substr(x, 1, n)",
        "RIGHT": "substr(x, -n)",
        "LPAD": "printf()",
        "GREATEST": "max(a, b)",
        "LEAST": "min(a, b)",
        "INITCAP": "upper(substr(x, 1, 1)) || lower(substr(x, 2))",
    },
    "mysql": {
        "TO_DATE": "STR_TO_DATE()",
        "TO_CHAR": "DATE_FORMAT()",
        "SPLIT_PART": "SUBSTRING_INDEX()",
        "DATE_PART": "EXTRACT() or YEAR()/MONTH()/DAY()",
    },
    "postgres": {
        "STR_TO_DATE": "TO_DATE()",
        "DATE_FORMAT": "TO_CHAR()",
        "IFNULL": "COALESCE()",
        "STRFTIME": "TO_CHAR()",
        "INSTR": "STRPOS()",
    },
    "duckdb": {"TO_DATE": "strptime()", "STR_TO_DATE": "strptime()", "TO_CHAR": "strftime()"},
}


def is_native(dialect: str, name: str) -> bool | None:
    """Whether the Mart's engine has the function `name`; None when we keep no list for it."""
    names = NATIVE.get(dialect)
    return None if names is None else name.upper() in names


def examples(dialect: str) -> str:
    """A few of the dialect's allowed functions, for a refusal's "what is allowed instead"."""
    picks = {
        "postgres": "TO_DATE, TO_CHAR, DATE_PART, SPLIT_PART, REGEXP_REPLACE, COALESCE, CASE",
        "mysql": "STR_TO_DATE, DATE_FORMAT, IFNULL, SUBSTRING_INDEX, CONCAT_WS, CASE",
        "sqlite": "strftime, date, substr, instr, ifnull, replace, CASE",
        "duckdb": "strptime, strftime, date_part, split_part, regexp_replace, CASE",
    }
    return picks.get(
        dialect, "string, date, number and conditional functions (UPPER, TRIM, COALESCE, CASE…)"
    )
