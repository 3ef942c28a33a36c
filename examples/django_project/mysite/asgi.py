"""Locally:   python -m bridge serve examples/django_project/mysite/asgi.py:application
On Lambda: handler = bridge.Bridge(application)
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_asgi_application()
