"""Exception types raised by the package.

Every error a user can trigger with bad input is one of these, and its message names
the problem and the fix. All derive from :class:`ResearchError`, so a caller can catch
the whole family at once.
"""

from __future__ import annotations


class ResearchError(Exception):
    """Base class of every error raised deliberately by ``research``."""


# --- data -------------------------------------------------------------------------------
class DataError(ResearchError):
    """A problem with price or article data."""


class UnknownTickerError(DataError, KeyError):
    """A ticker is not carried by the data source (message lists the nearest available ones)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DateRangeError(DataError, ValueError):
    """A requested date range is empty, reversed or outside the available data."""


class SnapshotIntegrityError(DataError):
    """The embedded snapshot fails validation (schema, duplicates, weekend rows, checksum)."""


class MalformedDataError(DataError, ValueError):
    """An input file (CSV/parquet) cannot be parsed into the expected schema."""


class SourceUnavailableError(DataError):
    """A live data source (yfinance) cannot be reached or returned nothing usable."""


class EmptyDataError(SourceUnavailableError):
    """A data source returned an empty frame for a request that should have data."""


class CalendarError(DataError, ValueError):
    """An event date cannot be parsed or mapped to a trading session."""


class PathError(DataError):
    """A path cannot be used as given: a file where a directory is needed or the reverse,
    an empty input file, a read-only or full output file system. The message is one line
    naming the path and the fix; the ``research`` CLI exits 2."""


# --- event study ------------------------------------------------------------------------
class EventStudyError(ResearchError):
    """A problem with an event-study specification or its inputs."""


class SpecificationError(EventStudyError, ValueError):
    """An invalid event-study specification (windows reversed or overlapping, bad model)."""


class InsufficientDataError(EventStudyError):
    """Too little estimation data to fit the expected-return model."""


class DuplicateEventError(EventStudyError, ValueError):
    """Event ids are not unique."""


# --- claims and reports -----------------------------------------------------------------
class ClaimError(ResearchError):
    """A claim id is unknown or its registry record is malformed."""


class ParameterError(ResearchError, ValueError):
    """An unknown or ill-typed notebook/report parameter."""


class FigureError(ResearchError, ValueError):
    """A figure was asked to plot nothing (no rows in the requested range, window or event)."""


class ReportError(ResearchError):
    """One or more reports failed to build (message names them)."""
