"""Grouping rows that belong to students, for lists that show several rows per student."""

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def group_by_student(
    rows: Iterable[T], student_id: Callable[[T], int] = lambda row: row.student_id
) -> dict[int, list[T]]:
    """Group ``rows`` by their student's id, keeping the rows' order within each student."""
    grouped: dict[int, list[T]] = {}
    for row in rows:
        grouped.setdefault(student_id(row), []).append(row)
    return grouped
