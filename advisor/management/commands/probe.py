"""``python manage.py probe``: probe this host, a remote one, or store a report file.

manage.py probe                       # probe this host, store the report (source local)
manage.py probe --host gpu-1          # ask the worker on queue host.gpu-1 (source remote)
manage.py probe --upload report.json  # validate and store a report from another host
manage.py probe --list-hosts          # workers listening on host.* queues
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.models import HardwareSource
from advisor.services.hardware import (
    hardware_hosts_list,
    hardware_report_create,
    hardware_report_load_json,
    hardware_report_probe_local,
    hardware_report_probe_remote,
)
from probes.text import summary


class Command(BaseCommand):
    help = "Probe this host or a remote one (or store a report file) and save the hardware report."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--host", help="probe through the worker on queue host.<HOST>")
        source.add_argument("--upload", metavar="FILE", help="store this JSON report file")
        source.add_argument("--list-hosts", action="store_true", help="list remote hosts")
        parser.add_argument(
            "--server", action="append", default=[], metavar="URL", help="also probe this server"
        )
        parser.add_argument("--json", action="store_true", help="print the stored report as JSON")

    def handle(self, *args, **opts):
        if opts["list_hosts"]:
            hosts = hardware_hosts_list()
            for host in hosts:
                self.stdout.write(f"{host.name}\t{host.queue}\t{', '.join(host.workers)}")
            if not hosts:
                self.stdout.write("No worker listens on a host.* queue (or the broker cannot say).")
            return
        try:
            if opts["upload"]:
                text = Path(opts["upload"]).read_bytes()
                report = hardware_report_create(
                    report=hardware_report_load_json(text=text), source=HardwareSource.UPLOAD
                )
            elif opts["host"]:
                report = hardware_report_probe_remote(host=opts["host"], server_urls=opts["server"])
            else:
                report = hardware_report_probe_local(server_urls=opts["server"])
        except OSError as exc:
            raise CommandError(f"--upload: {exc}") from None
        except AdvisorValidationError as exc:
            lines = [f"  {field}: {'; '.join(msgs)}" for field, msgs in exc.errors.items()]
            raise CommandError("\n".join(["invalid report, nothing stored:", *lines])) from None
        except AdvisorError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.report, indent=2))
        else:
            self.stdout.write(summary(report.report))
            self.stdout.write(
                f"Stored hardware report {report.pk} ({report.get_source_display()})."
            )
