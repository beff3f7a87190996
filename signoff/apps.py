from django.apps import AppConfig


class SignoffConfig(AppConfig):
    name = "signoff"
    verbose_name = "Reviews and sign-off"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the phase outputs, the demo step and the home's "waiting for you"; listen to
        # mapping changes to tell the approvers whose sign-off they invalidated; show the mapping
        # pages each approval's state.
        from mappings.events import register_spec_change_handler
        from mappings.hooks import register_approval_state_provider

        from . import demo, phases, waiting  # noqa: F401
        from .selectors import changed_since_signoff
        from .services import tell_approvers_of_change

        register_spec_change_handler(tell_approvers_of_change)
        register_approval_state_provider(changed_since_signoff)
