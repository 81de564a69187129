"""File downloads: the web layer's side of exports. Services write the bytes; this module turns
them into responses."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import quote

from flask import Response

from caretrack.models import User
from caretrack.services.exports import ExportColumn, ExportFile, export_list
from caretrack.services.spreadsheets import csv_bytes, xlsx_bytes
from caretrack.web import client_address

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_response(body: bytes, filename: str, mimetype: str, ascii_name: str = "") -> Response:
    """Return ``body`` as a file download named ``filename`` (``ascii_name`` for old clients)."""
    ascii_name = ascii_name or filename.encode("ascii", "ignore").decode() or "export"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def file_response(file: ExportFile) -> Response:
    """Return a finished export as a download."""
    return download_response(file.body, file.filename, file.mimetype, file.ascii_name)


def export_response(
    list_name: str,
    fmt: str,
    columns: Sequence[ExportColumn],
    items: Iterable,
    user: User,
    *,
    title: str,
    now: datetime,
) -> Response:
    """Export a list for download, audited with the request's address (the caller commits)."""
    return file_response(export_list(list_name, fmt, columns, items, user, title=title, now=now,
                                     ip=client_address()))


def csv_response(filename: str, headers: list[str], rows: Iterable[Iterable]) -> Response:
    return download_response(csv_bytes(headers, rows), filename, "text/csv; charset=utf-8")


def xlsx_response(filename: str, sheets: list[tuple[str, list[str], Iterable[Iterable]]]):
    return download_response(xlsx_bytes(sheets), filename, XLSX_MIMETYPE)
