"""PDF with reportlab: deterministic (``invariant=1``: no creation time, a fixed document id).

Text is set in DejaVu Sans, embedded from the package (``fonts/``, Bitstream Vera licence, see
``fonts/LICENSE-DejaVu.txt``), so Cyrillic and Kazakh letters (ә, ғ, қ, ң, ө, ұ and the rest) render on a
host without system fonts. Table headers repeat on every page; each section starts on a new page.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable

from oson_operator.output.model import Document, Section

FONTS = Path(__file__).parent / "fonts"
REGULAR, BOLD = "OsonSans", "OsonSans-Bold"


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=13, leading=16, spaceAfter=4),
        "section": ParagraphStyle("section", fontName=BOLD, fontSize=11, leading=14, spaceBefore=6, spaceAfter=4),
        "text": ParagraphStyle("text", fontName=REGULAR, fontSize=8.5, leading=10.5),
        "cell": ParagraphStyle("cell", fontName=REGULAR, fontSize=7.5, leading=9),
        "num": ParagraphStyle("num", fontName=REGULAR, fontSize=7.5, leading=9, alignment=2),
        "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9),
        "total": ParagraphStyle("total", fontName=BOLD, fontSize=7.5, leading=9),
        "totalnum": ParagraphStyle("totalnum", fontName=BOLD, fontSize=7.5, leading=9, alignment=2),
    }


def _table(section: Section, styles: dict[str, ParagraphStyle], width: float) -> LongTable:
    numeric = [c.numeric for c in section.columns]

    def cells(values: tuple[str, ...], text: str, num: str) -> list[Paragraph]:
        return [Paragraph(escape(v), styles[num if numeric[i] else text]) for i, v in enumerate(values)]

    data = [[Paragraph(escape(c.title), styles["head"]) for c in section.columns]]
    data += [cells(row, "cell", "num") for row in section.rows]
    if section.totals is not None:
        data.append(cells(section.totals, "total", "totalnum"))
    weights = [1.0 if n else 1.6 for n in numeric]
    widths = [width * w / sum(weights) for w in weights]
    table = LongTable(data, colWidths=widths, repeatRows=1)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if section.totals is not None:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")))
    table.setStyle(commands)
    return table


def render_pdf(document: Document) -> bytes:
    _register_fonts()
    styles = _styles()
    size = landscape(A4) if document.landscape else A4
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(buffer, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=document.title, author="OSON", creator="oson-operator",
                            producer="oson-operator", subject="", invariant=1)
    story: list[Flowable] = [Paragraph(escape(document.title), styles["title"])]
    for label, value in document.parameters:
        story.append(Paragraph(f"<b>{escape(label)}:</b> {escape(value)}", styles["text"]))
    for index, section in enumerate(document.sections):
        if index > 0:
            story.append(PageBreak())
        else:
            story.append(Spacer(1, 4 * mm))
        story.append(Paragraph(escape(section.title), styles["section"]))
        if section.note:
            story.append(Paragraph(escape(section.note), styles["text"]))
        story.append(_table(section, styles, pdf.width))
    if document.footer:
        story.append(Spacer(1, 4 * mm))
        story.append(Paragraph(escape(document.footer), styles["text"]))

    def number_pages(canvas: object, doc: object) -> None:
        canvas.setFont(REGULAR, 7)  # type: ignore[attr-defined]
        canvas.drawRightString(size[0] - 12 * mm, 8 * mm, f"{doc.page}")  # type: ignore[attr-defined]

    pdf.build(story, onFirstPage=number_pages, onLaterPages=number_pages)
    return buffer.getvalue()
