"""Opening sessions: creating and editing them, the draw (registration order or a reproducible lottery),
the slots, and the draft → open → closed states."""

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from anchang.core.errors import Conflict, Forbidden, InvalidInput
from anchang.deals.models import (
    OpeningBuyer,
    OpeningSession,
    OpeningStatus,
    OrderMethod,
    ReservationStatus,
)
from anchang.deals.opening import (
    lottery_order,
    opening_buyers_draw,
    opening_session_close,
    opening_session_create,
    opening_session_open,
    opening_session_update,
    reproduce_snippet,
    slot_for,
    token_looks_valid,
)
from anchang.deals.tests.test_opening_setup import make_reservations, make_session, session_input

pytestmark = pytest.mark.django_db


def _numbers_in_order(session: OpeningSession) -> list[int]:
    return list(session.buyers.order_by("position").values_list("reservation__number", flat=True))


def test_registration_order_follows_registration_time_then_number(project, manager) -> None:
    # Numbers 2 and 4 registered at the same minute: the lower number goes first.
    make_reservations(project, 4, by=manager, minutes=[30, 10, 20, 10])
    session = make_session(project, manager, order_method=OrderMethod.REGISTRATION)

    opening_buyers_draw(session_id=session.pk, by=manager)

    assert _numbers_in_order(session) == [2, 4, 3, 1]
    session.refresh_from_db()
    assert session.lottery_seed == ""


def test_the_lottery_algorithm_is_pinned() -> None:
    """The published algorithm: numbers ascending, random.Random(seed).shuffle. Pinned so it never drifts."""
    assert lottery_order(list(range(1, 11)), "anchang-2026") == [4, 7, 6, 2, 1, 8, 5, 10, 3, 9]
    # The input order does not matter: the numbers are sorted first.
    assert lottery_order(list(range(10, 0, -1)), "anchang-2026") == [4, 7, 6, 2, 1, 8, 5, 10, 3, 9]
    seed = "0123456789abcdef0123456789abcdef"
    assert lottery_order(list(range(1, 21)), seed) == lottery_order(list(range(1, 21)), seed)
    assert lottery_order(list(range(1, 21)), seed) != lottery_order(list(range(1, 21)), seed[::-1])


def test_a_lottery_stores_its_seed_and_anyone_can_reproduce_the_draw(project, manager) -> None:
    make_reservations(project, 12, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)

    opening_buyers_draw(session_id=session.pk, by=manager)

    session.refresh_from_db()
    assert re.fullmatch(r"[0-9a-f]{32}", session.lottery_seed)
    drawn = _numbers_in_order(session)
    assert drawn == lottery_order(list(range(1, 13)), session.lottery_seed)
    assert sorted(drawn) == list(range(1, 13))
    # The snippet printed on the page gives the same order when run.
    snippet = reproduce_snippet(seed=session.lottery_seed, numbers=drawn)
    numbers_line, shuffle_line = snippet.splitlines()[1:3]
    numbers = eval(numbers_line.split("=", 1)[1])
    seed = re.search(r"Random\('([0-9a-f]+)'\)", shuffle_line).group(1)
    random.Random(seed).shuffle(numbers)
    assert numbers == drawn


def test_redrawing_a_lottery_draws_a_new_seed_and_new_links(project, manager) -> None:
    make_reservations(project, 6, by=manager)
    session = make_session(project, manager, order_method=OrderMethod.LOTTERY)
    opening_buyers_draw(session_id=session.pk, by=manager)
    session.refresh_from_db()
    first_seed, first_tokens = session.lottery_seed, set(session.buyers.values_list("token", flat=True))

    opening_buyers_draw(session_id=session.pk, by=manager)

    session.refresh_from_db()
    assert session.lottery_seed != first_seed
    assert session.buyers.count() == 6
    assert not first_tokens & set(session.buyers.values_list("token", flat=True))


def test_only_active_reservations_take_part(project, manager) -> None:
    reservations = make_reservations(project, 4, by=manager)
    reservations[1].status = ReservationStatus.REFUNDED
    reservations[1].save()
    session = make_session(project, manager)

    opening_buyers_draw(session_id=session.pk, by=manager)

    assert _numbers_in_order(session) == [1, 3, 4]


def test_no_reservations_means_no_draw(project, manager) -> None:
    session = make_session(project, manager)
    with pytest.raises(Conflict) as refused:
        opening_buyers_draw(session_id=session.pk, by=manager)
    assert refused.value.code == "no_reservations"
    assert not OpeningBuyer.objects.exists()


def test_reservations_of_another_project_do_not_take_part(project, other_project, manager) -> None:
    make_reservations(project, 2, by=manager)
    make_reservations(other_project, 3, by=manager)
    session = make_session(project, manager)
    opening_buyers_draw(session_id=session.pk, by=manager)
    assert set(session.buyers.values_list("reservation__project_id", flat=True)) == {project.pk}


def test_slots_are_batches_of_buyers_per_slot(project, manager) -> None:
    make_reservations(project, 5, by=manager)
    start = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    session = make_session(project, manager, starts_at=start, slot_minutes=15, buyers_per_slot=2)

    opening_buyers_draw(session_id=session.pk, by=manager)

    slots = [(b.slot_starts_at - start, b.slot_ends_at - start) for b in session.buyers.order_by("position")]
    minutes = [(int(a.total_seconds() // 60), int(b.total_seconds() // 60)) for a, b in slots]
    assert minutes == [(0, 15), (0, 15), (15, 30), (15, 30), (30, 45)]
    assert slot_for(position=3, starts_at=start, slot_minutes=15, buyers_per_slot=2).starts_at == start + (
        timedelta(minutes=15)
    )


def test_editing_times_moves_the_slots_and_keeps_the_order(project, manager) -> None:
    make_reservations(project, 3, by=manager, minutes=[3, 2, 1])
    start = timezone.now() + timedelta(hours=1)
    session = make_session(project, manager, starts_at=start, buyers_per_slot=1, slot_minutes=10)
    opening_buyers_draw(session_id=session.pk, by=manager)
    later = start + timedelta(hours=1)

    opening_session_update(
        session_id=session.pk,
        data=session_input(starts_at=later, buyers_per_slot=1, slot_minutes=5, name="改期开盘"),
        by=manager,
    )

    assert _numbers_in_order(session) == [3, 2, 1]
    buyers = list(session.buyers.order_by("position"))
    assert [b.slot_starts_at for b in buyers] == [later + timedelta(minutes=5 * i) for i in range(3)]
    session.refresh_from_db()
    assert session.name == "改期开盘"


def test_changing_the_order_method_discards_the_drawn_order(project, manager) -> None:
    make_reservations(project, 3, by=manager)
    session = make_session(project, manager)
    opening_buyers_draw(session_id=session.pk, by=manager)

    opening_session_update(
        session_id=session.pk, data=session_input(order_method=OrderMethod.LOTTERY), by=manager
    )

    assert session.buyers.count() == 0
    with pytest.raises(Conflict):
        opening_session_open(session_id=session.pk, by=manager)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "开盘\x00"}, "name"),
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"slot_minutes": 241}, "slot_minutes"),
        ({"buyers_per_slot": 0}, "buyers_per_slot"),
        ({"units_per_buyer": 11}, "units_per_buyer"),
        ({"order_method": "dice"}, "order_method"),
        ({"starts_at": timezone.now() - timedelta(days=2)}, "starts_at"),
        ({"starts_at": timezone.now() + timedelta(days=400)}, "starts_at"),
    ],
)
def test_bad_session_input_is_refused_and_nothing_is_created(project, manager, changes, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        opening_session_create(project=project, data=session_input(**changes), by=manager)
    assert field in refused.value.fields
    assert not OpeningSession.objects.exists()


def test_only_managers_run_sessions(project, manager, consultant) -> None:
    with pytest.raises(Forbidden):
        opening_session_create(project=project, data=session_input(), by=consultant)
    make_reservations(project, 2, by=manager)
    session = make_session(project, manager)
    for action in (opening_buyers_draw, opening_session_open, opening_session_close):
        with pytest.raises(Forbidden):
            action(session_id=session.pk, by=consultant)


def test_draft_open_closed_and_no_way_back(project, manager) -> None:
    make_reservations(project, 2, by=manager)
    session = make_session(project, manager)
    with pytest.raises(Conflict) as not_drawn:
        opening_session_open(session_id=session.pk, by=manager)
    assert not_drawn.value.code == "no_buyers"
    with pytest.raises(Conflict):
        opening_session_close(session_id=session.pk, by=manager)
    opening_buyers_draw(session_id=session.pk, by=manager)

    opening_session_open(session_id=session.pk, by=manager)

    session.refresh_from_db()
    assert session.status == OpeningStatus.OPEN
    positions_before = _numbers_in_order(session)
    for refused in (
        lambda: opening_buyers_draw(session_id=session.pk, by=manager),
        lambda: opening_session_update(session_id=session.pk, data=session_input(), by=manager),
        lambda: opening_session_open(session_id=session.pk, by=manager),
    ):
        with pytest.raises(Conflict) as error:
            refused()
        assert error.value.status == 409
    assert _numbers_in_order(session) == positions_before

    opening_session_close(session_id=session.pk, by=manager)

    session.refresh_from_db()
    assert session.status == OpeningStatus.CLOSED
    with pytest.raises(Conflict):
        opening_session_open(session_id=session.pk, by=manager)


def test_each_buyer_gets_an_unguessable_link(project, manager) -> None:
    make_reservations(project, 30, by=manager)
    session = make_session(project, manager)
    opening_buyers_draw(session_id=session.pk, by=manager)
    tokens = list(session.buyers.values_list("token", flat=True))
    assert len(set(tokens)) == 30
    assert all(token_looks_valid(t) and len(t) >= 32 for t in tokens)
    assert not token_looks_valid("short")
    assert not token_looks_valid("a" * 30 + "/..")
