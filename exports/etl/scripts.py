"""The load scripts: what runs on the target, in file order, every day.

One list of scripts serves every consumer: `generate_etl` writes them as `sql/NN_….sql`, the
Airflow DAG executes those files, and a test run executes the same statements on its target. A
script is a list of statements, each named by its step, so a runner can count the rows each step
inserted, updated or deleted:

- `00_create_interface` creates the missing interface tables (CREATE TABLE IF NOT EXISTS, with
  every constraint the engine enforces), parents first.
- one load script per entity, in load order, after its entity's strategy:
  full refresh — `replace` (delete every row) and `insert`, in one transaction;
  merge on the key — `stage` the extraction, `update` the rows whose values changed, `insert` the
  new keys, `drop_stage`;
  append by watermark — `insert` the rows at or past the loaded maximum whose key is new.
- one purge script per merged entity, in reverse load order (children before their parents):
  `delete` the rows whose source row disappeared or matches the delete condition.

Spark tables (no Delta Lake) cannot UPDATE, DELETE or MERGE: a full refresh and a merge there are
one `overwrite` (INSERT OVERWRITE of the extraction), which leaves the table equal to a fresh load.
Snowflake, BigQuery and T-SQL merge with one MERGE statement. Running any script twice in a row
changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from mappings.choices import LoadStrategy

from . import sql
from .plan import EntityPlan, EtlPlan, spark_type_refusal

OVERWRITES = {"spark"}  # engines whose full refresh and merge are an INSERT OVERWRITE
MERGES = {"snowflake", "bigquery", "tsql"}  # engines whose merge is one MERGE statement
NO_TRANSACTIONS = {"spark"}
# Engines that never gather a temporary table's statistics themselves (PostgreSQL's autovacuum
# cannot see temporary tables): a merge's stage is analyzed (its key) before it is joined. Taken
# for a few rows, a stage of a million had its new keys looked up one by one in the table's index
# (1.4 s where a hash join takes 0.6 s, at 1,000,000 rows).
ANALYZED_STAGES = {"postgres"}

# The load phases, in file order.
CREATE, LOAD, PURGE = "create", "load", "purge"


@dataclass(frozen=True)
class Statement:
    step: str  # create, stage, replace, update, insert, delete, drop_stage, overwrite
    tree: exp.Expr


@dataclass
class Script:
    path: str  # under the output folder, e.g. sql/02_customer.sql
    phase: str  # create, load or purge
    entity: EntityPlan | None  # None: the create script
    statements: list[Statement] = field(default_factory=list)
    transactional: bool = True

    def sql(self, dialect: str) -> list[tuple[str, str]]:
        """(step, SQL text) of each statement, as the engine runs them."""
        return [(s.step, sql.render(s.tree, dialect)) for s in self.statements]

    def render(self, dialect: str, *, header: list[str]) -> str:
        """The file: header comments, then each statement after its `-- step:` line, wrapped in
        one transaction where the engine has them."""
        lines = [f"-- {line}" for line in header]
        if dialect == "sqlite":
            # SQLite checks foreign keys only when the connection asks (outside a transaction)
            lines.append("PRAGMA foreign_keys = ON;")
        wrap = self.transactional and dialect not in NO_TRANSACTIONS
        if wrap:
            lines.append(exp.Transaction().sql(dialect=dialect) + ";")
        for step, text in self.sql(dialect):
            lines += [f"-- step: {step}", text + ";"]
        if wrap:
            lines.append(exp.Commit().sql(dialect=dialect) + ";")
        return "\n".join(lines) + "\n"


def etl_scripts(
    plan: EtlPlan,
    dialect: str,
    *,
    target_schema: str | None = None,
    source_schema: str | None = None,
) -> list[Script]:
    """Every script of the plan for `dialect`, in the order the files run."""
    loadable = plan.loadable
    scripts = [
        Script(
            path="sql/00_create_interface.sql",
            phase=CREATE,
            entity=None,
            statements=[
                Statement("create", sql.create_table(e, dialect=dialect, schema=target_schema))
                for e in plan.entities
                if _declarable(e, dialect)
            ],
        )
    ]
    for entity in loadable:
        statements = load_statements(
            entity, dialect, target_schema=target_schema, source_schema=source_schema
        )
        scripts.append(_numbered(scripts, entity.name, LOAD, entity, statements))
    for entity in reversed(loadable):
        statements = purge_statements(
            entity, dialect, target_schema=target_schema, source_schema=source_schema
        )
        if statements:
            scripts.append(_numbered(scripts, f"purge_{entity.name}", PURGE, entity, statements))
    return scripts


def _declarable(entity: EntityPlan, dialect: str) -> bool:
    """Spark: a table with a column type Spark lacks (TIME, JSON) is not created at all — declared
    as another type it would hold other values; its entity is left out and named by the plan."""
    return dialect != "spark" or not any(spark_type_refusal(c.data_type) for c in entity.columns)


def _numbered(scripts, name: str, phase: str, entity: EntityPlan, statements) -> Script:
    return Script(
        path=f"sql/{len(scripts):02d}_{name}.sql",
        phase=phase,
        entity=entity,
        statements=statements,
    )


# --- the statements of one entity ------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """The names one entity's statements use."""

    entity: EntityPlan
    schema: str | None
    source_schema: str | None

    @property
    def table(self) -> exp.Table:
        return sql.table(self.entity.table, self.schema)

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.entity.columns]

    @property
    def keys(self) -> list[str]:
        return self.entity.primary_key

    def aliased(self, alias: str) -> exp.Expr:
        return exp.alias_(self.table, alias, table=True)

    def extraction(self) -> exp.Select:
        return sql.select_tree(self.entity, source_schema=self.source_schema)

    def key_match(self, left: str, right: str) -> exp.Expr:
        return exp.and_(
            *[
                exp.EQ(this=exp.column(k, table=left), expression=exp.column(k, table=right))
                for k in self.keys
            ]
        )

    def new_keys(self, alias: str) -> exp.Expr:
        """No row of the table has the key of `alias`'s row."""
        exists = exp.select(exp.Literal.number(1)).from_(self.aliased("x"))
        return exp.Not(this=exp.Exists(this=exists.where(self.key_match("x", alias))))

    def insert(self, select: exp.Select) -> exp.Insert:
        return exp.Insert(
            this=exp.Schema(
                this=self.table, expressions=[exp.to_identifier(c) for c in self.columns]
            ),
            expression=select,
        )

    def insert_from(self, source: exp.Expr, where: exp.Expr) -> exp.Insert:
        """INSERT INTO table (columns) SELECT s.columns FROM source AS s WHERE …"""
        select = exp.select(*[exp.column(c, table="s") for c in self.columns]).from_(source)
        return self.insert(select.where(where))


def load_statements(
    entity: EntityPlan,
    dialect: str,
    *,
    target_schema: str | None = None,
    source_schema: str | None = None,
) -> list[Statement]:
    """The statements that load one entity with its strategy, in order."""
    target = _Target(entity, target_schema, source_schema)
    strategy = entity.strategy
    if strategy == LoadStrategy.APPEND:
        return [Statement("insert", _append(target))]
    if dialect in OVERWRITES:
        overwrite = target.insert(target.extraction())
        overwrite.set("overwrite", True)
        return [Statement("overwrite", overwrite)]
    if strategy == LoadStrategy.MERGE and dialect in MERGES:
        return [Statement("merge", _merge_statement(target))]
    if strategy == LoadStrategy.MERGE:
        return _merge(target, analyze_stage=dialect in ANALYZED_STAGES)
    return [
        Statement("replace", exp.delete(target.table)),
        Statement("insert", target.insert(target.extraction())),
    ]


def purge_statements(
    entity: EntityPlan,
    dialect: str,
    *,
    target_schema: str | None = None,
    source_schema: str | None = None,
) -> list[Statement]:
    """A merge's second half: delete the rows whose source row is gone (none on Spark, whose
    merge is an overwrite)."""
    if entity.strategy != LoadStrategy.MERGE or dialect in OVERWRITES:
        return []
    target = _Target(entity, target_schema, source_schema)
    present = sql.from_tree(entity, source_schema=source_schema).select(
        *[exp.alias_(entity.column(k).value.copy(), k, quoted=False) for k in target.keys],
        copy=False,
    )
    match = exp.and_(
        *[
            exp.EQ(this=exp.column(k, table="s"), expression=exp.column(k, table=entity.table))
            for k in target.keys
        ]
    )
    still_there = exp.select(exp.Literal.number(1)).from_(present.subquery("s")).where(match)
    return [
        Statement(
            "delete", exp.delete(target.table).where(exp.Not(this=exp.Exists(this=still_there)))
        )
    ]


def stage_name(entity: EntityPlan) -> str:
    return f"stage_{entity.table}"


def _merge(target: _Target, *, analyze_stage: bool = False) -> list[Statement]:
    """Stage the extraction once (with its statistics, where the engine does not gather them),
    update what changed, insert what is new."""
    stage = exp.to_table(stage_name(target.entity))
    statements = [
        Statement(
            "stage",
            exp.Create(
                this=stage.copy(),
                kind="TABLE",
                expression=target.extraction(),
                properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            ),
        )
    ]
    if analyze_stage:
        # its size and its key, which the update and the insert join on (half the time of all
        # its columns)
        keyed = exp.Schema(
            this=stage.copy(), expressions=[exp.to_identifier(k) for k in target.keys]
        )
        statements.append(Statement("analyze_stage", exp.Analyze(tables=[keyed])))
    values = [c for c in target.columns if c not in target.keys]
    if values:
        changed = exp.or_(
            *[
                exp.NullSafeNEQ(this=exp.column(c, table="t"), expression=exp.column(c, table="s"))
                for c in values
            ]
        )
        update = exp.Update(
            this=target.aliased("t"),
            expressions=[
                exp.EQ(this=exp.column(c), expression=exp.column(c, table="s")) for c in values
            ],
            from_=exp.From(this=exp.alias_(stage.copy(), "s", table=True)),
            where=exp.Where(this=exp.and_(target.key_match("t", "s"), exp.Paren(this=changed))),
        )
        statements.append(Statement("update", update))
    statements.append(
        Statement(
            "insert",
            target.insert_from(exp.alias_(stage.copy(), "s", table=True), target.new_keys("s")),
        )
    )
    statements.append(Statement("drop_stage", exp.Drop(tables=[stage.copy()], kind="TABLE")))
    return statements


def _merge_statement(target: _Target) -> exp.Merge:
    """MERGE INTO table USING (extraction) s ON key WHEN MATCHED AND changed THEN UPDATE …
    WHEN NOT MATCHED THEN INSERT …"""
    values = [c for c in target.columns if c not in target.keys]
    whens = []
    if values:
        changed = exp.or_(
            *[
                exp.NullSafeNEQ(this=exp.column(c, table="t"), expression=exp.column(c, table="s"))
                for c in values
            ]
        )
        whens.append(
            exp.When(
                matched=True,
                condition=changed,
                then=exp.Update(
                    expressions=[
                        exp.EQ(this=exp.column(c), expression=exp.column(c, table="s"))
                        for c in values
                    ]
                ),
            )
        )
    whens.append(
        exp.When(
            matched=False,
            then=exp.Insert(
                this=exp.Tuple(expressions=[exp.column(c) for c in target.columns]),
                expression=exp.Tuple(
                    expressions=[exp.column(c, table="s") for c in target.columns]
                ),
            ),
        )
    )
    return exp.Merge(
        this=target.aliased("t"),
        using=target.extraction().subquery("s"),
        on=target.key_match("t", "s"),
        whens=exp.Whens(expressions=whens),
    )


def _append(target: _Target) -> exp.Insert:
    """The extraction's rows at or past the highest watermark loaded, whose key is new (a row
    without a watermark is offered on every run; the key keeps it from loading twice)."""
    watermark = target.entity.watermark
    loaded_max = exp.select(exp.Max(this=exp.column(watermark, table="w"))).from_(
        target.aliased("w")
    )
    mark = exp.column(watermark, table="s")
    recent = exp.or_(
        mark.copy().is_(exp.null()),
        loaded_max.subquery().is_(exp.null()),
        exp.GTE(this=mark.copy(), expression=loaded_max.subquery()),
    )
    return target.insert_from(
        target.extraction().subquery("s"), exp.and_(exp.Paren(this=recent), target.new_keys("s"))
    )
