"""Generated SQL as sqlglot trees, rendered per dialect.

Nothing here concatenates user text: the mapping's rules arrive as trees (exports.etl.plan), and
table names and column names become sqlglot identifiers.

SQLite has no DATE, TIMESTAMP or BOOLEAN type. On SQLite the interface tables declare dates and
timestamps as TEXT and the load writes ISO 8601 text (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, what
sqlglot's DATE()/DATETIME() produce for CAST ... AS DATE/TIMESTAMP), booleans as INTEGER 0/1, and
decimals as REAL (SQLite's numeric storage).
"""

from __future__ import annotations

import re
from typing import TypeVar

from sqlglot import exp

from catalog.dialects import ETL_DIALECTS, for_target

from .plan import EntityPlan

DIALECTS = ETL_DIALECTS

# SQLAlchemy backend names → sqlglot dialects (for test runs on real engines)
BACKEND_DIALECTS = {
    "postgresql": "postgres",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "mssql": "tsql",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "spark",
    "mysql": "mysql",
}

_SQLITE_TEXT = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIME}


def table(name: str, schema: str | None = None) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema) if schema else None)


def _ddl_type(data_type: exp.DataType, dialect: str) -> exp.DataType:
    if dialect == "sqlite" and data_type.this in _SQLITE_TEXT:
        return exp.DataType.build("TEXT")
    return data_type.copy()


# Engines whose tables take no constraint clauses: Spark's (and Databricks' non-Delta) tables
# refuse PRIMARY KEY, FOREIGN KEY and UNIQUE; the unit tests check what the clauses would.
NO_CONSTRAINTS = {"spark"}


def create_table(entity: EntityPlan, *, dialect: str, schema: str | None = None) -> exp.Create:
    """CREATE TABLE IF NOT EXISTS of one interface entity: types, NOT NULL, primary key, unique
    columns and foreign keys — every constraint of the contract the engine enforces."""
    constrained = dialect not in NO_CONSTRAINTS
    definitions: list[exp.Expression] = []
    for column in entity.columns:
        constraints = (
            [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]
            if column.required and constrained
            else []
        )
        definitions.append(
            exp.ColumnDef(
                this=exp.to_identifier(column.name),
                kind=_ddl_type(column.data_type, dialect),
                constraints=constraints,
            )
        )
    if not constrained:
        return _create(entity, schema, definitions)
    if entity.primary_key:
        definitions.append(
            exp.PrimaryKey(expressions=[exp.to_identifier(c) for c in entity.primary_key])
        )
    for name in entity.unique_columns:
        definitions.append(
            exp.UniqueColumnConstraint(this=exp.Schema(expressions=[exp.to_identifier(name)]))
        )
    for fk in entity.foreign_keys:
        definitions.append(
            exp.ForeignKey(
                expressions=[exp.to_identifier(c) for c in fk.columns],
                reference=exp.Reference(
                    this=exp.Schema(
                        this=table(fk.parent_table, schema),
                        expressions=[exp.to_identifier(c) for c in fk.parent_columns],
                    )
                ),
            )
        )
    return _create(entity, schema, definitions)


def _create(entity: EntityPlan, schema: str | None, definitions: list) -> exp.Create:
    return exp.Create(
        this=exp.Schema(this=table(entity.table, schema), expressions=definitions),
        kind="TABLE",
        exists=True,
    )


_Tree = TypeVar("_Tree", bound=exp.Expr)


def qualify_sources(tree: _Tree, schema: str | None) -> _Tree:
    """Put unqualified Mart tables into `schema` (where the sample data lives)."""
    if not schema:
        return tree
    for node in tree.find_all(exp.Table):
        if not node.args.get("db"):
            node.set("db", exp.to_identifier(schema))
    return tree


def from_tree(entity: EntityPlan, *, source_schema: str | None = None) -> exp.Select:
    """`SELECT … FROM driving JOIN … WHERE filter` without projections (the caller adds them).
    Rows the delete condition matches are left out: they count as deleted in the Mart."""
    assert entity.driving is not None, "from_tree() of an entity without a driving table"
    select = exp.Select().from_(entity.driving.copy())
    if entity.joins:
        select.set("joins", [join.copy() for join in entity.joins])
    if entity.where is not None:
        select = select.where(entity.where.copy())
    if entity.deleted_where is not None:
        select = select.where(not_matching(entity.deleted_where))
    return qualify_sources(select, source_schema)


def not_matching(condition: exp.Expr) -> exp.Expr:
    """True where `condition` is false or unknown (NOT alone drops the rows it leaves NULL):
    CASE WHEN condition THEN 1 ELSE 0 END = 0, which every engine reads alike."""
    flag = exp.Case(
        ifs=[exp.If(this=condition.copy(), true=exp.Literal.number(1))],
        default=exp.Literal.number(0),
    )
    return exp.EQ(this=flag, expression=exp.Literal.number(0))


def select_tree(entity: EntityPlan, *, source_schema: str | None = None) -> exp.Select:
    """The extraction: every interface column computed from the Mart, cast to its type."""
    select = from_tree(entity, source_schema=source_schema)
    return select.select(
        *[exp.alias_(column.value.copy(), column.name, quoted=False) for column in entity.columns],
        copy=False,
    )


def insert_tree(
    entity: EntityPlan, *, target_schema: str | None = None, source_schema: str | None = None
) -> exp.Insert:
    """`INSERT INTO interface_table (columns) SELECT …` for one entity."""
    return exp.Insert(
        this=exp.Schema(
            this=table(entity.table, target_schema),
            expressions=[exp.to_identifier(c.name) for c in entity.columns],
        ),
        expression=select_tree(entity, source_schema=source_schema),
    )


def source_count_tree(entity: EntityPlan, *, source_schema: str | None = None) -> exp.Select:
    """Rows the extraction yields: the FROM clause after the filter."""
    return from_tree(entity, source_schema=source_schema).select(
        exp.alias_(exp.Count(this=exp.Star()), "row_count"), copy=False
    )


def render(tree: exp.Expr, dialect: str, *, pretty: bool = True) -> str:
    """The tree as `dialect` writes it, with the Mart's meanings kept (catalog.dialects)."""
    tree = for_target(tree, dialect)
    if dialect == "spark":
        tree = spark_quoted(tree)
    return tree.sql(dialect=dialect, pretty=pretty)


# Spark reads an unquoted identifier as ASCII letters, digits and underscores only: a Mart column
# such as año_fiscal, plain in PostgreSQL, must be back-quoted there (INVALID_IDENTIFIER otherwise).
_SPARK_PLAIN = re.compile(r"[A-Za-z0-9_]+")


def spark_quoted(tree: _Tree) -> _Tree:
    """A copy of `tree` with every identifier Spark cannot read unquoted quoted (the same name:
    Spark compares names without regard to case, quoted or not)."""
    if all(i.quoted or _SPARK_PLAIN.fullmatch(i.name) for i in tree.find_all(exp.Identifier)):
        return tree
    tree = tree.copy()
    for identifier in tree.find_all(exp.Identifier):
        if not identifier.quoted and not _SPARK_PLAIN.fullmatch(identifier.name):
            identifier.set("quoted", True)
    return tree


def render_statement(tree: exp.Expr, dialect: str) -> str:
    return render(tree, dialect) + ";\n"
