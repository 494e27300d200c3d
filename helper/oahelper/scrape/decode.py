"""Turn page bytes into text without ever failing.

Order, as a browser would without HTTP headers: a byte-order mark, then a charset
declared in the document's head (``<meta charset>`` or ``http-equiv``, or an XML
declaration), then strict UTF-8, then Windows-1252 (old static sites such as
Genders send undeclared cp1252 bytes). Labels mean what the WHATWG Encoding
Standard says they mean, through its table (the ``webencodings`` package): a label
not in it (UTF-7, EBCDIC, rot13…) is ignored as every browser ignores it, a UTF-16
label in the markup means UTF-8, ``x-user-defined`` Windows-1252, and the labels of
the "replacement" encoding (ISO-2022-KR, HZ…) make the page unreadable, as in a
browser. Bytes that do not fit the declared encoding are replaced, not fatal.
"""

from __future__ import annotations

import codecs
import re

import webencodings

from oahelper.errors import ScrapeError

# What the Encoding Standard's prescan turns a declared encoding into: a page that
# can declare itself in ASCII is not UTF-16, whatever it says.
_PRESCAN_OVERRIDES = {"utf-16le": "utf-8", "utf-16be": "utf-8", "x-user-defined": "windows-1252"}
# The WHATWG encoding that decodes any input to a single U+FFFD.
REPLACEMENT = "replacement"
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


def _meta_charset(lowered: bytes, end: int) -> re.Match[bytes] | None:
    """The first ``charset=`` that sits inside a <meta> tag before ``end``.

    One pass: the nearest "<" and ">" before each "charset" are searched for only
    back to the previous one (a head full of "charset" is not read once per word)."""
    tag_start = last_gt = -1
    scanned = 0
    pos = lowered.find(b"charset", 0, end)
    while pos >= 0:
        lt, gt = lowered.rfind(b"<", scanned, pos), lowered.rfind(b">", scanned, pos)
        tag_start, last_gt, scanned = max(tag_start, lt), max(last_gt, gt), pos
        if tag_start > last_gt and lowered.startswith(b"<meta", tag_start):
            match = _CHARSET_VALUE.match(lowered, pos)
            if match:
                return match
        pos = lowered.find(b"charset", pos + 7, end)
    return None


def declared_charset(data: bytes) -> str | None:
    """The Python codec named by a BOM or a declaration in the head, if any
    (``REPLACEMENT`` for the labels whose pages a browser does not read)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    end_match = _HEAD_END.search(data, 0, 4 * _SNIFF_LIMIT)
    end = end_match.start() if end_match else _SNIFF_LIMIT
    match = _XML_ENCODING.match(data) or _meta_charset(data[:end].lower(), end)
    if not match:
        return None
    return codec_for_label(match.group(1).decode("ascii"), in_markup=True)


def codec_for_label(label: str, *, in_markup: bool = False) -> str | None:
    """The Python codec for an encoding label, by the Encoding Standard's table:
    None for a label not in it, ``REPLACEMENT`` for one a browser does not read.
    ``in_markup``: the label was declared in the page itself (UTF-16 then means UTF-8)."""
    encoding = webencodings.lookup(label)
    if encoding is None:
        return None
    name = _PRESCAN_OVERRIDES.get(encoding.name, encoding.name) if in_markup else encoding.name
    if name == REPLACEMENT:
        return REPLACEMENT
    # x-user-defined is webencodings' own codec; Windows-1252 reads its ASCII the same.
    codec: str = webencodings.lookup(_PRESCAN_OVERRIDES.get(name, name) if name == "x-user-defined"
                                     else name).codec_info.name  # a codecs.CodecInfo's name
    return codec


def decode_labelled(data: bytes, label: str | None) -> str | bytes:
    """``data`` decoded by the encoding an HTTP header named, when the Encoding
    Standard knows the label; else the bytes, for ``decode_html`` to read the page's
    own declaration."""
    codec = codec_for_label(label) if label else None
    if codec == REPLACEMENT:
        return "\ufffd"
    return data.decode(codec, errors="replace") if codec else data


def decode_html(data: bytes) -> str:
    """The page's text, decoded by the rules in this module's docstring."""
    charset = declared_charset(data)
    if charset == REPLACEMENT:
        return "\ufffd"
    if charset:
        text = data.decode(charset, errors="replace")
        # A BOM is not part of the text.
        return text[1:] if text.startswith("\ufeff") else text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# Larger than any real landing page (the biggest in our corpus is 1.2 MB); a
# bigger input is a mistake or an attack, not an article.
MAX_HTML_CHARS = 32 * 1024 * 1024


def page_text(html: str | bytes) -> str:
    """Page input as text: bytes decoded as a browser would, both kinds size-checked."""
    if isinstance(html, (bytes, bytearray, memoryview)):
        if len(html) > MAX_HTML_CHARS:
            raise ScrapeError(f"page is larger than {MAX_HTML_CHARS} bytes")
        return decode_html(bytes(html))
    if isinstance(html, str):
        if len(html) > MAX_HTML_CHARS:
            raise ScrapeError(f"page is larger than {MAX_HTML_CHARS} characters")
        return html
    raise ScrapeError(f"page HTML must be text or bytes, not {type(html).__name__}")
