from celery import shared_task

from advisor import __version__


@shared_task(name="advisor.ping", acks_late=False, ignore_result=False)
def ping() -> dict:
    """Answer a health check: proves a worker took a message off the broker and replied."""
    return {"pong": True, "version": __version__}
