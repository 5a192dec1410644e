"""`{% load followups_tags %}`: how a follow-up's due time reads on a phone (ui.md: relative, short)."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.followups.services import result_label

register = template.Library()


def _span(minutes: int) -> str:
    if minutes < 60:
        return _("%(n)d分钟") % {"n": max(1, minutes)}
    if minutes < 48 * 60:
        return _("%(n)d小时") % {"n": minutes // 60}
    return _("%(n)d天") % {"n": minutes // (24 * 60)}


def due_label_at(due_at: datetime, done_at: datetime | None, now: datetime) -> str:
    if done_at is not None:
        return _("已完成 %(at)s") % {"at": f"{timezone.localtime(done_at):%m-%d %H:%M}"}
    if due_at < now:
        return _("逾期 %(span)s") % {"span": _span(int((now - due_at).total_seconds() // 60))}
    local, today = timezone.localtime(due_at), timezone.localdate()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if days == 0:
        return _("今天 %(time)s") % {"time": clock}
    if days == 1:
        return _("明天 %(time)s") % {"time": clock}
    return f"{local:%m-%d} {clock}"


@register.filter
def due_label(follow_up: object) -> str:
    """`逾期 3小时` · `今天 14:05` · `明天 09:00` · `11-30 10:00` · `已完成 11-26 15:20`."""
    due_at = getattr(follow_up, "due_at", None)
    if due_at is None:
        return ""
    return due_label_at(due_at, getattr(follow_up, "done_at", None), timezone.now())


@register.filter
def followup_result(code: str) -> str:
    return result_label(code) if code else ""
