"""Reads the administrator's home page and its API share: the deployment in counts."""

# WithAnnotations[Model, TypedDict] is for the type checker only: at run time it takes one argument.
from __future__ import annotations

from typing import TypedDict

from django.db.models import Count, QuerySet
from django_stubs_ext import WithAnnotations

from anchang.accounts.models import Company, User
from anchang.accounts.selectors import project_list_visible_to
from anchang.inventory.models import Project


class _UserCount(TypedDict):
    n_users: int


class _UnitCount(TypedDict):
    n_units: int


def companies_with_user_counts() -> QuerySet[WithAnnotations[Company, _UserCount]]:
    return Company.objects.annotate(n_users=Count("users", distinct=True)).order_by("kind", "name")


def projects_with_unit_counts(*, user: User) -> QuerySet[WithAnnotations[Project, _UnitCount]]:
    return project_list_visible_to(user=user).annotate(n_units=Count("units", distinct=True))


def active_users_by_role() -> list[tuple[str, int]]:
    """(role, number of active users) for every role that has any, in role order."""
    rows = User.objects.filter(is_active=True).values("role").annotate(n=Count("pk")).order_by("role")
    return [(row["role"], row["n"]) for row in rows]
