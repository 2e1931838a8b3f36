"""Render a Draft (handlers/docmodel.py) as a PDF with reportlab: A4, an embedded TrueType font, page numbers.

The font is Bitstream Vera, which reportlab ships inside its wheel (reportlab/fonts/Vera*.ttf): it covers the
Latin letters and the punctuation the drafts use (… — • “ ”), is embedded (subset) in every PDF, and needs no
font installed on the machine.
"""

from __future__ import annotations

import io
import threading
from html import escape
from pathlib import Path

import reportlab
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from handlers import docmodel as m

MIME = "application/pdf"
FONT = "PanduVera"
MARGIN = 2.5 * cm
TEXT_WIDTH = A4[0] - 2 * MARGIN
HIGHLIGHT = "#FFF200"
ALIGN = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT, "justify": TA_JUSTIFY}
SIZES = {"title": (12.5, 16), "heading": (11.5, 15), "body": (10.5, 14), "small": (8.5, 11)}
_fonts_lock = threading.Lock()
_fonts_ready = False


def _register_fonts() -> None:
    """Register reportlab's bundled Vera TTFs once, as one family (normal, bold, italic, bold italic)."""
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        folder = Path(reportlab.__file__).parent / "fonts"
        faces = {"": "Vera.ttf", "-Bold": "VeraBd.ttf", "-Italic": "VeraIt.ttf", "-BoldItalic": "VeraBI.ttf"}
        for suffix, file in faces.items():
            pdfmetrics.registerFont(TTFont(FONT + suffix, str(folder / file)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT + "-Bold", italic=FONT + "-Italic",
                                      boldItalic=FONT + "-BoldItalic")  # fmt: skip
        _fonts_ready = True


def render(draft: m.Draft) -> bytes:
    """The draft as PDF bytes."""
    _register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=draft.title, author="Pandu Kerja Sama Desa", creator="Pandu Kerja Sama Desa",
        initialFontName=FONT,  # no unembedded Helvetica resource on the page
    )
    story = []
    for block in draft.all_blocks():
        story.extend(_flowables(block))
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buf.getvalue()


def _page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(A4[0] / 2, 1.4 * cm, f"– {doc.page} –")
    canvas.restoreState()


def _style(p: m.Para) -> ParagraphStyle:
    size, leading = SIZES.get(p.style, SIZES["body"])
    align = p.align
    if align == "justify" and any(s.missing for s in p.spans):
        align = "left"  # a highlight does not follow the stretched spaces of justified text
    bold = p.style in ("title", "heading")
    return ParagraphStyle(
        f"{p.style}-{align}", fontName=FONT + ("-Bold" if bold else ""), bulletFontName=FONT, fontSize=size,
        leading=leading,
        alignment=ALIGN.get(align, TA_LEFT), leftIndent=(p.indent + p.hanging) * cm,
        firstLineIndent=-p.hanging * cm, spaceAfter=4,
        spaceBefore=p.space_before or (8 if bold else 0), keepWithNext=int(p.keep_with_next or bold),
    )


def _markup(spans) -> str:
    out = []
    for s in spans:
        text = escape(s.text, quote=False).replace("\n", "<br/>")
        if s.italic:
            text = f"<i>{text}</i>"
        if s.bold:
            text = f"<b>{text}</b>"
        if s.missing:
            text = f'<font backColor="{HIGHLIGHT}">{text}</font>'
        out.append(text)
    return "".join(out) or "&nbsp;"


def _paragraph(p: m.Para) -> Paragraph:
    return Paragraph(_markup(p.spans), _style(p))


def _flowables(block) -> list:
    if isinstance(block, m.Para):
        return [_paragraph(block)]
    if isinstance(block, m.Rule):
        return [HRFlowable(width="100%", thickness=1.2, color="#000000", spaceBefore=2, spaceAfter=8)]
    if isinstance(block, m.PageBreak):
        return [PageBreak()]
    if isinstance(block, m.Table):
        return [_table(block), Spacer(1, 4)]
    raise TypeError(f"unknown block {block!r}")


def _table(t: m.Table) -> Table:
    rows = []
    for r, row in enumerate(t.rows):
        cells = []
        for paras in row:
            if t.header and r == 0:
                paras = tuple(m.Para(tuple(m.Span(s.text, True, s.italic, s.missing) for s in p.spans), p.style,
                                     p.align) for p in paras)  # fmt: skip
            cells.append([_paragraph(p) for p in paras] or [Paragraph("&nbsp;", _style(m.Para(())))])
        rows.append(cells)
    table = Table(rows, colWidths=[w * TEXT_WIDTH for w in t.widths], repeatRows=1 if t.header else 0)
    style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), FONT), ("LEFTPADDING", (0, 0), (-1, -1), 3),
             ("RIGHTPADDING", (0, 0), (-1, -1), 3)]  # fmt: skip
    if t.grid:
        style.append(("GRID", (0, 0), (-1, -1), 0.5, "#444444"))
    if t.header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), "#EEEEEE"))
    table.setStyle(TableStyle(style))
    return table
