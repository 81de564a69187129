"""Reading and writing the spreadsheets the college uses: CSV (UTF-8 or GBK) and XLSX.

Reading gives rows of text cells with their 1-based spreadsheet row numbers; headers are
matched against each column's Chinese and English names. Writing neutralises cells that a
spreadsheet program would run as formulas.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class SpreadsheetError(ValueError):
    """The file cannot be read as a spreadsheet; ``code`` says why, ``detail`` adds data."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class Table:
    headers: list[str]
    #: (spreadsheet row number, cells as stripped text), the header being row 1.
    rows: list[tuple[int, list[str]]]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError("encoding")


def read_table(filename: str, data: bytes) -> Table:
    """Read the first sheet of an XLSX file, or a CSV file in UTF-8 or GBK.

    :raise SpreadsheetError: empty, not a spreadsheet, undecodable, or no header row.
    """
    if not data.strip():
        raise SpreadsheetError("empty")
    if data[:4] == b"PK\x03\x04":
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise SpreadsheetError("not-a-spreadsheet") from exc
        sheet = workbook.worksheets[0]
        raw = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
    elif filename.lower().endswith((".xlsx", ".xlsm", ".xls")) or b"\x00" in data[:1024]:
        raise SpreadsheetError("not-a-spreadsheet")
    else:
        text = _decode_csv(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        raw = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    numbered = [(n, row) for n, row in enumerate(raw, start=1) if any(row)]
    if not numbered:
        raise SpreadsheetError("empty")
    (_, headers), rows = numbered[0], numbered[1:]
    width = len(headers)
    rows = [(n, (row + [""] * width)[:width] if len(row) < width else row) for n, row in rows]
    return Table(headers=[h.strip() for h in headers], rows=rows)


def normalise_header(header: str) -> str:
    return "".join(header.lower().split()).replace("_", "").replace("（", "(").replace("）", ")")


def match_headers(
    headers: list[str], aliases: dict[str, Iterable[str]], required: Iterable[str]
) -> dict[str, int]:
    """Map each field to its column index using the field's aliases (Chinese and English).

    :raise SpreadsheetError: "missing-columns" (detail: the missing fields) or
        "duplicate-columns" (detail: the header that appears twice).
    """
    lookup = {}
    for name, names in aliases.items():
        for alias in [name, *names]:
            lookup[normalise_header(alias)] = name
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = lookup.get(normalise_header(header))
        if name is None:
            continue
        if name in found:
            raise SpreadsheetError("duplicate-columns", header)
        found[name] = index
    missing = [name for name in required if name not in found]
    if missing:
        raise SpreadsheetError("missing-columns", ", ".join(missing))
    return found


def neutralise(value):
    """Return ``value`` safe to put in a CSV cell: text a spreadsheet would run as a formula
    gets a leading apostrophe."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def csv_bytes(headers: list[str], rows: Iterable[Iterable]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so spreadsheet programs read Chinese correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralise(_text(v) if not isinstance(v, str) else v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: list[tuple[str, list[str], Iterable[Iterable]]]) -> bytes:
    """An XLSX workbook of (title, headers, rows) sheets; every text cell is stored as text,
    never as a formula."""
    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(headers)
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_response(filename: str, headers: list[str], rows: Iterable[Iterable]) -> Response:
    return _download(csv_bytes(headers, rows), filename, "text/csv; charset=utf-8")


def xlsx_response(filename: str, sheets: list[tuple[str, list[str], Iterable[Iterable]]]):
    return _download(
        xlsx_bytes(sheets),
        filename,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def iter_rows(table: Table) -> Iterator[tuple[int, list[str]]]:
    yield from table.rows
