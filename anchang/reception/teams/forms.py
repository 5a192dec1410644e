from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anchang.accounts.models import Company
from anchang.inventory.models import ProjectSettings, RotationMode, TeamRule


class TeamSettingsForm(forms.Form):
    """Mode, rule, overflow and one share field per team of the project (`share_<company id>`)."""

    rotation_mode = forms.ChoiceField(
        label=_("轮排方式"), choices=RotationMode.choices, widget=forms.RadioSelect
    )
    team_rule = forms.ChoiceField(label=_("团队分配规则"), choices=TeamRule.choices, widget=forms.RadioSelect)
    team_overflow = forms.BooleanField(
        label=_("团队无空闲顾问时转给其他团队"),
        required=False,
        help_text=_("关闭时访客进入等候，直到该团队有顾问空出。"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, teams: list[Company], settings: ProjectSettings, **kwargs: Any) -> None:
        shares = settings.team_shares if isinstance(settings.team_shares, dict) else {}
        kwargs.setdefault(
            "initial",
            {
                "rotation_mode": settings.rotation_mode,
                "team_rule": settings.team_rule,
                "team_overflow": settings.team_overflow,
                **{f"share_{team.pk}": shares.get(str(team.pk), 0) for team in teams},
            },
        )
        super().__init__(*args, **kwargs)
        self.teams = teams
        for team in teams:
            self.fields[f"share_{team.pk}"] = forms.IntegerField(
                label=str(team),
                min_value=0,
                max_value=100,
                required=False,
                widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
            )

    def share_fields(self) -> list[forms.BoundField]:
        return [self[f"share_{team.pk}"] for team in self.teams]

    def shares(self) -> dict[str, int]:
        return {str(team.pk): self.cleaned_data.get(f"share_{team.pk}") or 0 for team in self.teams}
