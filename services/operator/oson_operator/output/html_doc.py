"""HTML for the screen and for the printer.

The print stylesheet pages cleanly on A4: table headers repeat on every page (``thead`` as a header
group), rows are never split across pages, and each section after the first starts on a new page.
``for_print`` applies the paper layout on screen too (a print preview).
"""

from __future__ import annotations

from html import escape

from oson_operator.output.model import Document, Section

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; margin: 1.5em; }
h1 { font-size: 14pt; margin: 0 0 .4em; }
h2 { font-size: 12pt; margin: 1.2em 0 .4em; }
dl.parameters { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; margin: 0 0 1em; }
dl.parameters dt { font-weight: bold; }
dl.parameters dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .2em .4em; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num, th.num { text-align: right; white-space: nowrap; }
tfoot td { font-weight: bold; background: #f6f6f6; }
p.note, footer { color: #555; font-size: 9pt; }
@page { size: A4 {orientation}; margin: 15mm 12mm 15mm 12mm; }
@media print {
  body { margin: 0; font-size: 9pt; }
  thead { display: table-header-group; }
  tfoot { display: table-row-group; }
  tr, td, th { page-break-inside: avoid; break-inside: avoid; }
  section + section { page-break-before: always; break-before: page; }
  h1, h2 { page-break-after: avoid; break-after: avoid; }
}
"""

_PRINT_PREVIEW = """
body.print-preview { max-width: {width}; margin: 1em auto; font-size: 9pt; }
body.print-preview section + section { border-top: 2px dashed #999; margin-top: 2em; padding-top: 1em; }
"""


def _section(section: Section) -> str:
    head = "".join(f'<th{" class=num" if c.numeric else ""}>{escape(c.title)}</th>' for c in section.columns)
    numeric = [c.numeric for c in section.columns]

    def row(cells: tuple[str, ...]) -> str:
        return "<tr>" + "".join(
            f'<td{" class=num" if numeric[i] else ""}>{escape(cell)}</td>' for i, cell in enumerate(cells)) + "</tr>"

    body = "\n".join(row(cells) for cells in section.rows)
    foot = f"<tfoot>{row(section.totals)}</tfoot>" if section.totals is not None else ""
    note = f'<p class="note">{escape(section.note)}</p>' if section.note else ""
    return (f"<section>\n<h2>{escape(section.title)}</h2>\n{note}<table>\n<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}\n</tbody>\n{foot}</table>\n</section>")


def render_html(document: Document, *, for_print: bool = False) -> bytes:
    orientation = "landscape" if document.landscape else "portrait"
    style = _STYLE.replace("{orientation}", orientation)
    if for_print:
        style += _PRINT_PREVIEW.replace("{width}", "277mm" if document.landscape else "186mm")
    parameters = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in document.parameters)
    sections = "\n".join(_section(section) for section in document.sections)
    footer = f"<footer>{escape(document.footer)}</footer>" if document.footer else ""
    page = (f'<!DOCTYPE html>\n<html lang="{escape(document.language)}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(document.title)}</title>\n<style>{style}</style>\n</head>\n"
            f'<body{" class=print-preview" if for_print else ""}>\n<h1>{escape(document.title)}</h1>\n'
            f'<dl class="parameters">{parameters}</dl>\n{sections}\n{footer}\n</body>\n</html>\n')
    return page.encode("utf-8")
