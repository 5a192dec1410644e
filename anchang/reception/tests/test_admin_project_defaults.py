import pytest
from django.urls import reverse

from anchang.inventory.models import Project
from anchang.reception.models import Station, VipTaskTemplate

pytestmark = pytest.mark.django_db


def test_a_project_created_in_the_admin_is_ready_to_receive_visitors(client_for, admin_user, project) -> None:
    response = client_for(admin_user).post(
        reverse("admin:inventory_project_add"),
        {
            "company": project.company_id,
            "name": "新项目",
            "code": "new-site",
            "city": "杭州",
            "kind": "high_rise",
            "is_active": "on",
            "settings-TOTAL_FORMS": "0",
            "settings-INITIAL_FORMS": "0",
            "buildings-TOTAL_FORMS": "0",
            "buildings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Project.objects.get(code="new-site")
    assert created.settings.protection_days_after_visit == 15
    assert Station.objects.filter(project=created, is_risk_disclosure=True).exists()
    assert VipTaskTemplate.objects.filter(project=created, tier="1").exists()
