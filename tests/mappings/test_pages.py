"""The mapping pages: who sees and does what, the grid's HTMX fragments, bounded queries."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mappings.models import AttributeMapping, MappingComment
from mappings.services import mapping as services

from .conftest import attribute


@pytest.fixture
def as_user(client):
    def log_in(user):
        client.force_login(user)
        return client

    return log_in


def url(name, engagement, *args):
    return reverse(name, args=[engagement.slug, *args])


def test_the_overview_lists_entities_with_coverage(as_user, customer, viewer):
    response = as_user(viewer).get(url("mapping-overview", customer.engagement))
    assert response.status_code == 200
    rows = {r["entity"].entity_name: r for r in response.context["page"]}
    assert rows["customer"]["total"] == 12
    assert rows["customer"]["load_position"] == 1
    assert rows["email_event"]["load_position"] > rows["campaign"]["load_position"]


def test_a_long_overview_is_paged_in_load_order(as_user, customer, viewer, monkeypatch):
    """Hundreds of entities come a page at a time, the next page going on in load order, while
    the counts above the table cover them all."""
    monkeypatch.setattr("mappings.views.OVERVIEW_PAGE_SIZE", 2)
    client = as_user(viewer)
    first = client.get(url("mapping-overview", customer.engagement))
    second = client.get(url("mapping-overview", customer.engagement) + "?page=2")
    shown = [[r["load_position"] for r in response.context["page"]] for response in (first, second)]
    assert len(shown[0]) == 2 and shown[1]
    assert max(shown[0]) < min(shown[1])
    entities = first.context["page"].paginator.count
    assert f"Entities 1–2 of {entities}" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()


def test_the_overview_brings_the_gap_counts_once_its_coverage_is_on_screen(
    as_user, customer, viewer
):
    """The GAP weighs the whole engagement, so the overview answers with its coverage and asks
    for the GAP's counts afterwards; they agree with the GAP page."""
    client = as_user(viewer)
    overview = client.get(url("mapping-overview", customer.engagement)).content.decode()
    summary_url = url("mapping-gap-summary", customer.engagement)
    assert f'hx-get="{summary_url}" hx-trigger="load"' in overview
    summary = client.get(summary_url)
    gap = client.get(url("mapping-gap", customer.engagement))
    assert summary.status_code == 200
    assert summary.context["gap"] == gap.context["summary"]
    assert f"{gap.context['summary']['high']} high" in summary.content.decode()


def test_every_mapping_page_carries_the_mapping_stylesheet(as_user, customer, viewer):
    """The coverage bars, severity pills and status badges are styled by css/mapping.css."""
    client = as_user(viewer)
    pages = [
        url("mapping-overview", customer.engagement),
        url("mapping-gap", customer.engagement),
        url("mapping-entity", customer.engagement, customer.pk),
        url("mapping-attribute", customer.engagement, attribute(customer, "email").pk),
    ]
    for page in pages:
        assert "css/mapping.css" in client.get(page).content.decode(), page


def test_a_ba_prepares_the_mapping_from_the_overview(as_user, published, cataloged, ba):
    client = as_user(ba)
    page = client.get(url("mapping-overview", published.engagement))
    assert page.context["unprepared"] == 43
    client.post(url("mapping-prepare", published.engagement))
    assert AttributeMapping.objects.count() == 43


def test_a_viewer_cannot_prepare(as_user, published, cataloged, viewer):
    response = as_user(viewer).post(url("mapping-prepare", published.engagement))
    assert response.status_code == 403
    assert not AttributeMapping.objects.exists()


@pytest.mark.parametrize(
    "name", ["mapping-overview", "mapping-gap", "mapping-gap-summary", "mapping-gap-csv"]
)
def test_outsiders_get_not_found(as_user, customer, outsider, name):
    assert as_user(outsider).get(url(name, customer.engagement)).status_code == 404


def test_outsiders_get_not_found_for_rows_and_entities(as_user, customer, outsider):
    client = as_user(outsider)
    email = attribute(customer, "email")
    for name, pk in [
        ("mapping-entity", customer.pk),
        ("mapping-attribute", email.pk),
        ("mapping-row", email.pk),
        ("mapping-row-edit", email.pk),
        ("mapping-suggestions", email.pk),
        ("mapping-validate", email.pk),
    ]:
        assert client.get(url(name, customer.engagement, pk)).status_code == 404, name


def test_a_row_of_another_engagement_is_not_found_from_this_one(as_user, customer, outsider):
    other = outsider.memberships.get().engagement
    email = attribute(customer, "email")
    member_of_other = as_user(outsider)
    assert member_of_other.get(url("mapping-row", other, email.pk)).status_code == 404


def test_the_grid_renders_500_attributes_in_a_bounded_number_of_queries(
    as_user, customer, ba, django_assert_max_num_queries
):
    from mappings.models import EntityMapping

    entity = EntityMapping.objects.get(pk=customer.pk)
    AttributeMapping.objects.bulk_create(  # history is irrelevant to this page count
        AttributeMapping(
            engagement=entity.engagement, entity_mapping=entity, attribute_name=f"x{i}"
        )
        for i in range(500)
    )
    client = as_user(ba)
    page = url("mapping-entity", customer.engagement, customer.pk)
    with django_assert_max_num_queries(20):  # incl. the sign-off state of the rows
        response = client.get(page, {"view": "table"})
    assert len(response.context["rows"]) == 512

    # the editing grid loads its rows from the API: its page reads none, and draws no lineage
    # graph of more attributes than a screen can show
    with django_assert_max_num_queries(20):
        response = client.get(page)
    assert response.context["rows"] == []
    assert "too many to draw as one graph" in response.content.decode()


def test_the_entity_page_has_no_two_elements_with_one_id(as_user, customer, ba):
    html = as_user(ba).get(url("mapping-entity", customer.engagement, customer.pk)).content
    ids = re.findall(r'\sid="([^"]+)"', html.decode())
    assert ids and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_editing_a_row_inline_answers_with_the_row(as_user, customer, ba):
    email = attribute(customer, "email")
    client = as_user(ba)
    form = client.get(url("mapping-row-edit", customer.engagement, email.pk))
    assert 'name="transformation"' in form.content.decode()

    saved = client.post(
        url("mapping-row-edit", customer.engagement, email.pk),
        {"row_version": 1, "transformation": "LOWER(TRIM(c.email))", "source_columns": ""},
        HTTP_HX_REQUEST="true",
    )
    body = saved.content.decode()
    assert body.lstrip().startswith(f'<tr id="row-{email.pk}"')
    assert "just-saved" in body and "LOWER(TRIM(c.email))" in body


def test_a_bad_rule_comes_back_on_the_row_with_the_message(as_user, customer, ba):
    email = attribute(customer, "email")
    response = as_user(ba).post(
        url("mapping-row-edit", customer.engagement, email.pk),
        {"row_version": 1, "transformation": "DROP TABLE crm_customer"},
    )
    assert "Only an expression is allowed here, not a DROP statement." in response.content.decode()
    email.refresh_from_db()
    assert email.transformation == ""


def test_a_stale_row_shows_the_conflict_with_both_values(as_user, customer, ba, lead):
    email = attribute(customer, "email")
    services.attribute_mapping_update(
        attribute_mapping=email, data={"source_columns": "c.email"}, acting_user=ba
    )
    response = as_user(ba).post(
        url("mapping-row-edit", customer.engagement, email.pk),
        {"row_version": 1, "transformation": "UPPER(c.email)"},
    )
    body = response.content.decode()
    assert "since you opened it (now version 2)" in body
    assert "Your values, not saved" in body and "UPPER(c.email)" in body
    assert 'name="row_version" value="2"' in body
    email.refresh_from_db()
    assert (email.source_columns, email.transformation) == ("c.email", "")


def test_live_validation_points_at_the_problem(as_user, customer, viewer):
    email = attribute(customer, "email")
    response = as_user(viewer).get(
        url("mapping-validate", customer.engagement, email.pk), {"transformation": "LOWER(c.emial)"}
    )
    assert "The table crm_customer has no column &#x27;emial&#x27;" in response.content.decode()
    ok = as_user(viewer).get(
        url("mapping-validate", customer.engagement, email.pk), {"transformation": "LOWER(c.email)"}
    )
    assert "Valid" in ok.content.decode()


def test_suggestions_can_be_accepted_with_one_click(as_user, customer, ba):
    phone = attribute(customer, "phone")
    client = as_user(ba)
    picker = client.get(url("mapping-suggestions", customer.engagement, phone.pk))
    assert "c.phone" in picker.content.decode()
    client.post(
        url("mapping-row-edit", customer.engagement, phone.pk),
        {"row_version": phone.row_version, "source_columns": "c.phone"},
    )
    phone.refresh_from_db()
    assert (phone.source_columns, phone.status) == ("c.phone", "mapped")


@pytest.mark.parametrize("user", ["sme", "viewer"])
def test_roles_without_the_right_cannot_edit_rows(as_user, customer, user, request):
    email = attribute(customer, "email")
    client = as_user(request.getfixturevalue(user))
    assert client.get(url("mapping-row-edit", customer.engagement, email.pk)).status_code == 403
    assert (
        client.post(
            url("mapping-row-edit", customer.engagement, email.pk),
            {"row_version": 1, "source_columns": "c.email"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            url("mapping-entity-save", customer.engagement, customer.pk),
            {"row_version": customer.row_version, "frequency": "daily", "status": "draft"},
        ).status_code
        == 403
    )


def test_the_entity_form_saves_and_refuses(as_user, customer, ba):
    client = as_user(ba)
    data = {
        "row_version": customer.row_version,
        "driving_table": "crm_customer",
        "driving_alias": "c",
        "joins": "",
        "filter": "",
        "frequency": "hourly",
        "status": "draft",
        "notes": "n",
    }
    assert (
        client.post(url("mapping-entity-save", customer.engagement, customer.pk), data).status_code
        == 302
    )
    customer.refresh_from_db()
    assert customer.frequency == "hourly"

    bad = {**data, "row_version": customer.row_version, "driving_table": "nope"}
    response = client.post(url("mapping-entity-save", customer.engagement, customer.pk), bad)
    assert (
        "The driving table &#x27;nope&#x27; is not in the Mart catalog."
        in response.content.decode()
    )


def test_the_attribute_page_shows_history_and_reverts(as_user, customer, ba):
    email = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email"),
        data={"source_columns": "c.email"},
        acting_user=ba,
    )
    first = email.history.first().history_id
    email = services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "UPPER(c.email)"}, acting_user=ba
    )
    client = as_user(ba)
    page = client.get(url("mapping-attribute", customer.engagement, email.pk))
    changes = [c for h in page.context["history"] for c in h["changes"]]
    assert ("transformation", "", "UPPER(c.email)") in changes

    client.post(
        url("mapping-revert", customer.engagement, email.pk),
        {"history_id": first, "row_version": email.row_version},
    )
    email.refresh_from_db()
    assert (email.source_columns, email.transformation) == ("c.email", "")


def test_feasibility_review_and_comments_from_the_page(as_user, customer, etl_dev, sme, viewer):
    phone = attribute(customer, "phone")
    as_user(etl_dev).post(
        url("mapping-feasibility", customer.engagement, phone.pk),
        {"verdict": "concerns", "comment": "Formats vary"},
    )
    as_user(sme).post(
        url("mapping-review", customer.engagement, phone.pk),
        {"state": "query_raised", "comment": "Which format?"},
    )
    phone.refresh_from_db()
    assert (phone.feasibility, phone.sme_review) == ("concerns", "query_raised")
    thread = MappingComment.objects.filter(kind="question").get()
    as_user(etl_dev).post(
        url("mapping-comment", customer.engagement, phone.pk),
        {"kind": "question", "text": "E.164", "parent": thread.pk},
    )
    as_user(sme).post(url("mapping-comment-resolve", customer.engagement, thread.pk))
    thread.refresh_from_db()
    assert thread.resolved and thread.replies.count() == 1
    assert (
        as_user(viewer)
        .post(url("mapping-feasibility", customer.engagement, phone.pk), {"verdict": "feasible"})
        .status_code
        == 403
    )
    assert (
        as_user(viewer)
        .post(
            url("mapping-comment", customer.engagement, phone.pk), {"kind": "question", "text": "x"}
        )
        .status_code
        == 403
    )


def test_the_gap_page_and_its_csv(as_user, customer, viewer):
    client = as_user(viewer)
    page = client.get(url("mapping-gap", customer.engagement), {"severity": "high"})
    shown = [row["item"] for row in page.context["rows"]]
    assert page.context["summary"]["high"] == len(shown) > 0
    assert {item.severity for item in shown} == {"high"}
    csv = client.get(url("mapping-gap-csv", customer.engagement))
    lines = csv.content.decode().splitlines()
    assert lines[0] == "Entity,Attribute,Category,Issue,Severity,Suggested action"
    assert csv["Content-Disposition"] == 'attachment; filename="acme-360-gap.csv"'


def test_each_gap_item_opens_the_row_to_fix(as_user, customer, viewer):
    page = as_user(viewer).get(url("mapping-gap", customer.engagement))
    html = page.content.decode()
    rows = page.context["rows"]
    attribute_items = [row for row in rows if row["item"].attribute]
    assert attribute_items and all(row["link"] for row in rows)
    for row in attribute_items:
        item = row["item"]
        mapping = AttributeMapping.objects.get(
            engagement=customer.engagement,
            entity_mapping__entity_name=item.entity,
            attribute_name=item.attribute,
        )
        expected = url("mapping-entity", customer.engagement, mapping.entity_mapping_id)
        assert row["link"] == f"{expected}#row-{mapping.pk}"
        assert f'href="{row["link"]}"' in html


def test_the_gap_names_the_clients_own_mart(as_user, customer, viewer):
    engagement = customer.engagement
    engagement.name, engagement.client, engagement.mart_name = "Initech 360", "Initech", ""
    engagement.save()
    html = as_user(viewer).get(url("mapping-gap", engagement)).content.decode()
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "What stands between the Initech Mart and the Interface Layer" in visible
    assert "Acme" not in visible
    assert " Initech 360 · recomputed" in visible  # the client once, inside the engagement's name


def test_the_gap_page_keeps_a_bounded_number_of_queries(
    as_user, customer, viewer, django_assert_max_num_queries
):
    client = as_user(viewer)
    with django_assert_max_num_queries(22):
        assert client.get(url("mapping-gap", customer.engagement)).status_code == 200


def test_the_old_gap_document_address_leads_to_the_one_gap_page(as_user, customer, viewer):
    response = as_user(viewer).get(url("gap-document", customer.engagement))
    assert response.status_code == 302
    assert response["Location"] == url("mapping-gap", customer.engagement)


def test_an_engagement_with_nothing_mapped_does_not_claim_everything_is_mapped(
    as_user, engagement, viewer
):
    page = as_user(viewer).get(url("mapping-gap", engagement)).content.decode()
    assert "Nothing is mapped yet" in page
    assert "every mandatory attribute is mapped" not in page


def test_entity_threads_show_on_the_entity_page(as_user, customer, ba, sme):
    thread = services.comment_add(mapping=customer, text="Which status is churned?", acting_user=ba)
    services.comment_add(mapping=customer, text="CLOSED.", parent=thread, acting_user=sme)
    page = as_user(sme).get(url("mapping-entity", customer.engagement, customer.pk))
    [shown] = page.context["comments"]
    assert shown.text == "Which status is churned?"
    assert [r.text for r in shown.replies.all()] == ["CLOSED."]
    assert "CLOSED." in page.content.decode()


def test_a_change_after_sign_off_is_flagged_on_the_entity_and_the_row(
    as_user, customer, ba, sme, lead
):
    from signoff import services as signoff_services
    from signoff.choices import Gate
    from workbench import services as workbench_services

    email = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email"),
        data={"source_columns": "c.email"},
        acting_user=ba,
    )
    workbench_services.signoff_owner_set(
        engagement=customer.engagement, gate="mapping", username="sme", acting_user=lead
    )
    review = signoff_services.do_submit_for_review(
        engagement=customer.engagement, gate=Gate.MAPPING, acting_user=ba
    )
    signoff_services.do_decide(review=review, verdict="approve", acting_user=sme)
    client = as_user(ba)
    clean = client.get(url("mapping-entity", customer.engagement, customer.pk))
    assert "changed since sign-off" not in clean.content.decode()

    services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(c.email)"}, acting_user=ba
    )
    # the row's badge is rendered by the table view (the grid draws it from the API's flags)
    page = client.get(url("mapping-entity", customer.engagement, customer.pk), {"view": "table"})
    body = page.content.decode()
    assert page.context["approval"]["changed"] is True
    assert "changed since sign-off v1" in body
    [row] = [r for r in page.context["rows"] if r.name == "email"]
    assert "changed_since_signoff" in row.problem_flags
    flagged = client.get(
        url("mapping-entity", customer.engagement, customer.pk),
        {"view": "table", "problem": "changed_since_signoff"},  # as the filter form sends it
    )
    assert [r.name for r in flagged.context["rows"]] == ["email"]
