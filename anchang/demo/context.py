"""What the demo's steps share: the context each step reads and fills, and the keys of the projects.

The loader (`anchang.demo.loader`) runs the steps, and the steps live in modules of their own; both
import this module, so that no step has to import the loader that imports it.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import models
from django.utils import timezone

from anchang.accounts.models import Company, Team, User
from anchang.inventory.models import Project

# The demo projects' codes, which are also their keys in `DemoContext.projects`.
HIGH_RISE = "jinlan-binjiang"
TOWNHOUSE = "jinlan-yunxi"

# The sales office's working hours (local time). Whatever the hour the demo is built, what it
# tells of the past happened inside them, on past days.
OPENS = time(9, 0)
CLOSES = time(18, 0)
WORKING_MINUTES = (CLOSES.hour - OPENS.hour) * 60


def working_time(now: datetime, *, days_ago: int, minutes: int) -> datetime:
    """`minutes` after opening (wrapped into the working day) on the day `days_ago` before now's."""
    day = timezone.localdate(now) - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, OPENS)) + timedelta(minutes=minutes % WORKING_MINUTES)


@dataclass
class DemoContext:
    """What the steps so far have loaded, by key, for the steps after them."""

    now: datetime
    companies: dict[str, Company] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    # Rows created in this run, by the model's plural verbose name, in the order they were loaded.
    created: dict[str, int] = field(default_factory=dict)

    def record_created(self, model: type[models.Model], count: int) -> None:
        label = str(model._meta.verbose_name_plural)
        self.created[label] = self.created.get(label, 0) + count
