"""A composite foreign key reaches the ETL whole. Depots are keyed by code and country (the same
code in two countries), parcels name their depot by both. The DDL declares one two-column key, so
PostgreSQL refuses a parcel whose pair names no depot although each value exists on its own; the
unit test finds exactly that parcel (a key with a null column is not checked, as the database does
not check it); dbt declares the key and tests it; the Interface Layer's other stories are not
touched."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
import yaml
from sqlglot import exp

from catalog.services import sources as catalog_services
from contracts import services as contract_services
from exports.etl import sql
from exports.etl.plan import build_plan
from exports.services.etl import etl_generate
from exports.services.testrun import etl_run_execute
from exports.testrun import checks
from exports.testrun.choices import CheckKind, RunStatus
from exports.testrun.engine import RunOptions
from mappings.models import EntityMapping
from mappings.services import mapping as mapping_services

from .pgmart import PG_URL
from .test_dbt import assert_green, dbt, duckdb_warehouse  # noqa: F401 — the fixture

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: urn:test:parcels
name: Parcels
version: 1.0.0
status: active
schema:
  - name: depot
    physicalName: if_depot
    properties:
      - {name: depot_code, logicalType: string, physicalType: VARCHAR(8), required: true,
         primaryKey: true, primaryKeyPosition: 1}
      - {name: country_code, logicalType: string, physicalType: VARCHAR(2), required: true,
         primaryKey: true, primaryKeyPosition: 2}
      - {name: depot_name, logicalType: string, physicalType: VARCHAR(40)}
  - name: parcel
    physicalName: if_parcel
    properties:
      - {name: parcel_id, logicalType: integer, physicalType: INTEGER, required: true,
         primaryKey: true, primaryKeyPosition: 1}
      - {name: depot_code, logicalType: string, physicalType: VARCHAR(8)}
      - {name: depot_country, logicalType: string, physicalType: VARCHAR(2)}
    relationships:
      - type: foreignKey
        from: [parcel.depot_code, parcel.depot_country]
        to: [depot.depot_code, depot.country_code]
"""
DEPOTS = [("HUB", "NL", "Utrecht hub"), ("HUB", "BE", "Antwerp hub"), ("RTM", "NL", "Rotterdam")]
# Parcel 4's key is half empty (not checked); parcel 5 names RTM in BE: each value exists, the
# pair does not.
PARCELS = [(1, "HUB", "NL"), (2, "HUB", "BE"), (3, "RTM", "NL"), (4, "RTM", None), (5, "RTM", "BE")]
ORPHAN = 5


@pytest.fixture
def mart_file(tmp_path):
    path = tmp_path / "parcels_mart.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE depots (code TEXT, country TEXT, name TEXT)")
        conn.execute("CREATE TABLE parcels (id INTEGER, depot TEXT, country TEXT)")
        conn.executemany("INSERT INTO depots VALUES (?, ?, ?)", DEPOTS)
        conn.executemany("INSERT INTO parcels VALUES (?, ?, ?)", PARCELS)
    return path


@pytest.fixture
def mapped(engagement, ba, mart_file):
    """The contract published, the Mart cataloged and mapped column for column, the orphan
    filtered out."""
    layer = contract_services.contract_import(
        engagement=engagement, file_name="parcels.yaml", content=CONTRACT.encode(), acting_user=ba
    )
    contract_services.contract_publish(layer=layer, acting_user=ba)
    source = catalog_services.source_system_create(
        engagement=engagement, name="Parcels Mart", url=f"sqlite:///{mart_file}", acting_user=ba
    )
    catalog_services.catalog_introspect(source=source, acting_user=ba)
    mapping_services.mapping_prepare(engagement=engagement, acting_user=ba)
    _map(
        engagement,
        ba,
        "depot",
        "depots",
        "d",
        {
            "depot_code": "d.code",
            "country_code": "d.country",
            "depot_name": "d.name",
        },
    )
    _map(
        engagement,
        ba,
        "parcel",
        "parcels",
        "p",
        {
            "parcel_id": "p.id",
            "depot_code": "p.depot",
            "depot_country": "p.country",
        },
        where=f"p.id <> {ORPHAN}",
    )
    return engagement


def _map(engagement, user, entity_name, table, alias, columns, where=""):
    entity = EntityMapping.objects.get(engagement=engagement, entity_name=entity_name)
    entity = mapping_services.entity_mapping_update(
        entity_mapping=entity,
        data={"driving_table": table, "driving_alias": alias, "filter": where},
        acting_user=user,
    )
    for attribute, column in columns.items():
        mapping_services.attribute_mapping_update(
            attribute_mapping=entity.attributes.get(attribute_name=attribute),
            data={"source_columns": column},
            acting_user=user,
        )


def _let_the_orphan_through(engagement, user):
    parcel = EntityMapping.objects.get(engagement=engagement, entity_name="parcel")
    mapping_services.entity_mapping_update(
        entity_mapping=parcel, data={"filter": ""}, acting_user=user
    )


def test_the_plan_has_one_key_of_two_columns(mapped):
    parcel = next(e for e in build_plan(engagement=mapped).entities if e.name == "parcel")
    assert [(fk.columns, fk.parent_table, fk.parent_columns) for fk in parcel.foreign_keys] == [
        (("depot_code", "depot_country"), "if_depot", ("depot_code", "country_code"))
    ]


@pytest.mark.postgres
def test_postgresql_holds_the_pair_and_refuses_a_pair_no_depot_has(
    require_postgres, mapped, ba, etl, mart_file
):
    schema = f"if_parcels_{abs(hash(mart_file)) % 10**8}"
    engine = sa.create_engine(PG_URL)
    try:
        # Given the orphan filtered out, the run loads and passes every unit test
        run = _run(mapped, etl, mart_file, schema)
        assert run.status == RunStatus.PASSED, list(
            run.results.filter(passed=False).values_list("name", "actual")
        )
        assert run.entity_rows == {"depot": 3, "parcel": 4}
        # and PostgreSQL holds one key of two columns, in key order
        with engine.connect() as conn:
            key = conn.execute(
                sa.text(
                    "SELECT array_agg(a.attname ORDER BY k.n), array_agg(r.attname ORDER BY k.n) "
                    "FROM pg_constraint c "
                    "CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY "
                    "  AS k(child, parent, n) "
                    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.child "
                    "JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = k.parent "
                    "WHERE c.contype = 'f' AND c.conrelid = CAST(:t AS regclass) GROUP BY c.oid"
                ),
                {"t": f"{schema}.if_parcel"},
            ).all()
        assert [tuple(map(list, k)) for k in key] == [
            (["depot_code", "depot_country"], ["depot_code", "country_code"])
        ]

        # When the filter goes and the orphan is loaded again
        _let_the_orphan_through(mapped, ba)
        run = _run(mapped, etl, mart_file, schema)

        # Then PostgreSQL refuses the pair no depot has, and the run says so and rolls back
        assert run.status == RunStatus.FAILED
        assert run.entity_rows == {"depot": 3}
        failed = dict(run.results.filter(passed=False).values_list("name", "actual"))
        assert failed.keys() == {
            "parcel: load",
            "parcel.depot_code, depot_country: foreign key to depot",
        }
        assert (
            'violates foreign key constraint "if_parcel_depot_code_depot_country_fkey"'
            in (failed["parcel: load"])
        )
        assert failed["parcel.depot_code, depot_country: foreign key to depot"] == "1 rows"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def test_the_unit_test_finds_the_pair_no_depot_has_and_skips_a_half_empty_key(mapped, ba, tmp_path):
    # Given the interface tables filled by hand, without the database's key, orphan included
    _let_the_orphan_through(mapped, ba)
    plan = build_plan(engagement=mapped)
    target = tmp_path / "unchecked.sqlite3"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE if_depot (depot_code TEXT, country_code TEXT, depot_name TEXT)")
        conn.execute("CREATE TABLE if_parcel (parcel_id INT, depot_code TEXT, depot_country TEXT)")
        conn.executemany("INSERT INTO if_depot VALUES (?, ?, ?)", DEPOTS)
        conn.executemany("INSERT INTO if_parcel VALUES (?, ?, ?)", PARCELS)

    # When the composite key's unit test runs
    parcel = plan.entity("parcel")
    key = next(
        c
        for c in checks.entity_checks(parcel, plan, dialect="sqlite")
        if c.kind == CheckKind.FOREIGN_KEY
    )
    assert key.attribute == "depot_code, depot_country"
    with sqlite3.connect(target) as conn:
        found = conn.execute(sql.render(key.violations, "sqlite")).fetchall()

    # Then it finds the one parcel whose pair no depot has
    assert found == [(ORPHAN, "RTM", "BE")]
    assert isinstance(key.violations, exp.Select)


def test_dbt_declares_the_key_and_its_test_fails_on_the_pair_no_depot_has(
    duckdb_warehouse,  # noqa: F811
    mapped,
    ba,
    etl,
    mart_file,
    tmp_path,
):
    duckdb_warehouse.load_mart(mart_file)
    for orphan_loaded in (False, True):
        if orphan_loaded:
            _let_the_orphan_through(mapped, ba)
        out = tmp_path / f"etl_{orphan_loaded}"
        etl_generate(engagement=mapped, dialect="duckdb", out=out, acting_user=etl)
        project = out / "dbt"
        schema = yaml.safe_load((project / "models" / "schema.yml").read_text())
        model = next(m for m in schema["models"] if m["name"] == "if_parcel")
        tests = [t for t in model["data_tests"] if "foreign_key" in t]
        assert [t["foreign_key"]["arguments"] for t in tests] == [
            {
                "columns": ["depot_code", "depot_country"],
                "to": "ref('if_depot')",
                "to_columns": ["depot_code", "country_code"],
            }
        ]

        built = dbt(project, duckdb_warehouse, "build", "--full-refresh")

        if not orphan_loaded:
            assert_green(built)
        else:
            # Then dbt's own test of the key fails on the one parcel, nothing else
            assert built.returncode == 1, built.stdout[-4000:]
            assert "foreign_key_if_parcel" in built.stdout and "Got 1 result" in built.stdout, (
                built.stdout[-4000:]
            )


def _run(engagement, user, mart_file, schema):
    return etl_run_execute(
        engagement=engagement,
        options=RunOptions(
            source_url=f"sqlite:///{mart_file}", target_url=PG_URL, target_schema=schema
        ),
        acting_user=user,
    )
