from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anchang.customers.models import IntentLevel


class Method(models.TextChoices):
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")
    SMS = "sms", _("短信")
    VISIT = "visit", _("上门/到访")


class FollowUpState(models.TextChoices):
    OPEN = "open", _("待跟进")
    OVERDUE = "overdue", _("已逾期")
    DONE = "done", _("已完成")


class FollowUp(models.Model):
    """A follow-up task and, once done, its record (product.md §7).

    A row is due (`due_at`) until someone records it (`done_at`); recording one may schedule the next.
    """

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="follow_ups")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_ups"
    )
    visit = models.ForeignKey(
        "reception.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(_("应跟进时间"), db_index=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    method = models.CharField(_("方式"), max_length=10, choices=Method.choices, blank=True)
    content = models.TextField(_("跟进内容"), max_length=2000, blank=True)
    result = models.CharField(_("结果"), max_length=200, blank=True)
    intent_level = models.CharField(_("意向等级"), max_length=1, choices=IntentLevel.choices, blank=True)
    reason = models.CharField(_("来由"), max_length=100, blank=True, help_text=_("如：首访后 24 小时内回访"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("跟进")
        verbose_name_plural = _("跟进")
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["consultant", "done_at", "due_at"], name="followup_todo_idx")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.due_at:%m-%d}"

    @property
    def state_label(self) -> str:
        return str(FollowUpState(self.state).label)

    @property
    def state(self) -> str:
        if self.done_at is not None:
            return FollowUpState.DONE
        return FollowUpState.OVERDUE if self.due_at < timezone.now() else FollowUpState.OPEN


class Callback(models.Model):
    """回访: someone other than the receiving consultant asks the customer how the reception went.

    One row per visit. A call nobody answered (未接通) leaves `satisfaction` empty and the visit still
    awaiting its callback; `attempts` counts every call made, the answered one included.
    """

    visit = models.ForeignKey("reception.Visit", on_delete=models.CASCADE, related_name="callbacks")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="callbacks")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="callbacks_about_me"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1–5）"), null=True, blank=True)
    comments = models.TextField(_("客户意见"), max_length=2000, blank=True)
    attempts = models.PositiveSmallIntegerField(_("拨打次数"), default=1)
    at = models.DateTimeField(_("回访时间"))

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | (models.Q(satisfaction__gte=1) & models.Q(satisfaction__lte=5)),
                name="callback_satisfaction_1_5",
            ),
            models.UniqueConstraint(fields=["visit"], name="callback_once_per_visit"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} · {self.satisfaction or '-'}"

    @property
    def reached(self) -> bool:
        return self.satisfaction is not None
