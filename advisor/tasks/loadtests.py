from celery import shared_task

from advisor.services.loadtests import REAP_TASK_NAME, TASK_NAME, loadtest_reap_stale, loadtest_run


@shared_task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_load_test(load_test_id: str, api_key: str = "") -> str:
    """Run one queued load test (routed to the ``loadtests`` queue or ``host.<name>``);
    ``api_key`` comes in the message only (``loadtest_enqueue``)."""
    load_test = loadtest_run(load_test_id=load_test_id, api_key=api_key)
    return str(load_test.status) if load_test is not None else "missing"


@shared_task(name=REAP_TASK_NAME, ignore_result=True)
def reap_load_tests() -> int:
    """Fail tests whose worker died or that no worker took (sent by Celery beat, ``worker -B``)."""
    return loadtest_reap_stale()
