"""Render a Draft (handlers/docmodel.py) as a .docx with python-docx: A4, Arial, placeholders highlighted."""

from __future__ import annotations

import io

from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from handlers.docmodel import Draft, PageBreak, Para, Rule, Table

MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "Arial"
SIZES = {"title": 13, "heading": 12, "body": 11, "small": 9}
ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
}  # fmt: skip
STYLES = {"title": "Title", "heading": "Heading 1"}  # navigable in Word; restyled below to look like a letter
TEXT_WIDTH_CM = 16.0  # A4 (21 cm) less 2.5 cm margins on each side


def render(draft: Draft) -> bytes:
    """The draft as .docx bytes."""
    doc = new_docx()
    _setup(doc, draft.title)
    for block in draft.all_blocks():
        if isinstance(block, Para):
            _para(doc.add_paragraph(), block)
        elif isinstance(block, Table):
            _table(doc, block)
        elif isinstance(block, Rule):
            _rule(doc.add_paragraph())
        elif isinstance(block, PageBreak):
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _setup(doc, title: str) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(SIZES["body"])
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(4)
    for name, size in (("Title", SIZES["title"]), ("Heading 1", SIZES["heading"])):
        style = doc.styles[name]
        style.font.name, style.font.size, style.font.bold = FONT, Pt(size), True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(10), Pt(4)
        rfonts = style.element.rPr.rFonts
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)  # a theme font would win over the font name in Word
    _no_title_border(doc.styles["Title"])
    doc.core_properties.title = title
    doc.core_properties.author = "Pandu Kerja Sama Desa"


def _no_title_border(style) -> None:
    ppr = style.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)


def _para(par, p: Para) -> None:
    if p.style in STYLES:
        par.style = STYLES[p.style]
    par.alignment = ALIGN.get(p.align, WD_ALIGN_PARAGRAPH.LEFT)
    fmt = par.paragraph_format
    if p.indent or p.hanging:
        fmt.left_indent = Cm(p.indent + p.hanging)
    if p.hanging:
        fmt.first_line_indent = Cm(-p.hanging)
    if p.keep_with_next:
        fmt.keep_with_next = True
    if p.space_before:
        fmt.space_before = Pt(p.space_before)
    for s in p.spans:
        run = par.add_run(s.text)
        run.bold = s.bold or None
        run.italic = s.italic or None
        if p.style == "small":
            run.font.size = Pt(SIZES["small"])
        if s.missing:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _table(doc, t: Table) -> None:
    cols = len(t.widths)
    table = doc.add_table(rows=0, cols=cols)
    if t.grid:
        table.style = "Table Grid"
    table.autofit = False
    for r, row in enumerate(t.rows):
        cells = table.add_row().cells
        for c, (cell, paras) in enumerate(zip(cells, row)):
            cell.width = Cm(TEXT_WIDTH_CM * t.widths[c])
            for i, p in enumerate(paras):
                target = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                if t.header and r == 0:
                    p = Para(tuple(type(s)(s.text, True, s.italic, s.missing) for s in p.spans), p.style, p.align)
                _para(target, p)


def _rule(par) -> None:
    """A paragraph with a bottom border: the line under a letterhead."""
    ppr = par._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, val in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), val)
    border.append(bottom)
    ppr.append(border)
