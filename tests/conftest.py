import contextlib

import pytest
from hypothesis import HealthCheck, settings

from models.train import loop

settings.register_profile("tape", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tape")


@pytest.fixture
def interrupted_after_epoch(monkeypatch):
    """`with interrupted_after_epoch(n): ...`: a run inside is stopped by Ctrl-C right
    after epoch n has been saved (when its table row is printed), as a user would."""
    @contextlib.contextmanager
    def interrupted(epoch):
        original = loop.format_row

        def interrupt(row, header=False):
            if row["epoch"] == epoch:
                raise KeyboardInterrupt
            return original(row, header)
        monkeypatch.setattr(loop, "format_row", interrupt)
        try:
            yield
        finally:
            monkeypatch.setattr(loop, "format_row", original)
    return interrupted
