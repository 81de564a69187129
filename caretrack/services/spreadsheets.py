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

from flask import current_app, has_app_context
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

#: First characters that make a spreadsheet program run a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Magic numbers of files that are not spreadsheets we read (the old binary .xls included).
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Starts of common files that are not spreadsheets (PDF, PNG, JPEG, GIF).
OTHER_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
CSV_DELIMITERS = (",", "\t", ";")
#: The reasons that mean a file could not be read at all (answered 400; any other refusal of
#: a file that was read is a 422).
UNREADABLE = frozenset({"empty", "not-a-spreadsheet", "old-excel", "encoding",
                        "unpacked-too-large", "compression-ratio"})


def refusal_status(codes: Iterable[str]) -> int:
    """400 when a file could not be read at all, else 422 (read, but not usable)."""
    return 400 if any(code in UNREADABLE for code in codes) else 422


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
    encodings = ("utf-16",) if data.startswith(UTF16_BOMS) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError("encoding")


def _csv_delimiter(text: str) -> str:
    """Guess the delimiter from the header line (the csv Sniffer misreads quoted cells)."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first_line.count(d) for d in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass(frozen=True)
class UploadLimits:
    """What an uploaded spreadsheet may unpack to, checked before it is parsed: the sum of
    its parts' sizes, the ratio of that sum to the file's size, and its rows. The defaults
    fit a roster of 50,000 students with room to spare."""

    unpacked_bytes: int = 200 * 1024 * 1024
    ratio: int = 100
    rows: int = 60_000

    @classmethod
    def configured(cls) -> "UploadLimits":
        if not has_app_context():
            return cls()
        config = current_app.config
        return cls(config.get("UPLOAD_MAX_UNPACKED_BYTES", cls.unpacked_bytes),
                   config.get("UPLOAD_MAX_RATIO", cls.ratio),
                   config.get("UPLOAD_MAX_ROWS", cls.rows))


def _check_zip(data: bytes, limits: UploadLimits) -> None:
    """Refuse a zip that would unpack to too much, before any of it is unpacked. A part's
    declared size bounds what Python's zipfile will ever inflate for it, so a part that lies
    about its size fails its read instead of inflating further."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetError("not-a-spreadsheet") from exc
    if unpacked > limits.unpacked_bytes:
        raise SpreadsheetError("unpacked-too-large", str(limits.unpacked_bytes // 2**20))
    if unpacked > limits.ratio * max(len(data), 1):
        raise SpreadsheetError("compression-ratio", str(limits.ratio))


def _bounded(rows: Iterable, limits: UploadLimits) -> Iterator:
    for count, row in enumerate(rows, start=1):
        if count > limits.rows:
            raise SpreadsheetError("too-many-rows", str(limits.rows))
        yield row


def _read_xlsx(data: bytes, limits: UploadLimits) -> list[list[str]]:
    _check_zip(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            # The <dimension> a file declares may be wrong (some programs write "A1"), which
            # would cut rows off: read every row the sheet really has.
            sheet.reset_dimensions()
            return [[_text(v) for v in row]
                    for row in _bounded(sheet.iter_rows(values_only=True), limits)]
        finally:
            workbook.close()
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here means the file is unreadable
        raise SpreadsheetError("not-a-spreadsheet") from exc


def _read_csv(data: bytes, limits: UploadLimits) -> list[list[str]]:
    text = _decode_csv(data)
    if "\x00" in text:
        raise SpreadsheetError("not-a-spreadsheet")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(text))
        return [[cell.strip() for cell in row] for row in _bounded(reader, limits)]
    except csv.Error as exc:
        raise SpreadsheetError("not-a-spreadsheet") from exc


def read_table(filename: str, data: bytes, limits: UploadLimits | None = None) -> Table:
    """Read the first sheet of an XLSX file, or a CSV file in UTF-8 or GBK, within ``limits``
    (default: the configured ones).

    :raise SpreadsheetError: "empty", "not-a-spreadsheet", "old-excel" (a binary .xls) or
        "encoding" (a CSV neither in UTF-8, GBK/GB18030 nor UTF-16 with a byte-order mark);
        "unpacked-too-large" or "compression-ratio" (an XLSX refused before it is parsed),
        "too-many-rows".
    """
    limits = limits or UploadLimits.configured()
    if not data.strip():
        raise SpreadsheetError("empty")
    if data.startswith(b"PK\x03\x04"):
        raw = _read_xlsx(data, limits)
    elif data.startswith(OLE_MAGIC):
        raise SpreadsheetError("old-excel")
    elif data.startswith(OTHER_MAGIC):
        raise SpreadsheetError("not-a-spreadsheet")
    elif data.startswith(UTF16_BOMS):
        raw = _read_csv(data, limits)
    elif filename.lower().endswith((".xlsx", ".xlsm", ".xls")) or b"\x00" in data[:1024]:
        raise SpreadsheetError("not-a-spreadsheet")
    else:
        raw = _read_csv(data, limits)
    numbered = [(n, row) for n, row in enumerate(raw, start=1) if any(row)]
    if not numbered:
        raise SpreadsheetError("empty")
    (_, headers), rows = numbered[0], numbered[1:]
    width = len(headers)
    rows = [(n, (row + [""] * width)[:width] if len(row) < width else row) for n, row in rows]
    return Table(headers=[h.strip() for h in headers], rows=rows)


def normalise_header(header: str) -> str:
    """Return the header in the form aliases are compared in: lower case, no spaces, no
    underscores, no byte-order mark or required-column star, ASCII parentheses."""
    folded = "".join(header.lower().split()).replace("_", "").replace("\ufeff", "")
    return folded.replace("*", "").replace("（", "(").replace("）", ")")


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


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program would run ``text`` as a formula (whitespace before the
    formula character included)."""
    return text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES)


def neutralise(value):
    """Return ``value`` safe to put in a CSV cell: text a spreadsheet would run as a formula
    gets a leading apostrophe."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise` on a cell read back from a file this application wrote."""
    if text.startswith("'") and is_formula_like(text[1:]):
        return text[1:]
    return text


def csv_bytes(headers: list[str], rows: Iterable[Iterable]) -> bytes:
    """UTF-8 CSV with a byte-order mark (so spreadsheet programs read Chinese correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(h)) for h in headers])
    for row in rows:
        # Only text can be a formula: numbers and dates are written as they are.
        writer.writerow([neutralise(v) if isinstance(v, str) else _text(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(sheet, value) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    elif isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones: keep the wall clock
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula
    return cell


def xlsx_bytes(sheets: list[tuple], *, freeze_header: bool = False) -> bytes:
    """An XLSX workbook of (title, headers, rows) or (title, headers, rows, widths) sheets;
    ``widths`` are the columns' widths in characters. With ``freeze_header`` the header row
    stays in view while scrolling. Every text cell is stored as text, never as a formula.
    Aware datetimes are written as their wall-clock time."""
    workbook = Workbook(write_only=True)
    for title, headers, rows, *rest in sheets:
        sheet = workbook.create_sheet(title=_sheet_title(str(title)))
        for index, width in enumerate(rest[0] if rest else [], start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        if freeze_header:
            sheet.freeze_panes = "A2"
        sheet.append([_xlsx_cell(sheet, str(h)) for h in headers])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    """A sheet title Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return cleaned[:31] or "Sheet"


