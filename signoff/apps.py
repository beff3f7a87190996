from django.apps import AppConfig


class SignoffConfig(AppConfig):
    name = "signoff"
    verbose_name = "Reviews and sign-off"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the phase outputs, the demo step, the e-mail task and the change listener.
        from . import demo, phases, signals, tasks  # noqa: F401
