"""Salesforce record Ids: 3-char key prefix + 12 base62 chars + 3-char case-safe checksum.

Why arithmetic Ids: a record's Id is derived from (object, row number), so the emulator stores
no Id strings at all (5M activities would otherwise cost gigabytes) and decodes an Id back to its
row without a dictionary. Ids of one object sort (as strings) in row order, like real ones do in
creation order, because base62 digits are in ASCII order.
"""

from __future__ import annotations

import numpy as np

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
POD = "Hs"  # 2 chars of "server/pod" after the key prefix, as in 001Hs00000Abc12
_COUNTER_DIGITS = 10
_DIGIT_VALUE = {c: i for i, c in enumerate(BASE62)}
_B62 = np.frombuffer(BASE62.encode(), dtype=np.uint8)
_SFX = np.frombuffer(_SUFFIX.encode(), dtype=np.uint8)
_POD = np.frombuffer(POD.encode(), dtype=np.uint8)
ROW_OFFSET = 1  # row 0 gets counter 1, as no real Id ends in all zeros


def checksum(id15: str) -> str:
    """The 3-char suffix that makes a 15-char Id case-insensitively unique."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def make_id(prefix: str, row: int) -> str:
    """The 18-char Id of `row` of the object with key prefix `prefix`."""
    n = row + ROW_OFFSET
    digits = []
    for _ in range(_COUNTER_DIGITS):
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    id15 = prefix + POD + "".join(reversed(digits))
    return id15 + checksum(id15)


def id_chars(prefixes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(n, 18) ASCII bytes of the Ids of `rows`; `prefixes` is one key prefix (3,) or one per row (n, 3).

    Why bytes: the wire encoders splice Ids into JSON and CSV pages without making a str per Id.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, 0:3] = prefixes
    chars[:, 3:5] = _POD
    chars[:, 5:15] = ord("0")
    value = rows + ROW_OFFSET
    for pos in range(14, 4, -1):
        if not value.any():
            break  # the leading digits are zeros
        value, digit = np.divmod(value, 62)
        chars[:, pos] = _B62[digit]
    upper = ((chars[:, :15] >= ord("A")) & (chars[:, :15] <= ord("Z"))).view(np.uint8).reshape(n, 3, 5)
    bits = upper[:, :, 0].copy()
    for i in range(1, 5):
        bits |= upper[:, :, i] << i
    chars[:, 15:18] = _SFX[bits]
    return chars


def prefix_bytes(prefix: str) -> np.ndarray:
    """A key prefix as the (3,) uint8 row `id_chars` takes."""
    return np.frombuffer(prefix.encode(), dtype=np.uint8)


def make_ids(prefix: str, rows: np.ndarray) -> np.ndarray:
    """Vectorised `make_id` for many rows; returns an object array of str."""
    if len(rows) == 0:
        return np.empty(0, dtype=object)
    return id_chars(prefix_bytes(prefix), rows).view("S18").ravel().astype("U18").astype(object)


def parse_id(value: str) -> tuple[str, int] | None:
    """(key prefix, row) of a 15- or 18-char Id made by `make_id`; None when malformed."""
    if not isinstance(value, str) or len(value) not in (15, 18):
        return None
    if len(value) == 18 and checksum(value[:15]) != value[15:].upper():
        return None
    if value[3:5] != POD:
        return None
    n = 0
    for ch in value[5:15]:
        digit = _DIGIT_VALUE.get(ch)
        if digit is None:
            return None
        n = n * 62 + digit
    return value[:3], n - ROW_OFFSET


def looks_like_id(value: str) -> bool:
    """True for any 15/18-char alphanumeric string (real orgs accept foreign-looking Ids)."""
    return isinstance(value, str) and len(value) in (15, 18) and value.isalnum()
