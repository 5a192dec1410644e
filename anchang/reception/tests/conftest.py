import pytest

from anchang.accounts.models import Role, User
from anchang.core.testing import factories
from anchang.inventory.models import Project
from anchang.reception.rotation import rotation_sign_in


@pytest.fixture
def consultants(project: Project) -> list[User]:
    """Three consultants of the project, none on duty yet."""
    return [
        factories.user_in(project, role=Role.CONSULTANT, username=f"gw{i}", name=f"顾问{i}")
        for i in (1, 2, 3)
    ]


@pytest.fixture
def on_duty(project: Project, consultants: list[User]) -> list[User]:
    """The three consultants signed in, in order gw1, gw2, gw3."""
    for consultant in consultants:
        rotation_sign_in(project=project, consultant=consultant, by=consultant)
    return consultants
