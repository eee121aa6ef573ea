"""Decoding text and HTML files: UTF-8 or one of the Japanese encodings.

A byte-order mark or the page's own ``<meta charset>`` first, then UTF-8, then
charset-normalizer choosing among the Japanese encodings (Shift_JIS/CP932, EUC-JP,
ISO-2022-JP). How a file was decoded goes into the document's details.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

# Declared names -> Python codecs to try, most likely first. Shift_JIS pages use CP932's extra
# characters (①, ㈱, ...) freely, so CP932 (what browsers decode "Shift_JIS" as) comes first.
_CODEC_FAMILIES = {
    "cp932": ("cp932", "shift_jis_2004"),
    "euc_jp": ("euc_jp", "euc_jis_2004"),
    "iso2022_jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_ext"),
    "utf-8": ("utf-8",),
    "cp1252": ("cp1252", "latin-1"),
}
_ALIASES = {
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "s-jis", "ms_kanji", "ms-kanji", "csshiftjis",
                     "windows-31j", "cp932", "ms932", "x-ms-cp932", "shift_jisx0213", "shift_jis_2004"), "cp932"),
    **dict.fromkeys(("euc-jp", "eucjp", "euc_jp", "x-euc-jp", "cseucpkdfmtjapanese", "ujis", "euc-jis-2004"),
                    "euc_jp"),
    **dict.fromkeys(("iso-2022-jp", "iso2022jp", "iso2022_jp", "csiso2022jp", "jis", "iso-2022-jp-2"), "iso2022_jp"),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
    # WHATWG: pages labelled latin-1 or ASCII are decoded as windows-1252
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "windows-1252", "cp1252"),
                    "cp1252"),
}
_JAPANESE_CODECS = ["cp932", "euc_jp", "iso2022_jp"]  # what charset-normalizer may choose from
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_ISO2022_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I", b"\x1b$(D", b"\x1b$(Q")


@dataclass
class Decoded:
    text: str
    encoding: str  # the Python codec used, e.g. "utf-8", "cp932", "euc_jp", "iso2022_jp"
    source: str  # how it was chosen: "bom", "declared", "utf-8", "iso-2022-jp escapes", "detected"
    declared: str | None = None  # the label the file declared, if any
    replaced: int = 0  # undecodable bytes replaced (only ever for a declared encoding)


def declared_charset(raw: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KB (``<meta charset>``, http-equiv, XML)."""
    head = raw[:4096]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "replace").strip().lower() if m else None


def _codecs_for(label: str) -> tuple[str, ...]:
    family = _ALIASES.get(label.lower())
    if family:
        return _CODEC_FAMILIES[family]
    try:
        return (codecs.lookup(label).name,)
    except LookupError:
        return ()


def _looks_japanese(text: str) -> bool:
    """Text decoded with a Japanese codec is Japanese: kana among its non-ASCII characters,
    few half-width katakana (what EUC-JP or Latin-1 bytes turn into when read as Shift_JIS),
    no private-use or unassigned characters."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return True
    kana = sum("\u3040" <= ch <= "\u30ff" for ch in wide)
    halfwidth = sum("\uff61" <= ch <= "\uff9f" for ch in wide)
    odd = sum(unicodedata.category(ch) in ("Co", "Cn", "Cs") for ch in wide)
    return odd == 0 and halfwidth <= 0.2 * len(wide) and (kana > 0 or len(wide) < 20)


def decode_bytes(raw: bytes, declared: str | None = None) -> Decoded | str:
    """Decode a file's bytes; returns the text or the reason it cannot be decoded."""
    if raw.startswith(codecs.BOM_UTF8):
        return Decoded(raw[3:].decode("utf-8", "replace"), "utf-8", "bom", declared)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
            if all(unicodedata.category(ch) not in ("Co", "Cn", "Cs") for ch in text):
                return Decoded(text, "utf-16", "bom", declared)
        except UnicodeDecodeError:
            pass
    if declared:
        for codec in _codecs_for(declared):
            try:
                return Decoded(raw.decode(codec), codec, "declared", declared)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_error = exc
    else:
        if b"\x1b" in raw and any(e in raw for e in _ISO2022_ESCAPES):
            for codec in _CODEC_FAMILIES["iso2022_jp"]:
                try:
                    return Decoded(raw.decode(codec), codec, "iso-2022-jp escapes", declared)
                except UnicodeDecodeError:
                    continue
        return Decoded(text, "utf-8", "utf-8", declared)

    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=_JAPANESE_CODECS).best()
    if best is not None:
        codec = codecs.lookup(best.encoding).name
        family = _CODEC_FAMILIES.get(_ALIASES.get(codec, ""), (codec,))
        for c in dict.fromkeys((codec, *family)):
            try:
                text = raw.decode(c)
            except UnicodeDecodeError:
                continue
            if _looks_japanese(text):
                return Decoded(text, c, "detected", declared)
    if declared and _codecs_for(declared):
        # A page that declares its encoding but holds a few broken bytes (common after edits):
        # keep it if at most 1 in 1,000 characters is lost.
        codec = _codecs_for(declared)[0]
        text = raw.decode(codec, "replace")
        bad = text.count("\ufffd")
        if bad <= max(1, len(text) // 1000):
            return Decoded(text, codec, "declared", declared, replaced=bad)
    where = f"byte 0x{raw[first_error.start]:02x} at offset {first_error.start}"
    said = f"; it declares '{declared}' but does not decode as that" if declared else ""
    return (f"not UTF-8 and not a Japanese encoding (Shift_JIS/CP932, EUC-JP, ISO-2022-JP): {where}{said}; "
            "save it as UTF-8")


def decode_file(raw: bytes, declared: str | None = None) -> tuple[str, dict] | str:
    """The text of a text or HTML file and how it was decoded (``encoding``, ``encoding_source``,
    ``declared_encoding``, ``replaced_bytes``), or the reason it cannot be read."""
    if b"\x00" in raw[:8192] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary file (contains NUL bytes)"
    decoded = decode_bytes(raw, declared)
    if isinstance(decoded, str):
        return decoded
    details = {"encoding": decoded.encoding, "encoding_source": decoded.source}
    if decoded.declared:
        details["declared_encoding"] = decoded.declared
    if decoded.replaced:
        details["replaced_bytes"] = decoded.replaced
    return decoded.text, details
