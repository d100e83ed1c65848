"""A settable clock: tests move time instead of sleeping."""

import datetime as dt

T0 = dt.datetime(2026, 11, 29, 12, 0, 0)


class FakeClock:
    """Naive UTC time that moves only when a test moves it."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)
        return self.now
