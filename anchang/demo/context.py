"""What the demo's steps share: the context each step reads and fills, and the keys of the projects.

The loader (`anchang.demo.loader`) runs the steps, and the steps live in modules of their own; both
import this module, so that no step has to import the loader that imports it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from anchang.accounts.models import Company, Team, User
from anchang.inventory.models import Project

# The demo projects' codes, which are also their keys in `DemoContext.projects`.
HIGH_RISE = "jinlan-binjiang"
TOWNHOUSE = "jinlan-yunxi"


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
