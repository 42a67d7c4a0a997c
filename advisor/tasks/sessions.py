from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(name="advisor.clear_sessions", ignore_result=True)
def clear_sessions() -> None:
    """Delete expired sessions, as ``manage.py clearsessions`` does (sent daily by beat).

    Anonymous visitors of an open install keep a session to own their rows; Django's database
    sessions are never deleted on their own ("Clearing the session store", Django 5.2 docs,
    topics/http/sessions).
    """
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
