"""What a customer's question is about: the products it names and the needs it expresses.

Products are named by code, by title or by a short form declared in the product sheet's front
matter (``aliases``: 月月盈, 天天利 …); needs expressed in words (随时取 → liquidity, 银行倒闭 →
deposit insurance) come from ``prompts/needs.yaml``. A follow-up that names nothing but points back
("那它能随时取吗？") is about the product of the latest earlier turn that named one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.config import Settings
from copilot.knowledge import Product, product_catalog

# Words that point back at something said before; a message with one and no product of its own
# is about the previous turn's product.
_POINTS_BACK = re.compile(r"它|这个|这款|那个|那款|这只|那只|这种|该产品|上面说的|刚才说的|刚说的")
# A message that carries on the conversation ("那第二年呢？", "还有别的吗"): with no topic of its
# own it is about what the earlier turns were about.
_CONTINUES = re.compile(r"^(?:那|那么|还有|另外|然后|再问|顺便|可是|可|但是|不过)|呢[？?！!。～~]*$")
_CODE = re.compile(r"QH-[A-Z]{2,4}(?:-[A-Z0-9]{1,4}){1,3}", re.I)
_ISSUER = re.compile(r"^(青禾理财|青禾代销|青禾银行|青禾信用卡|青禾)\s*")


class NeedsFileError(ValueError):
    """``prompts/needs.yaml`` cannot be read; names the file and the problem."""


class Need(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    phrases: tuple[str, ...] = Field(min_length=1)
    products: tuple[str, ...] = ()
    passages: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    query: str = ""
    scripts: tuple[str, ...] = ()  # approved scripts (doc ids) written for this need
    generic: bool = False  # a broad need ("放哪好"): comes after every specific one the question has
    names: tuple[str, ...] = ()  # what a reply meeting the need calls the feature (保留余额, 影票日)
    unanswered: bool = False  # knowledge/ holds nothing on it (提额, 账单日): the RM checks instead

    def applies_to(self, segment: str) -> bool:
        return not self.segments or segment in self.segments


class _NeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    needs: list[Need]


@dataclass(frozen=True)
class Topics:
    """What the question is about, in the order the customer said it."""

    products: tuple[str, ...] = ()  # codes named in the message (or, for a follow-up, before it)
    needs: tuple[Need, ...] = ()
    from_history: bool = False  # the products came from an earlier turn ("它")

    @property
    def implied_products(self) -> tuple[str, ...]:
        """Products the needs point to that the customer did not name, first need first."""
        seen = list(self.products)
        for need in self.needs:
            seen += [c for c in need.products if c not in seen]
        return tuple(seen[len(self.products) :])

    @property
    def passages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for n in self.needs for p in n.passages))

    @property
    def scripts(self) -> tuple[str, ...]:
        """The scripts the needs name, once per need naming it (拍花 and 活动 both name 赏花外拍)."""
        return tuple(s for n in self.needs for s in n.scripts)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of the features the needs ask about (保留余额), first need first."""
        return tuple(dict.fromkeys(x for n in self.needs for x in n.names))

    @property
    def query_terms(self) -> str:
        return " ".join(n.query for n in self.needs if n.query)

    @property
    def unanswered(self) -> bool:
        """The question asks what knowledge/ does not cover, and names no product."""
        return not self.products and any(n.unanswered for n in self.needs)

    @property
    def empty(self) -> bool:
        return not self.products and not self.needs


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"([一二两三四五六七八九十]{1,3})(?=年|个月|天|万|千|期|笔|张|次|岁|周岁)")


def _cn_value(s: str) -> int:
    if "十" not in s:
        return int("".join(str(_DIGITS[c]) for c in s))
    tens, _, ones = s.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def arabic(text: str) -> str:
    """Chinese numerals before a unit as digits ("存三年" → "存3年", "六十万" → "60万"), so a question
    meets the figures of the sheets that answer it."""
    return _CN_NUMBER.sub(lambda m: str(_cn_value(m.group(1))), text)


def names_of(product: Product) -> tuple[str, ...]:
    """Every name a message may use for a product: its aliases and its title without the issuer."""
    title = _ISSUER.sub("", product.name).strip()
    return tuple(n for n in dict.fromkeys([*product.aliases, title, product.name]) if len(n) >= 2)


# A name that only says what kind of product it is ("养老理财", "股票基金", "混合的理财", "工资卡"): the
# customer may call a product so, but a reply that names it must also say WHICH one (安享养老).
_KIND_ONLY = re.compile(
    r"^(?:养老|股票|股票型|混合|混合型|混合类|债券|债券型|固收|固收类|货币|现金管理|工资|代发|定期)(?:的)?"
    r"(?:理财|基金|存款|储蓄|卡)(?:产品)?$"
)


def kind_only(name: str) -> bool:
    return bool(_KIND_ONLY.match(name))


def own_name(product: Product) -> str:
    """The shortest form that says which product this is: its first alias that is not a kind only
    (成长精选 for a customer's 股票基金), else its title without the issuer."""
    return next((a for a in product.aliases if len(a) >= 2 and not kind_only(a)), "") or _ISSUER.sub(
        "", product.name
    ).strip()


def products_named(text: str, catalog: dict[str, Product]) -> tuple[str, ...]:
    """Product codes named in ``text`` by code or name, in the order they appear."""
    plain = fold(text)
    upper = plain.upper()
    found: dict[str, int] = {}
    for code, product in catalog.items():
        spots = [upper.find(code)] + [plain.find(n) for n in names_of(product)]
        spots = [i for i in spots if i >= 0]
        if spots:
            found[code] = min(spots)
    for m in _CODE.finditer(upper):
        found.setdefault(m.group(0), m.start())
    return tuple(sorted(found, key=found.__getitem__))


GAP = 6  # "每个月…剩": at most this many characters where a phrase says "…"


@lru_cache(maxsize=512)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in phrase.split("…")]
    return re.compile(f"[^。！？!?]{{0,{GAP}}}?".join(parts))


def phrase_at(text: str, phrase: str) -> int:
    """Where ``phrase`` occurs in ``text`` (-1: nowhere); "…" in a phrase stands for a short gap."""
    if "…" not in phrase:
        return text.find(phrase)
    m = _phrase_pattern(phrase).search(text)
    return m.start() if m else -1


def needs_in(text: str, needs: Sequence[Need], segment: str) -> tuple[Need, ...]:
    plain = fold(text)
    hits = []
    for i, n in enumerate(needs):
        spots = [at for p in n.phrases if (at := phrase_at(plain, p)) >= 0]
        if n.applies_to(segment) and spots:
            hits.append((n.generic, min(spots), i, n))
    return tuple(h[-1] for h in sorted(hits, key=lambda h: h[:3]))


def find_topics(message: str, segment: str, settings: Settings, history: Sequence[str] = ()) -> Topics:
    """Products and needs of ``message``; ``history`` is the earlier turns' texts, oldest first."""
    catalog = product_catalog(settings.knowledge_dir)
    all_needs = load_needs(settings.prompts_dir)
    needs = needs_in(message, all_needs, segment)
    products = products_named(message, catalog)
    if products:
        return Topics(products=products, needs=needs)
    if any(n.unanswered for n in needs):
        # "信用卡额度能提吗": the card's other needs (账单) would quote a passage that does not answer
        return Topics(needs=tuple(n for n in needs if n.unanswered))
    # "那它能随时取吗？" points back; "那第二年呢？" / "那要是急用钱，能拿出来不" carry on: they are
    # about what the latest earlier turn that named something was about, even with a need of their
    # own (急用 is asked of the product discussed, not of whatever serves 急用 best). So is a question
    # whose needs point to no product ("是不是亏了" after a turn about 安享养老).
    plain = fold(message).strip()
    carries_on = bool(_POINTS_BACK.search(plain) or _CONTINUES.search(plain))
    productless = bool(needs) and not any(n.products for n in needs)
    if carries_on or productless:
        for turn in reversed(history):
            earlier = products_named(turn, catalog)
            before = needs_in(turn, all_needs, segment)
            if earlier or before:
                # the earlier turn's needs stay after the message's own (它跟周三那个半价 → 周四满减 too)
                merged = needs + tuple(n for n in before if n not in needs)
                return Topics(products=earlier[:1], needs=merged, from_history=True)
    return Topics(needs=needs)


def load_needs(prompts_dir: Path) -> tuple[Need, ...]:
    path = prompts_dir / "needs.yaml"
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return ()  # no needs file: products by name still work
    return _read_needs(str(path), mtime)


@lru_cache(maxsize=8)
def _read_needs(path: str, mtime_ns: int) -> tuple[Need, ...]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return tuple(_NeedsFile.model_validate(data).needs)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise NeedsFileError(f"{path}: 无法读取需求词表：{exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NeedsFileError(f"{path} [{where}]: {first['msg']}") from exc
