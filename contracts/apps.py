from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Interface Layer contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import demo, phases, tasks  # noqa: F401 — registers the phase outputs and demo step
