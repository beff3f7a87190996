"""Allowed values and patterns checked while typing: the values a rule can load — its constants,
its CASE results, its COALESCE fallbacks, and the profiled values of a column it passes on — are
held against the contract's allowed values and pattern. They are warnings: the rule still saves,
the row keeps them, and the GAP lists them under allowed values.

The demo Mart's profile (`profiled`) sees mkt_campaign.channel_code as DM 10, EML 9, SMS 8,
PSE 7, PSO 2 rows, and crm_customer_address.country_code as GB 1115, UK 167, gb 138."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contracts.models import InterfaceAttribute
from mappings.compiled import compile_rule_context, is_direct_move
from mappings.demo import DEMO_MAPPING, apply_demo_mapping
from mappings.expressions import VALUES
from mappings.models import AttributeMapping, EntityMapping
from mappings.selectors.gap import gap_items
from mappings.services import mapping as services

from .conftest import attribute

CHANNELS = "email, sms, web, store, paid_social, direct_mail"


def _entity(engagement, ba, name: str) -> EntityMapping:
    entity = EntityMapping.objects.get(engagement=engagement, entity_name=name)
    return services.entity_mapping_update(
        entity_mapping=entity, data=DEMO_MAPPING[name]["from"], acting_user=ba
    )


@pytest.fixture
def campaign(profiled, prepared, ba) -> EntityMapping:
    return _entity(prepared, ba, "campaign")


def value_warnings(entity: EntityMapping, name: str, rule: str, default: str = "") -> list[str]:
    """What the live check says of `rule` for the attribute, as the grid and the form show it."""
    direct = is_direct_move(rule)
    checked, errors = compile_rule_context(attribute_mapping=attribute(entity, name)).compile_rule(
        attribute_name=name,
        source_columns=rule if direct else "",
        transformation="" if direct else rule,
        default_value=default,
    )
    assert errors == {}
    return [str(w) for w in checked.warnings if w.kind == VALUES]


def test_constants_and_case_results_outside_the_allowed_values_warn_where_they_are_written(
    campaign,
):
    # A raw code typed as a constant: the warning names the allowed values.
    assert value_warnings(campaign, "channel", "'EML'") == [
        f"'EML' is not one of {CHANNELS}. (line 1, column 1)"
    ]
    # One THEN of a CASE gives a label instead of the code: that THEN, and only it, is named.
    assert value_warnings(
        campaign,
        "channel",
        "CASE m.channel_code WHEN 'EML' THEN 'email' WHEN 'DM' THEN 'Direct Mail' END",
    ) == [f"'Direct Mail' is not one of {CHANNELS}. (line 1, column 60)"]
    # A COALESCE fallback is a value the rule loads as well.
    assert value_warnings(campaign, "channel", "COALESCE(NULL, 'other')") == [
        f"'other' is not one of {CHANNELS}. (line 1, column 16)"
    ]
    # Every code translated, the rest to an allowed value: clean, although the column's own
    # values (raw codes) are outside the list — they are only compared, never loaded.
    assert (
        value_warnings(
            campaign,
            "channel",
            "CASE m.channel_code WHEN 'EML' THEN 'email' WHEN 'SMS' THEN 'sms' "
            "WHEN 'DM' THEN 'direct_mail' WHEN 'PSO' THEN 'paid_social' ELSE 'web' END",
        )
        == []
    )
    # An ELSE that passes the column on loads the profiled codes no WHEN took.
    assert value_warnings(
        campaign,
        "channel",
        "CASE WHEN m.channel_code IN ('EML', 'DM') THEN 'email' ELSE LOWER(m.channel_code) END",
    ) == [
        f"'pse' from m.channel_code is not one of {CHANNELS} — 7 rows in the sample have it. "
        "(line 1, column 67)",
        f"'pso' from m.channel_code is not one of {CHANNELS} — 2 rows in the sample have it. "
        "(line 1, column 67)",
    ]


def test_a_column_passed_on_warns_with_the_profiled_counts_saves_and_reaches_the_gap(campaign, ba):
    channel = attribute(campaign, "channel")
    expected = [
        f"'{code}' from m.channel_code is not one of {CHANNELS} — {rows} rows in the sample "
        "have it."
        for code, rows in [("DM", 10), ("EML", 9), ("SMS", 8), ("PSE", 7), ("PSO", 2)]
    ]
    assert [
        w.split(" (line")[0] for w in value_warnings(campaign, "channel", "m.channel_code")
    ] == (expected)
    # Through UPPER/TRIM the same codes still come out.
    assert len(value_warnings(campaign, "channel", "UPPER(TRIM(m.channel_code))")) == 5

    # A warning does not block the save: the row is mapped and keeps its warnings.
    saved = services.attribute_mapping_update(
        attribute_mapping=channel, data={"source_columns": "m.channel_code"}, acting_user=ba
    )
    assert saved.status == "mapped"
    assert [p["message"] for p in saved.warnings if p["kind"] == VALUES] == expected
    # The GAP lists each once, under allowed values, with the way out.
    listed = [
        item
        for item in gap_items(engagement=campaign.engagement)
        if (item.entity, item.attribute, item.category) == ("campaign", "channel", "Allowed values")
    ]
    assert [i.issue for i in listed] == expected
    assert {i.action for i in listed} == {"Translate the values with a CASE or a lookup join."}


def test_a_tolerated_share_outside_the_list_still_warns_and_says_the_tolerance(campaign):
    contract_channel = InterfaceAttribute.objects.get(
        layer__engagement=campaign.engagement, entity__name="campaign", name="channel"
    )
    contract_channel.extra = {
        **contract_channel.extra,
        "validValuesRule": {"metric": "invalidValues", "mustBeLessOrEqualTo": 5, "unit": "percent"},
    }
    contract_channel.save()
    tolerance = "The contract accepts at most 5% of the rows outside its allowed values."
    assert value_warnings(campaign, "channel", "'EML'") == [
        f"'EML' is not one of {CHANNELS}. {tolerance} (line 1, column 1)"
    ]
    warned = value_warnings(campaign, "channel", "m.channel_code")
    assert warned[-1] == (
        f"'PSO' from m.channel_code is not one of {CHANNELS} — 2 rows in the sample have it "
        f"(5.6 % of the sample). {tolerance} (line 1, column 1)"
    )


def test_a_pattern_is_checked_against_constants_and_profiled_values(profiled, prepared, ba):
    address = _entity(prepared, ba, "customer_address")
    rule = "^[A-Z]{2}$"
    assert value_warnings(address, "country_code", "COALESCE(ad.country_code, 'gb')") == [
        f"'gb' from ad.country_code does not match the pattern {rule} — 138 rows in the sample "
        "have it. (line 1, column 10)",
        f"'gb' does not match the pattern {rule}. (line 1, column 27)",
    ]
    # The demo's rule upper-cases the codes and turns UK into GB: nothing to say.
    demo_rule = DEMO_MAPPING["customer_address"]["attributes"]["country_code"][0]
    assert value_warnings(address, "country_code", demo_rule, default="GB") == []


def test_the_validate_endpoints_show_value_warnings_and_refuse_outsiders(
    campaign, viewer, outsider, client
):
    channel = attribute(campaign, "channel")
    api = APIClient()
    api.force_authenticate(viewer)
    path = (
        f"/api/v1/engagements/{campaign.engagement.slug}/attribute-mappings/{channel.pk}/validate/"
    )
    answer = api.post(path, {"transformation": "'EML'"}, format="json").json()
    assert (answer["valid"], answer["warnings"]) == (
        True,
        [f"'EML' is not one of {CHANNELS}. (line 1, column 1)"],
    )
    client.force_login(viewer)
    page = reverse("mapping-validate", args=[campaign.engagement.slug, channel.pk])
    fragment = client.get(page, {"transformation": "'EML'"}).content.decode()
    assert '<div class="problem warning">&#x27;EML&#x27; is not one of email, sms' in fragment
    # Another engagement's row is not found, whoever asks.
    api.force_authenticate(outsider)
    assert api.post(path, {"transformation": "'EML'"}, format="json").status_code == 404
    client.force_login(outsider)
    assert client.get(page, {"transformation": "'EML'"}).status_code == 404
    channel.refresh_from_db()
    assert channel.transformation == ""


def test_the_demo_mapping_loads_no_value_the_contract_refuses(profiled, published, ba):
    apply_demo_mapping(published.engagement, ba)
    warned = [
        (m.attribute_name, p["message"])
        for m in AttributeMapping.objects.filter(engagement=published.engagement)
        for p in m.problems
        if p.get("kind") == VALUES
    ]
    assert warned == []
