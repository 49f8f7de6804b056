"""Output of reports and journals (§14.1(9)): one table-like document, rendered to screen, printer and file.

Build a ``Document`` (title, parameters, sections of columns/rows/totals; every cell already text)
and call ``render(document, fmt)`` with ``fmt`` one of ``FORMATS``: ``html`` (screen), ``print``
(the same HTML laid out for A4 paper), ``csv`` or ``pdf``. The bytes depend only on the document:
no generation time or random id is written, so the same data and parameters give the same bytes.

    doc = Document(title="Журнал", parameters=(("Период", "2026-01-01 - 2026-01-31"),),
                   sections=(Section("Итого", (OutColumn("Счёт"), OutColumn("Сумма", numeric=True)),
                                     rows=(("A", "10.00"),), totals=("Итого", "10.00")),))
    body, media_type = render(doc, "pdf")
"""

from __future__ import annotations

from oson_operator.output.model import FORMATS, Document, OutColumn, Rendered, Section, document_dict, render

__all__ = ["FORMATS", "Document", "OutColumn", "Rendered", "Section", "document_dict", "render"]
