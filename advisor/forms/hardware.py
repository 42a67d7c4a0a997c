"""Hardware forms: upload a report from another host, probe this host or a remote one.

The forms only collect input; the hardware service validates (field by field for a report) and
its ``AdvisorError`` messages are shown on the fields.
"""

from __future__ import annotations

from django import forms

# An uploaded report is a few kilobytes; the service refuses anything over its own limit.
MAX_UPLOAD_BYTES = 1_000_000


def _urls(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


class ServerUrlsField(forms.CharField):
    """Comma- or line-separated URLs, as a list (the service checks each one)."""

    def to_python(self, value):
        return _urls(super().to_python(value) or "")


class ProbeForm(forms.Form):
    server_urls = ServerUrlsField(
        label="Also look for LLM servers at (optional)",
        required=False,
        max_length=2000,
        help_text="Comma-separated base URLs besides Ollama on :11434 and vLLM on :8000.",
    )


class RemoteProbeForm(ProbeForm):
    """Shares the page with ``ProbeForm``: the ``remote`` prefix keeps names and ids apart."""

    prefix = "remote"
    host = forms.CharField(
        label="Host name",
        max_length=100,
        help_text="The <name> of a worker started there with: celery -A advisor worker -Q host.<name>",
    )


class UploadForm(forms.Form):
    """A report file or pasted JSON (``python -m probes --json`` on the other host)."""

    file = forms.FileField(label="Report file (JSON)", required=False)
    text = forms.CharField(
        label="…or paste the report",
        required=False,
        max_length=MAX_UPLOAD_BYTES,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="The output of python -m probes --json on the host that will serve the model.",
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            self.add_error("file", f"The file is larger than {MAX_UPLOAD_BYTES // 1000} kB.")
        elif upload is None and not (cleaned.get("text") or "").strip() and not self.errors:
            raise forms.ValidationError("Choose a report file or paste one.")
        return cleaned

    def report_text(self) -> bytes | str:
        upload = self.cleaned_data.get("file")
        return upload.read() if upload is not None else self.cleaned_data["text"]
