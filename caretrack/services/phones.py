"""Phone numbers as the college types them: one stored form, and a warning when odd."""

import re

from caretrack.services.spreadsheets import clean_text

#: Characters people put between a phone number's digits.
_SEPARATORS = str.maketrans("", "", " -()./")
_DIGITS = re.compile(r"^\+?\d+$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
#: China's country code in front of a mobile number: +86, 0086, 86.
_COUNTRY = re.compile(r"^(?:\+86|0086|86)(?=1\d{10}$)")
#: A landline with its area code: 0 and 9 to 11 more digits.
_LANDLINE = re.compile(r"^0\d{9,11}$")


def normalise_phone(text: str) -> tuple[str, bool]:
    """Return the phone number to store and whether it is odd (kept, with a warning).

    Full-width digits become digits, separators go, +86 goes; an 11-digit mobile number or
    a landline with its area code is not odd.
    """
    written = clean_text(text)
    cleaned = written.translate(_SEPARATORS)
    if not cleaned:
        return "", False
    if not _DIGITS.match(cleaned):
        return written, True
    cleaned = _COUNTRY.sub("", cleaned)
    return cleaned, not (_MOBILE.match(cleaned) or _LANDLINE.match(cleaned))
