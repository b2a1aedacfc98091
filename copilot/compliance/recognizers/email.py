"""E-mail addresses; the mask keeps the first character of the local part and the domain."""

from __future__ import annotations

import re

from copilot.compliance.recognizers.base import Recognizer


class EmailRecognizer(Recognizer):
    name = "email"
    label = "电子邮箱"
    pattern = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
    needle = re.compile("@")

    def mask(self, original: str) -> str:
        local, _, domain = original.partition("@")
        return f"{local[0]}***@{domain}"
