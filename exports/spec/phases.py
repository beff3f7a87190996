"""The state of the knowledge-transfer documentation (phase 6), shown on the dashboard."""

from __future__ import annotations

from django.urls import reverse

from exports.phases import etl_design_statuses
from mappings.models import EntityMapping
from workbench.phases import OutputState, OutputStatus, phase_output, phase_statuses


@phase_output("kt_docs")
def kt_docs_state(engagement) -> OutputState:
    tables = list(
        EntityMapping.objects.filter(engagement=engagement).values_list("driving_table", flat=True)
    )
    documented = sum(1 for table in tables if table)
    url = reverse("kt-index", args=[engagement.slug])
    if not documented:
        return OutputState(OutputStatus.NOT_STARTED, "no entity mapped yet", url)
    status = OutputStatus.DONE if documented == len(tables) else OutputStatus.IN_PROGRESS
    return OutputState(status, f"{documented} of {len(tables)} entities documented", url)


# An entity is documented when it has a driving table, as it is designed for the ETL: in bulk
# (the engagement list) both outputs have the same status.
phase_statuses("kt_docs")(etl_design_statuses)
