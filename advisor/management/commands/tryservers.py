"""``python manage.py tryservers``: a vLLM-like and an Ollama-like server on loopback, to try the
measure-and-compare loop in a minute without installing an engine.

Both are ``advisor.loadtest.testserver.ScriptedServer``: the same scripted timing per token, the
vLLM-like one serving every request at once (continuous batching), the Ollama-like one serving
them in turn (Ollama's default of one request at a time, ``OLLAMA_NUM_PARALLEL=1``). So the
difference a load test shows is the scheduling alone, which is the point of the demo; their
speed is not a real engine's. They listen on 127.0.0.1 only and stop after ``--minutes``.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.testserver import Discipline, ScriptedServer

DEFAULT_VLLM_PORT = 18000  # vLLM's 8000 and Ollama's 11434 with a 1 in front: free of both
DEFAULT_OLLAMA_PORT = 18434
DEFAULT_MODEL = "demo-model"
# A small GPU's pace for an 8B model: 60 ms to the first token, then 25 ms per token.
TTFT_S = 0.06
ITL_S = 0.025
DEFAULT_MINUTES = 30.0


class Command(BaseCommand):
    help = "Start a scripted vLLM-like and Ollama-like server on loopback for a first load test."

    def add_arguments(self, parser):
        parser.add_argument("--vllm-port", type=int, default=DEFAULT_VLLM_PORT)
        parser.add_argument("--ollama-port", type=int, default=DEFAULT_OLLAMA_PORT)
        parser.add_argument("--model", default=DEFAULT_MODEL)
        parser.add_argument(
            "--minutes", type=float, default=DEFAULT_MINUTES, help="stop after this long"
        )

    def handle(self, *args, **opts):
        if opts["minutes"] <= 0:
            raise CommandError("--minutes must be above 0")
        kinds = (
            ("vLLM-like (every request at once)", ServerKind.VLLM, Discipline.ALL_AT_ONCE),
            ("Ollama-like (one request at a time)", ServerKind.OLLAMA, Discipline.ONE_AT_A_TIME),
        )
        ports = {ServerKind.VLLM: opts["vllm_port"], ServerKind.OLLAMA: opts["ollama_port"]}
        servers = {
            name: ScriptedServer(
                kind=kind,
                discipline=discipline,
                ttft_s=TTFT_S,
                itl_s=ITL_S,
                model=opts["model"],
                port=ports[kind],
            )
            for name, kind, discipline in kinds
        }
        started = []
        try:
            for name, server in servers.items():
                try:
                    server.start()
                except (OSError, RuntimeError) as exc:
                    raise CommandError(
                        f"{name} could not listen on port {server.port}: {exc}"
                    ) from exc
                started.append(server)
                self.stdout.write(f"{name}: {server.url}  (model {server.model})")
            self.stdout.write("\nMeasure both (in another terminal):")
            for server in started:
                self.stdout.write(
                    f"  .venv/bin/python manage.py loadtest --base-url {server.url} "
                    f"--model {server.model} --concurrency 1,2,4,8 --max-tokens 32"
                )
            self.stdout.write(
                "or open Load tests in the web app and pick them from the list of found servers."
            )
            self.stdout.write(f"Stopping after {opts['minutes']:g} minutes; Ctrl-C stops sooner.")
            self.stdout.flush()
            time.sleep(opts["minutes"] * 60)
        except KeyboardInterrupt:
            pass
        finally:
            for server in started:
                server.stop()
