"""The output module: HTML for screen and printer, CSV and PDF from one document; Kazakh and Russian text
survives every format (the PDF is read back with pypdf), and the bytes are deterministic."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from oson_operator.output import Document, OutColumn, Section, render

KAZAKH = "Төлем қызметтері: әмиян, ғ, қ, ң, ө, ұ, ү, һ, і"  # noqa: RUF001


def sample(rows: int = 120) -> Document:
    columns = (OutColumn("Счёт"), OutColumn("Сумма, ₸", numeric=True))
    first = Section("Оборотная ведомость", columns, tuple((f"Кошелёк {i} <&>", f"{i}.00") for i in range(rows)),
                    ("Итого", f"{sum(range(rows))}.00"), note=KAZAKH)
    second = Section("Сводка", (OutColumn("Вид"),), (("Платёж",),))
    return Document("Журнал — " + KAZAKH, (first, second), (("Период", "2050-01-01 - 2050-01-31"),), "kk")


def test_pdf_is_deterministic_and_keeps_cyrillic_and_kazakh_letters(tmp_path: Path) -> None:
    first, second = render(sample(), "pdf"), render(sample(), "pdf")
    assert first.media_type == "application/pdf" and first.body.startswith(b"%PDF-")
    assert first.body == second.body
    reader = PdfReader(io.BytesIO(first.body))
    assert len(reader.pages) >= 3  # 120 rows spill over a page, and the second section starts a new one
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert KAZAKH.split(":")[0] in text and "әмиян" in text and "Кошелёк 119 <&>" in text
    # The header row repeats on the page the table continues on.
    assert "Счёт" in reader.pages[1].extract_text()
    assert "Сводка" in reader.pages[-1].extract_text() and "Сводка" not in reader.pages[0].extract_text()
    fonts = {str(font) for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert fonts  # embedded fonts, not a base-14 font
    if shutil.which("pdftotext"):
        path = tmp_path / "doc.pdf"
        path.write_bytes(first.body)
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert "әмиян" in out


def test_html_for_screen_and_printer() -> None:
    screen = render(sample(3), "html").body.decode()
    printer = render(sample(3), "print").body.decode()
    assert "Кошелёк 2 &lt;&amp;&gt;" in screen and "<thead>" in screen and "<tfoot>" in screen
    assert "@page { size: A4" in screen and "thead { display: table-header-group; }" in screen
    assert "break-before: page" in screen  # sections start on a new sheet
    assert 'class=print-preview' in printer and 'class=print-preview' not in screen
    assert screen.startswith("<!DOCTYPE html>") and '<html lang="kk">' in screen
    assert render(sample(3), "html").body == render(sample(3), "html").body


def test_csv_blocks_per_section() -> None:
    body = render(sample(2), "csv").body
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Журнал — " + KAZAKH]
    assert ["Счёт", "Сумма, ₸"] in rows and ["Кошелёк 1 <&>", "1.00"] in rows and ["Итого", "1.00"] in rows
    assert rows[rows.index(["Сводка"]) - 1] == []


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="html, print, csv, pdf"):
        render(sample(1), "docx")


def _csv_module(document: Document) -> bytes:
    """The CSV as the csv module alone writes it (what the quick path of plain rows must equal)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([document.title])
    writer.writerows([label, value] for label, value in document.parameters)
    for section in document.sections:
        writer.writerows([[], [section.title], [column.title for column in section.columns], *section.rows])
        if section.totals is not None:
            writer.writerow(section.totals)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.mark.parametrize("rows", [
    (("1", "2030-03-01T00:00:00.000001+00:00", "Төлем", "", "12.50"),) * 3,  # plain: joined in one go
    (("1", "a,b", "", "", ""),),
    (("1", 'say "hi"', "", "", ""),),
    (("1", "two\nlines", "", "", ""),),
    (("1", "cr\r", "", "", ""),),
    (("1", "", "", "", ""), ("2", "x", "y")),  # ragged rows
    (("",), ("x",)),  # one-cell rows: an empty one is written as ""
    (),
])
def test_csv_rows_are_the_csv_modules_bytes(rows: tuple[tuple[str, ...], ...]) -> None:
    columns = tuple(OutColumn(f"c{i}") for i in range(max((len(r) for r in rows), default=1)))
    document = Document("Журнал", (Section("Раздел", columns, rows, ("Итого", "1,00")),), (("Период", "x"),))
    assert render(document, "csv").body == _csv_module(document)


def test_plain_rows_take_the_quick_path_and_others_do_not() -> None:
    from oson_operator.output.csv_doc import plain_lines

    assert plain_lines((("1", "2.00"), ("2", ""))) == "1,2.00\r\n2,\r\n"
    assert plain_lines((("1", "2,00"),)) is None
    assert plain_lines((("1", '"'),)) is None
    assert plain_lines((("",),)) is None


def test_document_dict_is_asdict_without_the_copy() -> None:
    from dataclasses import asdict

    from oson_operator.output import document_dict

    document = sample(3)
    plain = document_dict(document)
    assert plain == asdict(document)
    assert plain["sections"][0]["rows"] is document.sections[0].rows  # shared, not copied
    assert json.dumps(plain, sort_keys=True) == json.dumps(asdict(document), sort_keys=True)
