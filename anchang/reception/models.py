from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from anchang.core.models import TimeStampedModel
from anchang.customers.models import AttributionRule, Gender, Source
from anchang.inventory.registration_fields import registration_field_labels


class VipTier(models.TextChoices):
    TIER_1 = "1", _("一级贵宾")
    TIER_2 = "2", _("二级贵宾")
    GENERAL = "general", _("普通客户")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CHECKED_IN = "checked_in", _("已到访")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("未到访")


class BookingChannel(models.TextChoices):
    DESK = "desk", _("前台录入")
    CONSULTANT = "consultant", _("顾问录入")
    ONLINE = "online", _("在线预约")
    API = "api", _("接口")


class Appointment(TimeStampedModel):
    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="appointments")
    code = models.CharField(_("预约码"), max_length=8, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    # Optional: public screens then say 王先生 / 王女士 instead of 王** (core.privacy.public_name).
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices, blank=True)
    phone = models.CharField(_("手机号"), max_length=16)
    start_at = models.DateTimeField(_("预约时间"))
    party_size = models.PositiveSmallIntegerField(_("来访人数"), default=1)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("指定顾问"),
    )
    source = models.CharField(_("认知途径"), max_length=20, choices=Source.choices, blank=True)
    vip_tier = models.CharField(
        _("接待等级"), max_length=10, choices=VipTier.choices, default=VipTier.GENERAL
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    channel = models.CharField(_("预约方式"), max_length=20, choices=BookingChannel.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    consent_at = models.DateTimeField(_("隐私告知同意时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["project", "start_at"], name="appointment_day_idx"),
            models.Index(fields=["project", "phone", "status"], name="appointment_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.start_at:%m-%d %H:%M}"


class VisitKind(models.TextChoices):
    FIRST = "first", _("首访")
    RETURN = "return", _("复访")
    OWNER = "owner", _("业主到访")


class ClubStatus(models.TextChoices):
    OFFERED = "offered", _("已介绍会员")
    JOINED = "joined", _("已入会")
    DECLINED = "declined", _("不感兴趣")


class VisitState(models.TextChoices):
    WAITING = "waiting", _("等待接待")
    RECEIVING = "receiving", _("接待中")
    ENDED = "ended", _("已结束")
    INVALID = "invalid", _("无效接待")


class Visit(TimeStampedModel):
    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="visits")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="visits")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    kind = models.CharField(_("来访类型"), max_length=10, choices=VisitKind.choices)
    state = models.CharField(_("状态"), max_length=10, choices=VisitState.choices)
    rule = models.CharField(_("分配规则"), max_length=30, choices=AttributionRule.choices)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="receptions",
        verbose_name=_("接待顾问"),
    )
    # 代接待: the protected owner was not on duty, so `consultant` receives on their behalf.
    covering_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    consumes_turn = models.BooleanField(default=True)
    channel_report_id = models.BigIntegerField(null=True, blank=True)
    party_size = models.PositiveSmallIntegerField(_("来访人数"), default=1)
    missing_fields = models.JSONField(_("登记缺项"), default=list, blank=True)
    # Projects that only receive booked visitors still register walk-ins, flagged (product.md §1).
    unbooked = models.BooleanField(_("未预约到访"), default=False)
    checked_in_at = models.DateTimeField(_("到访时间"), db_index=True)
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("离开时间"), null=True, blank=True)
    outcome = models.CharField(_("接待结果"), max_length=20, blank=True)
    invalid_reason = models.CharField(_("无效原因"), max_length=100, blank=True)
    materials_given = models.JSONField(_("已发资料"), default=list, blank=True)
    club = models.CharField(_("会员"), max_length=10, choices=ClubStatus.choices, blank=True)
    next_step = models.CharField(_("下一步"), max_length=200, blank=True)
    summary = models.TextField(_("接待小结"), max_length=2000, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("来访")
        verbose_name_plural = _("来访")
        ordering = ["-checked_in_at"]
        indexes = [
            models.Index(fields=["project", "state", "checked_in_at"], name="visit_board_idx"),
            models.Index(fields=["consultant", "state"], name="visit_consultant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_kind_display()} · {self.checked_in_at:%m-%d %H:%M}"

    @property
    def is_complete_registration(self) -> bool:
        return not self.missing_fields

    @property
    def missing_field_labels(self) -> list[str]:
        return registration_field_labels(self.missing_fields)


class QueueState(models.TextChoices):
    WAITING = "waiting", _("待接")
    RECEIVING = "receiving", _("接待中")
    AWAY = "away", _("暂离")
    OFF = "off", _("下岗")


class RotationEntry(models.Model):
    """One consultant's place in one project's queue for one day (轮排)."""

    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rotation_entries"
    )
    state = models.CharField(max_length=10, choices=QueueState.choices, default=QueueState.WAITING)
    # Lower goes first. Moving to the end is max+1, a make-up turn is min-1: no renumbering needed.
    position = models.IntegerField()
    team_key = models.CharField(max_length=20, blank=True)
    signed_in_at = models.DateTimeField()
    state_changed_at = models.DateTimeField()
    receptions = models.PositiveIntegerField(default=0)
    lost_turns = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("轮排")
        verbose_name_plural = _("轮排")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "consultant"], name="rotation_one_entry_per_day"
            )
        ]
        indexes = [models.Index(fields=["project", "day", "state", "position"], name="rotation_next_idx")]

    def __str__(self) -> str:
        return f"{self.day} #{self.position} {self.consultant}"


class RotationEvent(models.Model):
    """Every change to the queue with who did it and why: sign-in, claim, lost turn, make-up, reorder."""

    entry = models.ForeignKey(RotationEntry, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    visit = models.ForeignKey(Visit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.entry} {self.kind}"


class VipTaskTemplate(models.Model):
    """A project's preparation checklist per VIP tier (product.md §4)."""

    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="vip_templates")
    tier = models.CharField(max_length=10, choices=VipTier.choices)
    title = models.CharField(_("准备事项"), max_length=100)
    assignee_role = models.CharField(_("负责角色"), max_length=20)
    minutes_before = models.PositiveIntegerField(_("到访前（分钟）"), default=30)
    sort_order = models.PositiveSmallIntegerField(default=0)

    # The manager edits the checklists on the settings page, which lists who changed what.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("贵宾准备模板")
        verbose_name_plural = _("贵宾准备模板")
        ordering = ["project", "tier", "sort_order"]

    def __str__(self) -> str:
        return self.title


class VipTask(models.Model):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="preparation_tasks")
    title = models.CharField(max_length=100)
    assignee_role = models.CharField(max_length=20)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("贵宾准备任务")
        verbose_name_plural = _("贵宾准备任务")
        ordering = ["due_at", "sort_order"]

    def __str__(self) -> str:
        return self.title


class Station(models.Model):
    """A stop on the project's tour route (讲解点), with what to say there (product.md §5)."""

    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="stations")
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("讲解点"), max_length=50)
    purpose = models.CharField(_("目的"), max_length=200, blank=True)
    key_points = models.TextField(_("讲解要点"), blank=True, help_text=_("每行一条"))
    sort_order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    required_on_first_visit = models.BooleanField(_("首访必讲"), default=False)
    # The risk-disclosure station (五证/法律墙) records that the customer was shown the documents.
    is_risk_disclosure = models.BooleanField(_("风险提示点"), default=False)
    in_return_route = models.BooleanField(_("复访动线"), default=False)
    in_owner_route = models.BooleanField(_("业主看样板房动线"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("讲解点")
        verbose_name_plural = _("讲解点")
        ordering = ["project", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="station_unique_code_per_project")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def key_point_list(self) -> list[str]:
        return [line.strip() for line in self.key_points.splitlines() if line.strip()]


class VisitStation(models.Model):
    """A station ticked off during a visit; for risk disclosure, the proof it was shown."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="stations_done")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    customer_confirmed = models.BooleanField(_("客户确认"), null=True, blank=True)

    class Meta:
        verbose_name = _("已讲解")
        verbose_name_plural = _("已讲解")
        ordering = ["done_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["visit", "station"], name="visit_station_once")]

    def __str__(self) -> str:
        return f"{self.visit_id}:{self.station_id}"
