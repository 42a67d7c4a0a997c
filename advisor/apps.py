from django.apps import AppConfig


class AdvisorConfig(AppConfig):
    name = "advisor"
    verbose_name = "LLM Serving Advisor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Import the Celery app so shared_task binds to it in web processes too.
        from advisor.celery import app  # noqa: F401
