from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = "Engagements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import phase_outputs, tasks  # noqa: F401 — registers phase outputs and job runners
