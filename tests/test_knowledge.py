"""Knowledge documents: front-matter validation, encodings, PDF/DOCX readers, the product catalogue."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from copilot.config import CHECKOUT
from copilot.domain import DocType
from copilot.knowledge import (
    KnowledgeError,
    iter_knowledge_files,
    load_products,
    read_document,
)

GOOD_FRONT = (
    "---\nid: {id}\ntitle: 测试文档\ntype: education\nsegments: [pension]\n{extra}---\n\n"
    "# 测试文档\n\n正文内容。\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def error_of(path: Path) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as info:
        read_document(path)
    return info.value


# --- front matter ---------------------------------------------------------------------------------


def test_valid_front_matter_is_read(tmp_path: Path) -> None:
    extra = "risk_level: r3\nexpiry_date: 2030-01-31\n"
    f = write(tmp_path / "ok.md", GOOD_FRONT.format(id="edu-1", extra=extra))
    doc = read_document(f)
    assert doc.meta.id == "edu-1"
    assert doc.meta.type is DocType.education
    assert doc.meta.segments == ["pension"]
    assert doc.meta.risk_level == "R3"  # upper-cased
    assert doc.meta.expiry_date == dt.date(2030, 1, 31)
    assert not doc.is_expired(dt.date(2030, 1, 31))
    assert doc.is_expired(dt.date(2030, 2, 1))
    assert doc.body.startswith("# 测试文档")
    assert len(doc.content_hash) == 64


def test_unknown_segment_names_file_and_field(tmp_path: Path) -> None:
    f = write(tmp_path / "seg.md", "---\nid: a\ntitle: T\nsegments: [pension, martians]\n---\n正文。\n")
    err = error_of(f)
    assert err.path == str(f)
    assert err.field == "segments"
    assert "seg.md" in str(err) and "[segments]" in str(err)
    assert "martians" in str(err) and "未知客群" in str(err)


def test_bad_risk_level_names_file_and_field(tmp_path: Path) -> None:
    f = write(tmp_path / "risk.md", "---\nid: a\ntitle: T\nrisk_level: R9\n---\n正文。\n")
    err = error_of(f)
    assert err.field == "risk_level"
    assert "risk.md" in str(err) and "R9" in str(err) and "风险等级" in str(err)


def test_pydantic_type_errors_name_the_value(tmp_path: Path) -> None:
    f = write(tmp_path / "type.md", "---\nid: a\ntitle: T\ntype: blog\n---\n正文。\n")
    err = error_of(f)
    assert err.field == "type"
    assert "'blog'" in str(err) and "取值无效" in str(err)
    g = write(tmp_path / "date.md", "---\nid: a\ntitle: T\neffective_date: 下个月\n---\n正文。\n")
    assert error_of(g).field == "effective_date"


@pytest.mark.parametrize(
    ("name", "text", "hint"),
    [
        ("yaml.md", "---\nid: a\ntitle: [unclosed\n---\n正文。\n", "YAML"),
        ("list.md", "---\n- a\n- b\n---\n正文。\n", "映射"),
        ("unclosed.md", "---\nid: a\ntitle: T\n正文没有结束行。\n", "结束行"),
    ],
)
def test_broken_front_matter_is_an_error(tmp_path: Path, name: str, text: str, hint: str) -> None:
    err = error_of(write(tmp_path / name, text))
    assert err.field == "front matter"
    assert name in str(err) and hint in str(err)


def test_front_matter_without_body(tmp_path: Path) -> None:
    err = error_of(write(tmp_path / "nobody.md", "---\nid: a\ntitle: T\n---\n\n  \n"))
    assert err.field == "body" and "正文为空" in str(err)


@pytest.mark.parametrize("content", [b"", b"  \n\n\t"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "empty.md"
    f.write_bytes(content)
    err = error_of(f)
    assert "empty.md" in str(err) and "文件为空" in str(err)


def test_binary_file(tmp_path: Path) -> None:
    f = tmp_path / "image.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    err = error_of(f)
    assert "image.txt" in str(err) and "二进制" in str(err)


def test_undecodable_bytes(tmp_path: Path) -> None:
    data = "# 标题\n\n正文".encode() + b"\xff\x80\x81\xfe"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb18030")
    f = tmp_path / "garbled.md"
    f.write_bytes(data)
    err = error_of(f)
    assert "garbled.md" in str(err) and "无法解码" in str(err)


def test_gb18030_text_is_accepted(tmp_path: Path) -> None:
    text = "---\nid: gb\ntitle: 养老理财常识\n---\n\n# 养老理财常识\n\n净值型产品的净值会波动，不承诺保本。\n"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    f = tmp_path / "gb.md"
    f.write_bytes(data)
    doc = read_document(f)
    assert doc.meta.title == "养老理财常识"
    assert "不承诺保本" in doc.body


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    f = tmp_path / "bom.md"
    f.write_bytes(b"\xef\xbb\xbf" + "---\nid: bom\ntitle: 带BOM\n---\n正文。\n".encode())
    assert read_document(f).meta.id == "bom"


def test_unsupported_suffix(tmp_path: Path) -> None:
    f = write(tmp_path / "sheet.xlsx", "whatever")
    err = error_of(f)
    assert "sheet.xlsx" in str(err) and ".xlsx" in str(err)


def test_metadata_inferred_for_statute_without_front_matter(tmp_path: Path) -> None:
    body = "# 某某条例\n\n第一条 为了规范某事，制定本条例。\n\n第二条 本条例自公布之日起施行。\n"
    f = write(tmp_path / "某某条例(2021-01-26).md", body)
    doc = read_document(f)
    assert doc.meta.title == "某某条例"
    assert doc.meta.id == "某某条例"
    assert doc.meta.effective_date == dt.date(2021, 1, 26)
    assert doc.meta.type is DocType.regulation


# --- PDF and DOCX -----------------------------------------------------------------------------


def _cjk_font() -> str | None:
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path.lower().endswith((".ttf", ".ttc", ".otf")) and Path(path).is_file():
            return path
    return None


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    font = _cjk_font()
    if font:
        pdf.add_font("cjk", fname=font)
        pdf.set_font("cjk", size=12)
        lines = ["青禾银行 成长精选股票型基金 产品说明书", "风险等级 R4，业绩比较基准不构成收益承诺。"]
    else:  # no CJK font on this machine: extraction is still exercised, in ASCII
        pdf.set_font("helvetica", size=12)
        lines = ["Qinghe Bank Growth Equity Fund R4", "Benchmark 85 percent CSI 800 index"]
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    f = tmp_path / "产品说明书.pdf"
    pdf.output(str(f))

    doc = read_document(f)
    squashed = doc.body.replace(" ", "")
    for line in lines:
        assert line.replace(" ", "") in squashed
    assert doc.meta.title == "产品说明书"
    assert doc.content_hash and doc.meta.type is DocType.other


def test_corrupt_pdf_and_docx_are_knowledge_errors(tmp_path: Path) -> None:
    import zipfile

    bad_pdf = tmp_path / "bad.pdf"
    bad_pdf.write_bytes(b"%PDF-1.4\n garbage\n%%EOF")
    assert "bad.pdf" in str(error_of(bad_pdf))
    not_zip = tmp_path / "bad.docx"
    not_zip.write_bytes(b"not a zip archive")
    assert "DOCX" in str(error_of(not_zip))
    other_zip = tmp_path / "other.docx"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("a.txt", "hello")
    assert "other.docx" in str(error_of(other_zip))


def test_docx_headings_and_chinese_text(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("个人养老金说明", level=1)
    d.add_paragraph("个人养老金每年缴费上限为12000元。")
    d.add_heading("税收优惠", level=2)
    d.add_paragraph("缴费环节可按规定税前扣除。")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "领取条件"
    table.rows[0].cells[1].text = "达到法定退休年龄"
    f = tmp_path / "养老金.docx"
    d.save(str(f))

    doc = read_document(f)
    assert doc.meta.title == "个人养老金说明"
    lines = doc.body.split("\n\n")
    assert "# 个人养老金说明" in lines
    assert "## 税收优惠" in lines
    assert "个人养老金每年缴费上限为12000元。" in lines
    assert "领取条件 | 达到法定退休年龄" in lines


def test_read_document_uses_given_bytes(tmp_path: Path) -> None:
    """Ingest hashes the bytes it read; the document must be parsed from the same bytes."""
    f = write(tmp_path / "a.md", "# 旧标题\n\n旧正文。\n")
    new = "# 新标题\n\n新正文。\n".encode()
    doc = read_document(f, new)
    assert doc.meta.title == "新标题"


# --- files and the catalogue ------------------------------------------------------------------


def test_iter_knowledge_files_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "_drafts").mkdir()
    names = ["b.md", "a.txt", "sub/c.pdf", "sub/d.docx", ".git/x.md", "_drafts/y.md", "e.png", ".hidden.md"]
    for rel in names:
        (tmp_path / rel).write_text("x")
    found = [f.relative_to(tmp_path).as_posix() for f in iter_knowledge_files([tmp_path])]
    assert found == ["a.txt", "b.md", "sub/c.pdf", "sub/d.docx"]
    with pytest.raises(KnowledgeError, match="不存在"):
        list(iter_knowledge_files([tmp_path / "missing"]))


def test_load_products_reads_the_catalogue() -> None:
    products = load_products(CHECKOUT / "knowledge")
    fund = products["QH-FD-R4-001"]
    assert fund.risk_level == "R4"
    assert fund.product_type == "fund"
    assert Path(fund.source_path).name == "QH-FD-R4-001.md"
    assert products["QH-WM-R2-002"].risk_level == "R2"
    assert len(products) >= 12
    assert all(code == p.code and code.startswith("QH-") for code, p in products.items())


def test_product_sheets_declare_the_short_names_customers_use() -> None:
    products = load_products(CHECKOUT / "knowledge")
    assert "月月盈" in products["QH-WM-R2-003"].aliases
    assert "天天利" in products["QH-WM-R1-001"].aliases
    # every alias is part of how the sheet names the product or a distinct short form, never empty
    assert all(a.strip() for p in products.values() for a in p.aliases)


def test_load_products_skips_unreadable_files(tmp_path: Path) -> None:
    sheet = (
        "---\nid: {id}\ntitle: {title}\ntype: product\nproduct_code: {code}\n"
        "risk_level: {risk}\n---\n正文。\n"
    )
    write(tmp_path / "p1.md", sheet.format(id="p1", title="产品一", code="qh-x-1", risk="R2"))
    write(tmp_path / "p2.md", sheet.format(id="p2", title="产品二", code="QH-X-2", risk="R9"))
    write(tmp_path / "edu.md", "---\nid: e\ntitle: 文章\ntype: education\n---\n正文。\n")
    products = load_products(tmp_path)
    assert list(products) == ["QH-X-1"]
    assert products["QH-X-1"].name == "产品一"
    assert load_products(tmp_path / "missing") == {}
