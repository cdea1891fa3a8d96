"""The machine a run used (env.json) and JAX's persistent compilation cache."""

import os
import platform
import subprocess
from pathlib import Path

import jax
import jaxlib


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "theory-lab"


def enable_compilation_cache() -> Path:
    """Compiled programs are cached on disk, so a second run of the same
    preset skips most XLA compilation (docs/first_run.md measures it, cold and warm)."""
    directory = cache_root() / "jax-compilation-cache"
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory


def _git(*args: str) -> str | None:
    """A git command's output in this checkout; None outside git or without git."""
    try:
        out = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=5, cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def git_commit() -> str | None:
    out = _git("rev-parse", "HEAD")
    return out.strip() or None if out is not None else None


def git_dirty() -> bool | None:
    """Whether the working tree differs from the commit (uncommitted or untracked
    files): a dirty run's code is not exactly `git_commit`'s."""
    out = _git("status", "--porcelain")
    return bool(out.strip()) if out is not None else None


def describe() -> dict:
    devices = jax.devices()
    return {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "backend": jax.default_backend(),
        "device_count": len(devices),
        "devices": [str(getattr(d, "device_kind", d)) for d in devices],
        "process_count": jax.process_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "x64": bool(jax.config.jax_enable_x64),
    }
