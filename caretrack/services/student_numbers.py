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
    """The stored student numbers, searchable with the known damage undone."""

    def __init__(self, numbers: Iterable[str]):
        self.numbers = set(numbers)
        self.width = fixed_width(self.numbers)
        self._unpadded: dict[str, list[str]] = defaultdict(list)
        if self.width:
            for number in self.numbers:
                if number.isdigit() and len(number) == self.width and number.startswith("0"):
                    self._unpadded[number.lstrip("0")].append(number)

    def find(self, number: str) -> NumberMatch:
        """Find ``number`` as written, else as a number that lost its leading zeros."""
        if number in self.numbers:
            return NumberMatch(number)
        if not (self.width and number.isdigit() and len(number) < self.width):
            return NumberMatch(None)
        found = sorted(self._unpadded.get(number.lstrip("0"), ()))
        if len(found) == 1:
            return NumberMatch(found[0], repaired=True)
        return NumberMatch(None, ambiguous=tuple(found)) if found else NumberMatch(None)

    def looks_shortened(self, number: str) -> bool:
        """Whether a number that found no student is shorter than the fixed width."""
        return bool(self.width and number.isdigit() and len(number) < self.width)
