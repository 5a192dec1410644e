"""factory-boy factories for companies, teams and users. They live in the package (not under tests/) so
the benchmarks' seed scripts can use them too."""

from typing import cast

import factory

from anchang.accounts.models import Company, CompanyKind, ProjectMembership, Role, Team, User
from anchang.inventory.models import Project


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试地产{n}")
    kind = CompanyKind.DEVELOPER


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"销售{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"张{'伟芳娜敏静丽强磊军洋'[n % 10]}")
    role = Role.CONSULTANT
    password = factory.PostGenerationMethodCall("set_password", "test-pass-123")

    @factory.post_generation
    def persist_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


def user_in(project: Project, *, role: str, username: str | None = None, **extra: object) -> User:
    """A user of `role` who is a member of `project`."""
    user = cast(User, UserFactory(role=role, **({"username": username} if username else {}), **extra))
    ProjectMembership.objects.get_or_create(user=user, project=project)
    return user
