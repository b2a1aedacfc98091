"""Approved scripts (knowledge/scripts, 话术库): the wording compliance has signed off.

Each script file has a ``## 话术`` section holding one or more quoted replies, optionally labelled
("群内回复：", "私聊跟进：", "代领请求："). Only that section is customer-facing: ``## 适用场景`` and
``## 注意事项`` are guidance for the RM and are read here only to tell what a script is for.
Placeholders in 【】 are filled from the RM profile and persona (prompts/placeholders.yaml); a
sentence whose placeholder cannot be filled is dropped.

Which channel a script (or one labelled reply in it) is written for, and which replies serve one
purpose only (a welcome), is read from its title, tags, 适用场景 and labels with the vocabulary in
prompts/script_channels.yaml.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.domain import DocType, RMProfile
from copilot.knowledge import KnowledgeError, read_document
from copilot.text import split_sentences

CHANNELS = ("one_to_one", "group", "moments")

_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.M)
_LABEL = re.compile(r"^\s*([^\n“”]{1,12})[:：]\s*$")
PLACEHOLDER = re.compile(r"【([^】]{1,12})】")


@dataclass(frozen=True)
class ScriptBlock:
    label: str
    text: str


class ChannelVocabulary(BaseModel):
    """prompts/script_channels.yaml: words that mark a script's channel and reserved purposes."""

    group: list[str] = Field(default_factory=lambda: ["群发", "社群", "群内", "群里"])
    moments: list[str] = Field(default_factory=lambda: ["朋友圈"])
    one_to_one: list[str] = Field(default_factory=lambda: ["私聊", "一对一", "新添加"])
    reserved: list[str] = Field(default_factory=lambda: ["问候"])


@dataclass(frozen=True)
class ApprovedScript:
    doc_id: str
    title: str
    tags: tuple[str, ...]
    product_code: str
    approval_no: str
    source_path: str
    blocks: tuple[ScriptBlock, ...] = field(default_factory=tuple)
    situation: str = ""  # the 适用场景 section: who says what, when (guidance, never copy)

    def channels(self, vocab: ChannelVocabulary) -> frozenset[str]:
        """The channels the script as a whole is written for."""
        where = f"{self.title}\n{' '.join(self.tags)}\n{self.situation}"
        found = {c for c in CHANNELS if any(w in where for w in getattr(vocab, c))}
        if not found & {"group", "moments"}:
            found.add("one_to_one")
        return frozenset(found)

    def block_channels(self, block: ScriptBlock, vocab: ChannelVocabulary) -> frozenset[str]:
        """A labelled reply's own channel ("群内回复", "私聊跟进"), else the script's."""
        named = {c for c in CHANNELS if any(w in block.label for w in getattr(vocab, c))}
        return frozenset(named) if named else self.channels(vocab)

    def purposes(self, block: ScriptBlock, vocab: ChannelVocabulary) -> frozenset[str]:
        """Reserved purposes (问候) a reply serves: named by its label, or by the script's tags
        when the reply has no label of its own."""
        where = block.label if block.label else " ".join(self.tags)
        return frozenset(w for w in vocab.reserved if w in where)

    def usable_blocks(
        self, vocab: ChannelVocabulary, channels: Iterable[str], purposes: Iterable[str] = ()
    ) -> list[ScriptBlock]:
        """Replies written for one of ``channels`` whose reserved purposes (if any) are wanted."""
        wanted, allowed = set(channels), set(purposes)
        return [b for b in self.blocks if self.block_channels(b, vocab) & wanted and self.purposes(b, vocab) <= allowed]

    def block_for(self, message: str, blocks: Iterable[ScriptBlock] | None = None) -> ScriptBlock:
        """The labelled block whose label shares most with the message; the first one on ties."""
        candidates = list(blocks) if blocks is not None else list(self.blocks)
        candidates = candidates or list(self.blocks)

        def overlap(b: ScriptBlock) -> int:
            return sum(1 for i in range(len(b.label) - 1) if b.label[i : i + 2] in message)

        return max(candidates, key=lambda b: (overlap(b), -self.blocks.index(b)))


def _blocks(section: str) -> tuple[ScriptBlock, ...]:
    """Split a 话术 section into its quoted replies; an unquoted section is one block as written.

    A quoted reply starts on a line beginning with “ and ends on the first line ending with ”
    that is followed by a blank line, a label line ("私聊跟进：") or the end; quotes inside a
    reply (App“权益”页) therefore do not end it.
    """
    lines = section.strip().splitlines()
    first = next((ln.strip() for ln in lines if ln.strip() and not _LABEL.match(ln)), "")
    if not first.startswith("“"):
        text = section.strip()
        return (ScriptBlock(label="", text=text),) if text else ()
    blocks: list[ScriptBlock] = []
    label = ""
    current: list[str] | None = None
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if current is None:
            m = _LABEL.match(line)
            if m:
                label = m.group(1).strip()
            elif line.lstrip().startswith("“"):
                current = [line.lstrip()[1:]]
            else:
                continue
        else:
            current.append(line)
        if current is not None and current[-1].endswith("”"):
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not nxt or _LABEL.match(nxt) or nxt.startswith("“"):
                current[-1] = current[-1][:-1]
                blocks.append(ScriptBlock(label=label, text="\n".join(current).strip()))
                current, label = None, ""
    return tuple(blocks)


@lru_cache(maxsize=128)
def _load(path: str, mtime_ns: int) -> ApprovedScript | None:
    try:
        doc = read_document(Path(path))
    except KnowledgeError:
        return None
    if doc.meta.type != DocType.script:
        return None
    parts = _SECTION.split(doc.body)
    sections = {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    body = next((v for k, v in sections.items() if k.startswith("话术")), "")
    blocks = _blocks(body)
    if not blocks:
        return None
    situation = next((v for k, v in sections.items() if k.startswith("适用场景")), "")
    m = doc.meta
    return ApprovedScript(
        doc_id=m.id,
        title=m.title,
        tags=tuple(m.tags),
        product_code=m.product_code.upper(),
        approval_no=m.approval_no,
        source_path=doc.source_path,
        blocks=blocks,
        situation=re.sub(r"\s+", " ", situation).strip(),
    )


def load_script(path: Path) -> ApprovedScript | None:
    """The parsed script at ``path`` (cached by modification time), or None if it is not one."""
    try:
        return _load(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


@lru_cache(maxsize=8)
def _placeholder_map(path: Path, mtime_ns: int) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def placeholder_map(prompts_dir: Path) -> dict[str, str]:
    path = prompts_dir / "placeholders.yaml"
    return _placeholder_map(path, path.stat().st_mtime_ns) if path.is_file() else {}


_KEYCAP = re.compile(r"^([0-9])\ufe0f?\u20e3", re.M)
_NUMBERED = re.compile(r"^([0-9])([.、）)])", re.M)


def renumber_lists(text: str) -> str:
    """Close the gaps a dropped line leaves in 1️⃣2️⃣3️⃣ or 1. 2. 3. lists."""
    for pattern, fmt in ((_KEYCAP, "{n}\ufe0f\u20e3"), (_NUMBERED, "{n}{sep}")):
        counter = 0
        lines = text.split("\n")
        for i, line in enumerate(lines):
            m = pattern.match(line)
            if not m:
                counter = 0 if line.strip() else counter
                continue
            counter += 1
            sep = m.group(2) if m.re is _NUMBERED else ""
            lines[i] = fmt.format(n=counter, sep=sep) + line[m.end() :]
        text = "\n".join(lines)
    return text


# A post's title in brackets after an emoji ("🍜【周三半价日】10:00开抢！") is wording, not a placeholder.
_TITLE = re.compile(r"^(\s*[\U0001f300-\U0001faff\u2600-\u27bf]\ufe0f?\s*)【([^】]{1,20})】", re.M)
_TITLE_OPEN, _TITLE_CLOSE = "\ue000", "\ue001"  # private-use stand-ins while placeholders are filled


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Fill 【name】 from ``values``; drop each sentence (or line) that still has an unfilled one."""
    text = re.sub(r"@【[^】]{1,12}】\s*", "", text)  # group @-mention: meaningless in a draft
    text = _TITLE.sub(lambda m: f"{m.group(1)}{_TITLE_OPEN}{m.group(2)}{_TITLE_CLOSE}", text)
    filled = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    lines: list[str] = []
    for line in filled.split("\n"):
        kept = "".join(s for s in split_sentences(line) if not PLACEHOLDER.search(s))
        if kept.strip() or not line.strip():  # a line emptied of its sentences goes with them
            lines.append(kept.replace(_TITLE_OPEN, "【").replace(_TITLE_CLOSE, "】"))
    out = renumber_lists("\n".join(lines))
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def all_scripts(knowledge_dir: Path) -> list[ApprovedScript]:
    """Every approved script under ``knowledge/scripts`` (each cached by modification time)."""
    folder = knowledge_dir / "scripts"
    if not folder.is_dir():
        return []
    return [s for s in (load_script(p) for p in sorted(folder.glob("*.md"))) if s is not None]


def script_by_id(doc_id: str, knowledge_dir: Path) -> ApprovedScript | None:
    """An approved script by its document id (personas name their few-shot examples this way)."""
    return next((s for s in all_scripts(knowledge_dir) if s.doc_id == doc_id), None)


def specific_tags(knowledge_dir: Path, generic: Iterable[str] = (), max_scripts: int = 2) -> frozenset[str]:
    """Tags carried by at most ``max_scripts`` scripts: a message naming one (乒乓球, 代领, 50万元)
    names that script's subject. Segment-wide tags (信用卡, 社保养老, 群发), risk levels and the
    short ``generic`` words (product tags such as 存款, 理财) name nothing."""
    common = set(generic)
    counts = Counter(t for s in all_scripts(knowledge_dir) for t in set(s.tags))
    return frozenset(
        t
        for t, n in counts.items()
        if n <= max_scripts and not re.fullmatch(r"[RC][1-5]", t) and (len(t) >= 3 or t not in common)
    )


@lru_cache(maxsize=8)
def _vocabulary(path: Path, mtime_ns: int) -> ChannelVocabulary:
    from copilot.drafting.personas import PromptContentError

    try:
        return ChannelVocabulary.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise PromptContentError(f"{path}: 话术渠道定义无效（{exc}）") from exc


def channel_vocabulary(prompts_dir: Path) -> ChannelVocabulary:
    """prompts/script_channels.yaml, or built-in defaults when a content root has none."""
    path = prompts_dir / "script_channels.yaml"
    return _vocabulary(path, path.stat().st_mtime_ns) if path.is_file() else ChannelVocabulary()


def script_wording(block: ScriptBlock, rm: RMProfile, prompts_dir: Path) -> str:
    """The customer-facing wording of one reply in a script, placeholders filled."""
    return fill_placeholders(block.text, placeholder_values(rm, prompts_dir))


def placeholder_values(rm: RMProfile, prompts_dir: Path) -> dict[str, str]:
    name = rm.name.strip()
    surname = name[1:2] if name.startswith(("小", "老")) and len(name) > 1 else name[:1]
    branch_short = re.sub(r"^.*?银行", "", rm.branch) or rm.branch
    resolve = {
        "rm.name": name,
        "rm.branch": rm.branch,
        "rm.branch_short": branch_short,
        "rm.surname": surname,
    }
    return {k: resolve.get(v, v) for k, v in placeholder_map(prompts_dir).items()}
