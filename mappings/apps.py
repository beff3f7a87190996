from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the demo step, the phase outputs, and who a contract change affects.
        from contracts.hooks import register_affected_mappings_provider

        from . import demo, phases  # noqa: F401
        from .selectors.gap import affected_by_contract_diff

        register_affected_mappings_provider(affected_by_contract_diff)
