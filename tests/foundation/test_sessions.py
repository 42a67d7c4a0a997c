"""Beat's daily session clean-up deletes expired sessions and keeps live ones."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from advisor.tasks.sessions import clear_sessions

pytestmark = pytest.mark.django_db


def test_it_deletes_expired_sessions_and_keeps_live_ones():
    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["advisor_visitor"] = "key"
        store.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    clear_sessions.apply()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert settings.CELERY_BEAT_SCHEDULE["clear-sessions"]["task"] == clear_sessions.name
