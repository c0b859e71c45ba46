from django.contrib.admin.apps import AdminConfig


class SwitchboardAdminConfig(AdminConfig):
    default_site = "config.admin_site.SwitchboardAdminSite"
