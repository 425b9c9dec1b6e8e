"""The one-line messages `ser` prints for errors: the cause, and the path where a file is at fault."""
import typing

# Errors the user can fix (a missing or unreadable file, a bad value): `ser` prints their message alone.
# Any other exception is a bug: `ser` names its type too, and `-v` shows its traceback.
USER_ERRORS = (ValueError, OSError)


def message(error: BaseException, path: typing.Optional[str] = None) -> str:
    """`error` as one line; `path`, the file being processed, is named unless the message names it already."""
    if isinstance(error, FileNotFoundError) and error.strerror is None and len(error.args) == 1:
        # Raised as FileNotFoundError(path), whose message is the path alone.
        text = f"no such file: {error.args[0]}"
    elif isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.strerror}: {error.filename}"
    else:
        text = " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__
    if path and path not in text:
        text = f"{path}: {text}"
    return text
