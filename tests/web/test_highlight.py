"""Bundle previews are highlighted on the server, with the text escaped."""

from __future__ import annotations

import pytest

from advisor.views.highlight import highlight_file, lexer_name


@pytest.mark.parametrize(
    ("path", "lexer"),
    [
        ("compose.yaml", "yaml"),
        ("run.sh", "bash"),
        ("Modelfile", "docker"),
        (".env.example", "bash"),
        ("x.weird", "text"),
    ],
)
def test_it_picks_the_lexer_by_file_name(path, lexer):
    assert lexer_name(path) == lexer


def test_it_escapes_markup_in_the_file():
    html = highlight_file("notes.txt", "<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
