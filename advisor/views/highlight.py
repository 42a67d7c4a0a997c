"""Server-side syntax highlighting for bundle previews (Pygments: no JavaScript needed).

Pure Python. The lexer is chosen by file name, with fallbacks for the names Pygments does not
know (Modelfile, .env files); anything else is shown as plain text, never guessed from content.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

# CSS class of the highlighted block; static/css/pygments.css styles it (see docs/ui.md).
CSS_CLASS = "highlight"
# Lexers by exact file name or suffix for files Pygments has no pattern for.
FALLBACK_LEXERS = {
    "Modelfile": "docker",  # Ollama's Modelfile is Dockerfile-like: FROM, PARAMETER, ...
    ".env": "bash",
    ".env.example": "bash",
    ".service": "ini",
    ".conf": "ini",
}


def lexer_name(path: str) -> str:
    """The Pygments lexer alias used for ``path`` ("text" when nothing fits)."""
    pure = PurePosixPath(path)
    for key in (pure.name, "".join(pure.suffixes[-2:]), pure.suffix):
        if key in FALLBACK_LEXERS:
            return FALLBACK_LEXERS[key]
    try:
        return get_lexer_for_filename(pure.name).aliases[0]
    except ClassNotFound:
        return "text"


def highlight_file(path: str, content: str) -> str:
    """HTML for ``content`` highlighted as the type of ``path``; the text is escaped by Pygments."""
    lexer = get_lexer_by_name(lexer_name(path), stripnl=False, ensurenl=False)
    return highlight(content, lexer, HtmlFormatter(cssclass=CSS_CLASS, wrapcode=True))


def stylesheet() -> str:
    """The CSS for highlighted blocks (written to static/css/pygments.css)."""
    return HtmlFormatter(style="default").get_style_defs(f".{CSS_CLASS}")
