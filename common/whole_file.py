"""Writing a file whole: into a temporary file beside it, then moved over it
(os.replace), so a reader never sees half of it and a failed write leaves
whatever was there before."""

import os
import secrets
from pathlib import Path

from common.config import UsageError
from common.run_files import os_problem


def write_whole(path: Path, text: str) -> None:
    """`text` into `path` whole (the usual permissions, as open() would give); one-line
    UsageError, nothing left behind, when `path` is a folder or something other than a
    file, or its folder is missing or cannot be written."""
    path = Path(path)
    if os.path.isdir(path) or (os.path.lexists(path) and not os.path.isfile(path)):
        raise UsageError(f"cannot write {path}: something other than a file is there")
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except OSError as error:
        raise os_problem(path, error, "write") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def print_or_write(text: str, out: Path | None) -> None:
    """A command's table: printed, or with `--out FILE` written whole and the file named."""
    if out is None:
        print(text, end="")
    else:
        write_whole(out, text)
        print(f"wrote {out}")
