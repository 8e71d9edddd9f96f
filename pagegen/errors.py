"""The errors pagegen promises: each names the bad value and says what to do about it.

The CLI and the app catch :class:`PagegenError` and show its message as one line; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations


class PagegenError(Exception):
    """Base class of every error a user can cause and fix."""


class UnknownDatasetError(PagegenError):
    """A dataset name that pagegen does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown dataset {name!r}; known datasets: {', '.join(known)}")
        self.name = name


class DatasetNotPreparedError(PagegenError):
    """A known dataset whose files are not (yet) under the data directory."""

    def __init__(self, name: str, where: str, command: str) -> None:
        super().__init__(f"dataset {name!r} is not prepared in {where}; run `{command}` first")
        self.name = name


class DataSourceError(PagegenError):
    """A download or packaged source that is unreachable, corrupted or truncated."""


class MalformedDataError(PagegenError):
    """A data file whose content does not match its format; names the file, line and column."""

    def __init__(self, file: str, reason: str, *, line: int | None = None, column: str | None = None) -> None:
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"malformed data in {where}: {reason}")
        self.file, self.line, self.column = file, line, column


class DataDirError(PagegenError):
    """The data directory cannot be created or written."""


class UnknownUserError(PagegenError):
    """A user id that the dataset does not contain."""

    def __init__(self, user_id: object, dataset: str) -> None:
        super().__init__(
            f"unknown user {user_id!r} in dataset {dataset!r}; pick a known user, or start a new one from a few liked items"
        )
        self.user_id, self.dataset = user_id, dataset


class UnknownItemError(PagegenError):
    """An item id that the dataset's catalogue does not contain."""

    def __init__(self, item_id: object, dataset: str) -> None:
        super().__init__(f"unknown item {item_id!r} in dataset {dataset!r}")
        self.item_id, self.dataset = item_id, dataset


class UnknownModelError(PagegenError):
    """A generator name that pagegen does not know."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown model {name!r}; known models: {', '.join(known)}")


class ConfigError(PagegenError):
    """A parameter name or value that a component does not accept."""


class UnknownGenreError(ConfigError):
    """A genre the catalogue does not have; lists the ones it has."""

    def __init__(self, genres: list[str], known: list[str]) -> None:
        names = ", ".join(map(repr, genres))
        super().__init__(f"unknown genre{'s' if len(genres) > 1 else ''} {names}; known genres: {', '.join(known)}")
        self.genres = genres


class NotFittedError(PagegenError):
    """A generator asked to score before it was fitted or loaded."""

    def __init__(self, model: str) -> None:
        super().__init__(f"model {model!r} is not fitted; call fit() or load a saved artifact first")


class ModelFitError(PagegenError):
    """Fitting failed or would fail (not enough memory, non-finite values)."""


class ArtifactError(PagegenError):
    """A saved model that is missing, corrupted, or was trained on other data."""


class ModelUnavailableError(PagegenError):
    """A language or embedding model that cannot be reached or loaded (server down, package missing)."""


class LayoutError(PagegenError):
    """A layout file or setting that is not valid; names the file, the field and the reason."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        where = f"{source}: {field}" if field else source
        super().__init__(f"bad layout {where} {reason}")
        self.source, self.field, self.reason = source, field, reason


class SettingsError(LayoutError):
    """A slider, link or ``--set`` value that its setting does not take; names the setting, the value, the
    allowed range or choices, and where the value came from unless it was the caller's own settings. A
    LayoutError, so every handler of a bad layout value catches it."""

    def __init__(self, setting: str, reason: str, *, source: str = "settings") -> None:
        where = "" if source == "settings" else f" (in {source})"
        PagegenError.__init__(self, f"setting {setting} {reason}{where}")
        self.source, self.field, self.reason = source, setting, reason
