"""Mistakes a user can make reach them as one line and exit code 2, never a traceback.

    from models.io.errors import UsageError, run_command

    def main(argv=None):
        ...
        raise UsageError("--out runs/a is a file; choose a directory")

    if __name__ == "__main__":
        raise SystemExit(run_command(main))

`run_command` turns the errors a user can cause — a `UsageError`, a malformed data file
or checkpoint (`ValueError` subclasses marked `user_error = True`), a failed download,
any `OSError` (missing or unreadable file, permission denied, read-only folder, full
disk) and running out of memory — into `error: <one line>` on stderr and exit code 2.
Everything else is a bug in the program and keeps its traceback.
"""

import argparse
import errno
import sys

EXIT_USAGE = 2           # the user's input was wrong (as argparse uses)
EXIT_INTERRUPTED = 130   # 128 + SIGINT, as a shell reports Ctrl-C


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line (what was wrong, where to look) and exit 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


class UsageError(Exception):
    """A mistake in the flags, a file or a saved run, explained in one line."""

    user_error = True


def one_line(text):
    """Collapse a message onto one line (its own line breaks become '; ')."""
    parts = [part.strip() for part in str(text).splitlines() if part.strip()]
    return "; ".join(parts)


OS_ADVICE = {
    errno.ENOSPC: "no space left on the device; free some space and run again "
                  "(no file was left half-written)",
    errno.EDQUOT: "disk quota exceeded; free some space and run again "
                  "(no file was left half-written)",
    errno.EACCES: "permission denied; choose a file or folder you may use, or change "
                  "its permissions",
    errno.EPERM: "operation not permitted; choose a file or folder you may use",
    errno.EROFS: "the file system is read-only; choose a folder you can write to",
    errno.ENOENT: "no such file or directory; check the path",
    errno.EISDIR: "is a directory, but a file is needed here",
    errno.ENOTDIR: "a part of the path is a file, but a directory is needed here",
    errno.EEXIST: "already exists",
    errno.ENAMETOOLONG: "the file name is too long",
}


def describe(error):
    """The one-line message for an error a user caused."""
    if isinstance(error, OSError) and error.errno in OS_ADVICE:
        where = error.filename if error.filename is not None else ""
        return f"{where}: {OS_ADVICE[error.errno]}" if where else OS_ADVICE[error.errno]
    if isinstance(error, MemoryError):
        return ("out of memory; use smaller sizes (--batch-size, --hidden, --train-size) "
                "or free memory")
    return one_line(error) or type(error).__name__


def is_user_error(error):
    return (getattr(error, "user_error", False) or isinstance(error, (OSError, MemoryError)))


def report(error, file=None):
    print(f"error: {describe(error)}", file=file or sys.stderr)


def run_command(main, argv=None):
    """main(argv) -> exit code, with the user's mistakes reported as one line (exit 2)."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:                     # noqa: BLE001 (filtered just below)
        if not is_user_error(error):
            raise
        report(error)
        return EXIT_USAGE
