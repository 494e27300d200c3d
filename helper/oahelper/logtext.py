"""Text from outside, made safe to log or print: one line of printable characters.

A web page chooses the path it requests (``%0a`` decodes to a new line, ``%1b`` to
the terminal's escape character) and a pairing client chooses its own name: logged
as is, either would forge log lines or drive the terminal of whoever reads the log.
``printable`` writes every character that is not printable as a Python escape
(``\\n``, ``\\x1b``, ``\\u202e``), backslashes doubled so that an escape cannot be
faked either, and cuts what is very long.
"""

from __future__ import annotations

MAX_CHARS = 200


def printable(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` as one line of printable characters, at most ``limit`` of them (then "…")."""
    out: list[str] = []
    size = 0
    for char in text:
        if char == "\\":
            piece = "\\\\"
        elif char.isprintable():
            piece = char
        else:
            piece = repr(char)[1:-1] if char not in "'\"" else char
        size += len(piece)
        if size > limit:
            out.append("…")
            break
        out.append(piece)
    return "".join(out)
