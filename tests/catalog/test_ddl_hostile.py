"""Hostile and sloppy DDL: deep nesting, a broken column list, statements that describe no table."""

from __future__ import annotations

import io

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import CatalogTable, SourceSystem
from catalog.services import ddl_import
from catalog.services.ddl_import import catalog_import_ddl, read_ddl

pytestmark = pytest.mark.django_db


def nested_default(levels: int) -> str:
    return f"CREATE TABLE t (a INT DEFAULT {'(' * levels}1{')' * levels});"


def refusal(text: str, engagement, ba) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        catalog_import_ddl(
            engagement=engagement, source_name="Mart", text=text, dialect="", acting_user=ba
        )
    assert not SourceSystem.objects.exists()
    return refused.value.message_dict["file"]


def test_five_thousand_nested_parentheses_are_refused_before_parsing(engagement, ba, monkeypatch):
    # given a statement nested 5,000 levels deep, and a parser that must not be reached
    def never(*args, **kwargs):
        raise AssertionError("the parser was reached")

    monkeypatch.setattr(ddl_import.sqlglot, "parse_one", never)

    # when it is imported, then the token count refuses it, naming the place
    assert refusal(nested_default(5000), engagement, ba) == [
        "Statement 1 (line 1): nested more than 100 levels deep (line 1, column 130)."
    ]


def test_sixty_nested_parentheses_are_a_located_refusal_not_a_recursion_error(engagement, ba):
    # given 60 levels: within the limit, but deeper than the recursive parser's stack allows
    text = "CREATE TABLE ok (a INT);\n" + nested_default(60)

    # when it is imported, then the recursion error becomes a refusal naming the statement
    assert refusal(text, engagement, ba) == ["Statement 2 (line 2): nested too deeply to parse."]


def test_a_column_list_with_an_empty_entry_is_refused_naming_the_place(engagement, ba):
    # given `b` after a doubled comma, which the parser would otherwise drop without a word
    text = "CREATE TABLE good (a INT);\n\nCREATE TABLE broken (a INT,, b);"

    assert refusal(text, engagement, ba) == [
        "Statement 2 (line 3): a list has an empty entry (a comma too many) at line 3, column 28."
    ]


@pytest.mark.parametrize(
    ("text", "column"),
    [("CREATE TABLE t (, a INT);", 17), ("CREATE TABLE t (a INT, b INT,);", 30)],
    ids=["leading-comma", "trailing-comma"],
)
def test_leading_and_trailing_commas_are_refused(text, column):
    with pytest.raises(ValidationError) as refused:
        read_ddl(text)

    assert refused.value.message_dict["file"] == [
        "Statement 1 (line 1): a list has an empty entry (a comma too many) "
        f"at line 1, column {column}."
    ]


def test_a_column_without_a_type_is_kept_as_sqlite_allows():
    [table] = read_ddl("CREATE TABLE t (a INT, b);").tables

    assert [(c.name, c.data_type) for c in table.columns] == [("a", "INT"), ("b", "")]


SCRIPT = """CREATE TABLE customer (id INT, name TEXT);
CREATE INDEX customer_name ON customer (name);
DROP TABLE x;


INSERT INTO customer VALUES (1, 'Jane');
COMMENT ON TABLE customer IS 'People';
"""
IGNORED = (
    "ignored 3 statements: CREATE INDEX customer_name … (line 2), DROP TABLE x (line 3), "
    "INSERT INTO customer … (line 6)"
)


def test_the_import_names_the_statements_it_ignored(engagement, ba):
    # given a script with statements that describe no table
    # when it is imported
    result = catalog_import_ddl(
        engagement=engagement, source_name="Mart", text=SCRIPT, dialect="", acting_user=ba
    )

    # then the tables are imported and the result names every statement it ignored
    assert result["ignored"] == IGNORED
    assert CatalogTable.objects.get().comment == "People"


def test_a_script_with_nothing_ignored_says_nothing():
    assert read_ddl("CREATE TABLE t (a INT);").ignored_summary == ""


def test_the_ignored_statements_are_capped_at_200():
    text = "CREATE TABLE t (a INT);\n" + "DROP TABLE x;\n" * 250

    summary = read_ddl(text).ignored_summary

    assert summary.startswith(
        "ignored 250 statements: DROP TABLE x (line 2), DROP TABLE x (line 3)"
    )
    assert summary.endswith("DROP TABLE x (line 201), … and 50 more")


def upload() -> io.BytesIO:
    file = io.BytesIO(SCRIPT.encode())
    file.name = "mart.sql"
    return file


def test_the_api_result_lists_the_ignored_statements(ba):
    api = APIClient()
    api.force_authenticate(ba)

    response = api.post(
        "/api/v1/engagements/acme-360/sources/import/",
        {"source_name": "Mart", "format": "ddl", "file": upload()},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["result"]["ignored"] == IGNORED


def test_the_api_answers_400_for_a_deep_nest(ba):
    api = APIClient()
    api.force_authenticate(ba)
    file = io.BytesIO(nested_default(5000).encode())
    file.name = "mart.sql"

    response = api.post(
        "/api/v1/engagements/acme-360/sources/import/",
        {"source_name": "Mart", "format": "ddl", "file": file},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {
        "file": ["Statement 1 (line 1): nested more than 100 levels deep (line 1, column 130)."]
    }


def test_the_page_message_lists_the_ignored_statements(client, ba, engagement):
    client.force_login(ba)

    response = client.post(
        reverse("catalog-import", args=[engagement.slug]),
        {"source_name": "Mart", "format": "ddl", "dialect": "", "file": upload()},
    )

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Imported 1 tables, 2 columns, 0 foreign keys. I" + IGNORED[1:] + "."
    ]
