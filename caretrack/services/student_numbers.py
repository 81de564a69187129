"""Finding a student by a number a spreadsheet may have damaged.

Cells are already in NFKC (full-width digits are plain digits). What is left is the leading
zero a numeric cell drops: "01850001" typed into a number cell comes back as "1850001". When the
students' numbers have one fixed width, a shorter number of digits finds the student whose
number it is with its zeros put back, and says so; a number that finds two students finds
none.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from caretrack.services.spreadsheets import clean_text

#: Share of the numbers that must have the same width for that width to count as fixed.
FIXED_WIDTH_SHARE = 0.8


@dataclass(frozen=True)
class NumberMatch:
    """The stored number a given number found (None: no student); ``repaired`` when only
    its lost leading zeros made it match; ``ambiguous`` the numbers it found when several."""

    number: str | None
    repaired: bool = False
    ambiguous: tuple[str, ...] = ()


def fixed_width(numbers: Iterable[str]) -> int | None:
    """The width most of the numbers of digits have, or None when they do not share one."""
    widths = Counter(len(n) for n in numbers if n.isdigit())
    total = sum(widths.values())
    if not total:
        return None
    width, count = widths.most_common(1)[0]
    return width if count >= FIXED_WIDTH_SHARE * total else None


class NumberIndex:
    """The stored student numbers, searchable with the known damage undone.

    Stored numbers are compared in their clean form too, so a number stored in full-width
    digits and the same number in plain digits are one number: two students, found by it.
    """

    def __init__(self, numbers: Iterable[str]):
        self._by_key: dict[str, list[str]] = defaultdict(list)
        for number in numbers:
            self._by_key[clean_text(number)].append(number)
        self.width = fixed_width(self._by_key)
        self._unpadded: dict[str, list[str]] = defaultdict(list)
        if self.width:
            for key, stored in self._by_key.items():
                if key.isdigit() and len(key) == self.width and key.startswith("0"):
                    self._unpadded[key.lstrip("0")].extend(stored)

    def find(self, number: str) -> NumberMatch:
        """Find ``number`` as written, and as a number that lost its leading zeros: one
        student found is a match, several are ambiguous."""
        key = clean_text(number)
        exact = self._by_key.get(key, [])
        repaired = []
        if self.looks_shortened(key):
            repaired = [n for n in self._unpadded.get(key.lstrip("0"), ()) if n not in exact]
        found = exact + repaired
        if len(found) == 1:
            return NumberMatch(found[0], repaired=bool(repaired))
        return NumberMatch(None, ambiguous=tuple(sorted(found))) if found else NumberMatch(None)

    def looks_shortened(self, number: str) -> bool:
        """Whether ``number`` may have lost its leading zeros: digits, fewer than the stored
        numbers' fixed width, and not starting with a zero (a numeric cell drops them all)."""
        return bool(self.width and number.isdigit() and len(number) < self.width
                    and not number.startswith("0"))
