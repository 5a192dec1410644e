import hashlib
import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anchang.core.compiled import CompiledQuery
from anchang.core.models import TimeStampedModel


class CompanyKind(models.TextChoices):
    DEVELOPER = "developer", _("开发商（甲方）")
    AGENCY = "agency", _("代理/渠道公司（乙方）")


class Company(TimeStampedModel):
    name = models.CharField(_("公司名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=CompanyKind.choices)

    class Meta:
        verbose_name = _("公司")
        verbose_name_plural = _("公司")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class Team(TimeStampedModel):
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="teams", verbose_name=_("公司")
    )
    name = models.CharField(_("团队名称"), max_length=100)

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")
        ordering = ["company__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="team_unique_name_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.name}"


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    MANAGER = "manager", _("案场经理")
    FRONTDESK = "frontdesk", _("前台接待")
    CONSULTANT = "consultant", _("置业顾问")
    AGENT = "agent", _("渠道经纪人")
    ATTENDANT = "attendant", _("样板房接待/礼宾")
    SERVICE = "service", _("物业客服")
    OWNER = "owner", _("业主")


class User(AbstractUser):
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(
        _("角色"), max_length=20, choices=Role.choices, default=Role.CONSULTANT, db_index=True
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("公司")
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("团队")
    )
    mobile = models.CharField(
        _("手机号"), max_length=20, blank=True, help_text=_("E.164 格式，如 +8613812345678")
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username

    @property
    def sees_all_projects(self) -> bool:
        """Admins run the whole deployment; everyone else sees only the projects they are assigned to."""
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_site_manager(self) -> bool:
        """A 案场经理, or an admin, who may do whatever a manager may (approve, hold, reorder, reassign)."""
        return self.role == Role.MANAGER or self.sees_all_projects


class ProjectMembership(TimeStampedModel):
    """Assigns a user to a project: the only way a non-admin sees a project at all."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户")
    )
    project = models.ForeignKey(
        "inventory.Project", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("项目")
    )

    class Meta:
        verbose_name = _("项目成员")
        verbose_name_plural = _("项目成员")
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="membership_unique_user_project")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(expires_at__gt=timezone.now(), user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its hash is stored, so a database dump leaks no tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.expires_at:%Y-%m-%d %H:%M}"

    @classmethod
    def issue(cls, user: User) -> tuple["ApiToken", str]:
        raw = secrets.token_urlsafe(32)
        expires_at: datetime = timezone.now() + settings.API_TOKEN_TTL
        return cls.objects.create(user=user, key_hash=_hash_token(raw), expires_at=expires_at), raw

    @classmethod
    def user_for(cls, raw: str, *, project_id: int | None = None) -> User | None:
        """The token's user. With the project the request is about, a member's token, user, project and
        its settings come back in one query, and the project rides along on `user.api_projects` for
        `visible_project`; anyone else (an admin without membership, a stranger) takes the plain path."""
        key_hash = _hash_token(raw)
        if project_id is not None:
            found = _member_token_lookup.fetch(project_id=project_id, key_hash=key_hash, now=timezone.now())
            membership = found[0] if found else None
            if membership is not None:
                membership.user.api_projects = {project_id: membership.project}  # type: ignore[attr-defined]
                return membership.user
        token = cls.objects.active().select_related("user").filter(key_hash=key_hash).first()
        return token.user if token else None


def _member_token_query(
    *, project_id: int, key_hash: str, now: datetime
) -> models.QuerySet[ProjectMembership]:
    return (
        ProjectMembership.objects.filter(
            project_id=project_id,
            user__is_active=True,
            user__api_tokens__key_hash=key_hash,
            user__api_tokens__expires_at__gt=now,
        )
        .select_related("user", "project__company", "project__settings")
        .order_by("pk")[:1]
    )


# Runs on every API request about a project: compiled once per process, prepared on PostgreSQL (the ORM
# compiling and the server planning this six-table join cost more than running it; core.compiled).
_member_token_lookup = CompiledQuery(
    _member_token_query,
    project_id=-1,
    key_hash="compiled-query-placeholder",
    now=datetime(2000, 1, 1, tzinfo=UTC),
)
