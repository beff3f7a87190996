"""When no connection is possible: the catalog from a DDL script or a CSV column list."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from catalog.models import CatalogForeignKey, CatalogTable, SourceSystem
from catalog.services import sources as services
from catalog.services.ddl_import import catalog_import_csv, catalog_import_ddl

pytestmark = pytest.mark.django_db

DDL = """-- Acme Mart, exported from pgAdmin
CREATE TABLE mart.ref_channel (
    channel_code VARCHAR(5) PRIMARY KEY,
    channel_name TEXT NOT NULL
);

CREATE TABLE mart.crm_customer (
    customer_id BIGINT NOT NULL,
    "Email Address" VARCHAR(200),
    "order" INTEGER DEFAULT 1,
    balance NUMERIC(12, 2),
    CONSTRAINT pk_customer PRIMARY KEY (customer_id),
    UNIQUE ("Email Address")
);

CREATE TABLE mart.crm_subscription (
    subscription_id BIGINT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    channel_code VARCHAR(5) REFERENCES mart.ref_channel (channel_code)
);
ALTER TABLE mart.crm_subscription ADD CONSTRAINT fk_sub_customer
    FOREIGN KEY (customer_id) REFERENCES mart.crm_customer (customer_id);
COMMENT ON TABLE mart.crm_customer IS 'One row per CRM customer';
"""

CSV = """Schema,Table,Column,Data Type,Nullable,Primary Key,References,Description
mart,crm_customer,customer_id,BIGINT,N,Y,,Surrogate key
mart,crm_customer,email,VARCHAR(200),Y,N,,Mixed case
mart,crm_subscription,subscription_id,BIGINT,N,Y,,
mart,crm_subscription,customer_id,BIGINT,N,N,mart.crm_customer.customer_id,
mart,crm_subscription,opt_in_flag,CHAR(1),,,,"Y, N or 1/0"
"""


def test_a_ddl_script_becomes_the_catalog(engagement, ba):
    result = catalog_import_ddl(
        engagement=engagement, source_name="Acme Mart", text=DDL, dialect="postgres", acting_user=ba
    )

    assert (result["tables"], result["columns"], result["foreign_keys"]) == (3, 9, 2)
    source = SourceSystem.objects.get(name="Acme Mart")
    assert (source.origin, source.url) == ("ddl", "")
    customer = CatalogTable.objects.get(source=source, name="crm_customer")
    assert (customer.schema, customer.comment) == ("mart", "One row per CRM customer")
    assert customer.primary_key == ["customer_id"]
    assert customer.unique_constraints == [{"name": "", "columns": ["Email Address"]}]
    columns = {c.name: c for c in customer.columns.all()}
    assert list(columns) == ["customer_id", "Email Address", "order", "balance"]
    assert (columns["Email Address"].data_type, columns["Email Address"].length) == (
        "VARCHAR(200)",
        200,
    )
    assert (columns["balance"].precision, columns["balance"].scale) == (12, 2)
    assert columns["order"].default == "1"
    assert columns["customer_id"].nullable is False
    fks = {
        (fk.table.name, tuple(fk.columns), fk.referred_table.name, fk.name)
        for fk in CatalogForeignKey.objects.filter(table__source=source)
    }
    assert fks == {
        ("crm_subscription", ("channel_code",), "ref_channel", ""),
        ("crm_subscription", ("customer_id",), "crm_customer", "fk_sub_customer"),
    }


def test_a_ddl_statement_that_does_not_parse_is_named_with_its_line(engagement, ba):
    text = "CREATE TABLE a (id INT);\n\nCREATE TABLE b (\n  id INT,\n  name VARCHAR(20\n);\n"

    with pytest.raises(ValidationError) as refused:
        catalog_import_ddl(
            engagement=engagement, source_name="Mart", text=text, dialect="", acting_user=ba
        )

    message = refused.value.message_dict["file"][0]
    assert message.startswith("Statement 2 (line 3, “CREATE TABLE b ( id INT, name VARCHAR(20 )…”)")
    assert "does not parse: Expecting )" in message
    assert not SourceSystem.objects.exists()


@pytest.mark.parametrize(
    ("text", "dialect", "message"),
    [
        ("", "", "The DDL file is empty."),
        ("SELECT 1;", "", "The DDL file has no CREATE TABLE or CREATE VIEW statement."),
        ("CREATE TABLE a (x INT);", "cobol", "Unknown SQL dialect 'cobol'"),
    ],
)
def test_bad_ddl_files_are_refused(engagement, ba, text, dialect, message):
    with pytest.raises(ValidationError) as refused:
        catalog_import_ddl(
            engagement=engagement, source_name="Mart", text=text, dialect=dialect, acting_user=ba
        )
    assert message in " ".join(refused.value.messages)
    assert not CatalogTable.objects.exists()


def test_a_csv_column_list_becomes_the_catalog(engagement, ba):
    result = catalog_import_csv(engagement=engagement, source_name="Mart", text=CSV, acting_user=ba)

    assert (result["tables"], result["columns"], result["foreign_keys"]) == (2, 5, 1)
    subscription = CatalogTable.objects.get(name="crm_subscription")
    assert subscription.primary_key == ["subscription_id"]
    flag = subscription.columns.get(name="opt_in_flag")
    assert (flag.data_type, flag.nullable, flag.comment) == ("CHAR(1)", True, "Y, N or 1/0")
    fk = subscription.foreign_keys.get()
    assert (fk.referred_table.name, fk.referred_columns) == ("crm_customer", ["customer_id"])


def test_a_pipe_separated_column_list_is_read_too(engagement, ba):
    text = (
        "Schema | Table | Column | Data Type | Nullable | Primary Key | References | Description\n"
        " | ref_channel | channel_code | TEXT | N | Y |  | code\n"
    )

    result = catalog_import_csv(
        engagement=engagement, source_name="Mart", text=text, acting_user=ba
    )

    assert result["columns"] == 1
    assert CatalogTable.objects.get().primary_key == ["channel_code"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Table,Column\nx,y\n",
            "The header must be: Schema | Table | Column | Data Type | Nullable | Primary Key | "
            "References | Description; found: Table | Column.",
        ),
        (
            CSV.splitlines()[0] + "\nmart,t,c,INT,maybe,N,,\n",
            "Row 2: Nullable must be Y or N, not 'maybe'.",
        ),
        (
            CSV.splitlines()[0] + "\nmart,t,c,INT,Y,N,nowhere,\n",
            "Row 2: References must be table.column or schema.table.column, not 'nowhere'.",
        ),
        (CSV.splitlines()[0] + "\nmart,t,c\n", "Row 2: expected 8 cells, found 3."),
    ],
)
def test_bad_column_lists_name_the_row(engagement, ba, text, message):
    with pytest.raises(ValidationError) as refused:
        catalog_import_csv(engagement=engagement, source_name="Mart", text=text, acting_user=ba)

    assert refused.value.message_dict == {"file": [message]}
    assert not SourceSystem.objects.exists()


def test_reimporting_a_changed_file_diffs_and_keeps_notes(engagement, ba):
    catalog_import_csv(engagement=engagement, source_name="Mart", text=CSV, acting_user=ba)
    customer = CatalogTable.objects.get(name="crm_customer")
    services.table_understanding_update(
        table=customer, data={"grain": "One row per customer"}, acting_user=ba
    )
    changed = (
        CSV.replace("email,VARCHAR(200)", "email,TEXT") + "mart,crm_customer,phone,TEXT,Y,N,,\n"
    )

    result = catalog_import_csv(
        engagement=engagement, source_name="Mart", text=changed, acting_user=ba
    )

    assert result["diff"]["columns_added"] == ["mart.crm_customer.phone"]
    assert result["diff"]["types_changed"] == [
        {"column": "mart.crm_customer.email", "from": "VARCHAR(200)", "to": "TEXT"}
    ]
    customer.refresh_from_db()
    assert customer.grain == "One row per customer"
