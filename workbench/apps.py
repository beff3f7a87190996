from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = "Engagements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, phase_outputs, tasks  # noqa: F401 — registers checks, phase outputs, jobs
