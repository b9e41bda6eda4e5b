"""Go's own parsers of a plain scalar's text, as go-yaml calls them: `strconv.ParseInt` /
`ParseUint` with base 0 (sign, `0x`, `0b`, `0o`, a leading zero meaning octal) and
`parseTimestamp` (Go's `time.Parse` with go-yaml's layouts), and how a `time.Time` marshals to
JSON. `reading` decides when a scalar is one of these; this module only reads the text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789"),
           16: frozenset("0123456789abcdefABCDEF")}
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


def parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), else ParseUint(text, 0, 64); None when both fail."""
    body, negative, signed = text, False, False
    if body[:1] in ("+", "-"):
        negative, signed, body = body[0] == "-", True, body[1:]
    if not body:
        return None
    base = 10
    if body[0] == "0":
        prefix = body[1:2].lower()
        if len(body) >= 3 and prefix in ("x", "b", "o"):
            base, body = {"x": 16, "b": 2, "o": 8}[prefix], body[2:]
        else:
            base, body = 8, body[1:]  # a leading zero is octal; "0" alone is zero
    digits = _DIGITS[base]
    if not all(c in digits for c in body):
        return None
    value = int(body, base) if body else 0
    if negative:
        return -value if value <= _INT64_MAX + 1 else None
    if value <= _INT64_MAX or (not signed and value <= _UINT64_MAX):
        return value
    return None


def _two(text: str, i: int) -> tuple[int, int] | None:
    """Go's getnum(value, fixed=false): one digit, or two; (number, next index)."""
    if i >= len(text) or not text[i].isdigit() or not text[i].isascii():
        return None
    if i + 1 < len(text) and text[i + 1].isdigit() and text[i + 1].isascii():
        return int(text[i:i + 2]), i + 2
    return int(text[i]), i + 1


def parse_timestamp(text: str) -> tuple[datetime, int] | None:
    """go-yaml's parseTimestamp: (the value, its nanoseconds), or None when `text` fits none
    of its layouts (Go's time.Parse: 1- or 2-digit fields, ranges checked)."""
    if len(text) < 5 or not text[:4].isdigit() or not text[:4].isascii() or text[4] != "-":
        return None
    year = int(text[:4])
    month = _two(text, 5)
    if month is None or text[month[1]:month[1] + 1] != "-":
        return None
    day = _two(text, month[1] + 1)
    if day is None:
        return None
    i = day[1]
    clock = [0, 0, 0]
    nanos = 0
    zone: timezone = UTC
    if i < len(text):
        sep = text[i]
        if sep not in "Tt ":
            return None
        i += 1
        for n in range(3):
            got = _two(text, i)
            if got is None:
                return None
            clock[n], i = got
            if n < 2:
                if text[i:i + 1] != ":":
                    return None
                i += 1
        if i + 1 < len(text) and text[i] in ".," and text[i + 1].isdigit():
            j = i + 1
            while j < len(text) and text[j].isdigit() and text[j].isascii():
                j += 1
            nanos = int(text[i + 1:j][:9].ljust(9, "0"))
            i = j
        if sep == " ":
            pass  # this layout has no zone: whatever follows is extra text
        elif text[i:i + 1] == "Z":
            i += 1
        elif text[i:i + 1] in ("+", "-") and len(text) - i >= 6 and text[i + 3] == ":":
            hh, mm = text[i + 1:i + 3], text[i + 4:i + 6]
            if not (hh.isdigit() and mm.isdigit() and hh.isascii() and mm.isascii()):
                return None
            if int(hh) > 24 or int(mm) > 60:
                return None
            sign = -1 if text[i] == "-" else 1
            zone = timezone(sign * timedelta(hours=int(hh), minutes=int(mm)))
            i += 6
        else:
            return None
        if i != len(text) or clock[0] > 23 or clock[1] > 59 or clock[2] > 59:
            return None
    try:
        value = datetime(year, month[0], day[0], clock[0], clock[1], clock[2], tzinfo=zone)
    except ValueError:  # month or day out of range, which Go's time.Parse refuses too
        return None
    return value, nanos


def rfc3339(text: str) -> str | None:
    """The timestamp `text` as Go's time.Time marshals it to JSON (RFC 3339, nanoseconds with
    trailing zeros cut, `Z` for a zero offset), or None when it is no timestamp."""
    parsed = parse_timestamp(text)
    if parsed is None:
        return None
    value, nanos = parsed
    out = value.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        out += "." + f"{nanos:09d}".rstrip("0")
    offset = value.utcoffset() or timedelta(0)
    if not offset:
        return out + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return out + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
