from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """Each role's landing page, composed read-only from every app's selectors (like `reports`)."""

    name = "anchang.workspace"
    label = "workspace"
    verbose_name = "工作台"
