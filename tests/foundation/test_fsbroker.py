"""The embedded broker (filesystem://) never lets a worker read a message before it is complete."""

import os
from queue import Empty

import pytest
from kombu import Connection

from advisor import config, fsbroker


@pytest.fixture
def channel():
    with Connection(
        "filesystem://", transport_options=config.filesystem_transport_options()
    ) as conn:
        assert isinstance(conn.transport, fsbroker.Transport)  # what filesystem:// now resolves to
        yield conn.default_channel


def test_it_hides_a_message_until_it_is_written_whole(channel, monkeypatch):
    queue = f"fsbroker-{os.getpid()}-{id(channel)}"
    seen_while_writing = []
    real_replace = os.replace

    def replace_after_looking(src, dst):
        # The payload is on disk but not yet renamed: a worker polling now must find nothing.
        with pytest.raises(Empty):
            channel._get(queue)
        seen_while_writing.append((os.path.getsize(src), os.path.exists(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(fsbroker.os, "replace", replace_after_looking)
    channel._put(queue, {"body": "ping"})
    size, final_existed = seen_while_writing[0]
    assert size > 0 and not final_existed
    assert channel._get(queue) == {"body": "ping"}
    leftovers = [n for n in os.listdir(channel.data_folder_in) if queue in n]
    assert leftovers == []
