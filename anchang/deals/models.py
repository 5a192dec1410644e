"""Holds, reservations, subscriptions and contracts, opening-day sessions (product.md §8).

The promise of this app: **a unit is never sold twice.** The database states it
(`subscription_one_active_per_unit`, a partial unique index) and the services keep it under
concurrency by locking the unit row and re-checking before they write (architecture rule 5).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from anchang.core.models import TimeStampedModel


class Hold(TimeStampedModel):
    """A manager takes a unit off sale (销控) with a reason, optionally until a moment."""

    unit = models.ForeignKey("inventory.Unit", on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(_("销控原因"), max_length=200)
    expires_at = models.DateTimeField(_("到期自动解除"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("设置人")
    )
    released_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("解除人"),
    )
    release_reason = models.CharField(_("解除原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("销控")
        verbose_name_plural = _("销控")
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(released_at__isnull=True), name="hold_one_open_per_unit"
            )
        ]
        indexes = [
            # The expiry job reads "open holds whose time has come" without scanning released ones.
            models.Index(
                fields=["expires_at"], condition=Q(released_at__isnull=True), name="hold_open_expiry_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.reason}"


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    CONVERTED = "converted", _("已认购")
    REFUNDED = "refunded", _("已退筹")


class Reservation(TimeStampedModel):
    """认筹: a buyer pays a sincerity deposit before an opening and so becomes eligible to select."""

    project = models.ForeignKey("inventory.Project", on_delete=models.PROTECT, related_name="reservations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="reservations")
    number = models.PositiveIntegerField(_("认筹号"))
    amount = models.DecimalField(_("认筹金（元）"), max_digits=14, decimal_places=2)
    registered_at = models.DateTimeField(_("认筹时间"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE
    )
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("置业顾问"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("认筹")
        verbose_name_plural = _("认筹")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="reservation_unique_number"),
            models.UniqueConstraint(
                fields=["project", "customer"],
                condition=Q(status="active"),
                name="reservation_one_active_per_customer",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="reservation_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}#{self.number}"


class SubscriptionStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("待审批")
    ACTIVE = "active", _("已认购")
    CONTRACTED = "contracted", _("已签约")
    CANCELLED = "cancelled", _("已退订")
    REJECTED = "rejected", _("审批未通过")


# The statuses in which a subscription occupies its unit. The partial unique index below and the
# services read this one tuple, so that "active" cannot mean two things.
OCCUPYING_STATUSES: tuple[str, ...] = (
    SubscriptionStatus.PENDING_APPROVAL,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.CONTRACTED,
)


class PaymentMethod(models.TextChoices):
    FULL = "full", _("一次性付款")
    MORTGAGE = "mortgage", _("商业贷款")
    PROVIDENT_FUND = "provident_fund", _("公积金贷款")
    COMBINED = "combined", _("组合贷款")
    INSTALMENTS = "instalments", _("分期付款")


class Subscription(TimeStampedModel):
    """认购 (and, once signed, 签约) of one unit by one customer at an agreed price."""

    project = models.ForeignKey("inventory.Project", on_delete=models.PROTECT, related_name="subscriptions")
    unit = models.ForeignKey("inventory.Unit", on_delete=models.PROTECT, related_name="subscriptions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="subscriptions")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("置业顾问"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    # The list price at the moment of subscribing, so that the discount stays what it was.
    list_price = models.DecimalField(_("表价（元）"), max_digits=14, decimal_places=2)
    price = models.DecimalField(_("成交总价（元）"), max_digits=14, decimal_places=2)
    deposit = models.DecimalField(_("定金（元）"), max_digits=14, decimal_places=2)
    subscribed_on = models.DateField(_("认购日期"))
    sign_deadline = models.DateField(_("签约截止日"))
    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions"
    )
    opening_session = models.ForeignKey(
        "deals.OpeningSession", on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions"
    )
    # Why the price is below list, as the consultant gave it: the manager approves on it (rule 8).
    discount_reason = models.CharField(_("优惠原因"), max_length=200, blank=True)
    payment_method = models.CharField(_("付款方式"), max_length=20, choices=PaymentMethod.choices, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    approval_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    contract_number = models.CharField(_("合同编号"), max_length=40, blank=True)
    contracted_at = models.DateTimeField(_("签约时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("退订时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("退订原因"), max_length=200, blank=True)
    # Changing unit (换房) cancels this subscription and points at the one that replaced it.
    replaced_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces"
    )
    # No risk disclosure recorded for the customer, and a manager let the subscription through anyway:
    # who and why are kept with it (architecture rule 8).
    disclosure_override_reason = models.CharField(_("未做风险提示的放行理由"), max_length=200, blank=True)
    disclosure_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("放行经理"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("认购")
        verbose_name_plural = _("认购")
        constraints = [
            # The invariant of the whole product: at most one subscription occupies a unit, ever.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(status__in=OCCUPYING_STATUSES),
                name="subscription_one_active_per_unit",
            ),
            # Contract numbers are handed out under the project lock; the index makes a duplicate
            # impossible even for a hand edit in the admin.
            models.UniqueConstraint(
                fields=["project", "contract_number"],
                condition=~Q(contract_number=""),
                name="subscription_unique_contract_number",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="subscription_price_positive"),
            models.CheckConstraint(
                condition=Q(deposit__gte=0) & Q(deposit__lte=models.F("price")),
                name="subscription_deposit_within_price",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "subscribed_on"], name="subscription_project_day_idx"),
            models.Index(fields=["project", "contracted_at"], name="subscription_contract_idx"),
            models.Index(fields=["project", "cancelled_at"], name="subscription_cancel_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} → {self.customer_id} ({self.status})"

    @property
    def discount(self) -> Decimal:
        """Share of the list price given away, 0.05 for 5 %; never stored, so it cannot disagree."""
        if not self.list_price:
            return Decimal(0)
        return ((self.list_price - self.price) / self.list_price).quantize(Decimal("0.0001"))

    @property
    def discount_percent(self) -> Decimal:
        """The discount as the pages show it: 5.00 for 5 %."""
        return self.discount * 100

    @property
    def occupies_unit(self) -> bool:
        return self.status in OCCUPYING_STATUSES


class OrderMethod(models.TextChoices):
    REGISTRATION = "registration", _("按认筹先后")
    LOTTERY = "lottery", _("摇号")


class OpeningStatus(models.TextChoices):
    DRAFT = "draft", _("准备中")
    OPEN = "open", _("选房中")
    CLOSED = "closed", _("已结束")


class OpeningSession(TimeStampedModel):
    """开盘选房: eligible buyers select units in an order, in time slots, up to a limit each."""

    project = models.ForeignKey("inventory.Project", on_delete=models.PROTECT, related_name="openings")
    name = models.CharField(_("名称"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"))
    order_method = models.CharField(
        _("排序方式"), max_length=20, choices=OrderMethod.choices, default=OrderMethod.REGISTRATION
    )
    # The seed of the lottery is stored so that anyone can reproduce the draw from the buyer list.
    lottery_seed = models.CharField(_("摇号种子"), max_length=64, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("每批时长（分钟）"), default=10)
    buyers_per_slot = models.PositiveSmallIntegerField(_("每批人数"), default=20)
    units_per_buyer = models.PositiveSmallIntegerField(_("每人限选套数"), default=1)
    status = models.CharField(
        _("状态"), max_length=20, choices=OpeningStatus.choices, default=OpeningStatus.DRAFT
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("开盘选房")
        verbose_name_plural = _("开盘选房")
        constraints = [
            models.CheckConstraint(condition=Q(units_per_buyer__gte=1), name="opening_limit_positive"),
            models.CheckConstraint(condition=Q(buyers_per_slot__gte=1), name="opening_slot_size_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningBuyer(models.Model):
    """One eligible buyer of a session: their place in the order, their slot and their link."""

    session = models.ForeignKey(OpeningSession, on_delete=models.CASCADE, related_name="buyers")
    reservation = models.ForeignKey(Reservation, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(_("选房顺序"))
    slot_starts_at = models.DateTimeField(_("选房时段开始"))
    slot_ends_at = models.DateTimeField(_("选房时段结束"))
    # The buyer's own link: a random token, shown once to the consultant and sent to the buyer.
    token = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("选房客户")
        verbose_name_plural = _("选房客户")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="opening_buyer_unique_position"),
            models.UniqueConstraint(
                fields=["session", "reservation"], name="opening_buyer_unique_reservation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.position}"


class OpeningDraw(models.Model):
    """One draw of a session's order, kept for good (architecture rule 8): a redraw adds a row.

    The inputs are the reservation numbers that were eligible, in the order fed to the algorithm
    (ascending); the result is the numbers in drawn order. With the seed, anyone reproduces a lottery
    (`deals.opening.lottery_order`). The draw in effect is the latest one, unless an edit of the order
    method discarded it; the partial unique index keeps it to one per session.
    """

    session = models.ForeignKey(OpeningSession, on_delete=models.CASCADE, related_name="draws")
    method = models.CharField(_("排序方式"), max_length=20, choices=OrderMethod.choices)
    seed = models.CharField(_("摇号种子"), max_length=64, blank=True)
    eligible_numbers = models.JSONField(_("参与排序的认筹号"), default=list)
    drawn_numbers = models.JSONField(_("排序结果（认筹号）"), default=list)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    drawn_at = models.DateTimeField(_("排序时间"))
    is_current = models.BooleanField(_("当前生效"), default=False)

    class Meta:
        verbose_name = _("选房排序记录")
        verbose_name_plural = _("选房排序记录")
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(is_current=True),
                name="opening_draw_one_current_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}@{self.drawn_at:%Y-%m-%d %H:%M:%S}"
