"""The errors the core raises on purpose: BloatscopeError for bad input (one line that names the
file and the problem), Cancelled when the caller asked the work to stop."""


class BloatscopeError(Exception):
    """Input that cannot be read as asked; the CLI prints it on one line and exits 2."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class Cancelled(Exception):
    """The caller set the cancel flag it passed in (``AnalyzeOptions.cancel``): the work stopped
    at its next check and there is no result. Not a BloatscopeError: the input is not at fault,
    and whoever catches bad input (the CLI's exit 2, the TUI's error line) must not report it.
    Only a caller that passed a flag can see it."""


def os_error_line(error: OSError) -> str:
    """An OSError as the command line words it: the file it names, then what went wrong."""
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"
