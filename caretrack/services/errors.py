"""The one error a business rule raises when it refuses a change."""


class RuleError(ValueError):
    """A change the rules refuse.

    ``code`` names the reason (its sentence is in :mod:`caretrack.messages`); ``field`` names the
    form field (or API field) the reason belongs to, or ``None`` for the form as a whole;
    ``values`` fill the sentence's placeholders. A code ending in ``-stale`` or a ``conflict``
    error means someone acted meanwhile: the web layer answers 409.
    """

    def __init__(self, code: str, field: str | None = None, *, conflict: bool = False,
                 **values):
        super().__init__(code)
        self.code = code
        self.field = field
        self.conflict = conflict or code == "stale" or code.endswith("-stale")
        self.values = values

    def __repr__(self) -> str:
        return f"RuleError({self.code!r}, field={self.field!r})"


class DuplicateSubmission(Exception):
    """The same form (or API call with the same idempotency key) was posted twice; the first
    record stands and nothing new is written."""

    def __init__(self, entry=None):
        super().__init__("submission already recorded"
                         + (f" as entry {entry.id}" if entry is not None else ""))
        self.entry = entry
