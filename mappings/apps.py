from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import demo, phases, tasks  # noqa: F401 — register demo step, phase outputs, jobs
