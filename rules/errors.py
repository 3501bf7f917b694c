"""A business refusal: shown to the user verbatim; nothing changes."""


class Refused(Exception):
    """拒绝: what was refused, why, and what to do instead (one or two lines of Chinese)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
