from __future__ import annotations

from django.apps import AppConfig


class PagesConfig(AppConfig):
    """Customer pages that combine several apps: the dashboard, the host page, the case page.

    design.md ("Layers") puts a page that shows the data of several apps in a small app of its
    own above them: the case page lists the notifications of the case, which ``alerts`` may not
    import, and the dashboard and host page join hosts with cases.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "pages"
    verbose_name = "Pages"
