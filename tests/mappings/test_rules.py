"""A Tech BA writes entity and attribute rules; every save is checked against the catalog."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.selectors import published_layer
from mappings.choices import EntityStatus, MappingStatus
from mappings.models import AttributeMapping, EntityMapping
from mappings.selectors.mapping import unmapped_contract_attributes
from mappings.services import mapping as services
from mappings.services.mapping import MappingConflict

from .conftest import attribute


def test_preparing_creates_one_mapping_per_interface_attribute(prepared, ba):
    assert EntityMapping.objects.filter(engagement=prepared).count() == 5
    assert AttributeMapping.objects.filter(engagement=prepared).count() == 43
    assert services.mapping_prepare(engagement=prepared, acting_user=ba) == {
        "entities": 0,
        "attributes": 0,
    }
    assert AttributeMapping.history.first().history_user == ba


def test_preparing_a_prepared_mapping_reads_no_pairs_of_names(prepared, ba):
    # Given a mapping with a row for every attribute of the contract; reading its pairs of names
    # (every row of a 100,000-row mapping) would fail the test
    def every_pair(queries) -> list[str]:
        return [
            q["sql"]
            for q in queries.captured_queries
            if re.search(r'FROM "mappings_attributemapping"(?! U\d)', q["sql"])
        ]

    # When it is prepared again
    with CaptureQueriesContext(connection) as queries:
        created = services.mapping_prepare(engagement=prepared, acting_user=ba)
    # Then the database answered that none is missing, and nothing was created
    assert every_pair(queries) == []
    assert created == {"entities": 0, "attributes": 0}
    # And once a row is missing, preparing finds it and creates it again
    AttributeMapping.objects.filter(engagement=prepared, attribute_name="email").first().delete()
    created = services.mapping_prepare(engagement=prepared, acting_user=ba)
    assert created == {"entities": 0, "attributes": 1}


def test_asking_for_a_missing_row_looks_each_attribute_up_by_its_unique_keys(prepared):
    # Given the question "which contract attributes have no mapping row?"
    layer = published_layer(engagement=prepared)
    plan = unmapped_contract_attributes(engagement=prepared, layer=layer).explain()
    # Then the database answers it as an anti-join...
    if connection.vendor == "postgresql":
        assert "Anti Join" in plan
    else:
        # ...looking each attribute up by the entity's (engagement, name) and the row's
        # (entity, attribute name), never by the engagement alone (all its rows, per attribute)
        assert "CORRELATED SCALAR SUBQUERY" in plan
        assert "(engagement_id=? AND entity_name=?)" in plan
        assert "(entity_mapping_id=? AND attribute_name=?)" in plan
        assert "attributemapping_engagement_id" not in plan


def test_preparing_needs_a_published_contract(engagement, ba):
    with pytest.raises(ValidationError, match="Publish an Interface Layer contract"):
        services.mapping_prepare(engagement=engagement, acting_user=ba)


def test_the_from_clause_is_saved_with_history(customer, ba):
    assert customer.status == EntityStatus.DRAFT
    assert customer.row_version == 2
    assert customer.history.first().history_user == ba
    assert customer.problems == []


def test_an_unknown_driving_table_is_refused(prepared, ba):
    entity = EntityMapping.objects.get(engagement=prepared, entity_name="campaign")
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=entity,
            data={"driving_table": "mkt_campaigns", "driving_alias": "m"},
            acting_user=ba,
        )
    assert refused.value.message_dict == {
        "driving_table": ["The driving table 'mkt_campaigns' is not in the Mart catalog."]
    }
    entity.refresh_from_db()
    assert (entity.driving_table, entity.row_version) == ("", 1)


def test_a_join_to_an_unknown_column_points_at_it(prepared, ba):
    entity = EntityMapping.objects.get(engagement=prepared, entity_name="campaign")
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=entity,
            data={
                "driving_table": "mkt_campaign",
                "driving_alias": "m",
                "joins": "LEFT JOIN ref_channel r ON r.channel_code = m.channel_cd",
            },
            acting_user=ba,
        )
    assert refused.value.message_dict == {
        "joins": ["The table mkt_campaign has no column 'channel_cd'. (line 1, column 45)"]
    }


def test_a_lookup_join_over_catalog_tables_is_accepted(prepared, ba):
    entity = EntityMapping.objects.get(engagement=prepared, entity_name="campaign")
    services.entity_mapping_update(
        entity_mapping=entity,
        data={
            "driving_table": "mkt_campaign",
            "driving_alias": "m",
            "joins": "LEFT JOIN (SELECT channel_code, channel_group AS grp FROM ref_channel) ch\n"
            "  ON ch.channel_code = m.channel_code",
        },
        acting_user=ba,
    )
    channel = attribute(entity, "channel")
    saved = services.attribute_mapping_update(
        attribute_mapping=channel,
        data={"transformation": "COALESCE(ch.grp, m.channel_group)"},
        acting_user=ba,
    )
    assert saved.lineage == ["ch.grp", "m.channel_group"]


def test_a_filter_must_be_a_condition(customer, ba):
    with pytest.raises(ValidationError) as refused:
        services.entity_mapping_update(
            entity_mapping=customer, data={"filter": "c.status"}, acting_user=ba
        )
    assert refused.value.message_dict["filter"] == [
        "A filter must be a condition (e.g. c.is_test = 0). (line 1, column 1)"
    ]


@pytest.mark.parametrize(
    ("frequency", "ok"),
    [("daily", True), ("0 2 * * *", True), ("*/15 * * * 1-5", True), ("sometimes", False)],
)
def test_frequency_is_a_known_word_or_a_cron_schedule(customer, ba, frequency, ok):
    if ok:
        services.entity_mapping_update(
            entity_mapping=customer, data={"frequency": frequency}, acting_user=ba
        )
    else:
        with pytest.raises(ValidationError, match="cron schedule"):
            services.entity_mapping_update(
                entity_mapping=customer, data={"frequency": frequency}, acting_user=ba
            )


def test_a_direct_move_is_mapped_with_its_lineage(customer, ba):
    email = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email"),
        data={"source_columns": "c.email"},
        acting_user=ba,
    )
    assert (email.status, email.lineage, email.lineage_tables) == (
        MappingStatus.MAPPED,
        ["c.email"],
        ["crm_customer"],
    )
    assert email.row_version == 2
    assert email.history.first().history_user == ba


def test_a_save_does_not_look_up_again_the_rows_it_was_loaded_with(customer, ba):
    # Given an attribute row and its entity, loaded by the service that saves them
    email = attribute(customer, "email")
    # When its rule is saved (and the entity's status follows)
    with CaptureQueriesContext(connection) as queries:
        services.attribute_mapping_update(
            attribute_mapping=email, data={"source_columns": "c.email"}, acting_user=ba
        )
    # Then no query asks whether its engagement, entity or user still exist (one query each,
    # per save, that the database's constraints answer anyway)
    looked_up = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT 1 AS")]
    assert not [sql for sql in looked_up if "engagement" in sql or "auth_user" in sql], looked_up
    # And a value the row's own fields refuse is still refused
    with pytest.raises(ValidationError):
        services.attribute_mapping_update(
            attribute_mapping=email, data={"status": "no such status"}, acting_user=ba
        )


def test_a_transformation_derives_lineage_and_type(customer, ba):
    birth = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "birth_date"),
        data={"transformation": "CAST(c.birth_date AS DATE)", "edge_cases": "three formats"},
        acting_user=ba,
    )
    assert birth.lineage == ["c.birth_date"]
    assert birth.inferred_type == "DATE"
    assert birth.source_columns == ""
    assert birth.warnings == []


def test_text_into_a_date_is_a_warning_on_the_row(customer, ba):
    birth = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "birth_date"),
        data={"source_columns": "c.birth_date"},
        acting_user=ba,
    )
    assert [w["message"] for w in birth.warnings] == [
        "The result is text but the attribute is date. Convert it explicitly (CAST or a "
        "date-parsing function)."
    ]
    assert birth.status == MappingStatus.MAPPED


def test_a_nullable_source_into_a_required_attribute_without_default_warns(customer, ba):
    stage = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "lifecycle_stage"),
        data={"transformation": "LOWER(c.status)"},
        acting_user=ba,
    )
    assert "can be NULL and there is no default" in stage.warnings[0]["message"]

    stage = services.attribute_mapping_update(
        attribute_mapping=stage,
        data={"default_value": "prospect"},
        acting_user=ba,
        row_version=stage.row_version,
    )
    assert stage.warnings == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"transformation": "LOWER(c.emial)"},
            "transformation",
            "The table crm_customer has no column 'emial'. (line 1, column 7)",
        ),
        (
            {"transformation": "LOWER(x.email)"},
            "transformation",
            "Unknown alias 'x' (known aliases: a, c). (line 1, column 7)",
        ),
        (
            {"transformation": "c.email; DROP TABLE crm_customer"},
            "transformation",
            "Only one expression is allowed: remove the ';' and anything after it. "
            "(line 1, column 8)",
        ),
        (
            {"transformation": "(SELECT max(email) FROM crm_customer)"},
            "transformation",
            "Subqueries are allowed only in a join's lookup SELECT; add the lookup to the "
            "entity's joins and use its alias. (line 1, column 13)",
        ),
        (
            {"transformation": "LOWER(c.email"},
            "transformation",
            "Expecting ) near 'email' in SQLite SQL. (line 1, column 13)",
        ),
        (
            {"transformation": "(" * 5000 + "c.email" + ")" * 5000},
            "transformation",
            "Nested more than 100 levels deep. (line 1, column 101)",
        ),
        (
            {"transformation": "(" * 60 + "c.email" + ")" * 60},
            "transformation",
            "The expression is nested too deeply to read (60 levels of parentheses). "
            "(line 1, column 60)",
        ),
        (
            {"source_columns": "c.first_name || c.last_name"},
            "source_columns",
            "A direct move names exactly one alias.column; write anything else as a "
            "transformation.",
        ),
    ],
)
def test_bad_rules_are_refused_with_the_place_and_nothing_saved(customer, ba, data, field, message):
    email = attribute(customer, "email")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(attribute_mapping=email, data=data, acting_user=ba)
    assert refused.value.message_dict == {field: [message]}
    email.refresh_from_db()
    assert (email.transformation, email.source_columns, email.row_version) == ("", "", 1)


def test_a_default_of_the_wrong_type_is_refused(customer, ba):
    opt_in = attribute(customer, "email_opt_in")
    with pytest.raises(ValidationError) as refused:
        services.attribute_mapping_update(
            attribute_mapping=opt_in, data={"default_value": "maybe"}, acting_user=ba
        )
    assert refused.value.message_dict == {
        "default_value": ["The default 'maybe' is not a valid boolean."]
    }


def test_default_only_and_not_applicable_statuses(customer, ba):
    opt_in = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email_opt_in"),
        data={"default_value": "false"},
        acting_user=ba,
    )
    assert opt_in.status == MappingStatus.DEFAULT_ONLY

    gender = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "gender"),
        data={"status": MappingStatus.NOT_APPLICABLE},
        acting_user=ba,
    )
    assert gender.status == MappingStatus.NOT_APPLICABLE

    with pytest.raises(ValidationError, match="A mandatory attribute cannot be Not Applicable"):
        services.attribute_mapping_update(
            attribute_mapping=attribute(customer, "customer_id"),
            data={"status": MappingStatus.NOT_APPLICABLE},
            acting_user=ba,
        )


def test_a_stale_version_is_a_conflict_carrying_the_current_values(customer, ba, lead):
    email = attribute(customer, "email")
    services.attribute_mapping_update(
        attribute_mapping=email, data={"source_columns": "c.email"}, acting_user=ba, row_version=1
    )

    with pytest.raises(MappingConflict) as conflict:
        services.attribute_mapping_update(
            attribute_mapping=email,
            data={"transformation": "UPPER(c.email)"},
            acting_user=ba,
            row_version=1,
        )
    assert conflict.value.current.source_columns == "c.email"
    assert conflict.value.current.row_version == 2
    email.refresh_from_db()
    assert email.transformation == ""


def test_renaming_an_alias_rechecks_the_entitys_rules(customer, ba):
    email = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email"),
        data={"source_columns": "c.email"},
        acting_user=ba,
    )
    with pytest.raises(ValidationError, match="Unknown alias 'c'"):
        # the filter still says c.…: refused as a whole, nothing changes
        services.entity_mapping_update(
            entity_mapping=customer, data={"driving_alias": "cust"}, acting_user=ba
        )
    services.entity_mapping_update(
        entity_mapping=customer,
        data={"driving_alias": "cust", "filter": "", "joins": ""},
        acting_user=ba,
    )
    email.refresh_from_db()
    assert email.problems[0]["message"].startswith("Unknown alias 'c'")
    assert email.row_version == 3


def test_revert_puts_back_an_earlier_rule(customer, ba):
    email = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email"),
        data={"source_columns": "c.email"},
        acting_user=ba,
    )
    first = email.history.first().history_id
    email = services.attribute_mapping_update(
        attribute_mapping=email, data={"transformation": "LOWER(TRIM(c.email))"}, acting_user=ba
    )
    services.attribute_mapping_revert(attribute_mapping=email, history_id=first, acting_user=ba)
    email.refresh_from_db()
    assert (email.source_columns, email.transformation) == ("c.email", "")


def test_only_the_tech_ba_edits_rules(customer, sme, viewer, etl_dev):
    for user in (sme, viewer, etl_dev):
        with pytest.raises(PermissionDenied):
            services.attribute_mapping_update(
                attribute_mapping=attribute(customer, "email"),
                data={"source_columns": "c.email"},
                acting_user=user,
            )
        with pytest.raises(PermissionDenied):
            services.entity_mapping_update(
                entity_mapping=customer, data={"notes": "x"}, acting_user=user
            )


def test_text_that_looks_like_injection_in_free_text_is_stored_as_text(customer, ba):
    text = "'); DROP TABLE mappings_attributemapping; --"
    email = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "email"),
        data={"edge_cases": text, "notes": text},
        acting_user=ba,
    )
    email.refresh_from_db()
    assert email.edge_cases == text
    assert AttributeMapping.objects.count() == 43


def test_a_filter_excluding_nulls_makes_the_column_safe_for_required_attributes(customer, ba):
    customer = services.entity_mapping_update(
        entity_mapping=customer,
        data={"filter": "c.status <> 'TEST' AND c.created_at IS NOT NULL AND c.status IS NOT NULL"},
        acting_user=ba,
    )
    stage = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "lifecycle_stage"),
        data={"source_columns": "c.status"},
        acting_user=ba,
    )
    assert stage.warnings == []


@pytest.mark.parametrize(
    "rule",
    [
        "REPLACE(c.phone, ' ', '')",
        "substr('000000000000' || REPLACE(c.phone, '-', ''), -12, 12)",
        "printf('%s', c.phone)",
        "SUBSTRING(c.email, 1, 3)",
        "COALESCE(NULLIF(TRIM(c.email), ''), 'none')",
    ],
)
def test_common_string_functions_are_allowed(customer, ba, rule):
    """The demo Mart is SQLite: its own string functions (SQLite has no LPAD or TRANSLATE)."""
    saved = services.attribute_mapping_update(
        attribute_mapping=attribute(customer, "phone"),
        data={"transformation": rule},
        acting_user=ba,
    )
    assert saved.lineage
