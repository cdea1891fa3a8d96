"""Reading one file of a run folder without trusting it.

Only regular files are opened: the type is checked with os.stat first, so a
FIFO or a device named like a run file (which would hang or never end) is
refused unopened. JSON is parsed whole; arrays load without pickle. Every
problem is one UsageError naming the file and what is wrong with it.
"""

import json
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from common.config import UsageError


def one_line(text: str) -> str:
    """An error's text as one line (its first non-empty line)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else "no details"


def os_problem(path: Path, error: OSError, doing: str = "read") -> UsageError:
    """An OSError met at `path` as one line: what could not be done, and why (e.g. Permission denied)."""
    return UsageError(f"cannot {doing} {path}: {error.strerror or one_line(str(error))}")


def present(path: Path) -> bool:
    """True when `path` is a regular file (a symlink to one counts), False when nothing
    is there; a UsageError when something else is there or the folder cannot be read."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        raise UsageError(f"{path.parent} is not a folder") from None
    except OSError as error:
        raise os_problem(path, error) from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path} is {_kind(mode)}, not a regular file")
    return True


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a file")


def read_json(path: Path):
    """The JSON value in the regular file `path` (which must be there)."""
    if not present(path):
        raise UsageError(f"{path} is missing")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise os_problem(path, error) from None
    if not text.strip():
        raise UsageError(f"{path} is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON ({error.msg} at line {error.lineno})") from None
    except RecursionError:
        raise UsageError(f"{path} is nested too deeply to read") from None


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of the .npz file `path` (which must be there): plain numbers and
    strings only, since nothing is unpickled."""
    if not present(path):
        raise UsageError(f"{path} is missing")
    try:
        with open(path, "rb") as file:
            data = np.load(file, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("it holds one array, not an .npz archive of named arrays")
            with data:
                return {key: data[key] for key in data.files}
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as error:
        raise UsageError(f"{path} is not readable array data ({one_line(str(error))})") from None
    except OSError as error:
        raise os_problem(path, error) from None
