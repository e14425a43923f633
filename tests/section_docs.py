"""Section files the way departments write them, built in the tests: python-docx for the
text and tables, raw XML where Word's automatic numbering is needed."""

from __future__ import annotations

import io
import re
import zipfile

from docx import Document

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# numId 1: "一、" (chineseCounting) at level 0, "1." at level 1; numId 2: "（%1）" at level 0.
NUMBERING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="{W}">
  <w:abstractNum w:abstractNumId="10">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>
      <w:lvlText w:val="%1、"/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>
      <w:lvlText w:val="%2."/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="11">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>
      <w:lvlText w:val="%1."/></w:lvl>
  </w:abstractNum>
  <w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>
  <w:num w:numId="2"><w:abstractNumId w:val="11"/></w:num>
  <w:num w:numId="3"><w:abstractNumId w:val="11"/>
    <w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>
</w:numbering>
"""

# A paragraph written "§numId.level§text" gets that automatic numbering.
_AUTO = re.compile(r"<w:p>(<w:r><w:t[^>]*>)§(\d+)\.(\d)§")


def docx_bytes(paragraphs: list[str], tables: list[list[list[str]]] | None = None) -> bytes:
    """A .docx of paragraphs (a "\\n" in one is a soft line break), then tables (rows of
    cell texts, "\\n" between a cell's paragraphs)."""
    document = Document()
    for text in paragraphs:
        paragraph = document.add_paragraph()
        lines = text.split("\n")
        run = paragraph.add_run(lines[0])
        for line in lines[1:]:
            run.add_break()
            run.add_text(line)
    for rows in tables or []:
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        for row, cells in zip(table.rows, rows, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
    out = io.BytesIO()
    document.save(out)
    return _with_numbering(out.getvalue())


def _with_numbering(data: bytes) -> bytes:
    """The file with NUMBERING as its numbering part and §…§ markers turned into numPr."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "word/document.xml":
                content = _AUTO.sub(_num_pr, content.decode("utf-8")).encode("utf-8")
            if name == "word/numbering.xml":
                content = NUMBERING.encode("utf-8")
            target.writestr(name, content)
    return out.getvalue()


def _num_pr(match: re.Match[str]) -> str:
    run, num_id, level = match.groups()
    return (
        f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/>'
        f"</w:numPr></w:pPr>{run}"
    )


def merged_table_docx() -> bytes:
    """A 5-column table: 序号 / 重点工作 / 本月份推进情况 / 下一步推进计划 / 责任部门, the
    header repeated (a later page), a title merged over two rows (vMerge) and a heading
    cell spanning two columns (gridSpan), a nested table in a cell."""
    cell = "<w:tc><w:tcPr>{pr}</w:tcPr>{body}</w:tc>"

    def par(text: str) -> str:
        return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'

    def tc(text: str, pr: str = "") -> str:
        return cell.format(pr=pr, body="".join(par(t) for t in text.split("\n")))

    header = (
        "<w:tr>"
        + "".join(
            tc(t) for t in ("序号", "重点工作", "本月份推进情况", "下一步推进计划", "责任部门")
        )
        + "</w:tr>"
    )
    nested = "<w:tbl><w:tr>" + tc("4.嵌套表格里的一项") + "</w:tr></w:tbl>" + par("")
    rows = [
        '<w:tr><w:tc><w:tcPr><w:gridSpan w:val="5"/></w:tcPr>'
        + par("组织部10月份重点工作推进情况")
        + "</w:tc></w:tr>",
        header,
        "<w:tr>"
        + tc("1")
        + tc("团干部\n队伍建设", '<w:vMerge w:val="restart"/>')
        + tc("1.开展培训。\n2.完成考核。")
        + tc("1.继续培训。")
        + tc("组织部")
        + "</w:tr>",
        header,
        "<w:tr>"
        + tc("")
        + tc("", "<w:vMerge/>")
        + cell.format(pr="", body=par("3.组织交流。") + nested)
        + tc("2.总结经验。")
        + tc("组织部")
        + "</w:tr>",
        "<w:tr>"
        + tc("2")
        + tc("别的部门的工作")
        + tc("1.不属于我们。")
        + tc("1.无。")
        + tc("")
        + "</w:tr>",
    ]
    body = f"<w:body><w:tbl>{''.join(rows)}</w:tbl>{par('')}</w:body>"
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}">{body}</w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("[Content_Types].xml", "<Types/>")
        target.writestr("word/document.xml", document)
    return out.getvalue()
