from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "anchang.followups"
    label = "followups"
    verbose_name = "跟进与回访"

    def ready(self) -> None:
        # Registers the follow-up reminder job with core.periodic.
        from anchang.followups import jobs  # noqa: F401
