"""Validation of names and relative file names that come from outside.

Names of models, users and aliases are identifiers, never paths: letters, digits,
``.``, ``_`` and ``-``, starting with a letter or digit, at most 128 characters. They
are matched whole (``fullmatch``): with ``re.match``, ``$`` also matches before a final
newline, so ``"iris\n"`` passed as a twin of ``iris``. Labels (a token's name) are free
text for people, refused when they hold control or format characters (newline, NUL, a
right-to-left override) or are not in Unicode NFC form, so no two look alike.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from modelsteward.errors import InvalidInput

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ALIAS = re.compile(r"[a-z][a-z0-9_-]{0,63}")


def _shown(value: str) -> str:
    return repr(value[:40] + ("…" if len(value) > 40 else ""))


def check_name(value: str, *, what: str = "name") -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(
            f"invalid {what} {_shown(str(value))}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def check_alias(value: str) -> str:
    if not isinstance(value, str) or not _ALIAS.fullmatch(value) or value.isdigit():
        raise InvalidInput(
            f"invalid alias {_shown(str(value))}: use 1-64 lower-case letters, digits, '_' "
            "or '-', starting with a letter"
        )
    return value


def check_label(value: str, *, what: str = "label", max_length: int = 128) -> str:
    """Free text naming something for people: printable, NFC, 1 to ``max_length`` long."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(f"a {what} must be 1-{max_length} characters, not only spaces")
    if any(unicodedata.category(c)[0] == "C" for c in value):
        raise InvalidInput(
            f"invalid {what} {_shown(value)}: control and format characters (newlines, NUL, "
            "direction overrides) are not allowed"
        )
    if not unicodedata.is_normalized("NFC", value):
        raise InvalidInput(
            f"invalid {what} {_shown(value)}: send it in Unicode NFC form (composed "
            "characters), so that it cannot look like another"
        )
    return value


def fully_unquoted(value: str, rounds: int = 5) -> str:
    """Undo percent-encoding repeatedly, so ``%252e%252e`` is seen as ``..``."""
    for _ in range(rounds):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value


def check_relative_file_name(value: str) -> str:
    """A display name for an uploaded file: relative, no '..', no control characters."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidInput("file names must be 1-255 characters")
    decoded = fully_unquoted(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded) or "\\" in decoded:
        raise InvalidInput(f"file name {_shown(value)} contains forbidden characters")
    parts = decoded.split("/")
    if decoded.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidInput(f"file name {_shown(value)} must be a plain relative path")
    return value
