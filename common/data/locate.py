"""Finding a data set's files under the user's --data-dir."""

from pathlib import Path

from common.data.dataset import DataError


def find_files(name: str, data_dir: Path | None, filenames: list[str], subfolder: str) -> Path:
    """The folder holding all `filenames`: `data_dir` itself or `data_dir/subfolder`.

    Raises a DataError telling the user which --data-dir is expected.
    """
    wanted = ", ".join(filenames)
    if data_dir is None:
        raise DataError(f"{name} needs --data-dir DIR with {wanted} (no data directory given)")
    data_dir = Path(data_dir)
    candidates = [data_dir, data_dir / subfolder]
    for folder in candidates:
        if all((folder / f).is_file() for f in filenames):
            return folder
    folder = max(candidates, key=lambda d: sum((d / f).is_file() for f in filenames))
    missing = [f for f in filenames if not (folder / f).is_file()]
    if len(missing) == len(filenames):
        raise DataError(f"{name} needs --data-dir DIR with {wanted} (not found in {data_dir})")
    raise DataError(
        f"{name} needs --data-dir DIR with {wanted} (missing in {folder}: {', '.join(missing)})"
    )
