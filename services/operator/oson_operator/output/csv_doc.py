"""CSV: one block per section (title line, header, rows, totals), a blank line between blocks.

UTF-8 with a byte-order mark so that spreadsheet programs read Cyrillic and Kazakh letters right.
"""

from __future__ import annotations

import csv
import io

from oson_operator.output.model import Document


def render_csv(document: Document) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([document.title])
    for label, value in document.parameters:
        writer.writerow([label, value])
    for section in document.sections:
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow([column.title for column in section.columns])
        writer.writerows(section.rows)
        if section.totals is not None:
            writer.writerow(section.totals)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
