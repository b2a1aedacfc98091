"""What a draft claims (figures, dates, times, risk levels) and which of those claims no source backs.

Figures are compared by value and unit, so "2.9%" matches "2.90%" and "1万元" matches "10000元";
full-width forms read as half-width. Every fact keeps its span in the original text, so a finding
can point at it and a fix can remove it. The evaluation harness scores drafts with the same
extraction (``copilot.evaluation.grounding``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from copilot.domain import Finding

_NUM = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(_NUM + r"\s*%?\s*[-–—~～至到]\s*" + _NUM + r"\s*%")
_UNIT = re.compile(
    _NUM + r"\s*(亿|万|千)?\s*(元|%|天|个工作日|工作日|年|个月|周岁|岁|张|笔|次|份|倍|小时|分钟|月|日|号)"
)
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3]):([0-5]\d)(?!\d)")
_RISK = re.compile(r"(?<![A-Za-z])R[1-5](?!\d)")
_MARKER = re.compile(r"\[\d{1,2}\]")
_MULT = {"亿": 1e8, "万": 1e4, "千": 1e3, None: 1.0}
_UNIT_ALIAS = {"个工作日": "工作日", "号": "日", "周岁": "岁"}

UNGROUNDED_RULE = "ungrounded-figure"


@dataclass(frozen=True)
class Fact:
    kind: str  # figure | date | time | risk | product
    key: str  # canonical form compared with the sources
    text: str  # as written in the draft
    start: int = 0  # span in the original text
    end: int = 0


def _figure_key(value: str, mult: str | None, unit: str) -> str:
    amount = float(value) * _MULT[mult]
    unit = _UNIT_ALIAS.get(unit, unit)
    return f"{amount:g}{unit}"


def _half_width(text: str) -> tuple[str, list[int]]:
    """NFKC one character at a time, with the original offset of every output character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded)
        where.extend([i] * len(folded))
    where.append(len(text))
    return "".join(out), where


def extract_facts(text: str) -> list[Fact]:
    """Figures, dates, times and risk levels in ``text``, in order, with their original spans."""
    plain, where = _half_width(text)
    plain = _MARKER.sub(lambda m: " " * len(m.group(0)), plain)  # [1] is a citation, not a figure

    def fact(kind: str, key: str, m: re.Match[str]) -> Fact:
        start, end = where[m.start()], where[m.end()]
        return Fact(kind, key, text[start:end], start, end)

    facts: list[Fact] = []
    ranged: set[int] = set()
    for m in _RANGE.finditer(plain):
        facts += [fact("figure", _figure_key(m.group(1), None, "%"), m),
                  fact("figure", _figure_key(m.group(2), None, "%"), m)]  # fmt: skip
        ranged.update(range(m.start(), m.end()))
    for m in _UNIT.finditer(plain):
        if m.start() not in ranged:
            facts.append(fact("figure", _figure_key(m.group(1), m.group(2), m.group(3)), m))
    for m in _DATE.finditer(plain):
        y, mo, d = (int(x) for x in m.group(0).split("-"))
        facts.append(fact("date", f"{y}-{mo}-{d}", m))
    facts += [fact("time", f"{int(m.group(1))}:{m.group(2)}", m) for m in _TIME.finditer(plain)]
    facts += [fact("risk", m.group(0), m) for m in _RISK.finditer(plain)]
    return sorted(facts, key=lambda f: (f.start, f.kind, f.key))


def known_facts(texts: Iterable[str]) -> set[str]:
    return {f.key for t in texts for f in extract_facts(t)}


def ungrounded_facts(draft: str, sources: Iterable[str], customer_text: str = "") -> list[Fact]:
    """Facts of the draft found neither in the sources nor in the customer's own message."""
    known = known_facts([*sources, customer_text])
    return [f for f in extract_facts(draft) if f.key not in known]


def ungrounded_findings(draft: str, sources: Iterable[str], customer_text: str = "") -> list[Finding]:
    """One ``ungrounded-figure`` finding per figure, date, time or risk level that no source backs."""
    return [
        Finding(
            rule=UNGROUNDED_RULE,
            category="grounding",
            severity="revise",
            start=f.start,
            end=f.end,
            text=f.text,
            message=f"“{f.text}”在引用的来源和产品说明中都找不到，不能发给客户。",
            suggestion="删除这个数字，或改用来源中的原数字并标注出处。",
        )
        for f in ungrounded_facts(draft, sources, customer_text)
    ]


PRODUCT_TYPE_RULE = "product-type-mismatch"
_DEPOSIT_WORDS = ("活期存款", "定期存款", "活期", "储蓄存款", "存单")
# "<deposit> 是/属于/算 … 理财": the deposit is said to be a wealth product (a negation in between clears it)
_CALLED = (
    r"(?:(?!不|非|并非|而非)[^。！？!?；;，,\n]){0,8}?(?:是|属于|算是|算|作为)"
    r"(?:(?!不|非)[^。！？!?；;，,\n]){0,10}?(理财产品|理财)(?!非存款)"
)


# "<investment> 是/属于/就是 … 存款": a wealth product or fund said to be a deposit (not "存款保险")
_CALLED_DEPOSIT = (
    r"(?:(?!不|非|并非|而非)[^。！？!?；;，,\n]){0,8}?(?:是|属于|算是|算|就是|相当于|等于|等同于|像|如同)"
    r"(?:(?!不|非)[^。！？!?；;，,\n]){0,10}?((?:活期|定期|储蓄)?存款)(?!保险)"
)


def _names_pattern(names: Iterable[str], called: str) -> re.Pattern[str]:
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile("(" + "|".join(re.escape(n) for n in ordered) + ")" + called)


def product_type_findings(
    draft: str, deposit_names: Iterable[str], investment_names: Iterable[str] = ()
) -> list[Finding]:
    """A product called what it is not, in one clause, not negated: a deposit called a 理财产品
    ("<deposit> 是/属于 … 理财"), or a wealth product or fund called a deposit ("天天利是活期存款").

    ``deposit_names`` / ``investment_names`` are the names and aliases of the catalogue's deposit
    and investment products (its sheets' ``product_type``); the generic deposit words (活期存款,
    定期存款 …) count as deposits too. A message that calls 理财 in general a deposit is the
    compliance rule pack's ``deposit_confusion``.
    """
    findings: list[Finding] = []
    checks = [
        (
            _names_pattern([*deposit_names, *_DEPOSIT_WORDS], _CALLED),
            "存款，不是理财产品",
            "把存款称为存款，说明其受存款保险保障的范围，不要称为理财产品。",
        )
    ]
    if investment_names := [n for n in investment_names if n]:
        checks.append(
            (
                _names_pattern(investment_names, _CALLED_DEPOSIT),
                "理财或基金产品，不是存款",
                "说明它是理财（或基金）产品、不是存款，不受存款保险保障。",
            )
        )
    for pattern, what, advice in checks:
        for m in pattern.finditer(draft):
            findings.append(
                Finding(
                    rule=PRODUCT_TYPE_RULE,
                    category="grounding",
                    severity="revise",
                    start=m.start(2),
                    end=m.end(2),
                    text=m.group(2),
                    message=f"“{m.group(1)}”是{what}；产品类型须与产品说明一致。",
                    suggestion=advice,
                )
            )
    return findings
