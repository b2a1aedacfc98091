"""Bank card numbers: 16-19 digits (UnionPay, Visa, Mastercard, JCB, Amex ranges start 3-6),
optionally grouped by spaces or hyphens, accepted only when the Luhn checksum holds."""

from __future__ import annotations

import re

from copilot.compliance.recognizers.base import Recognizer, mask_middle


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class BankCardRecognizer(Recognizer):
    name = "bank_card"
    label = "银行卡号"
    # The look-behind follows the first digit so that ``re`` can skip to candidates (see resident_id).
    pattern = re.compile(r"[3-6](?<![0-9][3-6])\d{3}(?:[ -]?\d){12,15}(?![0-9])")

    def validate(self, candidate: str) -> bool:
        digits = re.sub(r"[ -]", "", candidate)
        return 16 <= len(digits) <= 19 and luhn_valid(digits)

    def mask(self, original: str) -> str:
        return mask_middle(original, 4, 4)
