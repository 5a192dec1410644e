import pytest
from axes.utils import reset as axes_reset
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anchang.accounts.models import ProjectMembership, Role
from anchang.accounts.testing import UserFactory, user_in
from anchang.inventory.testing import project_with_units

pytestmark = pytest.mark.django_db

HOME_HEADINGS = {
    Role.MANAGER: "经理看板",
    Role.CONSULTANT: "我的接待",
    Role.AGENT: "渠道工作台",
    Role.ATTENDANT: "礼宾工作台",
    Role.SERVICE: "物业客服台",
}


@pytest.fixture(autouse=True)
def _fresh_axes() -> None:
    axes_reset()


def test_login_with_the_right_password_lands_on_home(client, project) -> None:
    user_in(project, role=Role.MANAGER, username="wang")
    response = client.post(reverse("login"), {"username": "wang", "password": "test-pass-123"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert "经理看板" in client.get(reverse("home")).content.decode()


def test_a_wrong_password_says_so_in_chinese(client, project) -> None:
    user_in(project, role=Role.MANAGER, username="wang")
    response = client.post(reverse("login"), {"username": "wang", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_the_sixth_wrong_password_is_refused_even_when_right(client, project) -> None:
    user_in(project, role=Role.MANAGER, username="wang")
    for _ in range(5):
        client.post(reverse("login"), {"username": "wang", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "wang", "password": "test-pass-123"})
    assert response.status_code == 429
    assert "密码错误次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_anonymous_visitors_are_sent_to_login(client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_logout_ends_the_session(client_for, project) -> None:
    client = client_for(user_in(project, role=Role.CONSULTANT))
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize(("role", "heading"), list(HOME_HEADINGS.items()))
def test_each_role_lands_on_its_own_home(client_for, project, role, heading) -> None:
    html = client_for(user_in(project, role=role)).get(reverse("home")).content.decode()
    assert heading in html
    assert project.name in html


def test_front_desk_lands_on_the_check_in_screen(client_for, project) -> None:
    client = client_for(user_in(project, role=Role.FRONTDESK))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("reception:checkin", args=[project.pk])
    assert "来访登记" in client.get(response["Location"]).content.decode()


def test_admin_home_lists_companies_projects_and_roles(client_for, project, admin_user) -> None:
    html = client_for(admin_user).get(reverse("home")).content.decode()
    assert "系统管理" in html and project.name in html and project.company.name in html


def test_navigation_follows_the_role(client_for, project) -> None:
    board = reverse("inventory:board", args=[project.pk])
    importing = reverse("inventory:import", args=[project.pk])
    manager_html = client_for(user_in(project, role=Role.MANAGER)).get(reverse("home")).content.decode()
    assert board in manager_html and importing in manager_html
    agent_html = client_for(user_in(project, role=Role.AGENT)).get(reverse("home")).content.decode()
    assert board not in agent_html and importing not in agent_html


def test_user_without_projects_is_told_what_to_do(client_for, db) -> None:
    lonely = UserFactory(role=Role.CONSULTANT)
    assert "还没有被分配到任何项目" in client_for(lonely).get(reverse("home")).content.decode()


def test_project_switcher_only_switches_to_visible_projects(client_for, project, other_project) -> None:
    manager = user_in(project, role=Role.MANAGER)
    client = client_for(manager)
    assert client.post(reverse("switch_project"), {"project": other_project.pk}).status_code == 404
    ProjectMembership.objects.create(user=manager, project=other_project)
    assert (
        client.post(reverse("switch_project"), {"project": other_project.pk, "next": "/"}).status_code == 302
    )
    assert other_project.name in client.get(reverse("home")).content.decode().split("<main", 1)[1][:2000]


def test_manager_home_query_count_is_fixed(client_for, project) -> None:
    manager = user_in(project, role=Role.MANAGER)
    client = client_for(manager)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    more = project_with_units(buildings=3, floors=10, units_per_floor=4)
    ProjectMembership.objects.create(user=manager, project=more)
    client.post(reverse("switch_project"), {"project": more.pk})
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(few)


def test_staff_page_masks_mobiles(client_for, project) -> None:
    user_in(project, role=Role.CONSULTANT, mobile="+8613812341234")
    html = (
        client_for(user_in(project, role=Role.MANAGER))
        .get(reverse("project_staff", args=[project.pk]))
        .content.decode()
    )
    assert "138****1234" in html and "13812341234" not in html


def test_english_is_complete_beside_chinese(client_for, project) -> None:
    client = client_for(user_in(project, role=Role.MANAGER))
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Manager dashboard" in html
    assert "经理看板" not in html
