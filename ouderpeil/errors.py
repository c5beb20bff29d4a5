"""Errors a user can act on. The CLI prints them without a traceback; Airflow shows them as
the task's failure message."""


class OuderpeilError(Exception):
    """Base class: the message names the file, row, column, model or expectation at fault."""


class SourceFileError(OuderpeilError):
    """An inbox file cannot be read at all; it goes to quarantine."""


class QualityGateFailed(OuderpeilError):
    """A blocking expectation failed: nothing is published."""


class DbtBuildFailed(OuderpeilError):
    """dbt reported an error; the message names the failing models and tests."""


class ExportError(OuderpeilError):
    """An export was asked for something that does not exist or before a validated run."""


class SetupError(OuderpeilError):
    """The pipeline is not set up right (not the data's fault): says what is missing and how
    to fix it, once, before the tasks that would all fail on it run."""

    def __init__(self, what: str, fix: str):
        super().__init__(f"setup error: {what}. Fix: {fix}")
        self.what = what
        self.fix = fix
