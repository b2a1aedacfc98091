"""PII recognizers, one per file. Order is priority when spans overlap: an 18-digit resident ID
can also pass Luhn, and a mobile number can sit inside an e-mail address."""

from __future__ import annotations

from copilot.compliance.recognizers.bank_card import BankCardRecognizer
from copilot.compliance.recognizers.base import PiiSpan, Recognizer
from copilot.compliance.recognizers.email import EmailRecognizer
from copilot.compliance.recognizers.mobile import MobileRecognizer
from copilot.compliance.recognizers.resident_id import ResidentIdRecognizer

RECOGNIZERS: dict[str, Recognizer] = {
    r.name: r for r in (ResidentIdRecognizer(), EmailRecognizer(), BankCardRecognizer(), MobileRecognizer())
}

__all__ = ["RECOGNIZERS", "PiiSpan", "Recognizer"]
