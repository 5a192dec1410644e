import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anchang.settings")
application = get_wsgi_application()

# Import the URLconf — every view module and the API with its schemas — while the worker boots, so
# that the first request a fresh worker serves (after a deploy, or a crashed worker's replacement on
# opening day) does not wait about a second for it.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
