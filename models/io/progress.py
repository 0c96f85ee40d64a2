"""The progress bars of every command: tqdm on stderr, hidden when stderr is no terminal."""

from tqdm import tqdm


def progress_bar(total, description, unit, enabled=True, **options):
    """A tqdm bar of `total` units that clears itself when done, or None if not `enabled`.

    options: any other tqdm argument (initial=, unit_scale=, leave=, disable=, ...)."""
    if not enabled:
        return None
    settings = dict(total=total, desc=description, unit=unit, leave=False, disable=None,
                    dynamic_ncols=True)
    settings.update(options)
    return tqdm(**settings)
