from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from anchang.core.history import TrackedHistory
from anchang.core.models import TimeStampedModel


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Source(models.TextChoices):
    """How the customer heard of the project (product.md §1); feeds the channel reports."""

    PASSING_BY = "passing_by", _("路过")
    FRIEND = "friend", _("朋友介绍")
    ONLINE = "online", _("网络")
    OUTDOOR_AD = "outdoor_ad", _("户外广告")
    PHONE = "phone", _("来电")
    OLD_OWNER = "old_owner", _("老业主推荐")
    AGENCY = "agency", _("中介/渠道")
    PRESS = "press", _("报纸杂志")
    EVENT = "event", _("活动")
    OTHER = "other", _("其他")


class IntentLevel(models.TextChoices):
    A = "A", _("A 级：7 天内可能认购")
    B = "B", _("B 级：一个月内可能认购")
    C = "C", _("C 级：有需求，暂不急")
    D = "D", _("D 级：暂无意向")


class Purpose(models.TextChoices):
    OWN_HOME = "own_home", _("自住")
    UPGRADE = "upgrade", _("改善")
    INVESTMENT = "investment", _("投资")
    RETIREMENT = "retirement", _("养老")
    EDUCATION = "education", _("教育")


class PoolReason(models.TextChoices):
    PROTECTION_EXPIRED = "protection_expired", _("保护期已过")
    FOLLOWUP_OVERDUE = "followup_overdue", _("跟进逾期")
    INVALID = "invalid", _("无效客户")
    CONSULTANT_LEFT = "consultant_left", _("顾问离职")
    NO_SUBSCRIPTION = "no_subscription", _("超期未认购")
    MANUAL = "manual", _("经理调整")


class Stage(models.TextChoices):
    LEAD = "lead", _("线索")
    VISITED = "visited", _("已到访")
    SUBSCRIBED = "subscribed", _("已认购")
    OWNER = "owner", _("业主")


class Customer(TimeStampedModel):
    """A person as a customer of one project; the normalised mobile is the identity (product.md §2)."""

    project = models.ForeignKey("inventory.Project", on_delete=models.PROTECT, related_name="customers")
    phone = models.CharField(_("手机号"), max_length=16, help_text=_("E.164，如 +8613812345678"))
    # Indexed separately so "last four digits" searches and judging never scan the table.
    phone_last4 = models.CharField(max_length=4, editable=False)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=100, blank=True, editable=False)
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices, blank=True)
    source = models.CharField(_("认知途径"), max_length=20, choices=Source.choices, blank=True)
    stage = models.CharField(_("阶段"), max_length=20, choices=Stage.choices, default=Stage.LEAD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("归属顾问"),
    )
    protected_until = models.DateTimeField(_("保护期至"), null=True, blank=True)
    first_visit_at = models.DateTimeField(_("首访时间"), null=True, blank=True)
    last_visit_at = models.DateTimeField(_("最近到访"), null=True, blank=True)
    is_owner = models.BooleanField(_("已签约业主"), default=False)
    # "First time here?" — a family member registered before under another phone (product.md §2).
    household_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="household",
        verbose_name=_("家庭成员"),
    )
    consent_at = models.DateTimeField(_("隐私告知同意时间"), null=True, blank=True)
    intent_level = models.CharField(_("意向等级"), max_length=1, choices=IntentLevel.choices, blank=True)
    last_contact_at = models.DateTimeField(_("最近有效联系"), null=True, blank=True)
    pooled_at = models.DateTimeField(_("进入公客池时间"), null=True, blank=True)
    pool_reason = models.CharField(_("进入公客池原因"), max_length=30, choices=PoolReason.choices, blank=True)

    # TrackedHistory: every check-in saves a customer, and plain HistoricalRecords rebuilds its manager
    # class on each save.
    history = TrackedHistory(excluded_fields=["updated_at", "name_pinyin", "name_initials", "phone_last4"])

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        constraints = [
            models.UniqueConstraint(fields=["project", "phone"], name="customer_unique_phone_per_project")
        ]
        indexes = [
            models.Index(fields=["project", "phone_last4"], name="customer_last4_idx"),
            models.Index(fields=["project", "owner", "protected_until"], name="customer_owner_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(fields=["project", "pooled_at"], name="customer_pool_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone_last4

    def save(self, *args: object, **kwargs: object) -> None:
        # Derived search keys of this row only (architecture rule 4 allows facts about one row).
        from anchang.customers.names import name_initials, name_pinyin

        self.phone_last4 = self.phone[-4:]
        self.name_pinyin = name_pinyin(self.name) if self.name else ""
        self.name_initials = name_initials(self.name) if self.name else ""
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Needs(models.Model):
    """What the customer is looking for (product.md §6), kept on the customer and updated per visit."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="needs")
    purpose = models.CharField(_("置业目的"), max_length=20, choices=Purpose.choices, blank=True)
    budget_min = models.DecimalField(
        _("总价下限（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_max = models.DecimalField(
        _("总价上限（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    down_payment = models.DecimalField(
        _("首付（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    bedrooms = models.PositiveSmallIntegerField(_("居室"), null=True, blank=True)
    area_min = models.DecimalField(_("面积下限（㎡）"), max_digits=8, decimal_places=2, null=True, blank=True)
    area_max = models.DecimalField(_("面积上限（㎡）"), max_digits=8, decimal_places=2, null=True, blank=True)
    floor_min = models.SmallIntegerField(_("楼层下限"), null=True, blank=True)
    floor_max = models.SmallIntegerField(_("楼层上限"), null=True, blank=True)
    orientation = models.CharField(_("朝向"), max_length=2, blank=True)
    buildings = models.JSONField(_("意向楼栋"), default=list, blank=True)
    decision_makers = models.CharField(_("决策人"), max_length=100, blank=True)
    concerns = models.CharField(_("抗性"), max_length=300, blank=True)
    residence = models.CharField(_("现居住区域"), max_length=100, blank=True)
    workplace_area = models.CharField(_("工作区域"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("客户需求")
        verbose_name_plural = _("客户需求")

    def __str__(self) -> str:
        return f"{self.customer} · {self._meta.verbose_name}"


class EventKind(models.TextChoices):
    CREATED = "created", _("建档")
    VISIT = "visit", _("到访")
    OWNER_CHANGED = "owner_changed", _("归属变更")
    COVERED = "covered", _("代接待")
    LINKED = "linked", _("关联家庭成员")
    APPOINTMENT = "appointment", _("预约")
    NOTE = "note", _("备注")
    NEEDS = "needs", _("需求更新")
    FOLLOW_UP = "follow_up", _("跟进")
    CALLBACK = "callback", _("回访")
    POOLED = "pooled", _("进入公客池")
    CLAIMED = "claimed", _("认领")
    RESERVED = "reserved", _("认筹")
    SUBSCRIBED = "subscribed", _("认购")
    CONTRACTED = "contracted", _("签约")
    CANCELLED = "cancelled", _("退订")
    CALL = "call", _("来电")


class CustomerEvent(models.Model):
    """The customer's timeline: one row per thing that happened, never edited."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("客户动态")
        verbose_name_plural = _("客户动态")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["customer", "-at"], name="customer_event_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_kind_display()}"


class AttributionRule(models.TextChoices):
    """The rule that decided who receives a visitor (api.md pins these codes)."""

    ROTATION = "rotation", _("轮排")
    OWNER = "owner", _("归属顾问（保护期内）")
    DESIGNATED = "designated", _("客户指定顾问")
    CHANNEL = "channel", _("渠道报备")
    OWNER_VISIT = "owner_visit", _("业主到访")
    COVERING_FOR_OWNER = "covering_for_owner", _("代接待")
    WAITING_FOR_CONSULTANT = "waiting_for_consultant", _("等待顾问")
    MANUAL_OVERRIDE = "manual_override", _("人工调整")


class Attribution(models.Model):
    """One judging decision with everything it was based on (architecture rule 8).

    Stored, never recomputed: if the rules or the data change later, this still says why the
    customer went to this consultant at that moment.
    """

    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="attributions")
    visit = models.ForeignKey(
        "reception.Visit", on_delete=models.CASCADE, null=True, blank=True, related_name="attributions"
    )
    rule = models.CharField(max_length=30, choices=AttributionRule.choices)
    rule_set_version = models.PositiveIntegerField()
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    consumes_turn = models.BooleanField()
    explanation = models.CharField(max_length=300)
    inputs = models.JSONField()
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    override_reason = models.CharField(max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )

    class Meta:
        verbose_name = _("判客记录")
        verbose_name_plural = _("判客记录")
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.customer} → {self.consultant} ({self.rule})"


class InboundCall(models.Model):
    """A call a customer made to the sales office (来电), as the person who answered recorded it.

    One row per call: the funnel counts calls per day (`at`), channel (`source`) and consultant
    (`taken_by`), and `new_customer` tells the calls that brought a customer the project did not know.
    """

    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="inbound_calls")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="inbound_calls")
    at = models.DateTimeField(_("来电时间"))
    name = models.CharField(_("称呼"), max_length=50, blank=True)
    source = models.CharField(_("认知途径"), max_length=20, choices=Source.choices)
    question = models.CharField(_("咨询内容"), max_length=500)
    next_step = models.CharField(_("下一步"), max_length=200, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("接听顾问"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    new_customer = models.BooleanField(_("新客户"), default=False)

    class Meta:
        verbose_name = _("来电")
        verbose_name_plural = _("来电")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["project", "at"], name="inbound_call_day_idx"),
            models.Index(fields=["taken_by", "at"], name="inbound_call_taker_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self._meta.verbose_name}"
