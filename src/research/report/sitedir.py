"""The folder a report run publishes into: checks, one run at a time, and an atomic swap.

A run never writes into the published site while it works:

1. :func:`check_output_dir` refuses, before anything runs, a path that is a file or a
   device, the root folder or a mount point, a folder that cannot be written, and a
   non-empty folder that is not a report site (no :data:`MARKER`) unless ``force``.
2. :class:`SiteBuild` takes ``<parent>/.<name>.lock`` (``flock``, released by the kernel
   even when the process is killed; the file holds the holder's pid for the message a
   second run prints), removes what killed runs left behind, and fills a staging folder
   ``<parent>/.<name>.staging-<pid>`` with hard links to the current site (files are only
   ever replaced, never rewritten in place, so the links cannot change the old site).
3. The run writes into the staging folder; :meth:`SiteBuild.commit` swaps it with the
   published folder in one ``renameat2(RENAME_EXCHANGE)`` call and deletes the old one.
   Interrupted before that, the published folder is exactly as it was; the staging
   folder is removed (or, after SIGKILL, by the next run).
4. A build with a failed page is not published: :meth:`SiteBuild.keep_failed` moves the
   staging folder to ``<parent>/<name>.failed`` (replacing the previous failed build)
   and the published folder stays byte-identical.

Writes never follow symbolic links: an output folder that is a link, a link anywhere
inside an existing site (e.g. ``executed/`` pointing elsewhere), a lock file that is a
link (opened with ``O_NOFOLLOW``, so a planted link's target is never truncated) and a
``<name>.failed`` that is a link are refused with a one-line :class:`ReportError`; the
staging folder is created with ``mkdir`` (which fails on anything already there).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import glob
import os
import shutil
import stat
import tempfile
from pathlib import Path
from types import TracebackType

from research.atomic import atomic_write_text
from research.errors import ReportError

__all__ = ["FAILED_SUFFIX", "MARKER", "SiteBuild", "check_output_dir", "failed_dir", "is_report_site"]

#: File that marks a folder as a report site written by ``research report``.
MARKER = ".research-site"
_MARKER_TEXT = "This folder is a report site written by `research report`; it may replace it.\n"
#: ``<out><FAILED_SUFFIX>`` holds the last build that had a failed page (not published).
FAILED_SUFFIX = ".failed"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def is_report_site(folder: Path) -> bool:
    """True when ``folder`` holds our marker (or a site built before the marker existed)."""
    if (folder / MARKER).is_file():
        return True
    return (folder / "claims.json").is_file() and (folder / ".status").is_dir()


def failed_dir(out: Path) -> Path:
    """Where a build with a failed page is kept: ``<out>.failed`` beside ``out``."""
    return Path(out).parent / f"{Path(out).name}{FAILED_SUFFIX}"


def _refuse_link(path: Path, what: str) -> None:
    """ReportError when ``path`` is a symbolic link (checked with lstat, never followed)."""
    if path.is_symlink():
        raise ReportError(f"{what} {path} is a symbolic link; `research report` never writes through "
                          "links: remove the link or give the real folder with --output")


def _links_inside(folder: Path) -> Path | None:
    """The first symbolic link found under ``folder`` (links are not followed), or None."""
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            if os.path.islink(os.path.join(root, name)):
                return Path(root) / name
    return None


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe_writable(folder: Path, what: str) -> None:
    """Create and delete a file in ``folder`` (a real check: also read-only mounts, root)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".research-probe."):
            pass
    except OSError as exc:
        raise ReportError(f"cannot write {what} {folder}: {exc.strerror or exc} "
                          "(choose a writable folder with --output)") from None


def check_output_dir(out: Path, *, force: bool = False, allow_nonempty: bool = False) -> Path:
    """Validate the output folder before anything runs; returns it resolved.

    Parameters
    ----------
    out
        The ``--output`` folder (created on commit if missing).
    force
        Accept a non-empty folder that is not a report site (its files are kept, ours added).
    allow_nonempty
        The same, for the project's own ``reports/`` folder (it holds a README).

    Raises
    ------
    ReportError
        ``out`` is a file/device, ``/`` or a mount point, a symbolic link or a folder holding
        one, not writable (nor its parent), or a non-empty non-site folder without ``force``;
        ``<out>.failed`` is a symbolic link.
    """
    out = Path(out).expanduser().absolute()
    out = out.parent.resolve() / out.name if out.name else out.resolve()
    if out.parent == out:
        raise ReportError(f"refusing to publish reports into {out}: choose a dedicated folder with --output")
    _refuse_link(out, "--output")
    _refuse_link(failed_dir(out), "the failed-build folder")
    if out.exists():
        if not out.is_dir():
            kind = "a file" if out.is_file() else "not a folder (a device, socket or broken link)"
            raise ReportError(f"--output {out} is {kind}; give a folder (it is created if missing)")
        if os.path.ismount(out):
            raise ReportError(f"--output {out} is a mount point; use a folder inside it "
                              "(the site is swapped in whole, beside the folder)")
        if not (allow_nonempty or force or is_report_site(out)) and any(out.iterdir()):
            raise ReportError(
                f"--output {out} is not empty and is not a report site (no {MARKER} file); "
                "choose an empty or new folder, or pass --force to add the reports to it")
        if not os.access(out, os.W_OK | os.X_OK):
            raise ReportError(f"cannot write the output folder {out}: permission denied "
                              "(choose a writable folder with --output)")
        _probe_writable(out, "the output folder")
        link = _links_inside(out)
        if link is not None:
            raise ReportError(f"{link} is a symbolic link inside the output folder; `research report` never "
                              "writes through links: remove it (a report site holds none) or choose another --output")
    _probe_writable(_nearest_existing(out.parent), "beside the output folder, in")
    return out


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the call is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _leftover(name: str) -> bool:
    """A temporary file of an interrupted write (``.<stem>.XXXX.part`` / ``.ipynb``)."""
    return name.startswith(".") and name.endswith((".part", ".ipynb", ".tmp"))


def _link_tree(src: Path, dst: Path) -> None:
    """``dst`` (created here, so nothing planted there is used) = ``src`` with every file
    hard-linked (copied where links fail), leftover temporary files dropped. A symbolic link
    in ``src`` (planted after :func:`check_output_dir`) is a ReportError; other errors are
    plain OSErrors naming the path."""
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        target = dst / rel
        target.mkdir()
        shutil.copystat(root, target)
        for name in [*files, *dirs]:
            s, d = os.path.join(root, name), target / name
            if os.path.islink(s):
                raise ReportError(f"{s} is a symbolic link inside the output folder; `research report` never "
                                  "writes through links: remove it or choose another --output")
            if name in dirs:
                continue
            if not _leftover(name):
                try:
                    os.link(s, d)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                        raise
                    shutil.copy2(s, d, follow_symlinks=False)


class SiteBuild:
    """Lock, staging folder and commit of one run into ``out`` (use as a context manager).

    Inside the ``with`` block, write the new site into :attr:`staging` and call
    :meth:`commit`; leaving the block without a commit (an error, Ctrl-C, SIGTERM) deletes
    the staging folder and leaves ``out`` untouched.
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.parent = self.out.parent
        self.lock_path = self.parent / f".{self.out.name}.lock"
        self.staging = self.parent / f".{self.out.name}.staging-{os.getpid()}"
        self._fd: int | None = None
        self._committed = False

    # -- lock --------------------------------------------------------------------------
    def _open_lock(self) -> int:
        """Open (or create) the lock file without following a link; refuse anything but
        a plain file of ours with one name (a planted link or hard link is never written)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.lock_path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ReportError(f"the lock file {self.lock_path} is a symbolic link; `research report` never "
                                  "writes through links: remove it, then run again") from None
            raise ReportError(f"cannot open the lock file {self.lock_path}: {exc.strerror or exc} "
                              "(remove it, or choose another --output)") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid != os.geteuid():
            os.close(fd)
            raise ReportError(f"the lock file {self.lock_path} is not a plain file of this user (another user's "
                              "file, a hard link or a device); remove it, then run again")
        return fd

    def _lock(self) -> None:
        self.parent.mkdir(parents=True, exist_ok=True)
        fd = self._open_lock()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise ReportError(
                f"another `research report` (pid {holder}) is building {self.out}; wait for it "
                f"to finish or stop it, then run again (lock file {self.lock_path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def _unlock(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # releases the flock; the file stays (deleting it would race)
            self._fd = None

    # -- staging -----------------------------------------------------------------------
    def _clean_leftovers(self) -> None:
        """Staging folders of runs that were killed (we hold the lock: none is live)."""
        for p in glob.glob(str(self.parent / f".{glob.escape(self.out.name)}.staging-*")):
            if os.path.islink(p):
                with contextlib.suppress(OSError):
                    os.unlink(p)  # the link itself, never its target
            else:
                shutil.rmtree(p, ignore_errors=True)

    def __enter__(self) -> SiteBuild:
        self._lock()
        try:
            _refuse_link(self.out, "--output")
            self._clean_leftovers()
            if self.out.is_dir():
                _link_tree(self.out, self.staging)
            else:
                self.staging.mkdir()
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._unlock()
            raise
        return self

    def commit(self) -> None:
        """Publish the staging folder as ``out`` in one atomic swap; delete the old site."""
        atomic_write_text(self.staging / MARKER, _MARKER_TEXT)
        if not self.out.exists():
            os.rename(self.staging, self.out)
        elif not _exchange(self.staging, self.out):  # no renameat2: two renames, old kept aside
            aside = self.parent / f".{self.out.name}.staging-{os.getpid()}-old"
            os.rename(self.out, aside)
            os.rename(self.staging, self.out)
            os.rename(aside, self.staging)
        self._committed = True

    def keep_failed(self) -> Path:
        """Move the staging folder (a build with a failed page) to ``<out>.failed``, replacing
        the previous failed build; the published folder is not touched. Returns the path."""
        dest = failed_dir(self.out)
        _refuse_link(dest, "the failed-build folder")
        if dest.exists():
            shutil.rmtree(dest)  # rmtree never follows links inside
        os.rename(self.staging, dest)
        return dest

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            shutil.rmtree(self.staging, ignore_errors=True)  # the new site's draft, or the old site
        finally:
            self._unlock()
