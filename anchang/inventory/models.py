from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from anchang.accounts.models import ProjectMembership, Role
from anchang.core.models import TimeStampedModel


class ProjectKind(models.TextChoices):
    HIGH_RISE = "high_rise", _("高层住宅")
    LOW_RISE = "low_rise", _("低密度/联排")
    MIXED = "mixed", _("综合社区")


def default_mandatory_registration_fields() -> list[str]:
    # product.md §2: a registration is valid only with these; projects may change the list.
    return ["name", "gender", "phone", "source", "area_range", "layout"]


class Project(TimeStampedModel):
    company = models.ForeignKey(
        "accounts.Company", on_delete=models.PROTECT, related_name="projects", verbose_name=_("开发商")
    )
    name = models.CharField(_("项目名称"), max_length=100)
    code = models.SlugField(_("项目代码"), max_length=40, unique=True)
    city = models.CharField(_("城市"), max_length=40)
    district = models.CharField(_("区县"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # Printed on the public booking page, so a visitor can call the sales office.
    sales_phone = models.CharField(_("售楼处电话"), max_length=30, blank=True)
    kind = models.CharField(
        _("业态"), max_length=20, choices=ProjectKind.choices, default=ProjectKind.HIGH_RISE
    )
    is_active = models.BooleanField(_("在售"), default=True)

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="project_unique_name_per_company")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_address(self) -> str:
        """City, district and street address as one line, each part once.

        People often type the street address with the district (or the city) in front; composing
        the three blindly then reads "杭州滨江区滨江区…".
        """
        city, district, text = self.city.strip(), self.district.strip(), self.address.strip()
        if district and district not in text:
            text = f"{district}{text}"
        if city and not text.startswith(city):
            text = f"{city}{text}"
        return text


class RotationMode(models.TextChoices):
    SINGLE = "single", _("统一排队")
    TEAMS = "teams", _("分团队排队")


class TeamRule(models.TextChoices):
    ALTERNATE = "alternate", _("团队轮流")
    SHARE = "share", _("按每日配比")


class ProjectSettings(models.Model):
    """The rules a project sets for itself; later features read their numbers from here."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="settings")
    require_appointment = models.BooleanField(_("仅限预约到访"), default=False)
    mandatory_registration_fields = models.JSONField(
        _("来访登记必填项"), default=default_mandatory_registration_fields
    )
    protection_days_after_visit = models.PositiveSmallIntegerField(_("到访后保护天数"), default=15)
    protection_days_after_call = models.PositiveSmallIntegerField(_("来电后保护天数"), default=7)
    protection_ceiling_days = models.PositiveSmallIntegerField(_("无到访最长保护天数"), default=40)
    first_followup_due_hours = models.PositiveSmallIntegerField(_("首访后跟进时限（小时）"), default=24)
    discount_approval_threshold = models.DecimalField(
        _("需经理审批的折扣阈值（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    sign_within_days = models.PositiveSmallIntegerField(
        _("认购后签约期限（天）"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    rule_set_version = models.PositiveIntegerField(_("规则版本"), default=1)
    designated_consumes_turn = models.BooleanField(
        _("指定/归属/渠道接待占用轮次"),
        default=False,
        help_text=_("默认不占用：这类接待不消耗顾问的轮排顺位。"),
    )
    rotation_mode = models.CharField(
        _("轮排方式"), max_length=20, choices=RotationMode.choices, default=RotationMode.SINGLE
    )
    # With one queue per team: how the desk picks the team for a walk-in (product.md §3).
    team_rule = models.CharField(
        _("团队分配规则"), max_length=20, choices=TeamRule.choices, default=TeamRule.ALTERNATE
    )
    # {"<company id>": percent}: a team is a company's sales staff on the project (the developer's own,
    # each agency's). Read only by the share rule; validated in `clean` (known teams, sum 100).
    team_shares = models.JSONField(_("团队每日配比（%）"), default=dict, blank=True)
    team_overflow = models.BooleanField(
        _("团队无空闲顾问时转给其他团队"),
        default=True,
        help_text=_("关闭时访客进入等候，直到该团队有顾问空出。"),
    )
    one_customer_at_a_time = models.BooleanField(_("顾问已有客户在场时不再分配新客"), default=True)
    wecom_webhook_url = models.URLField(_("企业微信群机器人 Webhook"), blank=True)
    reminder_minutes_before = models.PositiveSmallIntegerField(_("预约提醒提前（分钟）"), default=60)
    followup_overdue_grace_hours = models.PositiveSmallIntegerField(_("跟进逾期宽限（小时）"), default=72)
    pool_after_days_without_subscription = models.PositiveSmallIntegerField(
        _("首访后多少天未认购进入公客池"), default=90
    )
    pool_claims_per_day = models.PositiveSmallIntegerField(_("每人每日公客认领上限"), default=5)
    thank_you_template = models.TextField(
        _("到访感谢短信模板"),
        default="{name}您好，感谢今天莅临{project}，我是置业顾问{consultant}，有任何问题欢迎随时联系我。",
        help_text=_("可用占位：{name} {project} {consultant}"),
    )

    # Who changed which rule and when: the settings page shows the recent changes, and a disputed
    # attribution can be read against the rules of its day (rule_set_version names the set).
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("项目规则")
        verbose_name_plural = _("项目规则")

    def __str__(self) -> str:
        return f"{self.project} · {self._meta.verbose_name}"

    def clean(self) -> None:
        """Team shares name only the project's teams, are whole percents, and add up to 100."""
        if self.rotation_mode != RotationMode.TEAMS or self.team_rule != TeamRule.SHARE:
            return
        shares = self.team_shares if isinstance(self.team_shares, dict) else None
        if not shares:
            raise ValidationError({"team_shares": _("按每日配比分配时请为各团队填写配比。")})
        known = {str(key) for key in project_team_ids(self.project_id)} if self.project_id else set()
        unknown = sorted(str(key) for key in shares if str(key) not in known)
        if unknown:
            raise ValidationError(
                {"team_shares": _("不是本项目的团队：%(keys)s。") % {"keys": "、".join(unknown)}}
            )
        if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100 for v in shares.values()):
            raise ValidationError({"team_shares": _("配比须为 0–100 的整数。")})
        if sum(shares.values()) != 100:
            raise ValidationError(
                {
                    "team_shares": _("各团队配比合计须为 100%%，现为 %(total)s%%。")
                    % {"total": sum(shares.values())}
                }
            )


def project_team_ids(project_id: int) -> list[int]:
    """The project's rotation teams: the companies its consultants work for (developer or agency)."""
    return sorted(
        set(
            ProjectMembership.objects.filter(
                project_id=project_id, user__role=Role.CONSULTANT, user__company__isnull=False
            ).values_list("user__company_id", flat=True)
        )
    )


class Building(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="buildings", verbose_name=_("项目")
    )
    name = models.CharField(_("楼栋"), max_length=30, help_text=_("如 1栋、A座"))
    floors = models.PositiveSmallIntegerField(
        _("总层数"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    units_per_floor = models.PositiveSmallIntegerField(
        _("每层户数"), validators=[MinValueValidator(1), MaxValueValidator(40)]
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["project", "sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="building_unique_name_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.name}"


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("可售")
    HELD = "held", _("销控")
    RESERVED = "reserved", _("认筹")
    SUBSCRIBED = "subscribed", _("已认购")
    CONTRACTED = "contracted", _("已签约")


class Orientation(models.TextChoices):
    SOUTH = "S", _("朝南")
    NORTH_SOUTH = "NS", _("南北通透")
    SOUTHEAST = "SE", _("东南")
    SOUTHWEST = "SW", _("西南")
    EAST = "E", _("朝东")
    WEST = "W", _("朝西")
    NORTH = "N", _("朝北")
    EAST_WEST = "EW", _("东西")


class Unit(TimeStampedModel):
    # The project is repeated from the building so that board and API filters need no join.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="units", verbose_name=_("项目")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("楼栋")
    )
    number = models.CharField(_("房号"), max_length=20)
    floor = models.SmallIntegerField(_("楼层"), validators=[MinValueValidator(-5), MaxValueValidator(120)])
    position = models.PositiveSmallIntegerField(_("位置（列）"), validators=[MinValueValidator(1)])
    layout_name = models.CharField(_("户型"), max_length=30, blank=True)
    bedrooms = models.PositiveSmallIntegerField(
        _("室"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    halls = models.PositiveSmallIntegerField(_("厅"), default=1, validators=[MaxValueValidator(9)])
    bathrooms = models.PositiveSmallIntegerField(_("卫"), default=1, validators=[MaxValueValidator(9)])
    gross_area = models.DecimalField(_("建筑面积（㎡）"), max_digits=8, decimal_places=2)
    usable_area = models.DecimalField(_("套内面积（㎡）"), max_digits=8, decimal_places=2)
    orientation = models.CharField(_("朝向"), max_length=2, choices=Orientation.choices)
    list_price_total = models.DecimalField(_("表价总价（元）"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=20, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("房源")
        verbose_name_plural = _("房源")
        ordering = ["building__sort_order", "building__name", "-floor", "position"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_unique_number_per_building"),
            models.UniqueConstraint(
                fields=["building", "floor", "position"], name="unit_unique_slot_per_building"
            ),
            models.CheckConstraint(condition=models.Q(list_price_total__gt=0), name="unit_price_positive"),
            models.CheckConstraint(
                condition=models.Q(gross_area__gt=0)
                & models.Q(usable_area__gt=0)
                & models.Q(usable_area__lte=models.F("gross_area")),
                name="unit_areas_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="unit_project_status_idx"),
            models.Index(fields=["project", "bedrooms", "list_price_total"], name="unit_project_fit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.building.name}-{self.number}"

    @property
    def label(self) -> str:
        return f"{self.building.name} {self.number}"

    @property
    def list_price_per_m2(self) -> Decimal:
        """Derived, never stored, so that it cannot disagree with the total and the area."""
        return (self.list_price_total / self.gross_area).quantize(Decimal("0.01"))

    @property
    def is_sellable(self) -> bool:
        return self.status in (UnitStatus.AVAILABLE, UnitStatus.RESERVED)


class CertificateKind(models.TextChoices):
    """The five certificates (五证) a project shows on its risk-disclosure wall."""

    PRESALE = "presale", _("预售许可证")
    LAND_USE = "land_use", _("国有土地使用证")
    LAND_PLANNING = "land_planning", _("建设用地规划许可证")
    WORKS_PLANNING = "works_planning", _("建设工程规划许可证")
    CONSTRUCTION = "construction", _("建筑工程施工许可证")


class Certificate(TimeStampedModel):
    """One of the project's certificates (五证). A presale permit names the buildings it covers:
    only units of a building that a presale permit covers on the day may be subscribed."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("项目")
    )
    kind = models.CharField(_("证照类型"), max_length=20, choices=CertificateKind.choices)
    number = models.CharField(_("证号"), max_length=60)
    authority = models.CharField(_("发证机关"), max_length=100, blank=True)
    # Only presale permits cover buildings; the other four certificates concern the whole plot.
    buildings = models.ManyToManyField(
        Building, blank=True, related_name="certificates", verbose_name=_("预售范围（楼栋）")
    )
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True, help_text=_("留空表示长期有效"))
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )

    class Meta:
        verbose_name = _("五证")
        verbose_name_plural = _("五证")
        ordering = ["project", "kind", "valid_from", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "number"], name="certificate_unique_number_per_project"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="certificate_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)
