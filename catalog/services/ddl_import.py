"""Catalog from files, when no connection to the Mart is possible: a DDL script (parsed with sqlglot,
any of its dialects) or a CSV column list. Both produce the snapshot introspection produces, so the
same diff applies and every note on what still exists is kept. Imports are atomic."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlglot
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from workbench import policy
from workbench.capping import capped_list
from workbench.models import Engagement
from workbench.policy import Action
from workbench.uploads import UploadKind, check_size, max_sheet_rows, too_many_rows_message

from ..choices import CatalogOrigin, TableKind
from ..models import SourceSystem
from .introspection import ColumnSnap, ForeignKeySnap, TableSnap
from .sources import catalog_apply

CSV_HEADER = [
    "Schema",
    "Table",
    "Column",
    "Data Type",
    "Nullable",
    "Primary Key",
    "References",
    "Description",
]
YES = {"y", "yes", "true", "1", "x"}
NO = {"n", "no", "false", "0", ""}


def sqlglot_dialects() -> list[str]:
    return sorted(d for d in Dialect.classes if d)


# --- entry points ---------------------------------------------------------------------------


@transaction.atomic
def catalog_import_ddl(
    *,
    engagement: Engagement,
    source_name: str,
    text: str,
    acting_user: User,
    dialect: str = "",
) -> dict:
    """Parse a DDL script and apply its tables to the catalog of the source named `source_name`."""
    policy.check(acting_user, engagement, Action.MANAGE_CATALOG)
    check_size(UploadKind.DDL, len(text.encode("utf-8")))
    script = read_ddl(text, dialect=dialect)
    source = _file_source(engagement, source_name, acting_user, dialect=dialect)
    result = catalog_apply(
        source=source, tables=script.tables, acting_user=acting_user, origin=CatalogOrigin.DDL
    )
    # the statements that describe no table are named, so nothing in the file goes unmentioned
    return {**result, "ignored": script.ignored_summary}


@transaction.atomic
def catalog_import_csv(
    *, engagement: Engagement, source_name: str, text: str, acting_user: User
) -> dict:
    policy.check(acting_user, engagement, Action.MANAGE_CATALOG)
    check_size(UploadKind.DDL, len(text.encode("utf-8")))
    tables = parse_column_list(text)
    source = _file_source(engagement, source_name, acting_user)
    return catalog_apply(
        source=source, tables=tables, acting_user=acting_user, origin=CatalogOrigin.CSV
    )


def _file_source(
    engagement: Engagement, name: str, acting_user: User, *, dialect: str = ""
) -> SourceSystem:
    """The named source system (created if new); a DDL's dialect becomes its rules' dialect."""
    from .sources import source_system_create_from_file, source_system_update

    name = (name or "").strip()
    if not name:
        raise ValidationError({"source_name": "Name the source system this catalog describes."})
    source = SourceSystem.objects.filter(engagement=engagement, name=name).first()
    if source is None:
        return source_system_create_from_file(
            engagement=engagement, name=name, acting_user=acting_user, dialect=dialect
        )
    if dialect.strip() and source.dialect != dialect.strip().lower():
        source_system_update(source=source, data={"dialect": dialect}, acting_user=acting_user)
    return source


# --- DDL ------------------------------------------------------------------------------------


MAX_NESTING = 100  # parentheses: sqlglot recurses per level, and no real DDL comes close


@dataclass
class Statement:
    """One statement of a script: where it starts, its text as written, and its tokens."""

    number: int
    line: int
    sql: str
    tokens: list[Token]

    @property
    def label(self) -> str:
        """Its first words, e.g. `DROP TABLE x` or `INSERT INTO t …`, with its line."""
        words = self.sql.split()
        head = " ".join(words[:3]) + (" …" if len(words) > 3 else "")
        return f"{head} (line {self.line})"

    def refusal(self, reason: str) -> ValidationError:
        return ValidationError({"file": f"Statement {self.number} (line {self.line}): {reason}."})


@dataclass
class DdlScript:
    """What a DDL script describes: its tables, and the statements that describe none."""

    tables: list[TableSnap]
    ignored: list[str] = field(default_factory=list)

    @property
    def ignored_summary(self) -> str:
        """`ignored 2 statements: DROP TABLE x (line 3), INSERT INTO t … (line 7)`, or ''."""
        if not self.ignored:
            return ""
        plural = "statement" if len(self.ignored) == 1 else "statements"
        return f"ignored {len(self.ignored)} {plural}: {capped_list(self.ignored)}"


def parse_ddl(text: str, *, dialect: str = "") -> list[TableSnap]:
    return read_ddl(text, dialect=dialect).tables


def read_ddl(text: str, *, dialect: str = "") -> DdlScript:
    dialect = (dialect or "").strip().lower()
    if dialect and dialect not in Dialect.classes:
        raise ValidationError(
            {
                "dialect": f"Unknown SQL dialect '{dialect}' (sqlglot knows: {', '.join(sqlglot_dialects())})."
            }
        )
    if not (text or "").strip():
        raise ValidationError({"file": "The DDL file is empty."})
    tables: dict[tuple[str, str], TableSnap] = {}
    ignored: list[str] = []
    for statement in _split_statements(text, dialect):
        _check_nesting(statement)
        parsed = _parse_statement(statement, dialect)
        if _is_create_table(parsed):
            _check_column_list(statement)
        try:
            used = _apply_statement(parsed, tables, dialect)
        except ValueError as exc:
            raise statement.refusal(str(exc)) from None
        if not used:
            ignored.append(statement.label)
    if not tables:
        raise ValidationError(
            {"file": "The DDL file has no CREATE TABLE or CREATE VIEW statement."}
        )
    return DdlScript(tables=list(tables.values()), ignored=ignored)


def _parse_statement(statement: Statement, dialect: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(statement.sql, read=dialect or None)
    except (ParseError, TokenError) as exc:
        message = _ddl_error(statement.number, statement.line, statement.sql, exc)
        raise ValidationError({"file": message}) from None
    except RecursionError:  # the nesting check passed, but the parser's stack did not
        raise statement.refusal("nested too deeply to parse") from None


def _check_nesting(statement: Statement) -> None:
    """Refuse parentheses nested deeper than MAX_NESTING before the (recursive) parser sees them."""
    depth = 0
    for token in statement.tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            if depth > MAX_NESTING:
                raise statement.refusal(
                    f"nested more than {MAX_NESTING} levels deep "
                    f"(line {token.line}, column {token.col})"
                )
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1


def _is_create_table(parsed: exp.Expr | None) -> bool:
    return isinstance(parsed, exp.Create) and parsed.kind == "TABLE"


def _check_column_list(statement: Statement) -> None:
    """Refuse an empty entry in a list (`(a INT,, b)`, `(, a)`, `(a,)`): sqlglot reads past it."""
    empty_entry = {
        (TokenType.COMMA, TokenType.COMMA),
        (TokenType.L_PAREN, TokenType.COMMA),
        (TokenType.COMMA, TokenType.R_PAREN),
    }
    previous = None
    for token in statement.tokens:
        if (previous, token.token_type) in empty_entry:
            raise statement.refusal(
                f"a list has an empty entry (a comma too many) at line {token.line}, "
                f"column {token.col}"
            )
        previous = token.token_type


def _split_statements(text: str, dialect: str) -> list[Statement]:
    """The statements of a script with the line each starts on, split on top-level semicolons."""
    try:
        tokens = Dialect.get_or_raise(dialect or None).tokenize(text)
    except TokenError as exc:
        raise ValidationError({"file": f"The DDL cannot be read: {exc}"}) from None
    statements: list[Statement] = []
    pending: list[Token] = []

    def close(end: int) -> None:
        start = pending[0]
        sql = text[start.start : end]
        statements.append(Statement(len(statements) + 1, start.line, sql, list(pending)))
        pending.clear()

    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if pending:
                close(token.start)
        else:
            pending.append(token)
    if pending:
        close(len(text))
    # a token's start/end are offsets in the text, so each piece is the statement as written
    return statements


def _ddl_error(number: int, line: int, sql: str, exc: Exception) -> str:
    detail = ""
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        at_line = line + int(first.get("line") or 1) - 1
        description = first.get("description") or str(exc)
        near = (first.get("highlight") or "").strip()
        detail = f"{description}{f' near “{near}”' if near else ''} (line {at_line})"
    else:
        detail = str(exc).splitlines()[0]
    head = " ".join(sql.split())[:60]
    return f"Statement {number} (line {line}, “{head}…”) does not parse: {detail}."


def _name(node) -> str:
    return node.name if node is not None else ""


def _apply_statement(statement, tables: dict, dialect: str) -> bool:
    """Apply one statement to `tables`; False when it describes no table (DROP, INSERT, ...)."""
    if isinstance(statement, exp.Create) and statement.kind in ("TABLE", "VIEW"):
        target = statement.this
        table = target.this if isinstance(target, exp.Schema) else target
        if not isinstance(table, exp.Table):
            return False
        snap = TableSnap(
            name=table.name,
            schema=table.db,
            kind=TableKind.VIEW if statement.kind == "VIEW" else TableKind.TABLE,
        )
        definitions = target.expressions if isinstance(target, exp.Schema) else []
        if statement.kind == "VIEW" and not definitions:
            select = statement.expression
            if isinstance(select, exp.Query):
                definitions = []
                snap.columns = [
                    ColumnSnap(name=name, position=i)
                    for i, name in enumerate(select.named_selects, start=1)
                ]
        for definition in definitions:
            _apply_definition(definition, snap, dialect)
        tables[snap.key] = snap
    elif isinstance(statement, exp.Alter) and statement.args.get("kind", "TABLE") == "TABLE":
        key = (statement.this.db, statement.this.name)
        altered = tables.get(key)
        if altered is None:
            raise ValueError(f"ALTER TABLE of {statement.this.sql()}, which is not created above")
        for action in statement.args.get("actions") or []:
            for node in action.find_all(exp.ForeignKey, exp.PrimaryKey):
                _apply_constraint(node, altered, _constraint_name(node))
    elif isinstance(statement, exp.Comment) and isinstance(statement.this, exp.Table | exp.Column):
        text = statement.expression.name if statement.expression else ""
        if statement.args.get("kind") == "TABLE":
            commented = tables.get((statement.this.db, statement.this.name))
            if commented:
                commented.comment = text
        elif statement.args.get("kind") == "COLUMN" and isinstance(statement.this, exp.Column):
            column = statement.this
            owner = tables.get((column.args.get("db") and column.db or "", column.table)) or next(
                (t for t in tables.values() if t.name == column.table), None
            )
            for col in owner.columns if owner else []:
                if col.name == column.name:
                    col.comment = text
    else:
        return False
    return True


def _constraint_name(node) -> str:
    parent = node.parent
    return parent.name if isinstance(parent, exp.Constraint) else ""


def _apply_definition(definition, snap: TableSnap, dialect: str) -> None:
    if isinstance(definition, exp.Identifier):  # a column without a type, as SQLite allows
        snap.columns.append(ColumnSnap(name=definition.name, position=len(snap.columns) + 1))
    elif isinstance(definition, exp.ColumnDef):
        column = ColumnSnap(name=definition.name, position=len(snap.columns) + 1)
        kind = definition.args.get("kind")
        if kind is not None:
            column.data_type = kind.sql(dialect=dialect or None)[:200]
            params = [p.this for p in kind.expressions if isinstance(p, exp.DataTypeParam)]
            numbers = [
                int(p.name) for p in params if isinstance(p, exp.Literal) and p.name.isdigit()
            ]
            if numbers and kind.is_type(*exp.DataType.TEXT_TYPES):
                column.length = numbers[0]
            elif numbers:
                column.precision = numbers[0]
                column.scale = numbers[1] if len(numbers) > 1 else None
        for constraint in definition.args.get("constraints") or []:
            ckind = constraint.args.get("kind")
            if isinstance(ckind, exp.NotNullColumnConstraint):
                column.nullable = bool(ckind.args.get("allow_null"))
            elif isinstance(ckind, exp.PrimaryKeyColumnConstraint):
                column.nullable = False
                snap.primary_key.append(column.name)
            elif isinstance(ckind, exp.DefaultColumnConstraint):
                column.default = ckind.this.sql(dialect=dialect or None) if ckind.this else ""
            elif isinstance(ckind, exp.CommentColumnConstraint):
                column.comment = ckind.this.name if ckind.this else ""
            elif isinstance(ckind, exp.UniqueColumnConstraint):
                snap.unique_constraints.append({"name": "", "columns": [column.name]})
            elif isinstance(ckind, exp.Reference):
                _add_reference(snap, [column.name], ckind, "")
        snap.columns.append(column)
    elif isinstance(definition, exp.Constraint):
        for node in definition.expressions:
            _apply_constraint(node, snap, definition.name)
    else:
        _apply_constraint(definition, snap, "")


def _apply_constraint(node, snap: TableSnap, name: str) -> None:
    if isinstance(node, exp.PrimaryKey):
        snap.primary_key = [_name(e) for e in node.expressions]
        for column in snap.columns:
            if column.name in snap.primary_key:
                column.nullable = False
    elif isinstance(node, exp.ForeignKey):
        reference = node.args.get("reference")
        if reference is not None:
            _add_reference(snap, [_name(e) for e in node.expressions], reference, name)
    elif isinstance(node, exp.UniqueColumnConstraint):
        schema = node.this
        columns = [_name(e) for e in schema.expressions] if isinstance(schema, exp.Schema) else []
        if columns:
            snap.unique_constraints.append({"name": name, "columns": columns})


def _add_reference(snap: TableSnap, columns: list[str], reference, name: str) -> None:
    target = reference.this
    table = target.this if isinstance(target, exp.Schema) else target
    referred_columns = (
        [_name(e) for e in target.expressions] if isinstance(target, exp.Schema) else []
    )
    snap.foreign_keys.append(
        ForeignKeySnap(
            name=name,
            columns=columns,
            referred_schema=table.db if isinstance(table, exp.Table) else "",
            referred_table=table.name,
            referred_columns=referred_columns or columns,
        )
    )


# --- CSV column list ------------------------------------------------------------------------


def parse_column_list(text: str) -> list[TableSnap]:
    """`Schema | Table | Column | Data Type | Nullable | Primary Key | References | Description`,
    comma-, semicolon-, tab- or pipe-separated. References: `[schema.]table.column`."""
    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        raise ValidationError({"file": "The column list is empty."})
    first_line = text.splitlines()[0]
    delimiter = max(",;|\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    if [h.lower() for h in header] != [h.lower() for h in CSV_HEADER]:
        raise ValidationError(
            {"file": f"The header must be: {' | '.join(CSV_HEADER)}; found: {' | '.join(header)}."}
        )
    tables: dict[tuple[str, str], TableSnap] = {}
    limit = max_sheet_rows()
    for line_number, row in enumerate(reader, start=2):
        if line_number > limit + 1:
            raise ValidationError({"file": too_many_rows_message("1 (the column list)")})
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            raise ValidationError(
                {"file": f"Row {line_number}: expected {len(CSV_HEADER)} cells, found {len(row)}."}
            )
        schema, table, column, data_type, nullable, primary, references, description = (
            c.strip() for c in row
        )
        if not table or not column:
            raise ValidationError({"file": f"Row {line_number}: Table and Column are required."})
        snap = tables.setdefault((schema, table), TableSnap(name=table, schema=schema))
        is_pk = _flag(primary, line_number, "Primary Key", default=False)
        col = ColumnSnap(
            name=column,
            data_type=data_type,
            nullable=_flag(nullable, line_number, "Nullable", default=not is_pk),
            comment=description,
            position=len(snap.columns) + 1,
        )
        snap.columns.append(col)
        if is_pk:
            snap.primary_key.append(column)
        if references:
            parts = references.replace("(", ".").rstrip(")").split(".")
            if len(parts) not in (2, 3) or not all(parts):
                raise ValidationError(
                    {
                        "file": f"Row {line_number}: References must be table.column or "
                        f"schema.table.column, not '{references}'."
                    }
                )
            ref_schema, ref_table, ref_column = parts if len(parts) == 3 else [schema, *parts]
            snap.foreign_keys.append(
                ForeignKeySnap(
                    columns=[column],
                    referred_schema=ref_schema,
                    referred_table=ref_table,
                    referred_columns=[ref_column],
                )
            )
    if not tables:
        raise ValidationError({"file": "The column list has a header but no rows."})
    return list(tables.values())


def _flag(value: str, line: int, name: str, *, default: bool) -> bool:
    lowered = value.strip().lower()
    if not lowered:
        return default
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise ValidationError({"file": f"Row {line}: {name} must be Y or N, not '{value}'."})
