"""``Bundle`` and its deterministic zip: the same files give the same bytes, every time.

Entries are sorted by path, stamped with one fixed date, given fixed Unix permissions (0755 for
scripts, 0644 for the rest) and compressed with one fixed level, so a bundle built twice from the
same recommendation is byte-identical and can be checksummed or cached.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

# The earliest timestamp a zip entry can hold (MS-DOS epoch); any fixed value works, this one
# makes it obvious that the date carries no meaning.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_COMPRESSION_LEVEL = 9
MODE_FILE = 0o644
MODE_EXECUTABLE = 0o755
_UNIX_REGULAR_FILE = 0o100000
_CREATE_SYSTEM_UNIX = 3


@dataclass(frozen=True)
class BundleFile:
    """One file: a relative POSIX path, its text, and its permission bits."""

    path: str
    content: str
    mode: int = MODE_FILE
    description: str = ""

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "content": self.content,
            "mode": oct(self.mode),
            "executable": self.executable,
            "description": self.description,
        }


@dataclass(frozen=True)
class Bundle:
    """The files for one recommendation, under ``root`` inside the zip."""

    root: str
    backend: str
    files: list[BundleFile] = field(default_factory=list)

    def file(self, path: str) -> BundleFile:
        """The file at ``path``; raises ``KeyError`` naming it when absent."""
        for item in self.files:
            if item.path == path:
                return item
        raise KeyError(path)

    @property
    def paths(self) -> list[str]:
        return [item.path for item in self.files]

    @property
    def filename(self) -> str:
        return f"{self.root}.zip"

    def to_zip(self) -> bytes:
        """The bundle as a zip archive; equal bundles give byte-identical archives."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for item in sorted(self.files, key=lambda f: f.path):
                info = zipfile.ZipInfo(f"{self.root}/{item.path}", date_time=ZIP_TIMESTAMP)
                info.create_system = _CREATE_SYSTEM_UNIX
                info.external_attr = (_UNIX_REGULAR_FILE | item.mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(
                    info, item.content.encode("utf-8"), compresslevel=ZIP_COMPRESSION_LEVEL
                )
        return buffer.getvalue()

    def sha256(self) -> str:
        return hashlib.sha256(self.to_zip()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "backend": self.backend,
            "filename": self.filename,
            "files": [item.as_dict() for item in self.files],
        }
