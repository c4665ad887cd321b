"""The error every seam raises for bad input: one line that names the file and the problem."""


class BloatscopeError(Exception):
    """Input that cannot be read as asked; the CLI prints it on one line and exits 2."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
