from django.apps import AppConfig


class SignoffConfig(AppConfig):
    name = "signoff"
    default_auto_field = "django.db.models.BigAutoField"
