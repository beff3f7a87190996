"""Mapping logic is SQL in a strict subset, parsed with sqlglot (DESIGN.md, decision 2).

This module knows nothing of the database: it takes the user's text and a `Scope` (the tables an
entity's SQL may use, by alias) and answers with the parsed tree, the problems found (each pointing
at the offending token), the lineage (which source columns feed the result) and the inferred type.
The services store what it answers; the ETL generator reuses the trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.tokens import Tokenizer, TokenType

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    level: str
    message: str
    line: int | None = None
    col: int | None = None
    token: str = ""

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


@dataclass
class TableInfo:
    """A catalog table as seen by an entity: its qualified name and columns (by lower-case name)."""

    name: str  # "schema.table" where the Mart has schemas, else "table"
    columns: dict[str, ColumnInfo] = field(default_factory=dict)

    def column(self, name: str) -> ColumnInfo | None:
        return self.columns.get(name.lower())


@dataclass
class Scope:
    """The aliases an entity's SQL may reference: the driving table and its joins."""

    aliases: dict[str, TableInfo] = field(default_factory=dict)

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
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.Like,
    exp.ILike,
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

# Functions: CASE/COALESCE/CAST, string, date and simple numeric functions.
_FUNCTIONS = (
    exp.Coalesce,
    exp.Cast,
    exp.TryCast,
    exp.Nullif,
    exp.Upper,
    exp.Lower,
    exp.Initcap,
    exp.Trim,
    exp.Substring,
    exp.Concat,
    exp.ConcatWs,
    exp.Length,
    exp.Left,
    exp.Right,
    exp.Pad,
    exp.RegexpReplace,
    exp.RegexpLike,
    exp.RegexpExtract,
    exp.SplitPart,
    exp.StrPosition,
    exp.CurrentDate,
    exp.CurrentTimestamp,
    exp.Date,
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.Extract,
    exp.StrToDate,
    exp.StrToTime,
    exp.TsOrDsToDate,
    exp.DateAdd,
    exp.DateSub,
    exp.DateDiff,
    exp.Round,
    exp.Abs,
    exp.Floor,
    exp.Ceil,
    exp.Greatest,
    exp.Least,
)
# Functions some sqlglot versions model and others parse as anonymous calls: allowed both ways.
_BY_NAME = ("Replace", "Translate", "ToChar", "MD5", "SHA2")
_FUNCTIONS += tuple(getattr(exp, name) for name in _BY_NAME if hasattr(exp, name))
_ANONYMOUS_ALLOWED = {"REPLACE", "LPAD", "RPAD", "TO_CHAR", "TRANSLATE", "MD5", "SHA256"}

_ALLOWED = _STRUCTURE + _FUNCTIONS

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


def _problem_at(node: exp.Expr, message: str, level: str = ERROR) -> Problem:
    line, col = _position(node)
    return Problem(level, message, line, col, node.sql()[:60])


MAX_NESTING = 100  # parentheses: the parser recurses per level, and no rule comes close


def _token_problem(text: str) -> Problem | None:
    """A semicolon, or parentheses nested beyond MAX_NESTING: refused before the (recursive)
    parser sees the text."""
    try:
        tokens = Tokenizer().tokenize(text)
    except TokenError:
        return None
    depth = 0
    for token in tokens:
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


def parse(text: str, *, into: type[exp.Expr] | None = None) -> exp.Expr:
    """Parse one piece of user SQL; raise SqlRuleError with the position of the first problem."""
    if not text or not text.strip():
        raise SqlRuleError(Problem(ERROR, "The expression is empty."))
    refused = _token_problem(text)
    if refused:
        raise SqlRuleError(refused)
    try:
        tree = sqlglot.parse_one(text, into=into) if into else sqlglot.parse_one(text)
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        near = first.get("highlight") or ""
        description = first.get("description") or "Invalid SQL"
        raise SqlRuleError(
            Problem(
                ERROR, f"{description} near '{near}'.", first.get("line"), first.get("col"), near
            )
        ) from None
    except TokenError as error:
        raise SqlRuleError(Problem(ERROR, f"Invalid SQL: {error}.")) from None
    except RecursionError:  # within the nesting limit, but still too deep for the parser's stack
        raise SqlRuleError(Problem(ERROR, "The expression is nested too deeply to read.")) from None
    if tree is None:
        raise SqlRuleError(Problem(ERROR, "The expression is empty."))
    return tree


def _refuse_statements(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            kind = node.key.upper() if not isinstance(node, exp.Command) else str(node.this).upper()
            raise SqlRuleError(
                _problem_at(node, f"Only an expression is allowed here, not a {kind} statement.")
            )


def _check_constructs(tree: exp.Expr, *, allow_subqueries: bool = False) -> list[Problem]:
    problems = []
    for node in tree.walk():
        if isinstance(node, exp.Query | exp.Subquery) and not allow_subqueries:
            problems.append(
                _problem_at(
                    node,
                    "Subqueries are not allowed in a transformation; add the lookup to the "
                    "entity's joins and use its alias.",
                )
            )
            break
        if isinstance(node, exp.Anonymous):
            if node.name.upper() not in _ANONYMOUS_ALLOWED:
                problems.append(
                    _problem_at(node, f"The function {node.name.upper()} is not allowed.")
                )
        elif isinstance(node, exp.Func) and not isinstance(node, _ALLOWED):
            problems.append(_problem_at(node, f"The function {node.sql_name()} is not allowed."))
        elif not isinstance(node, _ALLOWED + (exp.Func, exp.Query, exp.Subquery)):
            problems.append(_problem_at(node, f"The construct {node.key.upper()} is not allowed."))
    return problems


# --- column resolution, lineage, types -------------------------------------------------------


def _resolve_columns(tree: exp.Expr, scope: Scope, checked: Checked) -> None:
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
        info = table.column(column.name)
        if info is None:
            checked.problems.append(
                _problem_at(column, f"The table {table.name} has no column '{column.name}'.")
            )
            continue
        key = (column.table.lower(), info.name)
        if key not in seen:
            seen.add(key)
            checked.lineage.append((column.table.lower(), table.name, info.name))


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
    """Check a transformation (or a direct `alias.column`) against the entity's scope."""
    checked = Checked(text=text)
    try:
        tree = parse(text)
        _refuse_statements(tree)
    except SqlRuleError as refused:
        checked.problems.append(refused.problem)
        return checked
    checked.tree = tree
    checked.problems.extend(_check_constructs(tree))
    if tree.find(exp.Query, exp.Subquery):
        return checked  # the subquery is the problem; its columns are not the entity's
    _resolve_columns(tree, scope, checked)
    if checked.ok:
        checked.inferred_type = _infer_type(tree, scope)
        if target is not None:
            _type_problems(checked, scope, target, default)
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
    narrowed = Scope()
    for alias, table in scope.aliases.items():
        columns = {
            name: replace(info, nullable=False) if (alias, name) in not_null else info
            for name, info in table.columns.items()
        }
        narrowed.aliases[alias] = TableInfo(name=table.name, columns=columns)
    return narrowed


def default_problems(default: str, target: Target) -> list[Problem]:
    """A default value is a literal of the attribute's type (and one of its allowed values)."""
    if not default:
        return []
    value = default.strip()
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


def split_joins(text: str) -> list[str]:
    """Cut the Joins text into one piece per JOIN clause, wherever the lines break.

    A new clause starts at a JOIN keyword (or LEFT/INNER/… before it) outside parentheses.
    """
    tokens = Tokenizer().tokenize(text)
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
        return [text.strip()] if text.strip() else []
    if text[: starts[0]].strip():
        starts.insert(0, 0)
    bounds = [*starts, len(text)]
    return [
        text[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False) if text[a:b].strip()
    ]


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
) -> FromClause:
    """Check the driving table, its alias and the joins against the catalog.

    `tables` maps lower-case "schema.table" and plain "table" names to the catalog's tables.
    Returns the scope (alias → table) for the entity's other SQL.
    """
    clause = FromClause()
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
    clause.driving = exp.alias_(exp.to_table(info.name), alias, table=True)
    clause.scope.aliases[alias.lower()] = info
    for piece in split_joins(joins_text or ""):
        _check_join(piece, tables, clause)
    return clause


def _check_join(piece: str, tables: dict[str, TableInfo], clause: FromClause) -> None:
    try:
        join = parse(piece, into=exp.Join)
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
        info = tables.get(table_lookup_name(target).lower())
        if info is None:
            clause.join_problems.append(
                _problem_at(target, unknown_table_message(table_lookup_name(target), tables))
            )
            return
    elif isinstance(target, exp.Subquery):
        info = _lookup_table_info(target, alias, tables, clause)
        if info is None:
            return
    else:
        clause.join_problems.append(_problem_at(target, "Join a catalog table or a SELECT lookup."))
        return
    clause.scope.aliases[alias.lower()] = info
    condition = join.args.get("on")
    if condition is not None:
        checked = Checked(text=piece)
        clause.join_problems.extend(_check_constructs(condition))
        _resolve_columns(condition, clause.scope, checked)
        clause.join_problems.extend(checked.problems)
    elif join.args.get("kind", "").upper() != "CROSS" and not join.args.get("using"):
        clause.join_problems.append(
            _problem_at(target, f"The join of '{alias}' has no ON condition.")
        )
    clause.joins.append(join)


def _lookup_table_info(
    subquery: exp.Subquery, alias: str, tables: dict[str, TableInfo], clause: FromClause
) -> TableInfo | None:
    """A lookup is a SELECT over catalog tables; its output columns become the alias's columns."""
    select = subquery.this
    if not isinstance(select, exp.Select):
        clause.join_problems.append(_problem_at(subquery, "A lookup must be a single SELECT."))
        return None
    inner = Scope()
    for table in select.find_all(exp.Table):
        info = tables.get(table_lookup_name(table).lower())
        if info is None:
            clause.join_problems.append(
                _problem_at(table, unknown_table_message(table_lookup_name(table), tables))
            )
            return None
        inner.aliases[(table.alias or table.name).lower()] = info
        inner.aliases.setdefault(table.name.lower(), info)
    checked = Checked(text=select.sql())
    for column in select.find_all(exp.Column):
        if not column.table and len({id(t) for t in inner.aliases.values()}) == 1:
            continue  # a single-table lookup may leave its columns unqualified
        _resolve_columns(column, inner, checked)
    clause.join_problems.extend(checked.problems)
    columns = {}
    for projection in select.selects:
        name = projection.alias_or_name
        if not name or name == "*":
            clause.join_problems.append(_problem_at(projection, "Name every column of a lookup."))
            return None
        columns[name.lower()] = ColumnInfo(name=name)
    return TableInfo(name=f"({alias} lookup)", columns=columns)
