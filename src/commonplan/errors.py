"""The exceptions Commonplan raises for problems a user can fix.

Every user-facing problem is one subclass of :class:`CommonplanError`, one class per
kind of problem. Each error says *where* (file, cell, product, field), *what* is wrong,
what was *expected*, and how to *fix* it; ``str(error)`` renders all of that in one
line, which is what the CLI prints.
"""

from __future__ import annotations


class CommonplanError(Exception):
    """Base class of every error a user can act on.

    Parameters
    ----------
    message:
        What is wrong, in one sentence.
    where:
        The file, cell, product, council or field concerned (``"flows.csv, row 'C10', column 'A01'"``).
    expected:
        What a valid input looks like.
    fix:
        How to repair the input.
    """

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.where = where
        self.expected = expected
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [f"{self.where}: {self.message}" if self.where else self.message]
        if self.expected:
            parts.append(f"expected {self.expected}")
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "; ".join(parts)


# --- input data -------------------------------------------------------------------------


class DataError(CommonplanError):
    """Input data (a table, an array, a file) is not valid."""


class InvalidValueError(DataError):
    """A cell is negative where it may not be, or not finite (NaN, ±inf)."""


class LabelError(DataError):
    """Labels are duplicated, missing, or do not match between blocks."""


class ShapeError(DataError):
    """Arrays or blocks have incompatible shapes."""


class ZeroOutputError(DataError):
    """A product has zero gross output but uses inputs, so its coefficients are undefined."""


class NotProductiveError(DataError):
    """The economy cannot produce a positive net output (spectral radius of A ≥ 1)."""


class MissingBlockError(DataError):
    """A required block (final demand, an account, a sheet, a file) is absent."""


class FileFormatError(DataError):
    """A file is not in the format the reader expects (wrong layout, wrong kind of file)."""


class UnsupportedOperationError(CommonplanError):
    """The operation does not apply to this kind of economy or input."""


# --- planning ---------------------------------------------------------------------------


class SpecError(CommonplanError):
    """A planning specification names unknown products, regions or accounts, or has bad values."""


class InfeasiblePlanError(CommonplanError):
    """No plan satisfies all targets and limits; the error lists what conflicts and by how much."""

    def __init__(self, message: str, *, conflicts: object = None, **kwargs: str | None) -> None:
        self.conflicts = conflicts
        super().__init__(message, **kwargs)


class SolverError(CommonplanError):
    """The solver stopped without a proven answer (time limit, numerical trouble)."""


# --- participation, store, server --------------------------------------------------------


class ParticipationInputError(CommonplanError):
    """An experiment or council parameter is malformed, non-finite, or makes a council's problem unbounded."""


class DivergenceError(CommonplanError):
    """An iterative procedure produced non-finite values."""


class BallotError(CommonplanError):
    """A ballot or ranking is malformed (points not summing to 100, unknown groups, duplicates)."""


class PermissionDeniedError(CommonplanError):
    """The actor's role does not allow this action."""


class PhaseError(CommonplanError):
    """The action is not allowed in the round's current phase."""


class NotFoundError(CommonplanError):
    """A referenced object (assembly, council, round, user) does not exist."""


class ConflictError(CommonplanError):
    """The action conflicts with the stored state (a duplicate name, a published plan)."""


class DatabaseError(CommonplanError):
    """The database is unreachable or at a schema version this code cannot use."""


class AuditIntegrityError(CommonplanError):
    """The hash chain of the audit log is broken: an entry was edited, deleted or inserted."""


class AuthenticationError(PermissionDeniedError):
    """The credentials (username and password, or an API token) are wrong, expired or revoked."""


class ChecksumError(DataError):
    """A file's content does not match the SHA-256 hash its manifest records (edited or corrupted)."""


# --- monitoring -------------------------------------------------------------------------


class ReportError(DataError):
    """A production report does not fit the published plan (unknown product or period, a
    duplicate of a report already filed, a negative or non-finite quantity, another unit)."""


# --- scenarios ----------------------------------------------------------------------------


class ExecutorError(CommonplanError):
    """An executor could not start its workers, lost one, or a batch did not finish in time."""


# --- live participation -------------------------------------------------------------------


class ServerUnreachableError(CommonplanError):
    """A Commonplan server did not answer (down, wrong address) or answered with a server error."""
