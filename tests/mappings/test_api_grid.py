"""The grid's API: the rows of one entity with the contract beside them, and bulk actions that go
through the single-row services, all or nothing, with their forbidden and hostile cases."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from mappings.api.serializers import GridRowSerializer
from mappings.models import AttributeMapping, EntityMapping
from mappings.selectors.mapping import GRID_MAPPING_FIELDS
from mappings.services import mapping as services
from mappings.services.bulk import MAX_BULK_ROWS
from workbench.choices import Role

from ..factories import EngagementFactory, member
from .conftest import attribute

BASE = "/api/v1/engagements/acme-360"
GRID = f"{BASE}/attribute-mappings/grid/"
BULK = f"{BASE}/attribute-mappings/bulk/"


@pytest.fixture
def api():
    def as_user(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return as_user


def _state():
    """Everything a bulk action could change, to show a refused request changed nothing."""
    return list(
        AttributeMapping.objects.order_by("pk").values_list(
            "pk", "source_columns", "status", "feasibility", "sme_review", "row_version"
        )
    )


# --- the rows of the grid -----------------------------------------------------------------------


def test_the_grid_lists_an_entitys_rows_in_contract_order_with_the_contract(
    api, customer, viewer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = api(viewer).get(GRID, {"entity_mapping": customer.pk})
    assert response.status_code == 200
    rows = response.json()
    assert [r["attribute_name"] for r in rows][:3] == [
        "customer_id",
        "source_customer_key",
        "first_name",
    ]
    first_name = next(r for r in rows if r["attribute_name"] == "first_name")
    assert first_name["data_type"] == "string(100)"
    assert first_name["required"] is False
    assert first_name["canonical_meaning"]
    customer_id = rows[0]
    assert (customer_id["required"], customer_id["primary_key"]) == (True, True)
    assert "mandatory_unmapped" in customer_id["flags"]
    assert customer_id["row_version"] == attribute(customer, "customer_id").row_version


def test_a_grid_row_is_the_single_row_api_with_the_contract_and_the_talk_beside_it(
    api, customer, ba, viewer
):
    """The rows are built from plain values, not the serialisers: they must still say what the
    single-row API says of the columns the grid shows, in the shape the schema documents, and
    leave the details the grid does not show to the single row."""
    email = attribute(customer, "email")
    services.attribute_mapping_update(
        attribute_mapping=email,
        data={"transformation": "LOWER(TRIM(c.email))", "notes": "Lower-cased for matching."},
        row_version=email.row_version,
        acting_user=ba,
    )
    question = services.comment_add(mapping=email, text="Which e-mail?", acting_user=ba)
    services.comment_add(mapping=email, text="Trimmed?", acting_user=ba)
    services.comment_resolve(comment=question, acting_user=ba)

    rows = api(viewer).get(GRID, {"entity_mapping": customer.pk}).json()
    row = next(r for r in rows if r["attribute_name"] == "email")
    assert set(row) == set(GridRowSerializer().fields)
    single = api(viewer).get(f"{BASE}/attribute-mappings/{email.pk}/").json()
    assert {k: row[k] for k in GRID_MAPPING_FIELDS} == {k: single[k] for k in GRID_MAPPING_FIELDS}
    assert (row["transformation"], row["lineage"]) == ("LOWER(TRIM(c.email))", ["c.email"])
    assert single["notes"] == "Lower-cased for matching."
    assert not {"notes", "edge_cases", "lineage_tables", "updated_at"} & set(row)
    assert (row["comment_count"], row["open_questions"]) == (2, 1)
    assert "open_questions" in row["flags"]
    quiet = next(r for r in rows if r["attribute_name"] == "first_name")
    assert (quiet["comment_count"], quiet["open_questions"]) == (0, 0)
    assert "open_questions" not in quiet["flags"]


def test_the_grid_needs_an_entity_of_the_engagement(api, customer, viewer, outsider):
    assert api(viewer).get(GRID).status_code == 400
    assert api(viewer).get(GRID, {"entity_mapping": "abc"}).status_code == 400
    assert api(viewer).get(GRID, {"entity_mapping": 99999999}).status_code == 404
    assert api(outsider).get(GRID, {"entity_mapping": customer.pk}).status_code == 404
    assert api(None).get(GRID, {"entity_mapping": customer.pk}).status_code == 401


# --- bulk actions -------------------------------------------------------------------------------


def test_a_ba_accepts_the_top_suggestions_of_many_rows_at_once(api, customer, ba):
    names = ["email", "first_name", "last_name", "phone"]
    ids = [attribute(customer, n).pk for n in names]
    response = api(ba).post(BULK, {"ids": ids, "action": "accept_suggestion"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    outcomes = {r["attribute"]: (r["outcome"], r["message"]) for r in body["results"]}
    assert outcomes["email"] == ("changed", "c.email")
    assert outcomes["first_name"] == ("changed", "c.first_name")
    email = attribute(customer, "email")
    assert (email.source_columns, email.status, email.row_version) == ("c.email", "mapped", 2)
    assert email.history.first().history_user == ba
    by_name = {r["attribute_name"]: r for r in body["rows"]}
    assert by_name["email"]["source_columns"] == "c.email"
    assert by_name["email"]["data_type"]  # the grid's row, ready to replace the old one

    again = api(ba).post(BULK, {"ids": ids[:1], "action": "accept_suggestion"}, format="json")
    assert again.json()["results"][0]["outcome"] == "skipped"  # it has a rule now


def test_a_refused_row_rolls_back_the_whole_bulk_action(api, customer, ba):
    email, customer_id = attribute(customer, "email"), attribute(customer, "customer_id")
    api(ba).patch(
        f"{BASE}/attribute-mappings/{email.pk}/",
        {"row_version": 1, "source_columns": "c.email"},
        format="json",
    )
    before = _state()
    # Not Applicable is refused for the mandatory customer_id, allowed for email.
    response = api(ba).post(
        BULK,
        {"ids": [email.pk, customer_id.pk], "action": "set_status", "value": "not_applicable"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "1 of 2 rows were refused; nothing was saved."
    results = {r["attribute"]: r for r in body["results"]}
    assert results["email"]["outcome"] == "changed"
    assert results["customer_id"]["outcome"] == "refused"
    assert "A mandatory attribute cannot be Not Applicable" in results["customer_id"]["message"]
    assert _state() == before


def test_an_etl_developer_sets_feasibility_and_an_sme_the_review_in_bulk(
    api, customer, etl_dev, sme
):
    ids = [attribute(customer, n).pk for n in ("email", "phone")]
    response = api(etl_dev).post(
        BULK,
        {"ids": ids, "action": "set_feasibility", "value": "concerns", "comment": "Dirty data."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert attribute(customer, "phone").feasibility == "concerns"
    assert attribute(customer, "phone").comments.get().text == "Feasible with concerns: Dirty data."

    response = api(sme).post(
        BULK, {"ids": ids, "action": "set_sme_review", "value": "agreed"}, format="json"
    )
    assert response.status_code == 200
    assert {r["outcome"] for r in response.json()["results"]} == {"changed"}
    assert attribute(customer, "email").sme_review == "agreed"


@pytest.mark.parametrize(
    ("role", "action", "value"),
    [
        (Role.VIEWER, "accept_suggestion", ""),
        (Role.CLIENT_SME, "set_status", "draft"),  # the SME reviews, does not edit
        (Role.TECH_BA, "set_feasibility", "feasible"),  # the ETL developer's verdict
        (Role.ETL_DEVELOPER, "set_sme_review", "agreed"),  # the SME's
    ],
)
def test_a_member_without_the_right_gets_403_and_nothing_changes(
    api, customer, engagement, role, action, value
):
    user = member(engagement, role, f"user-{role}")
    before = _state()
    response = api(user).post(
        BULK,
        {"ids": [attribute(customer, "email").pk], "action": action, "value": value},
        format="json",
    )
    assert response.status_code == 403
    assert _state() == before


def test_outsiders_and_anonymous_are_turned_away(api, customer, outsider):
    payload = {"ids": [attribute(customer, "email").pk], "action": "accept_suggestion"}
    before = _state()
    assert api(outsider).post(BULK, payload, format="json").status_code == 404
    assert api(None).post(BULK, payload, format="json").status_code == 401
    assert _state() == before


def test_ids_of_another_engagement_are_not_found_and_nothing_changes(api, customer, ba):
    other = EngagementFactory(slug="other-engagement")
    theirs = AttributeMapping.objects.create(
        engagement=other,
        entity_mapping=EntityMapping.objects.create(engagement=other, entity_name="customer"),
        attribute_name="email",
    )
    before = _state()
    response = api(ba).post(
        BULK,
        {"ids": [attribute(customer, "email").pk, theirs.pk], "action": "accept_suggestion"},
        format="json",
    )
    assert response.status_code == 404
    assert _state() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ids": list(range(1, MAX_BULK_ROWS + 2)), "action": "accept_suggestion"}, "ids"),
        ({"ids": [], "action": "accept_suggestion"}, "ids"),
        ({"ids": ["x"], "action": "accept_suggestion"}, "ids"),
        ({"ids": "1,2", "action": "accept_suggestion"}, "ids"),
        ({"ids": [1, 1], "action": "accept_suggestion"}, "ids"),
        ({"ids": [1], "action": "delete_everything"}, "action"),
        ({"ids": [1], "action": "set_status", "value": "done"}, "value"),
        ({"ids": [1], "action": "set_feasibility", "value": ""}, "value"),
    ],
)
def test_hostile_bulk_input_is_a_400_and_changes_nothing(api, customer, ba, payload, field):
    before = _state()
    response = api(ba).post(BULK, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert _state() == before
