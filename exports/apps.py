from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import phases, tasks  # noqa: F401 — job runners and phase outputs
        from .spec import phases as spec_phases  # noqa: F401 — the KT docs output
        from .testrun import demo  # noqa: F401 — the demo test run (after the mapping demo)
