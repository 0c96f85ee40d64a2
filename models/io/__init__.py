"""What every command needs before any model: files written safely and errors in one line.

Read `errors.py` (a user's mistake becomes one line and exit code 2: `UsageError`,
`run_command`), then `files.py` (atomic writes, so a crash never leaves a corrupt file).
"""
