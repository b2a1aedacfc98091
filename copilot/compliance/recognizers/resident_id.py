"""Mainland resident identity card numbers (GB 11643-1999): 6-digit area code, 8-digit birth date,
3-digit sequence, and an ISO 7064 MOD 11-2 check character (0-9 or X)."""

from __future__ import annotations

import datetime as dt
import re

from copilot.compliance.recognizers.base import Recognizer, mask_middle

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_resident_id(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[1-9]\d{16}[\dX]", digits):
        return False
    try:
        birth = dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        return False
    return id_check_char(digits[:17]) == digits[17]


class ResidentIdRecognizer(Recognizer):
    name = "resident_id"
    label = "身份证号"
    # In folded text (x lower-cased); optional single separators between the 6-8-4 groups. The
    # "no digit or letter before" look-behind comes after the first digit, not before it: a pattern
    # that starts with a character class lets ``re`` skip ahead to the next candidate digit, one
    # that starts with a look-behind is tried at every position (four times slower).
    pattern = re.compile(
        r"[1-9](?<![0-9a-z][1-9])\d{5}[ -]?(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        r"[ -]?\d{3}[0-9x](?![0-9a-z])"
    )

    def validate(self, candidate: str) -> bool:
        return is_valid_resident_id(candidate)

    def mask(self, original: str) -> str:
        return mask_middle(original, 6, 4, keep="0123456789Xx")
