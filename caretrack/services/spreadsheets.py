"""Reading and writing the spreadsheets the college uses: CSV (UTF-8 or GBK) and XLSX.

Reading gives rows of text cells with their 1-based spreadsheet row numbers; headers are
matched against each column's Chinese and English names. Writing neutralises cells that a
spreadsheet program would run as formulas.
"""

import csv
import io
import re
import unicodedata
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


#: Characters dropped from every cell: zero-width spaces and joiners, byte-order marks.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
#: A number typed with spaces in it ("136 0013 6000", "+86 136 0013 6000").
_SPACED_NUMBER = re.compile(r"^\+?\d[\d ]*\d$")


def clean_text(text: str) -> str:
    """Return ``text`` as every cell is compared: Unicode NFKC (full-width digits, letters and
    the ideographic space become their plain forms), no invisible characters, trimmed, and
    a number's inner spaces removed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = text.strip()
    if " " in text and _SPACED_NUMBER.match(text):
        text = text.replace(" ", "")
    return text


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(str(value))


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


#: A formula whose value can be read without computing it: =HYPERLINK("url", "text"), ="text".
_HYPERLINK = re.compile(r'^=\s*HYPERLINK\(\s*"((?:[^"]|"")*)"\s*(?:[,;]\s*"((?:[^"]|"")*)"\s*)?\)$',
                        re.IGNORECASE)
_STRING_FORMULA = re.compile(r'^=\s*"((?:[^"]|"")*)"$')


def formula_text(formula: str) -> str:
    """The value of a formula that has no cached value, where it can be read without
    computing anything: a HYPERLINK's text (or its address), a quoted string; else ""."""
    match = _HYPERLINK.match(formula.strip())
    if match:
        return (match.group(2) if match.group(2) is not None else match.group(1)).replace('""', '"')
    match = _STRING_FORMULA.match(formula.strip())
    return match.group(1).replace('""', '"') if match else ""


def _xlsx_rows(workbook, name: str, limits: "UploadLimits") -> list[list]:
    sheet = workbook[name]
    # The <dimension> a file declares may be wrong (some programs write "A1"), which
    # would cut rows off: read every row the sheet really has.
    sheet.reset_dimensions()
    return [list(row) for row in _bounded(sheet.iter_rows(values_only=True), limits)]


class _Workbook:
    """An XLSX file's sheets, read one at a time: each cell's value, a formula's value as the
    program that saved the file computed it (its cached value)."""

    def __init__(self, data: bytes, limits: "UploadLimits"):
        _check_zip(data, limits)
        self.data, self.limits = data, limits
        try:
            self.formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            self.names = list(self.formulas.sheetnames)
        except Exception as exc:  # noqa: BLE001 - any failure here means the file is unreadable
            raise SpreadsheetError("not-a-spreadsheet") from exc
        if not self.names:
            raise SpreadsheetError("empty")

    def rows(self, name: str) -> list[list[str]]:
        try:
            raw = _xlsx_rows(self.formulas, name, self.limits)
            formulas = [(r, c) for r, row in enumerate(raw) for c, v in enumerate(row)
                        if isinstance(v, str) and v.startswith("=")]
            if formulas:
                self._resolve(name, raw, formulas)
            return [[_text(v) for v in row] for row in raw]
        except SpreadsheetError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SpreadsheetError("not-a-spreadsheet") from exc

    def _resolve(self, name: str, raw: list[list], formulas: list[tuple[int, int]]) -> None:
        """Replace each formula by its cached value, or by what :func:`formula_text` reads."""
        values = load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        try:
            cached = _xlsx_rows(values, name, self.limits)
        finally:
            values.close()
        for r, c in formulas:
            value = cached[r][c] if r < len(cached) and c < len(cached[r]) else None
            raw[r][c] = value if value not in (None, "") else formula_text(raw[r][c])

    def close(self) -> None:
        self.formulas.close()


def _read_csv(data: bytes, limits: "UploadLimits") -> list[list[str]]:
    text = _decode_csv(data)
    if "\x00" in text:
        raise SpreadsheetError("not-a-spreadsheet")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(text))
        return [[clean_text(cell) for cell in row] for row in _bounded(reader, limits)]
    except csv.Error as exc:
        raise SpreadsheetError("not-a-spreadsheet") from exc


def _kind(filename: str, data: bytes) -> str:
    """"xlsx" or "csv" (UTF-16 text exports included).

    :raise SpreadsheetError: empty, an old binary .xls, or not a spreadsheet.
    """
    if not data.strip():
        raise SpreadsheetError("empty")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(OLE_MAGIC):
        raise SpreadsheetError("old-excel")
    if data.startswith(OTHER_MAGIC):
        raise SpreadsheetError("not-a-spreadsheet")
    if data.startswith(UTF16_BOMS):
        return "csv"
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")) or b"\x00" in data[:1024]:
        raise SpreadsheetError("not-a-spreadsheet")
    return "csv"


def _table(raw: list[list[str]]) -> Table:
    numbered = [(n, row) for n, row in enumerate(raw, start=1) if any(row)]
    if not numbered:
        raise SpreadsheetError("empty")
    (_, headers), rows = numbered[0], numbered[1:]
    return Table(headers=list(headers), rows=_padded(rows, len(headers)))


def _padded(rows, width: int) -> list[tuple[int, list[str]]]:
    return [(n, (row + [""] * width)[:width] if len(row) < width else row) for n, row in rows]


def read_table(filename: str, data: bytes, limits: "UploadLimits | None" = None) -> Table:
    """Read the first sheet of an XLSX file, or a CSV file in UTF-8, GBK or UTF-16, within
    ``limits`` (default: the configured ones); its first non-blank row is the header.

    :raise SpreadsheetError: "empty", "not-a-spreadsheet", "old-excel" (a binary .xls) or
        "encoding" (a CSV neither in UTF-8, GBK/GB18030 nor UTF-16 with a byte-order mark);
        "unpacked-too-large" or "compression-ratio" (an XLSX refused before it is parsed),
        "too-many-rows".
    """
    limits = limits or UploadLimits.configured()
    if _kind(filename, data) == "csv":
        return _table(_read_csv(data, limits))
    workbook = _Workbook(data, limits)
    try:
        return _table(workbook.rows(workbook.names[0]))
    finally:
        workbook.close()


@dataclass
class SkippedRow:
    """A row the reader left out: ``reason`` is "title" (above the header), "blank" (between
    rows of data) or "header" (the header again)."""

    row: int
    reason: str


@dataclass
class Sheet:
    """One sheet of an uploaded file, its header found and its columns mapped."""

    #: The sheet's name ("" for a CSV file).
    name: str
    #: Every sheet's name, in the file's order (one "" for a CSV file).
    sheet_names: list[str]
    #: Spreadsheet row number of the header.
    header_row: int
    headers: list[str]
    #: Column index by field.
    columns: dict[str, int]
    #: (spreadsheet row number, cells as clean text, as wide as the header).
    rows: list[tuple[int, list[str]]]
    skipped: list[SkippedRow]


#: Rows at the top of a sheet searched for the header row (title rows above it are skipped).
HEADER_SEARCH_ROWS = 20


def _locate(raw: list[list[str]], aliases: dict[str, Iterable[str]],
            required: list[str]) -> tuple[int, dict[str, int]]:
    """Find the header row: among the first rows, the one with every required field that
    names the most fields (the first of them on a tie).

    :return: (index in ``raw``, column index by field).
    :raise SpreadsheetError: "empty", "missing-columns" (detail: the fields missing from the
        row that came closest, comma-separated) or "duplicate-columns".
    """
    best: tuple[int, dict[str, int]] | None = None
    closest: dict[str, int] = {}
    duplicate: SpreadsheetError | None = None
    searched = 0
    for index, row in enumerate(raw):
        if not any(row):
            continue
        searched += 1
        if searched > HEADER_SEARCH_ROWS:
            break
        try:
            found = match_headers(row, aliases, [])
        except SpreadsheetError as exc:
            duplicate = duplicate or exc
            continue
        if all(f in found for f in required):
            if best is None or len(found) > len(best[1]):
                best = (index, found)
        elif len(found) > len(closest):
            closest = found
    if best is not None:
        return best
    if searched == 0:
        raise SpreadsheetError("empty")
    if duplicate is not None:
        raise duplicate
    raise SpreadsheetError("missing-columns", ",".join(f for f in required if f not in closest))


def _sheet(name: str, names: list[str], raw: list[list[str]],
           aliases: dict[str, Iterable[str]], required: list[str]) -> Sheet:
    index, columns = _locate(raw, aliases, required)
    headers = raw[index]
    skipped = [SkippedRow(n, "title") for n, row in enumerate(raw[:index], start=1) if any(row)]
    header_key = [normalise_header(h) for h in headers]
    rows, blanks = [], []
    for n, row in enumerate(raw[index + 1:], start=index + 2):
        if not any(row):
            blanks.append(n)
        elif [normalise_header(c) for c in row[:len(headers)]] == header_key:
            skipped.append(SkippedRow(n, "header"))
        else:
            rows.append((n, row))
    last = rows[-1][0] if rows else 0
    skipped += [SkippedRow(n, "blank") for n in blanks if n < last]
    skipped.sort(key=lambda s: s.row)
    return Sheet(name, names, index + 1, list(headers), columns,
                 _padded(rows, len(headers)), skipped)


def read_sheet(filename: str, data: bytes, aliases: dict[str, Iterable[str]],
               required: Iterable[str] = (), *, sheet: str | None = None,
               limits: "UploadLimits | None" = None) -> Sheet:
    """Read one sheet of an XLSX file (``sheet`` by name; by default the first whose header
    has the ``required`` fields), or a CSV file in UTF-8, GBK or UTF-16: find its header row
    under any title rows, map its columns with ``aliases``, and clean every cell.

    :raise SpreadsheetError: any code of :func:`read_table`; "unknown-sheet" (no sheet of that
        name), "missing-columns" or "duplicate-columns".
    """
    limits = limits or UploadLimits.configured()
    required = list(required)
    if _kind(filename, data) == "csv":
        return _sheet("", [""], _read_csv(data, limits), aliases, required)
    workbook = _Workbook(data, limits)
    try:
        names = workbook.names
        if sheet is not None:
            if sheet not in names:
                raise SpreadsheetError("unknown-sheet", sheet)
            return _sheet(sheet, names, workbook.rows(sheet), aliases, required)
        first_error = None
        for name in names:
            try:
                return _sheet(name, names, workbook.rows(name), aliases, required)
            except SpreadsheetError as exc:
                if exc.code not in ("empty", "missing-columns", "duplicate-columns"):
                    raise
                first_error = first_error or exc
        raise first_error
    finally:
        workbook.close()


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


