from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", "站内"
    LOG = "log", "日志"
    WECOM = "wecom", "企业微信群机器人"
    # To a customer's mobile through the configured provider (`core.sms`); `target` holds the number.
    SMS = "sms", "短信"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class Notification(models.Model):
    """The outbox: written in the same transaction as the fact it announces, delivered by the worker.

    In-app rows are "delivered" the moment they commit (the bell reads them); log, WeCom and SMS rows
    are sent by `core.tasks.deliver_notification`, retried with backoff until `max_attempts`.
    """

    recipient = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    project_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=NotificationChannel.choices)
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=120)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    target = models.CharField(
        max_length=500, blank=True, help_text="webhook URL for WeCom; the customer's mobile (E.164) for SMS"
    )
    # An SMS row's template values by name (`core.sms.base.TEMPLATE_PARAMS` gives their order).
    params = models.JSONField(default=dict, blank=True)
    # One message per fact (`booking_confirmed:42`): writing it twice is a no-op, not a second SMS.
    dedupe_key = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_unique_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind} → {self.recipient_id}"


class MessageSendStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    RETRY = "retry", _("失败，稍后重试")
    FAILED = "failed", _("失败，不再重试")


class MessageSend(models.Model):
    """One attempt to send a customer message through a provider, whatever came of it.

    Written by the worker after each call, never edited: what was asked of whom and what the provider
    answered (its message id to trace a complaint, its error code to fix a template). The phone is
    stored masked: the outbox row holds the number as long as it is needed, this record outlives it.
    """

    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="sends"
    )
    project_id = models.BigIntegerField(_("项目 ID"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("消息类型"), max_length=40)
    provider = models.CharField(_("服务商"), max_length=20)
    template_code = models.CharField(_("模板"), max_length=60, blank=True)
    phone_masked = models.CharField(_("手机号"), max_length=20)
    status = models.CharField(_("结果"), max_length=10, choices=MessageSendStatus.choices)
    provider_message_id = models.CharField(_("服务商消息 ID"), max_length=100, blank=True)
    error_code = models.CharField(_("错误码"), max_length=100, blank=True)
    error_message = models.CharField(_("错误信息"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("短信发送记录")
        verbose_name_plural = _("短信发送记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} → {self.phone_masked}: {self.status}"


class OneTimeCodePurpose(models.TextChoices):
    BROKER = "broker", _("经纪人验证")
    OWNER = "owner", _("业主验证")


class OneTimeCode(models.Model):
    """A one-time code sent by SMS (`core.one_time_codes`); only its keyed hash is kept."""

    phone = models.CharField(_("手机号"), max_length=16)
    purpose = models.CharField(_("用途"), max_length=20, choices=OneTimeCodePurpose.choices)
    project_id = models.BigIntegerField(_("项目 ID"), null=True, blank=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("验证码")
        verbose_name_plural = _("验证码")
        indexes = [models.Index(fields=["phone", "purpose", "expires_at"], name="onetimecode_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.phone[-4:]}"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an `Idempotency-Key` (api.md), replayed for 24 h."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=100)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class AccessAction(models.TextChoices):
    REVEAL_PHONE = "reveal_phone", _("查看完整手机号")
    EXPORT = "export", _("导出")


class AccessLog(models.Model):
    """Who saw or took personal data in full, when and why (product.md §13, quality P2/P8).

    One row per reveal or export, written in the same transaction as the answer that carries the data;
    never edited. `project_id` and the object are plain values: core imports no app, and the row must
    outlive the object it names.
    """

    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("用户"),
    )
    # The name as it was, so the row still says who it was after the account is renamed or removed.
    username = models.CharField(_("用户名"), max_length=150)
    at = models.DateTimeField(_("时间"), db_index=True)
    action = models.CharField(_("操作"), max_length=20, choices=AccessAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.BigIntegerField(_("对象 ID"), null=True, blank=True)
    project_id = models.BigIntegerField(_("项目 ID"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("敏感信息访问记录")
        verbose_name_plural = _("敏感信息访问记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["user", "at"], name="accesslog_user_idx"),
            models.Index(fields=["object_type", "object_id"], name="accesslog_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} · {self.action} · {self.object_type}#{self.object_id}"


class RateCounter(models.Model):
    """One fixed-window counter (`core.ratelimit`), kept in the database because that is what every
    gunicorn worker and app server shares: a per-process cache lets each of them grant the limit."""

    key = models.CharField(max_length=100, primary_key=True)
    window_started_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
