"""Every draw of an opening session is kept with its inputs (architecture rule 8): a redraw adds a record,
the latest is the one in effect, and each lottery reproduces from its own stored seed and numbers."""

import contextlib
import html as html_module
import importlib
import io
import random
import re
import threading

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from anchang.core.errors import Conflict, Forbidden
from anchang.core.testing.races import run_in_parallel
from anchang.deals.models import OpeningDraw, OpeningSession, OrderMethod, ReservationStatus
from anchang.deals.opening import (
    opening_buyers_draw,
    opening_session_open,
    opening_session_update,
)
from anchang.deals.opening_selectors import opening_draws
from anchang.deals.tests.helpers import count_queries
from anchang.deals.tests.test_opening_setup import make_reservations, make_session, session_input

pytestmark = pytest.mark.django_db


def _order(session: OpeningSession) -> list[int]:
    return list(session.buyers.order_by("position").values_list("reservation__number", flat=True))


def _draws(session: OpeningSession) -> list[OpeningDraw]:
    """Oldest first."""
    return list(OpeningDraw.objects.filter(session=session).order_by("drawn_at", "pk"))


def _published_algorithm(numbers: list[int], seed: str) -> list[int]:
    """The algorithm as the page states it, written out here rather than imported from our code."""
    shuffled = sorted(numbers)
    random.Random(seed).shuffle(shuffled)
    return shuffled


def _run_snippet(snippet: str) -> list[int]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {})  # the three lines printed on the page, run as anyone would run them
    return [int(n) for n in re.findall(r"\d+", printed.getvalue())]


# --- the service -------------------------------------------------------------------------------------


def test_a_redraw_keeps_the_earlier_draw_and_the_new_one_is_in_effect(project, manager) -> None:
    make_reservations(project, 8, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    before = timezone.now()

    opening_buyers_draw(session_id=session.pk, by=manager)
    first = OpeningDraw.objects.get(session=session)
    first_order = list(first.drawn_numbers)
    opening_buyers_draw(session_id=session.pk, by=manager)

    session.refresh_from_db()
    earlier, latest = _draws(session)
    assert earlier.pk == first.pk
    assert (earlier.is_current, latest.is_current) == (False, True)
    # The earlier draw is untouched: same seed, same inputs, same result.
    assert (earlier.seed, earlier.drawn_numbers) == (first.seed, first_order)
    assert earlier.eligible_numbers == latest.eligible_numbers == list(range(1, 9))
    assert latest.seed != earlier.seed
    # The draw in effect is the one the buyers and the session follow.
    assert session.lottery_seed == latest.seed
    assert _order(session) == latest.drawn_numbers
    for draw in (earlier, latest):
        assert draw.method == OrderMethod.LOTTERY
        assert draw.drawn_by == manager
        assert before <= draw.drawn_at <= timezone.now()
    assert earlier.drawn_at <= latest.drawn_at
    assert session.draws.filter(is_current=True).get() == latest


def test_every_stored_lottery_draw_reproduces_its_own_result(project, manager) -> None:
    reservations = make_reservations(project, 15, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    opening_buyers_draw(session_id=session.pk, by=manager)
    # Between draws the eligible reservations change: each draw must keep its own inputs.
    reservations[3].status = ReservationStatus.REFUNDED
    reservations[3].save()
    opening_buyers_draw(session_id=session.pk, by=manager)
    reservations[3].status = ReservationStatus.ACTIVE
    reservations[3].save()
    reservations[10].status = ReservationStatus.REFUNDED
    reservations[10].save()
    opening_buyers_draw(session_id=session.pk, by=manager)

    draws = _draws(session)
    assert len(draws) == 3
    assert [4 in d.eligible_numbers for d in draws] == [True, False, True]
    assert [11 in d.eligible_numbers for d in draws] == [True, True, False]
    assert len({d.seed for d in draws}) == 3
    rows = {row.draw.pk: row for row in opening_draws(session=session)}
    for draw in draws:
        assert re.fullmatch(r"[0-9a-f]{32}", draw.seed)
        # The inputs as fed to the algorithm: the eligible numbers, ascending.
        assert draw.eligible_numbers == sorted(draw.eligible_numbers)
        assert sorted(draw.drawn_numbers) == draw.eligible_numbers
        assert _published_algorithm(draw.eligible_numbers, draw.seed) == draw.drawn_numbers
        # The snippet the page prints for this draw gives the same order when run.
        assert _run_snippet(rows[draw.pk].snippet) == draw.drawn_numbers


def test_registration_order_draws_are_stored_too(project, manager) -> None:
    make_reservations(project, 4, by=manager, minutes=[30, 10, 20, 10])
    session = make_session(project, manager, order_method=OrderMethod.REGISTRATION)

    opening_buyers_draw(session_id=session.pk, by=manager)
    opening_buyers_draw(session_id=session.pk, by=manager)

    earlier, latest = _draws(session)
    for draw in (earlier, latest):
        assert draw.method == OrderMethod.REGISTRATION
        assert draw.seed == ""
        assert draw.eligible_numbers == [1, 2, 3, 4]
        assert draw.drawn_numbers == [2, 4, 3, 1]
        assert draw.drawn_by == manager
    assert (earlier.is_current, latest.is_current) == (False, True)
    assert _order(session) == latest.drawn_numbers
    assert all(row.snippet == "" for row in opening_draws(session=session))


def test_changing_the_method_keeps_the_draws_but_none_is_in_effect(project, manager) -> None:
    make_reservations(project, 5, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    opening_buyers_draw(session_id=session.pk, by=manager)

    opening_session_update(
        session_id=session.pk, data=session_input(order_method=OrderMethod.REGISTRATION), by=manager
    )

    discarded = OpeningDraw.objects.get(session=session)
    assert not discarded.is_current and discarded.seed
    assert not session.buyers.exists()

    opening_buyers_draw(session_id=session.pk, by=manager)

    earlier, latest = _draws(session)
    assert earlier.pk == discarded.pk and not earlier.is_current
    assert (latest.method, latest.is_current) == (OrderMethod.REGISTRATION, True)


def test_an_edit_that_keeps_the_method_keeps_the_draw_in_effect(project, manager) -> None:
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    opening_buyers_draw(session_id=session.pk, by=manager)

    opening_session_update(
        session_id=session.pk,
        data=session_input(name="改名", order_method=OrderMethod.LOTTERY, slot_minutes=20),
        by=manager,
    )

    assert OpeningDraw.objects.get(session=session).is_current


def test_the_database_allows_one_draw_in_effect_per_session(project, manager) -> None:
    make_reservations(project, 2, by=manager)
    session = make_session(project, manager)
    opening_buyers_draw(session_id=session.pk, by=manager)
    current = OpeningDraw.objects.get(session=session)

    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningDraw.objects.create(
            session=session,
            method=current.method,
            eligible_numbers=current.eligible_numbers,
            drawn_numbers=current.drawn_numbers,
            drawn_by=manager,
            drawn_at=timezone.now(),
            is_current=True,
        )
    assert OpeningDraw.objects.filter(session=session).count() == 1


def test_a_refused_draw_records_nothing(project, manager, consultant) -> None:
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    with pytest.raises(Conflict) as nobody:
        opening_buyers_draw(session_id=session.pk, by=manager)
    assert nobody.value.code == "no_reservations"
    make_reservations(project, 3, by=manager)
    with pytest.raises(Forbidden):
        opening_buyers_draw(session_id=session.pk, by=consultant)
    assert not OpeningDraw.objects.exists()

    opening_buyers_draw(session_id=session.pk, by=manager)
    opening_session_open(session_id=session.pk, by=manager)
    with pytest.raises(Conflict):
        opening_buyers_draw(session_id=session.pk, by=manager)

    draw = OpeningDraw.objects.get()
    assert draw.is_current


# --- the pages ---------------------------------------------------------------------------------------


def test_a_non_manager_cannot_draw(client_for, project, manager, consultant) -> None:
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)

    response = client_for(consultant).post(reverse("openings:draw", args=[session.pk]))

    assert response.status_code == 404
    assert not OpeningDraw.objects.exists()
    assert not session.buyers.exists()
    session.refresh_from_db()
    assert session.lottery_seed == ""


def test_the_session_page_lists_every_draw(client_for, project, manager, consultant) -> None:
    manager.name = "周经理"
    manager.save(update_fields=["name"])
    make_reservations(project, 12, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    client = client_for(manager)
    for _ in range(2):
        assert client.post(reverse("openings:draw", args=[session.pk])).status_code == 302

    html = client.get(reverse("openings:detail", args=[session.pk])).content.decode()

    earlier, latest = _draws(session)
    section = html[html.index('id="opening-draws"') :]
    assert section.count("data-draw=") == 2
    assert section.count("data-current") == 1
    current_row = re.search(r'<tr data-draw="2" data-current[^>]*>(.*?)</tr>', section, re.S)
    assert current_row is not None and latest.seed in current_row.group(1)
    assert "当前生效" in current_row.group(1)
    old_row = re.search(r'<tr data-draw="1">(.*?)</tr>', section, re.S)
    assert old_row is not None and earlier.seed in old_row.group(1) and "已失效" in old_row.group(1)
    assert section.index('data-draw="2"') < section.index('data-draw="1"')  # newest first
    assert section.count("周经理") == 2
    assert section.count("摇号") >= 2
    assert timezone.localtime(latest.drawn_at).strftime("%Y-%m-%d %H:%M:%S") in section
    # The head of each order, and a snippet for each lottery that names that draw's own seed.
    for draw in (earlier, latest):
        assert " ".join(str(n) for n in draw.drawn_numbers[:10]) in section
        assert f"random.Random({draw.seed!r}).shuffle(numbers)" in html_module.unescape(section)
    assert section.count("（共 12 位）") == 2
    # Consultants see the record too: it is the public proof of the order.
    seen_by_consultant = client_for(consultant).get(reverse("openings:detail", args=[session.pk]))
    assert latest.seed in seen_by_consultant.content.decode()


def test_the_page_shows_registration_draws_without_a_seed(client_for, project, manager) -> None:
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.REGISTRATION)
    opening_buyers_draw(session_id=session.pk, by=manager)

    html = client_for(manager).get(reverse("openings:detail", args=[session.pk])).content.decode()

    section = html[html.index('id="opening-draws"') :]
    assert section.count("data-draw=") == 1 and "data-current" in section
    assert "按认筹先后" in section and "按认筹时间先后" in section
    assert "data-seed" not in section and "random.Random(" not in section


def test_the_record_reads_in_english_when_asked(client_for, project, manager) -> None:
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    for _ in range(2):
        opening_buyers_draw(session_id=session.pk, by=manager)

    response = client_for(manager).get(
        reverse("openings:detail", args=[session.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    section = response.content.decode()
    section = section[section.index('id="opening-draws"') :]
    assert "Lottery proof and record of draws" in section
    assert "In effect" in section and "Not in effect" in section
    assert "(3 in all)" in section and "Code that reproduces draw #1" in section


def test_no_draw_no_record_section(client_for, project, manager) -> None:
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    html = client_for(manager).get(reverse("openings:detail", args=[session.pk])).content.decode()
    assert 'id="opening-draws"' not in html


def test_the_session_page_costs_the_same_for_one_and_five_draws(
    client_for, project, manager, django_assert_num_queries
) -> None:
    make_reservations(project, 6, by=manager)
    client = client_for(manager)
    one = make_session(project, manager, order_method=OrderMethod.LOTTERY, name="一次")
    five = make_session(project, manager, order_method=OrderMethod.LOTTERY, name="五次")
    opening_buyers_draw(session_id=one.pk, by=manager)
    for _ in range(5):
        opening_buyers_draw(session_id=five.pk, by=manager)
    one_url = reverse("openings:detail", args=[one.pk])
    five_url = reverse("openings:detail", args=[five.pk])
    client.get(one_url)  # warm the session
    queries = count_queries(lambda: client.get(one_url))

    with django_assert_num_queries(queries):
        response = client.get(five_url)

    assert response.status_code == 200
    assert response.content.decode().count("data-snippet-for=") == 5


def test_the_migration_records_orders_drawn_before_draws_were_kept(project, manager) -> None:
    """Sessions drawn before this record existed get their draw in effect from the buyers and the seed."""
    migration = importlib.import_module("anchang.deals.migrations.0003_opening_draw_history")
    make_reservations(project, 7, by=manager)
    lottery = make_session(project, manager, order_method=OrderMethod.LOTTERY, name="摇号场")
    registration = make_session(project, manager, name="认筹场")
    not_drawn = make_session(project, manager, name="未排序")
    for session in (lottery, registration):
        opening_buyers_draw(session_id=session.pk, by=manager)
    OpeningDraw.objects.all().delete()  # as before the migration

    migration.record_orders_drawn_before(django_apps, None)

    assert not not_drawn.draws.exists()
    for session in (lottery, registration):
        session.refresh_from_db()
        draw = session.draws.get()
        assert draw.is_current
        assert (draw.method, draw.seed) == (session.order_method, session.lottery_seed)
        assert draw.drawn_numbers == _order(session)
        assert draw.eligible_numbers == list(range(1, 8))
        assert (draw.drawn_by, draw.drawn_at) == (manager, session.updated_at)
    lottery_draw = lottery.draws.get()
    assert (
        _published_algorithm(lottery_draw.eligible_numbers, lottery_draw.seed) == lottery_draw.drawn_numbers
    )


def test_the_admin_shows_draws_and_changes_none(client_for, project, manager, admin_user) -> None:
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    opening_buyers_draw(session_id=session.pk, by=manager)
    draw = OpeningDraw.objects.get()
    client = client_for(admin_user)

    listing = client.get(reverse("admin:deals_openingdraw_changelist"))
    page = client.get(reverse("admin:deals_openingdraw_change", args=[draw.pk]))

    assert listing.status_code == 200 and draw.seed in listing.content.decode()
    assert page.status_code == 200 and draw.seed in page.content.decode()
    assert client.get(reverse("admin:deals_openingdraw_add")).status_code == 403
    assert (
        client.post(reverse("admin:deals_openingdraw_change", args=[draw.pk]), {"seed": "x"}).status_code
        == 403
    )
    deleting = client.post(reverse("admin:deals_openingdraw_delete", args=[draw.pk]), {"post": "yes"})
    assert deleting.status_code == 403
    draw.refresh_from_db()
    assert draw.seed != "x"


# --- PostgreSQL: managers drawing at the same moment ---------------------------------------------------

MANAGERS_AT_ONCE = 6


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_draws_at_the_same_moment_are_all_recorded_and_one_is_in_effect(project, manager) -> None:
    make_reservations(project, 10, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)

    outcomes = run_in_parallel(
        lambda i: opening_buyers_draw(session_id=session.pk, by=manager), MANAGERS_AT_ONCE
    )

    assert all(isinstance(o, list) for o in outcomes), outcomes
    draws = _draws(session)
    assert len(draws) == MANAGERS_AT_ONCE
    assert [d.is_current for d in draws] == [False] * (MANAGERS_AT_ONCE - 1) + [True]
    session.refresh_from_db()
    assert session.lottery_seed == draws[-1].seed
    assert _order(session) == draws[-1].drawn_numbers
    assert all(_published_algorithm(d.eligible_numbers, d.seed) == d.drawn_numbers for d in draws)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_control_without_the_session_lock_the_index_still_keeps_one_draw_in_effect(project, manager) -> None:
    """The race the session lock prevents: clear the flag, then insert, from several transactions at once."""
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager)
    barrier = threading.Barrier(MANAGERS_AT_ONCE)

    def naive_draw(i: int) -> OpeningDraw:
        with transaction.atomic():
            OpeningDraw.objects.filter(session_id=session.pk, is_current=True).update(is_current=False)
            barrier.wait()  # everyone has cleared the flag; nobody has inserted yet
            return OpeningDraw.objects.create(
                session_id=session.pk,
                method=OrderMethod.REGISTRATION,
                eligible_numbers=[1, 2, 3],
                drawn_numbers=[1, 2, 3],
                drawn_by=manager,
                drawn_at=timezone.now(),
                is_current=True,
            )

    outcomes = run_in_parallel(naive_draw, MANAGERS_AT_ONCE)

    assert sum(isinstance(o, OpeningDraw) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, IntegrityError) for o in outcomes) == MANAGERS_AT_ONCE - 1, outcomes
    assert OpeningDraw.objects.filter(session=session, is_current=True).count() == 1
