"""Turn page bytes into text without ever failing.

Order, as a browser would without HTTP headers: a byte-order mark, then a charset
declared in the document's head (``<meta charset>`` or ``http-equiv``, or an XML
declaration), then strict UTF-8, then Windows-1252 (old static sites such as
Genders send undeclared cp1252 bytes). A declared charset Python does not know
is ignored; bytes that do not fit the declared one are replaced, not fatal.
"""

from __future__ import annotations

import codecs
import re

# Browsers treat these labels as other encodings (WHATWG Encoding Standard).
_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252",
    "utf8": "utf-8",
    # A page that can declare itself in ASCII is not UTF-16, whatever it says.
    "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8", "unicode": "utf-8",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A declaration: ``charset=NAME`` inside a <meta> tag, or an XML declaration's
# ``encoding="NAME"``. Found by a plain search for "charset" first, because a
# regular expression that tries every <meta> of a 60 KB head is slow.
_CHARSET_VALUE = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.IGNORECASE)
# How far to look for a declaration when the head never closes.
_SNIFF_LIMIT = 64 * 1024
_ASCII_PROBE = b'<meta charset="x-probe">'


def _meta_charset(lowered: bytes, end: int) -> re.Match[bytes] | None:
    """The first ``charset=`` that sits inside a <meta> tag before ``end``."""
    pos = lowered.find(b"charset", 0, end)
    while pos >= 0:
        tag_start = lowered.rfind(b"<", 0, pos)
        if tag_start >= 0 and lowered.startswith(b"<meta", tag_start) \
                and b">" not in lowered[tag_start:pos]:
            match = _CHARSET_VALUE.match(lowered, pos)
            if match:
                return match
        pos = lowered.find(b"charset", pos + 7, end)
    return None


def declared_charset(data: bytes) -> str | None:
    """The Python codec named by a BOM or a declaration in the head, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    end_match = _HEAD_END.search(data, 0, 4 * _SNIFF_LIMIT)
    end = end_match.start() if end_match else _SNIFF_LIMIT
    match = _XML_ENCODING.match(data) or _meta_charset(data[:end].lower(), end)
    if not match:
        return None
    label = match.group(1).decode("ascii").lower()
    label = _ALIASES.get(label, label)
    # The declaration was just read as ASCII, so a codec in which ASCII does not
    # read as itself (EBCDIC, UTF-32, punycode) cannot be the page's, and one that
    # is no text encoding at all (rot13, base64, hex, idna, undefined) raises:
    # browsers ignore both kinds of label.
    try:
        name = codecs.lookup(label).name
        probe = _ASCII_PROBE.decode(name, errors="replace")
    except (LookupError, UnicodeError):
        return None
    return name if probe == _ASCII_PROBE.decode("ascii") else None


def decode_html(data: bytes) -> str:
    """The page's text, decoded by the rules in this module's docstring."""
    charset = declared_charset(data)
    if charset:
        text = data.decode(charset, errors="replace")
        # A BOM is not part of the text.
        return text[1:] if text.startswith("\ufeff") else text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
