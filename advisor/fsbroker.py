"""kombu's filesystem transport (the embedded broker), with each message written whole before a
worker can see it.

kombu 5.7's ``filesystem.Channel._put`` creates ``<ms>_<uuid>.<queue>.msg`` and then writes the
payload into it; a worker's ``_get`` lists the folder, moves the first matching file away and reads
it. On a busy machine the worker can take the file between the create and the write: it reads an
empty payload, ``json.loads`` raises, Celery stops the worker ("Unrecoverable error:
JSONDecodeError") and the message is lost (seen in this suite with one core kept busy). Here the
payload goes to ``<name>.part``, which ``_get`` skips (it takes only names ending in
``<queue>.msg``), and is renamed into place when complete: a rename within one folder is atomic.

``advisor.celery`` imports this module, which points kombu's ``filesystem://`` at it.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written under a private name, then renamed."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = "advisor.fsbroker:Transport"
