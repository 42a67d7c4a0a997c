"""An open install (no logins): what an anonymous browser session makes is its own. Another
visitor neither sees nor cancels it, API users' rows stay theirs, each session has its own
hourly load-test budget, and the budget holds under parallel posts."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from advisor.errors import AdvisorError
from advisor.loadtest.policy import LOADTESTS_PER_USER_PER_HOUR
from advisor.models import Assessment, HardwareReport, HardwareSource, LoadTest, LoadTestStatus
from advisor.services.hardware import hardware_report_create
from advisor.services.loadtests import loadtest_create
from tests.api.factories import make_user
from tests.web.factories import make_assessment, make_load_test, report_data

pytestmark = pytest.mark.django_db

QUESTIONNAIRE = {"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb", "gpu_count": "1"}
LOAD_TEST = {"base_url": "http://127.0.0.1:9", "model": "tiny", "api": "auto", "concurrency": "1"}


def visitor_rows(client: Client, django_capture_on_commit_callbacks):
    """One assessment, one uploaded report and one load test made by ``client`` through the pages."""
    import json

    client.post("/assess/", QUESTIONNAIRE)
    client.post("/hardware/upload/", {"text": json.dumps(report_data())})
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/loadtests/new/", LOAD_TEST)
    return Assessment.objects.get(), HardwareReport.objects.get(), LoadTest.objects.get()


def test_another_visitor_neither_sees_nor_cancels_my_rows(django_capture_on_commit_callbacks):
    me, stranger = Client(), Client()
    assessment, report, load_test = visitor_rows(me, django_capture_on_commit_callbacks)
    assert assessment.visitor and assessment.visitor == report.visitor == load_test.visitor
    for url in (
        f"/assessments/{assessment.pk}/",
        f"/recommendations/{assessment.recommendations.get().pk}/bundle/",
        f"/hardware/{report.pk}/",
        f"/hardware/{report.pk}.json",
        f"/loadtests/{load_test.pk}/",
    ):
        assert me.get(url).status_code == 200, url
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/loadtests/{load_test.pk}/cancel/").status_code == 404
    load_test.refresh_from_db()
    assert load_test.status == LoadTestStatus.QUEUED and not load_test.cancel_requested
    for page in ("/history/", "/loadtests/", "/hardware/", "/"):
        assert str(load_test.pk) not in stranger.get(page).content.decode()
    assert str(assessment.pk) not in stranger.get("/history/").content.decode()
    assert str(assessment.pk) in me.get("/history/").content.decode()
    assert me.post(f"/loadtests/{load_test.pk}/cancel/").status_code == 302


def test_anonymous_visitors_never_see_an_api_users_rows(client):
    alice = make_user()
    assessment = make_assessment()
    Assessment.objects.filter(pk=assessment.pk).update(owner=alice)
    report = hardware_report_create(report=report_data(), source=HardwareSource.UPLOAD, owner=alice)
    run = make_load_test(owner=alice)
    assert client.get(f"/assessments/{assessment.pk}/").status_code == 404
    assert client.get(f"/hardware/{report.pk}.json").status_code == 404
    assert client.get(f"/loadtests/{run.pk}/").status_code == 404
    assert client.post(f"/loadtests/{run.pk}/cancel/").status_code == 404


def test_rows_the_command_line_made_stay_readable_by_link_but_not_cancellable(client):
    """`manage.py probe --save` and the demo store rows with no owner: the operator's pages on
    an open install show them (the demo prints their links); only their own may be cancelled."""
    assessment = make_assessment()  # made by the services with no owner or visitor, as the CLI does
    run = make_load_test(status=LoadTestStatus.RUNNING, levels=())
    assert client.get(f"/assessments/{assessment.pk}/").status_code == 200
    assert client.get(f"/loadtests/{run.pk}/").status_code == 200
    assert client.post(f"/loadtests/{run.pk}/cancel/").status_code == 404


def test_an_anonymous_visitor_cannot_attach_another_visitors_report(client):
    theirs = hardware_report_create(
        report=report_data(), source=HardwareSource.UPLOAD, visitor="someone-else"
    )
    response = client.post("/assess/", QUESTIONNAIRE | {"hardware_report": str(theirs.pk)})
    assert response.status_code == 400 and not Assessment.objects.exists()


def test_each_anonymous_session_has_its_own_hourly_load_test_budget(
    django_capture_on_commit_callbacks,
):
    first, second = Client(), Client()
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(LOADTESTS_PER_USER_PER_HOUR):
            assert first.post("/loadtests/new/", LOAD_TEST).status_code == 302
        refused = first.post("/loadtests/new/", LOAD_TEST)
        assert refused.status_code == 400 and "the limit is" in refused.content.decode()
        assert second.post("/loadtests/new/", LOAD_TEST).status_code == 302  # not the same bucket


@pytest.mark.django_db(transaction=True)
def test_the_hourly_cap_holds_under_parallel_posts():
    """30 starts at once for one visitor: exactly the cap gets in, each of the others is refused.
    (On PostgreSQL the count and insert wait on an advisory lock; SQLite admits one writer.)"""
    started, refused, crashed = [], [], []
    barrier = threading.Barrier(30)

    def start() -> None:
        try:
            barrier.wait()
            row = loadtest_create(
                visitor="one-visitor",
                config={"base_url": "http://127.0.0.1:9", "model": "m", "concurrency": "1"},
                enqueue=False,
            )
            started.append(row.pk)
        except AdvisorError:
            refused.append(1)
        except Exception as exc:  # e.g. "database is locked": must not happen either
            crashed.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashed == []
    assert len(started) == LOADTESTS_PER_USER_PER_HOUR and len(refused) == 30 - len(started)
    assert LoadTest.objects.filter(visitor="one-visitor").count() == LOADTESTS_PER_USER_PER_HOUR


def test_parallel_form_posts_at_the_cap_start_exactly_the_cap(live_server):
    """The attack as it was made: one browser session posting the form at once against the
    running server (threads, real HTTP, CSRF and session cookies), right at the cap. Ten at a
    time: the test server's listen backlog (Django's WSGIServer.request_queue_size) is ten."""
    import re

    import requests

    session = requests.Session()
    page = session.get(f"{live_server.url}/loadtests/new/", timeout=30).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = LOAD_TEST | {"csrfmiddlewaretoken": token}
    headers = {"Referer": f"{live_server.url}/loadtests/new/"}

    def post() -> int:
        return session.post(
            f"{live_server.url}/loadtests/new/",
            data=form,
            headers=headers,
            allow_redirects=False,
            timeout=120,
        ).status_code

    before = LOADTESTS_PER_USER_PER_HOUR - 5
    for _ in range(before):  # the first one gives the session its visitor key
        assert post() == 302
    statuses: list[int] = []
    failures: list[str] = []
    barrier = threading.Barrier(10)

    def racer() -> None:
        barrier.wait()
        try:
            statuses.append(post())
        except requests.RequestException as exc:
            failures.append(repr(exc))

    threads = [threading.Thread(target=racer) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(statuses) == [302] * 5 + [400] * 5
    assert LoadTest.objects.count() == LOADTESTS_PER_USER_PER_HOUR
