"""Approved scripts (knowledge/scripts, 话术库): the wording compliance has signed off.

Each script file has a ``## 话术`` section holding one or more quoted replies, optionally labelled
("群内回复：", "私聊跟进：", "代领请求："). Placeholders in 【】 are filled from the RM profile and
persona (prompts/placeholders.yaml); a sentence whose placeholder cannot be filled is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from copilot.domain import DocType, RMProfile
from copilot.knowledge import KnowledgeError, read_document

_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.M)
_LABEL = re.compile(r"^\s*([^\n“”]{1,12})[:：]\s*$")
PLACEHOLDER = re.compile(r"【([^】]{1,12})】")


@dataclass(frozen=True)
class ScriptBlock:
    label: str
    text: str


@dataclass(frozen=True)
class ApprovedScript:
    doc_id: str
    title: str
    tags: tuple[str, ...]
    product_code: str
    approval_no: str
    source_path: str
    blocks: tuple[ScriptBlock, ...] = field(default_factory=tuple)

    def block_for(self, message: str) -> ScriptBlock:
        """The labelled block whose label shares most with the message; the first one on ties."""

        def overlap(b: ScriptBlock) -> int:
            return sum(1 for i in range(len(b.label) - 1) if b.label[i : i + 2] in message)

        return max(self.blocks, key=lambda b: (overlap(b), -self.blocks.index(b)))


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
    m = doc.meta
    return ApprovedScript(
        doc_id=m.id,
        title=m.title,
        tags=tuple(m.tags),
        product_code=m.product_code.upper(),
        approval_no=m.approval_no,
        source_path=doc.source_path,
        blocks=blocks,
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


_SENT = re.compile(r"[^。！？\n]*(?:[。！？]+|\n|$)")


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


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Fill 【name】 from ``values``; drop each sentence (or line) that still has an unfilled one."""
    text = re.sub(r"@【[^】]{1,12}】\s*", "", text)  # group @-mention: meaningless in a draft
    filled = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    kept: list[str] = []
    for sentence in _SENT.findall(filled):
        if PLACEHOLDER.search(sentence):
            continue
        kept.append(sentence)
    out = renumber_lists("".join(kept))
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def script_by_id(doc_id: str, knowledge_dir: Path) -> ApprovedScript | None:
    """An approved script by its document id (personas name their few-shot examples this way)."""
    folder = knowledge_dir / "scripts"
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.md")):
        script = load_script(path)
        if script is not None and script.doc_id == doc_id:
            return script
    return None


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
