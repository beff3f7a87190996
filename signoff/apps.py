from django.apps import AppConfig


class SignoffConfig(AppConfig):
    name = "signoff"
    verbose_name = "Reviews and sign-off"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the phase outputs and the demo step; listen to mapping changes to tell the
        # approvers whose sign-off they invalidated.
        from mappings.events import register_spec_change_handler

        from . import demo, phases, tasks  # noqa: F401
        from .services import tell_approvers_of_change

        register_spec_change_handler(tell_approvers_of_change)
