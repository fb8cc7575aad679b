"""Errors a user can act on. The CLI prints ``str(error)`` on one line, never a traceback."""


class QAError(Exception):
    """An expected failure with a message that says what to do."""

    exit_code = 1


class UsageError(QAError):
    exit_code = 2
