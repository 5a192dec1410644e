"""A gunicorn worker imports the whole URLconf while it boots, not on its first request."""

import subprocess
import sys


def test_importing_the_wsgi_application_loads_every_view_and_the_api() -> None:
    modules = ("anchang.api", "anchang.deals.views", "anchang.reception.api")
    probe = f"import sys, anchang.wsgi; print(all(m in sys.modules for m in {modules!r}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
