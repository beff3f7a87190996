from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the demo step, the phase outputs and the jobs of source understanding.
        from . import demo, phases, tasks  # noqa: F401
