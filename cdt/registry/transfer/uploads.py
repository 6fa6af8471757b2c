"""Where uploaded import files wait between the preview and the confirmation.

- The folder (CDT_IMPORT_FOLDER, else <instance>/imports) is created 0700 and each file is
  written 0600: the lists hold citizen IDs and phone numbers.
- Confirming claims the file by renaming it `<name>.work` while holding an exclusive lock
  (flock) on it, taken before the rename; the lock dies with the process. So a `.work` file
  whose lock can be taken was left by a confirmation that was killed: `clean()` removes it,
  at start-up and at each upload, while it never touches the file of a confirmation in
  progress (in another worker, or a worker started meanwhile).
- Uploads older than STALE_AFTER are removed too (a preview that was never confirmed).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from flask import Flask, current_app

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux: claimed files are cleaned by age only
    fcntl = None

STALE_AFTER = 6 * 3600  # seconds: forgotten uploads are removed
WORK_SUFFIX = ".work"
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def folder_path(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config.get("CDT_IMPORT_FOLDER") or Path(app.instance_path) / "imports")


def folder(app: Flask | None = None) -> Path:
    """The upload folder, created 0700 when missing (an existing folder keeps its mode)."""
    path = folder_path(app)
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    return path


def write(path: Path, data: bytes) -> None:
    """Write a new upload readable by the app's user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _lock(fh) -> bool:
    """An exclusive lock on an open file, without waiting; False when another process holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Gone(Exception):
    """The upload is no longer waiting: confirmed, cancelled, replaced, or being confirmed."""


class Claim:
    """`with Claim(path) as claim:` owns the upload while confirming it: the file is renamed
    `.work` under a lock. Leaving the block puts it back for another try, unless `done()`
    was called (then it is deleted). Raises Gone when another request has it."""

    def __init__(self, path: Path):
        self.path = path
        self.work = path.with_name(path.name + WORK_SUFFIX)
        self._fh = None
        self._done = False

    def __enter__(self) -> Claim:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - held open until __exit__ (the lock)
        except FileNotFoundError:
            raise Gone() from None
        try:
            if not _lock(fh):
                raise Gone()
            os.rename(self.path, self.work)
        except (Gone, FileNotFoundError):
            fh.close()
            raise Gone() from None
        self._fh = fh
        return self

    def read(self) -> bytes:
        self._fh.seek(0)
        return self._fh.read()

    def done(self) -> None:
        """Delete the upload when the block ends (imported, or refused for good)."""
        self._done = True

    def __exit__(self, *exc) -> None:
        try:
            if self._done:
                self.work.unlink(missing_ok=True)
            else:
                os.rename(self.work, self.path)
        finally:
            self._fh.close()  # releases the lock, after the file is back or gone


def _orphaned_work_file(path: Path, now: float) -> bool:
    """Remove `path` (a `.work` file) when no live confirmation holds it; True if removed."""
    if fcntl is None:
        if path.stat().st_mtime >= now - STALE_AFTER:
            return False
        path.unlink()
        return True
    with open(path, "rb") as fh:
        if not _lock(fh):
            return False
        path.unlink()
        return True


def clean(app: Flask | None = None, now: float | None = None) -> int:
    """Remove what killed confirmations and forgotten previews left; make sure what stays is
    readable by the app's user only. Returns the number of files removed."""
    path = folder_path(app)
    if not path.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for item in path.iterdir():
        try:
            if not item.is_file() or item.is_symlink():
                continue
            if item.name.endswith(WORK_SUFFIX):
                removed += _orphaned_work_file(item, now)
            elif item.stat().st_mtime < now - STALE_AFTER:
                item.unlink()
                removed += 1
            elif item.stat().st_mode & 0o077:
                os.chmod(item, PRIVATE_FILE)  # left by an older version, world-readable
        except OSError:
            continue
    return removed
