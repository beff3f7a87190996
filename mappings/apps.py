from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register demo steps (catalog, then mapping), phase outputs and jobs.
        from contracts.hooks import register_affected_mappings_provider

        from . import demo, demo_mapping, mapping_phases, phases, tasks  # noqa: F401
        from .selectors.gap import affected_by_contract_diff

        register_affected_mappings_provider(affected_by_contract_diff)
