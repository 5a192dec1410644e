"""A hot queryset compiled once per process and database, then run with fresh values.

For a statement that runs on every request and whose shape never changes (the API token lookup with
its project), the ORM compiling the SQL costs more CPU than running it, and on PostgreSQL so does the
server planning a join of many tables each time. `CompiledQuery` compiles the queryset once, runs the
SQL with the values of this call (on PostgreSQL as a prepared statement of the connection, planned once
per connection) and builds the model instances, `select_related` included, as the ORM would.

Only querysets that `select_related` and annotate; anything that needs more of the ORM per call
(prefetching, known related objects) is refused when compiled.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, list[int]]  # which parameters carry each value of a call
    compiler: SQLCompiler
    init_list: list[str]
    model_slice: slice
    populators: list[Any]
    annotations: dict[str, int]


class CompiledQuery(Generic[M]):
    """`build(**values)` makes the queryset; `placeholders` are values of the right type that appear
    nowhere else in its parameters, so the compiled parameters they land in can be found and replaced."""

    def __init__(self, build: Callable[..., "QuerySet[M]"], **placeholders: Any) -> None:
        self._build = build
        self._placeholders = placeholders
        self._compiled: dict[str, _Compiled] = {}

    def fetch(self, **values: Any) -> list[M]:
        if values.keys() != self._placeholders.keys():
            raise TypeError(f"expected the values {sorted(self._placeholders)}, got {sorted(values)}")
        compiled = self._compiled.get("default") or self._compile()
        connection = connections["default"]
        params = list(compiled.params)
        for name, indexes in compiled.slots.items():
            value = _adapt(connection, values[name])
            for index in indexes:
                params[index] = value
        with prepared_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        model: Any = compiled.compiler.query.model
        found: list[M] = []
        for row in compiled.compiler.results_iter(results=[rows]):
            obj = model.from_db("default", compiled.init_list, row[compiled.model_slice])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def _compile(self) -> _Compiled:
        queryset = self._build(**self._placeholders)
        if queryset._prefetch_related_lookups or queryset._known_related_objects:  # type: ignore[attr-defined]
            raise ValueError("CompiledQuery builds select_related instances only")
        connection = connections["default"]
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = {
            name: [i for i, param in enumerate(params) if _same(param, _adapt(connection, placeholder))]
            for name, placeholder in self._placeholders.items()
        }
        if missing := [name for name, indexes in slots.items() if not indexes]:
            raise ValueError(f"placeholders not found among the compiled parameters: {missing}")
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None  # a model queryset always has one
        fields = klass_info["select_fields"]
        model_slice = slice(fields[0], fields[-1] + 1)
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            init_list=[column[0].target.attname for column in select[model_slice]],
            model_slice=model_slice,
            populators=get_related_populators(klass_info, select, "default"),
            annotations=dict(compiler.annotation_col_map or {}),
        )
        self._compiled["default"] = compiled
        return compiled


def _adapt(connection: BaseDatabaseWrapper, value: Any) -> Any:
    """A value as the compiler hands it to the driver (SQLite takes datetimes as text)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _same(param: Any, placeholder: Any) -> bool:
    # type first: True == 1 would otherwise take a boolean parameter for an id placeholder
    return type(param) is type(placeholder) and param == placeholder


def prepared_cursor(connection: BaseDatabaseWrapper) -> Any:
    """On PostgreSQL a cursor that binds on the server and prepares its statement: planned once per
    connection (CONN_MAX_AGE keeps connections), not once per request. Django's own cursors bind on the
    client and never prepare. The statement still goes through Django's cursor wrapper (error
    translation, and when queries are logged the log and the counts of tests)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    preparing_cursor, logged_wrapper = _postgresql_classes()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = preparing_cursor(connection.connection)
    return logged_wrapper(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)


@cache
def _postgresql_classes() -> tuple[type, type]:
    # imported here: the PostgreSQL backend needs psycopg, which a SQLite-only setup may not load
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]  # psycopg 3 only
        CursorDebugWrapper,
        ServerBindingCursor,
    )
    from django.db.backends.utils import CursorWrapper

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True, **kwargs)

    class LoggedPreparedCursor(CursorDebugWrapper):
        # Django reads the logged SQL back from a client-binding cursor, which a prepared statement
        # does not leave behind: log it with its values, as Django does for server-side binding.
        def execute(self, sql: Any, params: Any = None) -> Any:
            with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
                return CursorWrapper.execute(self, sql, params)

    return PreparingCursor, LoggedPreparedCursor
