from celery import shared_task

from advisor.services.loadtests import TASK_NAME, loadtest_run


@shared_task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_load_test(load_test_id: str, api_key: str = "") -> str:
    """Run one queued load test (routed to the ``loadtests`` queue or ``host.<name>``);
    ``api_key`` comes in the message only (``loadtest_enqueue``)."""
    return str(loadtest_run(load_test_id=load_test_id, api_key=api_key).status)
