"""The register of the project's certificates (五证, issue 11 §5): the API, the manager's page, the
admin, the risk-disclosure station that shows them, bad input and permissions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anchang.core.errors import Forbidden, InvalidInput
from anchang.inventory.models import Building, Certificate, CertificateKind
from anchang.inventory.permits import certificate_create
from anchang.reception.services import check_in
from anchang.reception.stations import station_tick, stations_ensure_defaults

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/{pid}/permits"


def _buildings(project) -> list[Building]:
    return list(Building.objects.filter(project=project).order_by("sort_order"))


def _presale(project, **changes) -> dict[str, object]:
    body: dict[str, object] = {
        "kind": "presale",
        "number": "杭售许字(2026)第0012号",
        "authority": "杭州市住房保障和房产管理局",
        "building_ids": [b.pk for b in _buildings(project)],
        "valid_from": str(timezone.localdate() - timedelta(days=10)),
        "valid_until": None,
    }
    body.update(changes)
    return body


def test_the_manager_registers_a_presale_permit_and_everyone_on_the_project_reads_it(
    client, project, manager, consultant, api_token_for, django_assert_num_queries
) -> None:
    created = client.post(
        URL.format(pid=project.pk),
        _presale(project),
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind_label"] == "预售许可证" and body["valid_today"] is True
    assert [b["name"] for b in body["buildings"]] == ["1栋", "2栋"]
    certificate_create(
        project=project,
        kind=CertificateKind.LAND_USE,
        number="杭国用(2024)第123号",
        valid_from=timezone.localdate() - timedelta(days=400),
        by=manager,
    )
    headers = api_token_for(consultant)
    # The token (with the caller's projects), the certificates, their buildings: whatever the count.
    with django_assert_num_queries(3):
        listed = client.get(URL.format(pid=project.pk), headers=headers)
    assert listed.status_code == 200
    rows = listed.json()
    # Presale permits first (the factory's and the new one), then the plot's certificates.
    assert [r["kind"] for r in rows] == ["presale", "presale", "land_use"]
    assert rows[-1]["scope"] == "全项目" and rows[-1]["buildings"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": "  "}, "number"),
        ({"kind": "passport"}, "kind"),
        ({"building_ids": []}, "building_ids"),
        ({"valid_until": "2000-01-01"}, "valid_until"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"number": "号" * 61}, "number"),
        ({"kind": "land_use"}, "building_ids"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    client, project, manager, api_token_for, changes, field
) -> None:
    before = Certificate.objects.count()
    response = client.post(
        URL.format(pid=project.pk),
        _presale(project, **changes),
        content_type="application/json",
        headers=api_token_for(manager),
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert Certificate.objects.count() == before


def test_a_building_of_another_project_is_refused(project, other_project, manager) -> None:
    with pytest.raises(InvalidInput) as refused:
        certificate_create(
            project=project,
            kind=CertificateKind.PRESALE,
            number="X-1",
            valid_from=timezone.localdate(),
            building_ids=[_buildings(other_project)[0].pk] if _buildings(other_project) else [10**9],
            by=manager,
        )
    assert "building_ids" in refused.value.fields


def test_a_duplicate_number_is_409(client, project, manager, api_token_for) -> None:
    url, headers = URL.format(pid=project.pk), api_token_for(manager)
    assert (
        client.post(url, _presale(project), content_type="application/json", headers=headers).status_code
        == 201
    )
    again = client.post(url, _presale(project), content_type="application/json", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "certificate_exists"


def test_only_the_manager_registers_and_other_projects_are_404(
    client, project, other_project, consultant, frontdesk, manager, api_token_for
) -> None:
    for user in (consultant, frontdesk):
        response = client.post(
            URL.format(pid=project.pk),
            _presale(project),
            content_type="application/json",
            headers=api_token_for(user),
        )
        assert response.status_code == 403
    with pytest.raises(Forbidden):
        certificate_create(
            project=project, kind="land_use", number="A", valid_from=timezone.localdate(), by=consultant
        )
    headers = api_token_for(manager)
    assert client.get(URL.format(pid=other_project.pk), headers=headers).status_code == 404
    other = client.post(
        URL.format(pid=other_project.pk),
        _presale(other_project),
        content_type="application/json",
        headers=headers,
    )
    assert other.status_code == 404
    assert not Certificate.objects.filter(number="杭售许字(2026)第0012号").exists()


def test_the_managers_page_registers_a_certificate_and_shows_errors_in_chinese(
    client_for, project, manager, consultant
) -> None:
    url = reverse("inventory:permits", args=[project.pk])
    manager_client = client_for(manager)
    bad = manager_client.post(
        url, {"kind": "presale", "number": "P-2", "valid_from": str(timezone.localdate())}
    )
    assert bad.status_code == 400
    assert "预售许可证须注明覆盖的楼栋" in bad.content.decode()
    first = _buildings(project)[0]
    done = manager_client.post(
        url,
        {
            "kind": "presale",
            "number": "P-2",
            "authority": "房管局",
            "buildings": [first.pk],
            "valid_from": str(timezone.localdate()),
        },
    )
    assert done.status_code == 302
    assert list(Certificate.objects.get(number="P-2").buildings.all()) == [first]
    page = client_for(consultant).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "P-2" in html and "房管局" in html and 'name="number"' not in html
    assert client_for(consultant).post(url, {"kind": "land_use", "number": "Z"}).status_code == 403


def test_the_page_of_another_project_is_404(client_for, other_project, manager) -> None:
    assert client_for(manager).get(reverse("inventory:permits", args=[other_project.pk])).status_code == 404


def test_the_admin_lists_certificates(client_for, admin_user, project) -> None:
    response = client_for(admin_user).get(reverse("admin:inventory_certificate_changelist"))
    assert response.status_code == 200
    assert "测试预售证" in response.content.decode()


def test_the_risk_disclosure_station_shows_the_projects_certificates(
    client_for, project, frontdesk, on_duty, manager
) -> None:
    certificate_create(
        project=project,
        kind=CertificateKind.CONSTRUCTION,
        number="330108202604150101",
        authority="杭州市城乡建设委员会",
        valid_from=timezone.localdate() - timedelta(days=100),
        valid_until=timezone.localdate() + timedelta(days=200),
        by=manager,
    )
    stations_ensure_defaults(project=project)
    visit = check_in(project=project, phone="13912345678", by=frontdesk, consent=True).visit
    consultant = visit.consultant
    for code in ("parking", "hall", "region"):
        page = client_for(consultant).get(reverse("reception:visit", args=[visit.pk])).content.decode()
        assert "330108202604150101" not in page
        station_tick(visit=visit, code=code, by=consultant)
    station_tick(visit=visit, code="sandtable", by=consultant)
    html = client_for(consultant).get(reverse("reception:visit", args=[visit.pk])).content.decode()
    assert "本项目五证" in html
    assert "330108202604150101" in html and "建筑工程施工许可证" in html and "杭州市城乡建设委员会" in html
    assert "1栋、2栋" in html  # the factory's presale permit and the buildings it covers


def test_the_admin_refuses_a_presale_permit_with_another_projects_building(
    client_for, admin_user, project, other_project
) -> None:
    foreign = _buildings(other_project)[0]
    response = client_for(admin_user).post(
        reverse("admin:inventory_certificate_add"),
        {
            "project": project.pk,
            "kind": "presale",
            "number": "ADM-1",
            "buildings": [foreign.pk],
            "valid_from": str(timezone.localdate()),
        },
    )
    assert response.status_code == 200
    assert "所选楼栋不属于本项目" in response.content.decode()
    assert not Certificate.objects.filter(number="ADM-1").exists()


def test_the_sales_board_marks_a_building_without_a_permit_as_not_on_sale(
    client_for, project, consultant
) -> None:
    _first, second = _buildings(project)
    Certificate.objects.get(project=project, kind=CertificateKind.PRESALE).buildings.remove(second)
    html = client_for(consultant).get(reverse("inventory:board", args=[project.pk])).content.decode()
    assert html.count("无预售许可证，未开售") == 1
    assert html.index("无预售许可证，未开售") > html.index(f'id="building-{second.pk}"')
