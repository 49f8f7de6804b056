"""The document model shared by every renderer, and the dispatch to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

FORMATS = ("html", "print", "csv", "pdf")


@dataclass(frozen=True)
class OutColumn:
    title: str
    numeric: bool = False  # right-aligned


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[OutColumn, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    totals: tuple[str, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]
    parameters: tuple[tuple[str, str], ...] = ()  # (label, value) lines under the title
    language: str = "ru"
    footer: str = ""
    landscape: bool = field(default=False)


def document_dict(document: Document) -> dict[str, Any]:
    """The document as plain data, equal to ``dataclasses.asdict(document)`` but sharing the rows instead of
    copying them cell by cell (asdict deep-copies: seconds for a month's general journal)."""
    def section(item: Section) -> dict[str, Any]:
        return {"title": item.title, "columns": tuple({"title": c.title, "numeric": c.numeric} for c in item.columns),
                "rows": item.rows, "totals": item.totals, "note": item.note}

    return {"title": document.title, "sections": tuple(section(item) for item in document.sections),
            "parameters": document.parameters, "language": document.language, "footer": document.footer,
            "landscape": document.landscape}


class Rendered(NamedTuple):
    body: bytes
    media_type: str
    extension: str


def render(document: Document, fmt: str) -> Rendered:
    """The document as ``fmt`` (one of FORMATS); ``ValueError`` for another format."""
    if fmt in ("html", "print"):
        from oson_operator.output.html_doc import render_html

        return Rendered(render_html(document, for_print=fmt == "print"), "text/html; charset=utf-8", "html")
    if fmt == "csv":
        from oson_operator.output.csv_doc import render_csv

        return Rendered(render_csv(document), "text/csv; charset=utf-8", "csv")
    if fmt == "pdf":
        from oson_operator.output.pdf_doc import render_pdf

        return Rendered(render_pdf(document), "application/pdf", "pdf")
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
