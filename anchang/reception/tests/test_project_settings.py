"""项目设置 (issue 11 §6): the site manager edits the project's rules and VIP checklists on one page
and over the API, each section validated with the field named, each change kept in history."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from anchang.accounts.navigation import nav_items
from anchang.inventory.models import Project, ProjectSettings
from anchang.reception.models import VipTaskTemplate, VipTier
from anchang.reception.project_settings.selectors import settings_changes_recent
from anchang.reception.teams.services import team_settings_update

pytestmark = pytest.mark.django_db


def _page(project: Project) -> str:
    return reverse("project_settings:page", args=[project.pk])


def _settings(project: Project) -> ProjectSettings:
    return ProjectSettings.objects.get(project=project)


def _post(client: Client, project: Project, section: str, values: dict[str, object]) -> Any:
    data: dict[str, object] = {"section": section}
    data.update({f"{section}-{name}": value for name, value in values.items()})
    return client.post(_page(project), data)


PROTECTION = {
    "protection_days_after_visit": 20,
    "protection_days_after_call": 10,
    "protection_ceiling_days": 45,
    "pool_after_days_without_subscription": 60,
    "pool_claims_per_day": 3,
}


def test_the_protection_section_saves_raises_the_rule_version_and_writes_history(
    client_for, project, manager
) -> None:
    version = _settings(project).rule_set_version

    response = _post(client_for(manager), project, "protection", PROTECTION)

    assert response.status_code == 302 and response["Location"].endswith("#protection")
    settings = _settings(project)
    assert {name: getattr(settings, name) for name in PROTECTION} == PROTECTION
    assert settings.rule_set_version == version + 1, "protection days judge who owns a visitor"
    latest = settings.history.first()
    assert latest.history_user == manager and latest.protection_days_after_visit == 20
    page = client_for(manager).get(_page(project)).content.decode()
    assert "到访后保护天数" in page and "15 → 20" in page and manager.display_name in page


def test_the_followup_deal_and_message_sections_save_without_a_new_rule_version(
    client_for, project, manager
) -> None:
    client = client_for(manager)
    version = _settings(project).rule_set_version

    assert (
        _post(
            client, project, "followups", {"first_followup_due_hours": 12, "followup_overdue_grace_hours": 48}
        )
    ).status_code == 302
    assert (
        _post(client, project, "deals", {"discount_approval_threshold": "3.5", "sign_within_days": 10})
    ).status_code == 302
    text = "{name}您好，{consultant}在{project}等您再来。"
    assert _post(client, project, "messages", {"thank_you_template": text}).status_code == 302

    settings = _settings(project)
    assert (settings.first_followup_due_hours, settings.followup_overdue_grace_hours) == (12, 48)
    assert (settings.discount_approval_threshold, settings.sign_within_days) == (Decimal("3.50"), 10)
    assert settings.thank_you_template == text
    assert settings.rule_set_version == version, "none of these decides who receives a visitor"
    assert settings.history.count() == 4, "the baseline and one row per saved section"


def test_the_reception_section_saves_required_fields_and_judging_switches(
    client_for, project, manager
) -> None:
    version = _settings(project).rule_set_version
    response = client_for(manager).post(
        _page(project),
        {
            "section": "reception",
            "reception-mandatory_registration_fields": ["name", "phone", "layout"],
            "reception-require_appointment": "on",
            "reception-one_customer_at_a_time": "on",
            "reception-reminder_minutes_before": 90,
        },
    )
    assert response.status_code == 302
    settings = _settings(project)
    assert settings.mandatory_registration_fields == ["name", "phone", "layout"]
    assert settings.require_appointment and not settings.designated_consumes_turn
    assert settings.reminder_minutes_before == 90
    assert settings.rule_set_version == version + 1


@pytest.mark.parametrize(
    ("section", "values", "field", "message"),
    [
        ("protection", {**PROTECTION, "protection_days_after_visit": 0}, "protection_days_after_visit", "1"),
        (
            "protection",
            {**PROTECTION, "protection_ceiling_days": 5},
            "protection_ceiling_days",
            "不能短于来电后保护天数",
        ),
        (
            "deals",
            {"discount_approval_threshold": "101", "sign_within_days": 7},
            "discount_approval_threshold",
            "100",
        ),
        ("deals", {"discount_approval_threshold": "2", "sign_within_days": 91}, "sign_within_days", "90"),
        (
            "messages",
            {"thank_you_template": "{name}您好，{mobile}"},
            "thank_you_template",
            "不认识的占位：{mobile}",
        ),
        ("messages", {"thank_you_template": "您好 {name"}, "thank_you_template", "花括号"),
        ("messages", {"thank_you_template": "   "}, "thank_you_template", ""),
    ],
)
def test_a_bad_value_is_refused_inline_with_its_field_and_nothing_is_saved(
    client_for, project, manager, section, values, field, message
) -> None:
    before = ProjectSettings.objects.filter(project=project).values().get()
    history = _settings(project).history.count()

    response = _post(client_for(manager), project, section, values)

    assert response.status_code == 400
    form = next(f for f in response.context["forms"] if f.section.key == section)
    assert field in form.errors and message in " ".join(form.errors[field])
    assert f'id="id_{section}-{field}_error"' in response.content.decode()
    assert ProjectSettings.objects.filter(project=project).values().get() == before
    assert _settings(project).history.count() == history


def test_an_unknown_registration_field_is_refused(client_for, project, manager) -> None:
    response = client_for(manager).post(
        _page(project),
        {"section": "reception", "reception-mandatory_registration_fields": ["phone", "id_card"]},
    )
    assert response.status_code == 400
    assert _settings(project).mandatory_registration_fields != ["phone", "id_card"]


@pytest.mark.parametrize("persona", ["consultant", "frontdesk", "agent", "attendant"])
def test_other_roles_cannot_open_or_post_the_settings(client_for, project, persona, request) -> None:
    client = client_for(request.getfixturevalue(persona))
    before = ProjectSettings.objects.filter(project=project).values().get()
    assert client.get(_page(project)).status_code == 404
    assert _post(client, project, "protection", PROTECTION).status_code == 404
    assert client.get(reverse("project_settings:vip", args=[project.pk])).status_code == 404
    assert ProjectSettings.objects.filter(project=project).values().get() == before


def test_another_projects_settings_answer_404(client_for, manager, other_project) -> None:
    client = client_for(manager)
    assert client.get(_page(other_project)).status_code == 404
    assert _post(client, other_project, "protection", PROTECTION).status_code == 404


def test_the_settings_page_is_in_the_managers_navigation_and_links_the_other_editors(
    client_for, project, manager
) -> None:
    assert _page(project) in [item.url for item in nav_items("manager", project, False)]
    assert _page(project) not in [item.url for item in nav_items("consultant", project, False)]
    html = client_for(manager).get(_page(project)).content.decode()
    for name in ("stations:list", "teams:fairness", "project_settings:vip"):
        assert reverse(name, args=[project.pk]) in html, name


def test_the_settings_page_has_a_fixed_query_count(
    client_for, project, manager, django_assert_max_num_queries
) -> None:
    client = client_for(manager)
    for days in (16, 17, 18, 19):
        _post(client, project, "protection", {**PROTECTION, "protection_days_after_visit": days})
    with django_assert_max_num_queries(12):
        assert client.get(_page(project)).status_code == 200


def test_the_vip_editor_and_the_api_have_fixed_query_counts(
    client_for, client, project, manager, api_token_for, django_assert_max_num_queries
) -> None:
    vip = reverse("project_settings:vip", args=[project.pk])
    manager_client = client_for(manager)
    manager_client.get(vip)
    manager_client.post(
        reverse("project_settings:vip_add", args=[project.pk]),
        {
            "tier": "1",
            "add1-tier": "1",
            "add1-title": "备好鲜花",
            "add1-assignee_role": "attendant",
            "add1-minutes_before": 40,
        },
    )
    with django_assert_max_num_queries(12):
        assert manager_client.get(vip).status_code == 200
    client.logout()
    headers = api_token_for(manager)
    with django_assert_max_num_queries(3):
        assert client.get(_api(project), headers=headers).status_code == 200


def test_a_change_on_the_fairness_page_is_in_the_history_with_its_author(project, manager) -> None:
    team_settings_update(
        project=project,
        by=manager,
        rotation_mode="teams",
        team_rule="alternate",
        team_overflow=True,
        team_shares={},
    )
    (change,) = settings_changes_recent(project=project)
    assert (change.what, change.before, change.after, change.by) == (
        "轮排方式",
        "统一排队",
        "分团队排队",
        manager.display_name,
    )


# --- VIP checklists -------------------------------------------------------------------------------


def test_the_vip_editor_shows_each_tiers_checklist_and_adds_edits_and_deletes_tasks(
    client_for, project, manager
) -> None:
    client = client_for(manager)
    assert client.get(reverse("project_settings:vip", args=[project.pk])).status_code == 200
    tier2 = list(VipTaskTemplate.objects.filter(project=project, tier=VipTier.TIER_2).order_by("sort_order"))
    assert tier2, "the project's own copy of the default checklist"

    added = client.post(
        reverse("project_settings:vip_add", args=[project.pk]),
        {
            "tier": "2",
            "add2-tier": "2",
            "add2-title": "准备儿童游乐区",
            "add2-assignee_role": "attendant",
            "add2-minutes_before": 25,
        },
    )
    assert added.status_code == 302
    new = VipTaskTemplate.objects.get(project=project, title="准备儿童游乐区")
    assert (new.tier, new.minutes_before, new.sort_order) == ("2", 25, tier2[-1].sort_order + 1)

    first = tier2[0]
    edited = client.post(
        reverse("project_settings:vip_edit", args=[project.pk, first.pk]),
        {
            f"t{first.pk}-title": "经理门口迎接",
            f"t{first.pk}-assignee_role": "manager",
            f"t{first.pk}-minutes_before": 10,
        },
    )
    assert edited.status_code == 302
    first.refresh_from_db()
    assert (first.title, first.minutes_before) == ("经理门口迎接", 10)

    deleted = client.post(reverse("project_settings:vip_delete", args=[project.pk, new.pk]))
    assert deleted.status_code == 302 and not VipTaskTemplate.objects.filter(pk=new.pk).exists()

    changes = settings_changes_recent(project=project)
    assert [c.what for c in changes[:3]] == ["二级贵宾准备事项"] * 3
    assert changes[0].after == "（已删除）" and all(c.by == manager.display_name for c in changes[:3])


def test_a_bad_vip_task_is_refused_inline_and_nothing_changes(client_for, project, manager) -> None:
    client = client_for(manager)
    client.get(reverse("project_settings:vip", args=[project.pk]))
    first = VipTaskTemplate.objects.filter(project=project).order_by("pk").first()
    assert first is not None
    response = client.post(
        reverse("project_settings:vip_edit", args=[project.pk, first.pk]),
        {
            f"t{first.pk}-title": "",
            f"t{first.pk}-assignee_role": "owner",
            f"t{first.pk}-minutes_before": 5000,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("title", "assignee_role", "minutes_before"):
        assert f'id="id_t{first.pk}-{field}_error"' in html, field
    assert VipTaskTemplate.objects.get(pk=first.pk).title == first.title


def test_the_last_task_of_a_tier_cannot_be_deleted(client_for, project, manager) -> None:
    client = client_for(manager)
    client.get(reverse("project_settings:vip", args=[project.pk]))
    rows = list(VipTaskTemplate.objects.filter(project=project, tier=VipTier.TIER_2))
    for row in rows[:-1]:
        client.post(reverse("project_settings:vip_delete", args=[project.pk, row.pk]))
    response = client.post(
        reverse("project_settings:vip_delete", args=[project.pk, rows[-1].pk]), follow=True
    )
    assert "至少保留一项" in response.content.decode()
    assert VipTaskTemplate.objects.filter(pk=rows[-1].pk).exists()


def test_another_projects_vip_task_answers_404(client_for, project, manager, other_project) -> None:
    from anchang.reception.vip import vip_templates_ensure_defaults

    vip_templates_ensure_defaults(project=other_project)
    theirs = VipTaskTemplate.objects.filter(project=other_project).first()
    assert theirs is not None
    client = client_for(manager)
    assert (
        client.post(reverse("project_settings:vip_delete", args=[project.pk, theirs.pk])).status_code == 404
    )
    assert VipTaskTemplate.objects.filter(pk=theirs.pk).exists()


# --- API ------------------------------------------------------------------------------------------


def _api(project: Project) -> str:
    return f"/api/v1/projects/{project.pk}/settings"


def test_the_api_reads_and_patches_the_settings(client, project, manager, api_token_for) -> None:
    headers = api_token_for(manager)
    got = client.get(_api(project), headers=headers)
    assert got.status_code == 200 and got.json()["protection_days_after_visit"] == 15
    version = got.json()["rule_set_version"]

    patched = client.patch(
        _api(project),
        {"protection_days_after_call": 9, "pool_claims_per_day": 2},
        content_type="application/json",
        headers=headers,
    )

    assert patched.status_code == 200
    body = patched.json()
    assert (body["protection_days_after_call"], body["pool_claims_per_day"]) == (9, 2)
    assert body["rule_set_version"] == version + 1
    assert _settings(project).history.first().history_user == manager


def test_the_api_refuses_a_bad_value_with_the_field_and_saves_nothing(
    client, project, manager, api_token_for
) -> None:
    before = ProjectSettings.objects.filter(project=project).values().get()
    response = client.patch(
        _api(project),
        {"pool_claims_per_day": 2, "mandatory_registration_fields": ["phone", "wechat"]},
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert response.status_code == 400
    assert "mandatory_registration_fields" in response.json()["fields"]
    assert "未知的登记字段" in response.json()["fields"]["mandatory_registration_fields"]
    assert ProjectSettings.objects.filter(project=project).values().get() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pool_claims_per_day": "很多"}, "pool_claims_per_day"),
        ({"protection_days_after_visit": None}, "protection_days_after_visit"),
        ({"discount_approval_threshold": "100.5"}, "discount_approval_threshold"),
        ({"thank_you_template": "{name}"}, None),
        ({"rotation_mode": "teams"}, "rotation_mode"),
    ],
)
def test_the_api_names_the_field_of_a_wrong_type_or_value(
    client, project, manager, api_token_for, payload, field
) -> None:
    before = ProjectSettings.objects.filter(project=project).values().get()
    response = client.patch(
        _api(project), payload, content_type="application/json", headers=api_token_for(manager)
    )
    if field is None:
        # The control: a valid template is saved.
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert field in str(response.json())
    assert ProjectSettings.objects.filter(project=project).values().get() == before


def test_the_api_refuses_other_roles_and_other_projects(
    client, project, consultant, frontdesk, manager, other_project, api_token_for
) -> None:
    for user in (consultant, frontdesk):
        headers = api_token_for(user)
        assert client.get(_api(project), headers=headers).status_code == 403
        assert (
            client.patch(
                _api(project), {"pool_claims_per_day": 50}, content_type="application/json", headers=headers
            )
        ).status_code == 403
    assert client.get(_api(other_project), headers=api_token_for(manager)).status_code == 404
    assert _settings(project).pool_claims_per_day == 5
