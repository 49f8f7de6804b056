"""The list of persons involved in terrorist activity (§16.2.6): file formats, names, matching.

CSV (UTF-8, a header row; comma or semicolon separated)::

    name,birth_date,iin_bin,identifiers,reference
    Ivanov Ivan Ivanovich,1980-02-01,800201300123,passport N1234567;id 045678,KZ-TL-17

XML::

    <persons>
      <person reference="KZ-TL-17">
        <name>Ivanov Ivan Ivanovich</name>
        <birth_date>1980-02-01</birth_date>
        <iin_bin>800201300123</iin_bin>
        <identifier>passport N1234567</identifier>
      </person>
    </persons>

Only ``name`` is required. Dates are ``YYYY-MM-DD`` or ``DD.MM.YYYY``. A person matches an entry when
the IIN/BIN is equal, or when the names are equal after normalisation (case, punctuation, ``ё``, word
order ignored) and the birth dates do not contradict each other (either one unknown, or equal).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime

MAX_FILE_BYTES = 20 * 1024 * 1024
_IIN = re.compile(r"^[0-9]{12}$")
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


class ListFormatError(ValueError):
    """The file cannot be read as a list; the message names the line or element and the fix."""


@dataclass(frozen=True)
class ListEntry:
    name: str
    birth_date: date | None = None
    iin_bin: str | None = None
    identifiers: tuple[str, ...] = field(default_factory=tuple)
    reference: str | None = None

    @property
    def name_key(self) -> str:
        return name_key(self.name)


def name_key(name: str) -> str:
    """A name reduced for comparison: NFKC, case-folded, Cyrillic yo as ye, punctuation dropped, words sorted."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("\u0451", "\u0435").replace("_", " ")
    return " ".join(sorted(word for word in _NOT_WORD.split(folded) if word))


def parse_date(value: str, where: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ListFormatError(f"{where}: birth date {value!r} is not YYYY-MM-DD or DD.MM.YYYY")


def _entry(name: str, birth: str, iin_bin: str, identifiers: list[str], reference: str, where: str) -> ListEntry:
    name = " ".join(name.split())
    if not name_key(name):
        raise ListFormatError(f"{where}: the name is empty")
    iin_bin = iin_bin.strip()
    if iin_bin and not _IIN.match(iin_bin):
        raise ListFormatError(f"{where}: IIN/BIN {iin_bin!r} is not 12 digits")
    return ListEntry(name, parse_date(birth, where), iin_bin or None,
                     tuple(i.strip() for i in identifiers if i.strip()), reference.strip() or None)


def parse_csv(text: str) -> list[ListEntry]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    if "name" not in columns:
        raise ListFormatError("line 1: the header must name the columns, at least 'name' "
                              "(name,birth_date,iin_bin,identifiers,reference)")
    entries: list[ListEntry] = []
    for row in reader:
        values = {(k or "").strip().lower(): (v or "") for k, v in row.items() if isinstance(v, str)}
        if not any(v.strip() for v in values.values()):
            continue
        where = f"line {reader.line_num}"
        entries.append(_entry(values.get("name", ""), values.get("birth_date", ""), values.get("iin_bin", ""),
                              values.get("identifiers", "").split(";"), values.get("reference", ""), where))
    return entries


def parse_xml(text: str) -> list[ListEntry]:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ListFormatError("the XML must not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ListFormatError(f"not well-formed XML: {exc}") from None
    entries: list[ListEntry] = []
    for number, person in enumerate(root.iter("person"), start=1):
        def child(tag: str, node: ET.Element = person) -> str:
            found = node.find(tag)
            return (found.text or "") if found is not None else ""
        entries.append(_entry(child("name"), child("birth_date"), child("iin_bin"),
                              [i.text or "" for i in person.findall("identifier")],
                              person.get("reference", ""), f"person {number}"))
    return entries


def parse_list(content: bytes, file_format: str) -> list[ListEntry]:
    if len(content) > MAX_FILE_BYTES:
        raise ListFormatError(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListFormatError("the file is not UTF-8: save it as UTF-8 and import it again") from None
    entries = parse_csv(text) if file_format == "csv" else parse_xml(text)
    if not entries:
        raise ListFormatError("the file holds no persons")
    return entries


def matches(entry_birth: date | None, entry_iin: str | None, entry_key: str, *, name: str,
            iin_bin: str | None, birth_date: date | None) -> str | None:
    """How a person matches an entry: ``iin_bin``, ``name``, or None."""
    if entry_iin and iin_bin and entry_iin == iin_bin:
        return "iin_bin"
    if entry_key == name_key(name) and (entry_birth is None or birth_date is None or entry_birth == birth_date):
        return "name"
    return None
