"""One writer per run folder: `<run>/.lock`, locked with flock by the process
that writes the run, from before its first file until it ends. A second
process on the same folder is refused while the first lives; the kernel drops
the lock of a process that dies, so a stale lock is simply taken over. The
lock file is removed when the run ends (its inode is checked after locking, so
a process that opened a lock file just removed locks again)."""

import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from common.config import UsageError
from common.option_names import OptionNames
from common.run_files import one_line

LOCK_NAME = ".lock"


@dataclass(frozen=True)
class HeldFolder:
    """A run folder this process writes: the lock's file descriptor, and the folders
    it made to hold the run (outermost first; empty when the folder was there)."""

    folder: Path
    descriptor: int
    created: tuple[Path, ...]


def take(folder: Path, names: OptionNames) -> HeldFolder:
    """Make `folder` (and missing parents) and lock it; one-line UsageError when that
    cannot be done or another live process holds the lock."""
    created = _make_folders(folder, names)
    path = folder / LOCK_NAME
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            raise UsageError(f"{names.out_at(folder)}: cannot write in {folder} "
                             f"({error.strerror or one_line(str(error))})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
            os.close(descriptor)
            raise UsageError(f"{names.out_at(folder)} is being written by another process (pid {holder}); "
                             f"wait for it to end, or {names.another_out}") from None
        if _same_file(descriptor, path):
            break
        os.close(descriptor)  # the lock file we opened was removed by a run that just ended: again
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    return HeldFolder(folder, descriptor, created)


def release(held: HeldFolder, *, remove_created: bool = False) -> None:
    """Unlock (removing the lock file first, while still held); with `remove_created`,
    also remove the folders `take` made (bad input found mid-way)."""
    try:
        os.unlink(held.folder / LOCK_NAME)
    except FileNotFoundError:
        pass
    os.close(held.descriptor)
    if remove_created and held.created:
        shutil.rmtree(held.created[0], ignore_errors=True)
        for parent in held.created[1:]:
            try:
                parent.rmdir()
            except OSError:
                break


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        now = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _make_folders(folder: Path, names: OptionNames) -> tuple[Path, ...]:
    """Create `folder` and its missing parents, returning the ones this call made
    (outermost first): a folder another process made meanwhile is not counted."""
    missing = [p for p in (folder, *folder.absolute().parents) if not p.exists()][::-1]
    created = []
    for path in missing:
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as error:
            for made in reversed(created):
                made.rmdir()
            raise UsageError(f"{names.out_at(folder)}: cannot make {path} "
                             f"({error.strerror or one_line(str(error))})") from None
        created.append(path)
    return tuple(created)

