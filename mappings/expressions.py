"""Mapping logic is SQL in a strict subset, parsed with sqlglot (DESIGN.md, decision 2).

This module knows nothing of the database: it takes the user's text and a `Scope` (the tables an
entity's SQL may use, by alias) and answers with the parsed tree, the problems found (each pointing
at the offending token), the lineage (which source columns feed the result) and the inferred type.
The services store what it answers; the ETL generator reuses the trees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.tokens import Token, TokenType

from catalog.dialects import dialect_name
from contracts.quality import NO_BAD_ROWS, Threshold

from . import functions

ERROR, WARNING = "error", "warning"
VALUES = "values"


@dataclass(frozen=True)
class Problem:
    level: str
    message: str
    line: int | None = None
    col: int | None = None
    token: str = ""
    kind: str = ""  # VALUES: a value the contract refuses (the GAP files it under allowed values)

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.col})" if self.line else ""
        return f"{self.message}{where}"

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "message": self.message,
            "line": self.line,
            "col": self.col,
            "token": self.token,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str = ""
    length: int | None = None
    nullable: bool = True
    is_primary_key: bool = False
    profiled_max_length: int | None = None
    patterns: tuple[str, ...] = ()
    top_values: tuple[tuple[str, int], ...] = ()  # the profile's most frequent values and counts
    sample_rows: int = 0  # how many rows the profile read


@dataclass
class TableInfo:
    """A catalog table as seen by an entity: its qualified name and columns (by lower-case name)."""

    name: str  # "schema.table" where the Mart has schemas, else "table"
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    dialect: str = ""  # its source system's SQL dialect
    any_column: bool = False  # a derived table of a lookup that selects *: its columns are unknown

    def column(self, name: str) -> ColumnInfo | None:
        return self.columns.get(name.lower())

    def resolve(self, identifier: exp.Identifier, dialect: str) -> tuple[ColumnInfo | None, str]:
        """The column an identifier names under the dialect's rules, or (None, the right spelling)
        when only another case matches (PostgreSQL: `CustomerKey` means `customerkey`)."""
        near = self.column(identifier.name)
        folding = column_folding(dialect)
        if near is None or folding == "insensitive":
            return near, ""
        wanted = identifier.name
        if not identifier.quoted and folding != "exact":
            wanted = wanted.lower() if folding == "lower" else wanted.upper()
        stored = near.name
        if folding == "upper" and stored == stored.lower():
            stored = stored.upper()  # SQLAlchemy spells a case-insensitive name in lower case
        if stored == wanted:
            return near, ""
        return None, spelled_identifier(near.name, dialect)


def column_folding(dialect: str) -> str:
    """How the dialect matches a column name: insensitive, lower, upper or exact."""
    if not dialect or dialect in _CASE_INSENSITIVE_COLUMNS:
        return "insensitive"  # generic SQL keeps the workbench's historic reading
    strategy = Dialect.get_or_raise(dialect).normalization_strategy
    return {
        NormalizationStrategy.LOWERCASE: "lower",
        NormalizationStrategy.UPPERCASE: "upper",
        NormalizationStrategy.CASE_SENSITIVE: "exact",
    }.get(strategy, "insensitive")


# MySQL/MariaDB: table names may be case-sensitive (sqlglot says so), column names never are.
_CASE_INSENSITIVE_COLUMNS = {"mysql", "singlestore", "doris", "starrocks"}


def identifier(name: str, dialect: str) -> exp.Identifier:
    """A catalog name as an identifier of the dialect: quoted when unquoted would mean another
    name (a mixed-case PostgreSQL column, a keyword)."""
    folding = column_folding(dialect)
    folded = {"lower": name.lower(), "upper": name.upper()}.get(folding, name)
    plain = name == folded and name.isidentifier() and name.upper() not in _RESERVED
    return exp.to_identifier(name, quoted=not plain)


def spelled_identifier(name: str, dialect: str) -> str:
    """`name` as the dialect needs it written."""
    return identifier(name, dialect).sql(dialect=dialect or None)


_RESERVED = {"ORDER", "USER", "GROUP", "SELECT", "FROM", "WHERE", "TABLE", "END", "LIMIT", "DESC"}


@dataclass
class Scope:
    """The aliases an entity's SQL may reference: the driving table and its joins."""

    aliases: dict[str, TableInfo] = field(default_factory=dict)
    dialect: str = ""  # the rules' SQL dialect: the driving table's source system's

    def table(self, alias: str) -> TableInfo | None:
        return self.aliases.get(alias.lower())

    def column(self, alias: str, name: str) -> ColumnInfo | None:
        table = self.table(alias)
        return table.column(name) if table is not None else None


@dataclass(frozen=True)
class Target:
    """What the interface attribute expects."""

    logical_type: str = ""  # ODCS logical type: string, date, timestamp, number, integer, boolean…
    max_length: int | None = None
    required: bool = False
    allowed_values: tuple[str, ...] = ()
    pattern: str = ""  # a regular expression each (string) value matches
    # how many rows outside the allowed values the contract accepts (its quality rule's threshold)
    values_tolerance: Threshold = NO_BAD_ROWS


@dataclass
class Checked:
    """The answer for one piece of SQL."""

    text: str
    tree: exp.Expr | None = None
    problems: list[Problem] = field(default_factory=list)
    lineage: list[tuple[str, str, str]] = field(default_factory=list)  # (alias, table, column)
    inferred_type: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lineage_names(self) -> list[str]:
        """Lineage as `alias.column`, the form the workbook prints."""
        return [f"{alias}.{column}" for alias, _table, column in self.lineage]


class SqlRuleError(Exception):
    """Raised where one problem ends the analysis (the text is not usable at all)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


# --- the allow-list ----------------------------------------------------------------------------

# Structural nodes every expression may contain.
_STRUCTURE = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.DPipe,
    exp.EQ,
    exp.NEQ,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.Like,
    exp.ILike,
    exp.Glob,
    exp.Escape,
    exp.In,
    exp.Between,
    exp.Case,
    exp.If,
    exp.DataType,
    exp.DataTypeParam,
    exp.Var,
    exp.Interval,
    exp.Tuple,
)

# What a join's lookup SELECT may contain besides: queries at any depth over catalog tables.
_LOOKUP_STRUCTURE = (
    exp.Select,
    exp.From,
    exp.Join,
    exp.Where,
    exp.Group,
    exp.Having,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.Fetch,
    exp.Distinct,
    exp.Window,
    exp.WindowSpec,
    exp.Alias,
    exp.TableAlias,
    exp.Table,
    exp.Subquery,
    exp.With,
    exp.CTE,
    exp.Union,
    exp.Intersect,
    exp.Except,
    exp.Star,
    exp.Qualify,
    exp.Exists,
    exp.Filter,
    exp.WithinGroup,
)

_STATEMENTS = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Drop,
    exp.Create,
    exp.Alter,
    exp.Merge,
    exp.Command,
    exp.TruncateTable,
    exp.Use,
    exp.Set,
    exp.Transaction,
    exp.Copy,
    exp.Pragma,
    exp.Into,
    exp.Lock,
)


# --- parsing -----------------------------------------------------------------------------------


def _position(node: exp.Expr) -> tuple[int | None, int | None]:
    """Line and column where a node starts (sqlglot keeps positions on identifiers)."""
    places = []
    for candidate in (node, *node.find_all(exp.Identifier)):
        meta = getattr(candidate, "_meta", None) or {}
        if "line" in meta:
            width = meta.get("end", 0) - meta.get("start", 0)
            places.append((meta.get("start", 0), meta["line"], max(meta.get("col", 0) - width, 1)))
    if not places:
        return None, None
    _start, line, col = min(places)
    return line, col


def _problem_at(node: exp.Expr, message: str, level: str = ERROR, kind: str = "") -> Problem:
    line, col = _position(node)
    return Problem(level, message, line, col, node.sql()[:60], kind)


MAX_NESTING = 100  # parentheses: the parser recurses per level, and no rule comes close


def _tokens(text: str, dialect: str = "") -> list[Token]:
    """The text's tokens as the dialect reads them; [] when it cannot (the parser will say)."""
    try:
        return Dialect.get_or_raise(dialect or None).tokenize(text)
    except TokenError:
        return []


def _token_problem(text: str, dialect: str = "") -> Problem | None:
    """A semicolon, or parentheses nested beyond MAX_NESTING: refused before the (recursive)
    parser sees the text."""
    depth = 0
    for token in _tokens(text, dialect):
        if token.token_type == TokenType.SEMICOLON:
            return Problem(
                ERROR,
                "Only one expression is allowed: remove the ';' and anything after it.",
                token.line,
                token.col,
                ";",
            )
        if token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.L_PAREN and (depth := depth + 1) > MAX_NESTING:
            return Problem(
                ERROR, f"Nested more than {MAX_NESTING} levels deep.", token.line, token.col, "("
            )
    return None


def _too_deep(text: str, dialect: str) -> Problem:
    """The refusal of a text the parser could not recurse through, at its deepest parenthesis."""
    depth, deepest, where = 0, 0, None
    for token in _tokens(text, dialect):
        if token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.L_PAREN and (depth := depth + 1) > deepest:
            deepest, where = depth, token
    message = f"The expression is nested too deeply to read ({deepest} levels of parentheses)."
    if where is None:
        return Problem(ERROR, message)
    return Problem(ERROR, message, where.line, where.col, "(")


def parse(text: str, *, into: type[exp.Expr] | None = None, dialect: str = "") -> exp.Expr:
    """Parse one piece of user SQL in the Mart's dialect; raise SqlRuleError with the position
    of the first problem (naming the dialect, since the same text may be valid in another)."""
    if not text or not text.strip():
        raise SqlRuleError(Problem(ERROR, "The expression is empty."))
    refused = _token_problem(text, dialect)
    if refused:
        raise SqlRuleError(refused)
    read = dialect or None
    in_dialect = f" in {dialect_name(dialect)} SQL" if dialect else ""
    try:
        tree = _parse_expression(text, dialect) if into is None else None
        if tree is None:
            tree = (
                sqlglot.parse_one(text, into=into, read=read)
                if into
                else sqlglot.parse_one(text, read=read)
            )
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        near = first.get("highlight") or ""
        description = first.get("description") or "Invalid SQL"
        raise SqlRuleError(
            Problem(
                ERROR,
                f"{description} near '{near}'{in_dialect}.",
                first.get("line"),
                first.get("col"),
                near,
            )
        ) from None
    except TokenError as error:
        raise SqlRuleError(Problem(ERROR, f"Invalid SQL{in_dialect}: {error}.")) from None
    except RecursionError:  # within the nesting limit, but still too deep for the parser's stack
        raise SqlRuleError(_too_deep(text, dialect)) from None
    if tree is None:
        raise SqlRuleError(Problem(ERROR, "The expression is empty."))
    return tree


def _parse_expression(text: str, dialect: str) -> exp.Expr | None:
    """The text read as one expression, or None when it is not one (the statement parser then
    says what it is). A statement parser would read SQLite's and MySQL's `REPLACE(x, a, b)` as
    a REPLACE INTO statement: here it is the string function."""
    # Tokenized inside parentheses so no statement keyword starts the text (SQLite's tokenizer
    # swallows everything after a leading REPLACE as a command's argument), then put back.
    tokens = _tokens(f"({text}\n)", dialect)[1:-1]
    for token in tokens:
        token.start, token.end = token.start - 1, token.end - 1
        if token.line == 1:
            token.col -= 1
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.token_type == TokenType.REPLACE and following.token_type == TokenType.L_PAREN:
            token.token_type = TokenType.VAR
    try:
        parsed = (
            Dialect.get_or_raise(dialect or None).parser().parse_into(exp.Condition, tokens, text)
        )
    except ParseError:
        return None
    return parsed[0] if parsed else None


def _refuse_statements(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            kind = node.key.upper() if not isinstance(node, exp.Command) else str(node.this).upper()
            article = "an" if kind[:1] in "AEIOU" else "a"
            raise SqlRuleError(
                _problem_at(
                    node, f"Only an expression is allowed here, not {article} {kind} statement."
                )
            )


def _written_name(node: exp.Func, text: str) -> str:
    """The function's name as the BA wrote it (upper case); "" when the parser kept no trace
    (a call read by a special parser, e.g. PostgreSQL's DATE_PART into EXTRACT)."""
    if isinstance(node, exp.Anonymous):
        return node.name.upper()
    meta = getattr(node, "_meta", None) or {}
    if text and "start" in meta and "end" in meta:
        written = text[meta["start"] : meta["end"] + 1]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", written):
            return written.upper()
    return ""


def _function_problem(node: exp.Func, text: str, dialect: str, in_lookup: bool) -> Problem | None:
    """Why the call `node` is refused in a rule of `dialect`, or None when it is allowed."""
    written = _written_name(node, text)
    name = written or node.sql_name()
    language = dialect_name(dialect)
    reason = functions.REFUSED.get(name) or functions.REFUSED.get(node.sql_name())
    if reason:
        return _problem_at(
            node,
            f"The function {name} {reason} and is never allowed in a rule; use "
            f"{functions.examples(dialect)}.",
        )
    aggregate = isinstance(node, functions.AGGREGATES) or (
        isinstance(node, exp.Anonymous) and name in functions.ANONYMOUS_AGGREGATES
    )
    if aggregate or isinstance(node, functions.WINDOW_FUNCTIONS):
        if not in_lookup:
            kind = "an aggregate" if aggregate else "a window function"
            return _problem_at(
                node,
                f"{name} is {kind}: it is allowed only inside a join's lookup SELECT, e.g. "
                "LEFT JOIN (SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY d DESC) AS rn "
                "FROM t) x ON …; then use the lookup's alias here.",
            )
    elif isinstance(node, exp.Anonymous):
        native = functions.is_native(dialect, name)
        if not (name in functions.GENERIC_ANONYMOUS if native is None else native):
            return _problem_at(node, _not_allowed(name, dialect))
        return None
    elif not isinstance(node, functions.SCALAR + _STRUCTURE):
        return _problem_at(node, _not_allowed(name, dialect))
    if written and functions.is_native(dialect, written) is False:
        instead = functions.INSTEAD.get(dialect, {}).get(written) or functions.examples(dialect)
        return _problem_at(
            node,
            f"{written} is not a {language} function (this Mart's rules are written in "
            f"{language} SQL); use {instead}.",
        )
    return None


def _not_allowed(name: str, dialect: str) -> str:
    where = f" in {dialect_name(dialect)} rules" if dialect else ""
    return f"The function {name} is not allowed{where}; use {functions.examples(dialect)}."


def _check_constructs(
    tree: exp.Expr, *, text: str = "", dialect: str = "", in_lookup: bool = False
) -> list[Problem]:
    """Every node of the tree against the allow-list: functions by class and by the name written,
    any other construct by kind. A lookup SELECT (`in_lookup`) may hold queries at any depth."""
    problems = []
    allowed = _STRUCTURE + _LOOKUP_STRUCTURE if in_lookup else _STRUCTURE
    # Outside a lookup a window function is refused once, not again for each part of its OVER.
    inside_windows = (
        set()
        if in_lookup
        else {id(n) for w in tree.find_all(exp.Window) for n in w.walk() if n is not w.this}
    )
    for node in tree.walk():
        if id(node) in inside_windows:
            continue
        if isinstance(node, exp.Query | exp.Subquery) and not in_lookup:
            problems.append(
                _problem_at(
                    node,
                    "Subqueries are allowed only in a join's lookup SELECT; add the lookup to the "
                    "entity's joins and use its alias.",
                )
            )
            break
        if isinstance(node, exp.Func):
            problem = _function_problem(node, text, dialect, in_lookup)
            if problem:
                problems.append(problem)
        elif isinstance(node, exp.ObjectIdentifier):  # PostgreSQL's regclass, regproc, oid…
            problems.append(
                _problem_at(
                    node,
                    f"A cast to {node.sql(dialect=dialect or None).upper()} reads the database's "
                    "system catalog and is not allowed; cast to a plain type (TEXT, INTEGER, "
                    "DATE…).",
                )
            )
        elif not isinstance(node, allowed):
            problems.append(_problem_at(node, f"The construct {node.key.upper()} is not allowed."))
    return problems


# --- column resolution, lineage, types -------------------------------------------------------


def _resolve_columns(tree: exp.Expr, scope: Scope, checked: Checked) -> None:
    """Each column against the scope, with the dialect's identifier rules; lineage in order."""
    seen = set()
    for column in tree.find_all(exp.Column):
        if not column.table:
            owners = [a for a, t in scope.aliases.items() if t.column(column.name)]
            hint = f" ({owners[0]}.{column.name})" if len(owners) == 1 else ""
            checked.problems.append(
                _problem_at(column, f"Qualify the column '{column.name}' with its alias{hint}.")
            )
            continue
        table = scope.table(column.table)
        if table is None:
            known = ", ".join(sorted(scope.aliases)) or "none"
            checked.problems.append(
                _problem_at(column, f"Unknown alias '{column.table}' (known aliases: {known}).")
            )
            continue
        if table.any_column:
            continue
        info = _column_of(table, column, scope.dialect, checked)
        if info is None:
            continue
        key = (column.table.lower(), info.name)
        if key not in seen:
            seen.add(key)
            checked.lineage.append((column.table.lower(), table.name, info.name))


def _column_of(
    table: TableInfo, column: exp.Column, dialect: str, checked: Checked
) -> ColumnInfo | None:
    """The catalog column `column` names, or None with the problem (and the right spelling)."""
    identifier = column.this if isinstance(column.this, exp.Identifier) else None
    if identifier is None:
        info = table.column(column.name)
        spelling = ""
    else:
        info, spelling = table.resolve(identifier, dialect)
    if info is not None:
        return info
    written = identifier.sql(dialect=dialect or None) if identifier else column.name
    if spelling:
        rule = {"lower": "lower", "upper": "upper"}.get(column_folding(dialect))
        why = (
            f"{dialect_name(dialect)} reads an unquoted name in {rule} case"
            if rule and not (identifier and identifier.quoted)
            else f"{dialect_name(dialect)} matches a quoted name exactly"
        )
        checked.problems.append(
            _problem_at(
                column,
                f"The table {table.name} has no column {written} ({why}): write "
                f"{column.table}.{spelling}.",
            )
        )
    else:
        checked.problems.append(
            _problem_at(column, f"The table {table.name} has no column '{column.name}'.")
        )
    return None


def _infer_type(tree: exp.Expr, scope: Scope) -> str:
    """The expression's type: each column replaced by a typed NULL, then sqlglot annotates."""

    def typed_null(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table:
            table = scope.table(node.table)
            info = table.column(node.name) if table else None
            if info and info.data_type:
                try:
                    return exp.cast(exp.null(), exp.DataType.build(info.data_type))
                except (ParseError, ValueError):
                    return node
        return node

    try:
        annotated = annotate_types(tree.copy().transform(typed_null))
    except Exception:  # noqa: BLE001 — typing is advice; an odd tree must not break validation
        return ""
    data_type = annotated.type
    if data_type is None or data_type.this == exp.DataType.Type.UNKNOWN:
        return ""
    return data_type.sql()


_TEXT = {"VARCHAR", "CHAR", "TEXT", "NVARCHAR", "NCHAR", "STRING", "NAME", "BPCHAR"}
_INTEGER = {"INT", "BIGINT", "SMALLINT", "TINYINT", "INTEGER", "UBIGINT", "UINT"}
_NUMBER = _INTEGER | {"DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL", "MONEY", "BIGDECIMAL"}
_DATE = {"DATE"}
_TIMESTAMP = {"TIMESTAMP", "TIMESTAMPTZ", "DATETIME", "TIMESTAMPLTZ", "TIMESTAMPNTZ"}
_BOOLEAN = {"BOOLEAN", "BOOL"}

# What each target logical type accepts without a warning.
_ACCEPTS = {
    "string": _TEXT | _NUMBER | _DATE | _TIMESTAMP | _BOOLEAN,
    "integer": _INTEGER | _BOOLEAN,
    "number": _NUMBER,
    "date": _DATE | _TIMESTAMP,
    "timestamp": _TIMESTAMP | _DATE,
    "time": {"TIME"} | _TIMESTAMP,
    "boolean": _BOOLEAN | _INTEGER,
}


def _base(data_type: str) -> str:
    return re.split(r"[ (]", data_type.upper(), maxsplit=1)[0] if data_type else ""


def _type_problems(checked: Checked, scope: Scope, target: Target, default: str) -> None:
    base = _base(checked.inferred_type)
    accepted = _ACCEPTS.get(target.logical_type)
    if base and accepted and base not in accepted:
        hint = ""
        if base in _TEXT and target.logical_type in {"date", "timestamp"}:
            hint = " Convert it explicitly (CAST or a date-parsing function)."
        checked.problems.append(
            Problem(
                WARNING,
                f"The result is {base.lower()} but the attribute is {target.logical_type}.{hint}",
            )
        )
    _length_problems(checked, scope, target)
    if target.required and not default:
        nullable = [
            f"{alias}.{column}"
            for alias, _table, column in checked.lineage
            if (scope.column(alias, column) or ColumnInfo(column)).nullable
        ]
        if nullable and not _guards_null(checked.tree):
            checked.problems.append(
                Problem(
                    WARNING,
                    f"The attribute is required but {', '.join(nullable)} can be NULL and there "
                    "is no default.",
                )
            )


_LENGTH_PRESERVING = (
    exp.Column,
    exp.Upper,
    exp.Lower,
    exp.Trim,
    exp.Coalesce,
    exp.Initcap,
    exp.Paren,
    exp.Nullif,
)


def _length_problems(checked: Checked, scope: Scope, target: Target) -> None:
    if not target.max_length or checked.tree is None:
        return
    if not all(
        isinstance(n, _LENGTH_PRESERVING + (exp.Identifier, exp.Literal, exp.Null))
        for n in checked.tree.walk()
    ):
        return  # a transformation that reshapes text: its length is not the source's
    for alias, _table, column in checked.lineage:
        info = scope.column(alias, column)
        if info is None:
            continue
        longest = max(filter(None, [info.length, info.profiled_max_length]), default=None)
        if longest and longest > target.max_length:
            checked.problems.append(
                Problem(
                    WARNING,
                    f"{alias}.{column} holds up to {longest} characters but the attribute allows "
                    f"{target.max_length}.",
                )
            )


# --- the values a rule loads, against the contract's allowed values and pattern ---------------


@dataclass(frozen=True)
class _Outcome:
    """A value the rule can load: a literal it writes, or a profiled value of a column it passes
    on (then `column` names it and `count` says how many rows of the sample hold it)."""

    value: str
    node: exp.Expr  # where the rule writes it: the literal or the column
    column: str = ""
    count: int = 0
    sample_rows: int = 0


# Functions that hand a value on with a change we can apply to a known value.
_VALUE_FUNCTIONS: dict[type[exp.Expr], Callable[[str], str]] = {
    exp.Upper: str.upper,
    exp.Lower: str.lower,
    exp.Trim: str.strip,
}
_MAX_LISTED = 6  # allowed values named in a warning before "…"


def _outcomes(
    node: exp.Expr, scope: Scope, handled: list[tuple[exp.Expr, set[str]]]
) -> list[_Outcome]:
    """The values `node` can give that are known without the data: literals and the profiled
    values of columns, through CASE/IF branches, COALESCE, CAST and UPPER/LOWER/TRIM. Anything
    else (concatenation, arithmetic, other functions) gives values only the data knows: none.
    `handled` lists expressions with the values an earlier WHEN already took out of them."""
    found: list[_Outcome] = []
    if isinstance(node, exp.Paren | exp.Cast | exp.TryCast):
        found = _outcomes(node.this, scope, handled)
    elif isinstance(node, exp.Nullif):  # NULLIF(x, 'n/a') loads no 'n/a'
        nulled = node.expression
        gone = {str(nulled.this)} if isinstance(nulled, exp.Literal) else set()
        found = [o for o in _outcomes(node.this, scope, handled) if o.value not in gone]
    elif isinstance(node, exp.Literal):
        found = [_Outcome(str(node.this), node)]
    elif isinstance(node, exp.Column):
        info = scope.column(node.table, node.name) or ColumnInfo(node.name)
        found = [
            _Outcome(value, node, f"{node.table}.{node.name}", count, info.sample_rows)
            for value, count in info.top_values
        ]
    elif type(node) in _VALUE_FUNCTIONS and not (
        node.args.get("expression") or node.args.get("position")
    ):
        change = _VALUE_FUNCTIONS[type(node)]
        found = [replace(o, value=change(o.value)) for o in _outcomes(node.this, scope, handled)]
    elif isinstance(node, exp.Coalesce):
        for part in (node.this, *node.expressions):
            found += _outcomes(part, scope, handled)
    elif isinstance(node, exp.If):
        found = _outcomes(node.args["true"], scope, handled)
        if node.args.get("false") is not None:
            found += _outcomes(node.args["false"], scope, handled)
    elif isinstance(node, exp.Case):
        taken = _taken_by_whens(node)
        for branch in node.args.get("ifs") or []:
            found += _outcomes(branch.args["true"], scope, handled)
        if node.args.get("default") is not None:
            found += _outcomes(node.args["default"], scope, handled + taken)
    gone = set().union(*(values for tested, values in handled if tested == node))
    return [o for o in found if o.value not in gone]


def _taken_by_whens(case: exp.Case) -> list[tuple[exp.Expr, set[str]]]:
    """The values each tested expression loses to the WHENs before the ELSE: `CASE x WHEN 'a'`,
    `WHEN x = 'a'`, `WHEN x IN ('a', 'b')`, or an OR of those."""
    taken: list[tuple[exp.Expr, set[str]]] = []
    for branch in case.args.get("ifs") or []:
        condition = branch.this
        if case.this is not None:
            if isinstance(condition, exp.Literal):
                taken.append((case.this, {str(condition.this)}))
            continue
        for part in (
            condition.unnest().flatten()
            if isinstance(condition.unnest(), exp.Or)
            else [condition.unnest()]
        ):
            if isinstance(part, exp.EQ) and isinstance(part.expression, exp.Literal):
                taken.append((part.this, {str(part.expression.this)}))
            elif isinstance(part, exp.EQ) and isinstance(part.this, exp.Literal):
                taken.append((part.expression, {str(part.this.this)}))
            elif isinstance(part, exp.In) and all(
                isinstance(e, exp.Literal) for e in part.expressions
            ):
                taken.append((part.this, {str(e.this) for e in part.expressions}))
    return taken


def _same_value(value: str, allowed: str, numeric: bool) -> bool:
    if value == allowed:
        return True
    if not numeric:
        return False
    try:
        return Decimal(value) == Decimal(allowed)
    except InvalidOperation:
        return False


def _pattern(text: str) -> re.Pattern | None:
    """The contract's pattern as a regular expression; None when Python cannot read it (the
    test run still checks it in the database)."""
    try:
        return re.compile(text) if text else None
    except re.error:
        return None


def _value_problems(checked: Checked, scope: Scope, target: Target) -> None:
    """Warn of each value the rule can load that the contract refuses: a literal outside the
    allowed values or not matching the pattern, or a source value the profile saw."""
    pattern = _pattern(target.pattern) if target.logical_type in ("string", "") else None
    if checked.tree is None or not (target.allowed_values or pattern):
        return
    numeric = target.logical_type in ("integer", "number")
    listed = ", ".join(target.allowed_values[:_MAX_LISTED])
    if len(target.allowed_values) > _MAX_LISTED:
        listed += ", …"
    tolerance = target.values_tolerance
    seen = set()
    for outcome in _outcomes(checked.tree, scope, []):
        if (outcome.value, outcome.column) in seen:
            continue
        seen.add((outcome.value, outcome.column))
        wrong, tolerated = "", False
        if target.allowed_values and not any(
            _same_value(outcome.value, a, numeric) for a in target.allowed_values
        ):
            wrong, tolerated = f"is not one of {listed}", not tolerance.is_strict
        elif pattern is not None and not pattern.search(outcome.value):
            wrong = f"does not match the pattern {target.pattern}"
        if not wrong:
            continue
        message = f"'{outcome.value}' {wrong}"
        if outcome.column:
            rows = (
                "1 row in the sample has"
                if outcome.count == 1
                else f"{outcome.count} rows in the sample have"
            )
            message = f"'{outcome.value}' from {outcome.column} {wrong} — {rows} it"
            if tolerated and tolerance.percent and outcome.sample_rows:
                message += f" ({100 * outcome.count / outcome.sample_rows:.1f} % of the sample)"
        message += "."
        if tolerated:
            message += f" The contract accepts {tolerance.describe()} outside its allowed values."
        checked.problems.append(_problem_at(outcome.node, message, WARNING, kind=VALUES))


def _guards_null(tree: exp.Expr | None) -> bool:
    """COALESCE or a CASE with an ELSE at the top means the author handled NULLs."""
    node = tree.unnest() if tree is not None else None
    if isinstance(node, exp.Cast | exp.TryCast):
        node = node.this.unnest()
    return isinstance(node, exp.Coalesce) or (
        isinstance(node, exp.Case) and bool(node.args.get("default"))
    )


# --- the public checks -------------------------------------------------------------------------


def check_expression(
    text: str, scope: Scope, *, target: Target | None = None, default: str = ""
) -> Checked:
    """Check a transformation (or a direct `alias.column`) against the entity's scope, in the
    scope's dialect (the Mart's)."""
    checked = Checked(text=text)
    try:
        tree = parse(text, dialect=scope.dialect)
        _refuse_statements(tree)
    except SqlRuleError as refused:
        checked.problems.append(refused.problem)
        return checked
    checked.tree = tree
    checked.problems.extend(_check_constructs(tree, text=text, dialect=scope.dialect))
    if tree.find(exp.Query, exp.Subquery):
        return checked  # the subquery is the problem; its columns are not the entity's
    _resolve_columns(tree, scope, checked)
    if checked.ok:
        checked.inferred_type = _infer_type(tree, scope)
        if target is not None:
            _type_problems(checked, scope, target, default)
            _value_problems(checked, scope, target)
    return checked


def check_filter(text: str, scope: Scope) -> Checked:
    """A filter is a boolean expression over the entity's aliases."""
    checked = check_expression(text, scope)
    if checked.ok and checked.tree is not None:
        node = checked.tree.unnest()
        if not isinstance(node, exp.Predicate | exp.Connector | exp.Not | exp.Boolean):
            checked.problems.append(
                _problem_at(node, "A filter must be a condition (e.g. c.is_test = 0).")
            )
    return checked


def not_null_columns(condition: exp.Expr | None) -> set[tuple[str, str]]:
    """(alias, column) pairs a filter guarantees are not NULL: `x.col IS NOT NULL` conjuncts."""
    found: set[tuple[str, str]] = set()
    if condition is None:
        return found
    for part in (
        condition.unnest().flatten()
        if isinstance(condition.unnest(), exp.And)
        else [condition.unnest()]
    ):
        if isinstance(part, exp.Not) and isinstance(part.this, exp.Is):
            column, null = part.this.this, part.this.expression
            if isinstance(column, exp.Column) and isinstance(null, exp.Null) and column.table:
                found.add((column.table.lower(), column.name.lower()))
    return found


def narrow_scope(scope: Scope, not_null: set[tuple[str, str]]) -> Scope:
    """The scope as seen after the filter: columns it excludes NULLs from are not nullable."""
    if not not_null:
        return scope
    narrowed = Scope(dialect=scope.dialect)
    for alias, table in scope.aliases.items():
        columns = {
            name: replace(info, nullable=False) if (alias, name) in not_null else info
            for name, info in table.columns.items()
        }
        narrowed.aliases[alias] = replace(table, columns=columns)
    return narrowed


_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")


def default_problems(default: str, target: Target) -> list[Problem]:
    """A default value is a literal of the attribute's type (and one of its allowed values)."""
    if not default:
        return []
    value = default.strip()
    call = _CALL.match(value)
    if call and call.group(1).upper() in functions.REFUSED:
        # A default is loaded as quoted text and never runs; a call of a refused function typed
        # here is still a mistake or an attack, and is named as such.
        name = call.group(1).upper()
        return [
            Problem(
                ERROR,
                f"The default calls {name}, which {functions.REFUSED[name]}: a default is a "
                "literal value, written as the value itself.",
            )
        ]
    kind = target.logical_type
    wrong = Problem(ERROR, f"The default '{value}' is not a valid {kind}.")
    if kind == "integer" and not re.fullmatch(r"[-+]?\d+", value):
        return [wrong]
    if kind == "number" and not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", value):
        return [wrong]
    if kind == "boolean" and value.lower() not in {"true", "false", "1", "0"}:
        return [wrong]
    if kind == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return [Problem(ERROR, f"The default '{value}' is not a valid date (YYYY-MM-DD).")]
    if kind == "timestamp" and not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?", value
    ):
        return [wrong]
    if target.allowed_values and value not in target.allowed_values:
        allowed = ", ".join(target.allowed_values)
        return [
            Problem(ERROR, f"The default '{value}' is not one of the allowed values ({allowed}).")
        ]
    if target.max_length and len(value) > target.max_length:
        return [Problem(ERROR, f"The default is longer than {target.max_length} characters.")]
    return []


def default_literal(default: str, target: Target) -> exp.Expr:
    """The default as a typed SQL literal (for COALESCE in generated SQL)."""
    kind = target.logical_type
    value = default.strip()
    if kind in {"integer", "number"}:
        return exp.Literal.number(value)
    if kind == "boolean":
        return exp.Boolean(this=value.lower() in {"true", "1"})
    literal = exp.Literal.string(value)
    if kind == "date":
        return exp.cast(literal, exp.DataType.build("DATE"))
    if kind == "timestamp":
        return exp.cast(literal, exp.DataType.build("TIMESTAMP"))
    return literal


# --- the entity's FROM clause: driving table, joins --------------------------------------------


@dataclass
class FromClause:
    driving: exp.Expr | None = None  # the driving table with its alias
    joins: list[exp.Join] = field(default_factory=list)
    driving_problems: list[Problem] = field(default_factory=list)
    join_problems: list[Problem] = field(default_factory=list)
    scope: Scope = field(default_factory=Scope)

    @property
    def problems(self) -> list[Problem]:
        return self.driving_problems + self.join_problems

    @property
    def ok(self) -> bool:
        return not any(p.level == ERROR for p in self.problems)


_JOIN_START = {
    TokenType.JOIN,
    TokenType.LEFT,
    TokenType.RIGHT,
    TokenType.INNER,
    TokenType.FULL,
    TokenType.CROSS,
    TokenType.OUTER,
    TokenType.NATURAL,
}


def _join_pieces(text: str, dialect: str = "") -> list[tuple[str, int, int]]:
    """The Joins text cut into one piece per JOIN clause, wherever the lines break, each with the
    line and column it starts at (so a problem in the piece points into the whole text).

    A new clause starts at a JOIN keyword (or LEFT/INNER/… before it) outside parentheses.
    """
    tokens = _tokens(text, dialect)
    starts, depth, previous = [], 0, None
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif (
            depth == 0
            and token.token_type in _JOIN_START
            and (previous is None or previous.token_type not in _JOIN_START)
        ):
            starts.append(token.start)
        previous = token
    if not starts:
        starts = [0]
    elif text[: starts[0]].strip():
        starts.insert(0, 0)
    bounds = [*starts, len(text)]
    pieces = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        raw = text[a:b]
        if not raw.strip():
            continue
        begin = a + len(raw) - len(raw.lstrip())
        line = text.count("\n", 0, begin) + 1
        col = begin - (text.rfind("\n", 0, begin) + 1) + 1
        pieces.append((raw.strip(), line, col))
    return pieces


def split_joins(text: str, dialect: str = "") -> list[str]:
    """Cut the Joins text into one piece per JOIN clause (see `_join_pieces`)."""
    return [piece for piece, _line, _col in _join_pieces(text, dialect)]


def table_lookup_name(table: exp.Table) -> str:
    return ".".join(part for part in (table.db, table.name) if part)


def unknown_table_message(
    name: str, tables: dict[str, TableInfo], *, what: str = "The table"
) -> str:
    """Why `name` names no catalog table: unknown, or a plain name that several schemas have."""
    name = name.strip()
    suffix = f".{name.lower()}"
    candidates = sorted({info.name for key, info in tables.items() if key.endswith(suffix)})
    if "." not in name and len(candidates) > 1:
        return (
            f"{what} '{name}' is in several schemas ({', '.join(candidates)}): "
            "name it with its schema."
        )
    return f"{what} '{name}' is not in the Mart catalog."


def check_from(
    driving_table: str,
    alias: str,
    joins_text: str,
    tables: dict[str, TableInfo],
    *,
    dialect: str = "",
) -> FromClause:
    """Check the driving table, its alias and the joins against the catalog, in `dialect`.

    `tables` maps lower-case "schema.table" and plain "table" names to the catalog's tables.
    Returns the scope (alias → table) for the entity's other SQL.
    """
    clause = FromClause(scope=Scope(dialect=dialect))
    info = tables.get((driving_table or "").strip().lower())
    if not driving_table:
        clause.driving_problems.append(Problem(ERROR, "Choose the driving table."))
        return clause
    if info is None:
        clause.driving_problems.append(
            Problem(ERROR, unknown_table_message(driving_table, tables, what="The driving table"))
        )
        return clause
    alias = (alias or "").strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", alias):
        clause.driving_problems.append(Problem(ERROR, "The alias must be a simple name such as c."))
        return clause
    schema, _dot, name = info.name.rpartition(".")
    table = exp.Table(
        this=identifier(name, dialect), db=identifier(schema, dialect) if schema else None
    )
    clause.driving = exp.alias_(table, alias, table=True)
    clause.scope.aliases[alias.lower()] = info
    for piece, line, col in _join_pieces(joins_text or "", dialect):
        before = len(clause.join_problems)
        _check_join(piece, tables, clause)
        clause.join_problems[before:] = [
            _shifted(p, line, col) for p in clause.join_problems[before:]
        ]
    return clause


def _shifted(problem: Problem, line: int, col: int) -> Problem:
    """A problem found in a piece starting at (line, col), placed in the whole text."""
    if not problem.line:
        return problem
    return replace(
        problem,
        line=problem.line + line - 1,
        col=(problem.col or 1) + col - 1 if problem.line == 1 else problem.col,
    )


def _check_join(piece: str, tables: dict[str, TableInfo], clause: FromClause) -> None:
    dialect = clause.scope.dialect
    try:
        join = parse(piece, into=exp.Join, dialect=dialect)
        _refuse_statements(join)
    except SqlRuleError as refused:
        clause.join_problems.append(refused.problem)
        return
    if not isinstance(join, exp.Join):
        clause.join_problems.append(Problem(ERROR, f"Not a JOIN clause: {piece[:60]}"))
        return
    target, alias = join.this, join.this.alias
    if not alias:
        clause.join_problems.append(_problem_at(target, "Give the joined table an alias."))
        return
    if alias.lower() in clause.scope.aliases:
        clause.join_problems.append(_problem_at(target, f"The alias '{alias}' is used twice."))
        return
    if isinstance(target, exp.Table):
        info = _catalog_table(target, tables, clause.join_problems, clause.scope.dialect)
        if info is None:
            return
    elif isinstance(target, exp.Subquery):
        info = _lookup_table_info(target, alias, tables, clause, piece)
        if info is None:
            return
    else:
        clause.join_problems.append(_problem_at(target, "Join a catalog table or a SELECT lookup."))
        return
    clause.scope.aliases[alias.lower()] = info
    condition = join.args.get("on")
    if condition is not None:
        checked = Checked(text=piece)
        clause.join_problems.extend(_check_constructs(condition, text=piece, dialect=dialect))
        _resolve_columns(condition, clause.scope, checked)
        clause.join_problems.extend(checked.problems)
    elif join.args.get("kind", "").upper() != "CROSS" and not join.args.get("using"):
        clause.join_problems.append(
            _problem_at(target, f"The join of '{alias}' has no ON condition.")
        )
    clause.joins.append(join)


def _catalog_table(
    table: exp.Table, tables: dict[str, TableInfo], problems: list[Problem], dialect: str = ""
) -> TableInfo | None:
    """The catalog table a FROM/JOIN names; never a system catalog, never a table function."""
    if not isinstance(table.this, exp.Identifier):
        call = table.this if isinstance(table.this, exp.Func) else None
        refusal = _function_problem(call, "", dialect, False) if call is not None else None
        problems.append(refusal or _problem_at(table, "Join a catalog table or a SELECT lookup."))
        return None
    name = table_lookup_name(table)
    if (table.db or "").lower() in functions.SYSTEM_SCHEMAS or (
        table.name.lower() in functions.SYSTEM_TABLES
    ):
        problems.append(
            _problem_at(
                table,
                f"The system catalog '{name}' is not allowed in a rule; read the Mart's own "
                "tables (those in the catalog).",
            )
        )
        return None
    info = tables.get(name.lower())
    if info is None:
        problems.append(_problem_at(table, unknown_table_message(name, tables)))
        return None
    stored = info.name.rpartition(".")[2]
    if not _names_match(table.this, stored, dialect):
        right = ".".join(spelled_identifier(part, dialect) for part in info.name.split(".") if part)
        rule = "matches a quoted name exactly"
        if not table.this.quoted:
            rule = f"reads an unquoted name in {column_folding(dialect)} case"
        problems.append(
            _problem_at(
                table,
                f"The Mart has no table {table.this.sql(dialect=dialect or None)} "
                f"({dialect_name(dialect)} {rule}): write {right}.",
            )
        )
        return None
    return info


def _names_match(written: exp.Identifier, stored: str, dialect: str) -> bool:
    """Whether a table name as written names the catalog's `stored` under the dialect's rules."""
    if not dialect:
        return True
    strategy = Dialect.get_or_raise(dialect).normalization_strategy
    if strategy == NormalizationStrategy.LOWERCASE:
        wanted = written.name if written.quoted else written.name.lower()
        return wanted == stored
    if strategy == NormalizationStrategy.UPPERCASE:
        wanted = written.name if written.quoted else written.name.upper()
        return wanted in {stored, stored.upper() if stored == stored.lower() else stored}
    return True  # case-insensitive engines (and MySQL, whose server setting decides)


def _lookup_table_info(
    subquery: exp.Subquery,
    alias: str,
    tables: dict[str, TableInfo],
    clause: FromClause,
    piece: str,
) -> TableInfo | None:
    """A lookup is a query over catalog tables — nested queries, CTEs, UNION parts and scalar
    subqueries included, every one checked against the same allow-list. Its output columns
    become the alias's columns."""
    dialect = clause.scope.dialect
    query = subquery.this
    if not isinstance(query, exp.Query):
        clause.join_problems.append(_problem_at(subquery, "A lookup must be a SELECT."))
        return None
    problems = _check_constructs(query, text=piece, dialect=dialect, in_lookup=True)
    inner = Scope(dialect=dialect)
    derived = _derived_tables(query)
    for table in query.find_all(exp.Table):
        if table.name.lower() in derived and not table.db:
            info: TableInfo | None = derived[table.name.lower()]
        else:
            info = _catalog_table(table, tables, problems, dialect)
        if info is None:
            continue
        inner.aliases[(table.alias or table.name).lower()] = info
        inner.aliases.setdefault(table.name.lower(), info)
    for name, info in derived.items():
        inner.aliases.setdefault(name, info)
    if problems:
        clause.join_problems.extend(dict.fromkeys(problems))  # a table function: said once
        return None
    checked = Checked(text=piece)
    outputs = {
        p.alias.lower() for select in query.find_all(exp.Select) for p in select.selects if p.alias
    }
    for column in query.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        if column.table:
            _resolve_columns(column, inner, checked)
        elif column.name.lower() not in outputs and not any(
            t.any_column or t.column(column.name) for t in inner.aliases.values()
        ):
            checked.problems.append(
                _problem_at(column, f"No table of the lookup has a column '{column.name}'.")
            )
    clause.join_problems.extend(checked.problems)
    columns = {}
    for projection in query.selects:
        name = projection.alias_or_name
        if not name or name == "*":
            clause.join_problems.append(_problem_at(projection, "Name every column of a lookup."))
            return None
        columns[name.lower()] = ColumnInfo(name=name)
    return TableInfo(name=f"({alias} lookup)", columns=columns, dialect=dialect)


def _derived_tables(query: exp.Query) -> dict[str, TableInfo]:
    """The CTEs and aliased subqueries inside a lookup, as tables of their output columns."""
    derived: dict[str, TableInfo] = {}
    for node in query.find_all(exp.CTE, exp.Subquery):
        name = node.alias
        body = node.this
        if not name or not isinstance(body, exp.Query):
            continue
        selects = body.selects
        columns = {
            p.alias_or_name.lower(): ColumnInfo(name=p.alias_or_name)
            for p in selects
            if p.alias_or_name and p.alias_or_name != "*"
        }
        star = any(isinstance(p, exp.Star) or p.alias_or_name == "*" for p in selects)
        derived[name.lower()] = TableInfo(name=name, columns=columns, any_column=star)
    return derived
