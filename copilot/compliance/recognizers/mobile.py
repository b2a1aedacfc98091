"""Mainland mobile numbers: 11 digits starting 13-19, optionally +86/0086 and single separators."""

from __future__ import annotations

import re

from copilot.compliance.recognizers.base import Recognizer


class MobileRecognizer(Recognizer):
    name = "mobile"
    label = "手机号"
    pattern = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])")
    needle = re.compile(r"1[3-9]\d")  # the number's first three digits

    def mask(self, original: str) -> str:
        # Mask digits 4-7 of the 11-digit number itself, whatever country prefix precedes it.
        digits = [i for i, ch in enumerate(original) if ch.isdigit()]
        core = digits[-11:]
        hidden = set(core[3:7])
        return "".join("*" if i in hidden else ch for i, ch in enumerate(original))
