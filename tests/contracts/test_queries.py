"""Speed by construction: an import costs the same number of SQL statements whatever the number
of attributes, and the entity page a bounded number of queries whatever its size."""

from __future__ import annotations

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import services
from contracts.choices import LayerStatus
from contracts.models import InterfaceEntity, InterfaceLayerFile
from contracts.selectors import published_layer

pytestmark = pytest.mark.django_db


def generated_contract(*, entities: int, attributes: int, version: str = "1.0.0") -> bytes:
    schema = []
    for e in range(entities):
        properties = [
            {
                "name": "id",
                "logicalType": "string",
                "required": True,
                "primaryKey": True,
                "primaryKeyPosition": 1,
            }
        ]
        if e:
            properties.append(
                {
                    "name": "parent_id",
                    "logicalType": "string",
                    "relationships": [{"type": "foreignKey", "to": f"entity_{e - 1:03}.id"}],
                }
            )
        for a in range(len(properties), attributes):
            properties.append(
                {
                    "name": f"attr_{a:03}",
                    "logicalType": "string",
                    "physicalType": "VARCHAR(100)",
                    "required": a % 2 == 0,
                    "quality": [
                        {
                            "type": "library",
                            "metric": "invalidValues",
                            "arguments": {"validValues": ["a", "b"]},
                            "mustBe": 0,
                        }
                    ],
                    "customProperties": [{"property": "canonicalMeaning", "value": f"Meaning {a}"}],
                }
            )
        schema.append({"name": f"entity_{e:03}", "properties": properties})
    document = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "generated",
        "name": "Generated",
        "version": version,
        "status": "active",
        "schema": schema,
    }
    return yaml.safe_dump(document, sort_keys=False).encode()


def import_queries(engagement, user, *, entities, attributes, version) -> int:
    content = generated_contract(entities=entities, attributes=attributes, version=version)
    with CaptureQueriesContext(connection) as captured:
        services.contract_import(
            engagement=engagement, file_name="g.yaml", content=content, acting_user=user
        )
    return len(captured)


def test_the_statements_of_an_import_do_not_grow_per_attribute(engagement, ba):
    import_queries(engagement, ba, entities=1, attributes=1, version="0")  # roles now cached
    small = import_queries(engagement, ba, entities=2, attributes=10, version="1")
    large = import_queries(engagement, ba, entities=2, attributes=50, version="2")

    # one COPY (PostgreSQL) or executemany (SQLite) per table, whatever the volume; the file in one
    assert small <= 21
    assert large == small


def test_more_entities_cost_no_more_statements(engagement, ba):
    import_queries(engagement, ba, entities=1, attributes=1, version="0")  # roles now cached
    few = import_queries(engagement, ba, entities=2, attributes=5, version="1")
    many = import_queries(engagement, ba, entities=6, attributes=5, version="2")

    assert many == few


def test_the_entity_page_has_a_bounded_number_of_queries(
    client, engagement, ba, django_assert_max_num_queries
):
    services.contract_import(
        engagement=engagement,
        file_name="g.yaml",
        content=generated_contract(entities=3, attributes=120),
        acting_user=ba,
    )
    for index in range(5):
        services.note_create(
            engagement=engagement,
            entity_name="entity_002",
            attribute_name=f"attr_{index + 10:03}",
            text="Seen in the Mart as a free-text column.",
            acting_user=ba,
        )
    client.force_login(ba)
    url = reverse("contract-entity", args=[engagement.slug, "entity_002"])

    # session, user, engagement, role, layer (2), entity, attributes, references (2), notes, and
    # what the base template asks for (notifications): the same for 3 or 300 attributes.
    with django_assert_max_num_queries(14):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.count(b'id="attr-') == 120


@pytest.mark.parametrize(
    "name,args,max_queries",
    [
        ("contract-overview", (), 14),
        ("contract-mandatory", (), 11),
        ("contract-semantics", (), 11),
        ("contract-erd", (), 11),
    ],
)
def test_the_contract_pages_do_not_query_per_entity_or_attribute(
    client, engagement, ba, django_assert_max_num_queries, name, args, max_queries
):
    services.contract_import(
        engagement=engagement,
        file_name="g.yaml",
        content=generated_contract(entities=25, attributes=40),
        acting_user=ba,
    )
    client.force_login(ba)

    with django_assert_max_num_queries(max_queries):
        response = client.get(reverse(name, args=[engagement.slug, *args]))

    assert response.status_code == 200


def test_the_imported_file_is_kept_beside_its_layer_and_no_layer_read_selects_it(engagement, ba):
    """The imported file is kept as it was read (megabytes for a large contract) in a table of its
    own: loading a layer, its entity's layer or publishing it never reads the file."""
    content = generated_contract(entities=3, attributes=5)
    layer = services.contract_import(
        engagement=engagement, file_name="g.yaml", content=content, acting_user=ba
    )

    with CaptureQueriesContext(connection) as captured:
        services.contract_publish(layer=layer, acting_user=ba)
        published = published_layer(engagement=engagement)
        entity = InterfaceEntity.objects.filter(layer=published).first()
        assert entity.layer.status == LayerStatus.PUBLISHED

    assert published.pk == layer.pk
    file_table = InterfaceLayerFile._meta.db_table
    assert not [q["sql"] for q in captured.captured_queries if file_table in q["sql"]]
    assert InterfaceLayerFile.objects.get(layer=layer).content == content.decode()
    # and it goes with a draft that is discarded
    draft = services.contract_import(
        engagement=engagement,
        file_name="g.yaml",
        content=generated_contract(entities=3, attributes=5, version="2.0.0"),
        acting_user=ba,
    )
    services.contract_discard(layer=draft, acting_user=ba)
    assert list(InterfaceLayerFile.objects.values_list("layer_id", flat=True)) == [layer.pk]
