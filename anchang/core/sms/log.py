"""The default backend: writes the message it would send to the log and sends nothing.

What it writes is what a person reading the demo's log needs: the kind's template, its values and
the message in our own words, with the phone masked (the log is read by more people than the
customer file is).
"""

import logging
from collections.abc import Mapping

from anchang.core.privacy import mask_phone
from anchang.core.sms.base import SmsResult

logger = logging.getLogger("anchang.sms")


class LogBackend:
    name = "log"

    def send(self, *, phone: str, template_code: str, params: Mapping[str, str], text: str = "") -> SmsResult:
        logger.info(
            "sms (log backend, not sent) to %s: %s",
            mask_phone(phone),
            text or template_code,
            extra={"phone": mask_phone(phone), "template": template_code, "params": dict(params)},
        )
        return SmsResult(provider=self.name, ok=True)
