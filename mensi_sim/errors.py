"""Errors a user can cause and fix: each carries a one-line message naming what and where."""


class MensiError(Exception):
    """Base class of every error the command line reports as a one-line message."""


class ScenarioError(MensiError):
    """A scenario or experiment file is missing, unreadable or invalid."""


class NetworkError(MensiError):
    """A network cannot be built as asked (e.g. more mentors than schools, a bad graph file)."""


class ResultsError(MensiError):
    """A results directory cannot be written (it exists, is not writable) or read back."""


class RosterError(ScenarioError):
    """A school roster (``population.roster``) is missing, unreadable or invalid."""
