from django.contrib import admin
from django.urls import include, path

from kizuna.inbox import views as inbox_views
from kizuna.replies import views as reply_views
from kizuna.sources import views as source_views

urlpatterns = [
    path("", inbox_views.home, name="home"),
    path("accounts/", include("kizuna.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("s/<str:code>", reply_views.follow_link, name="short_link"),
    path("hooks/<int:source_id>/", source_views.webhook, name="webhook"),
    path("w/<slug:slug>/sources/", include("kizuna.sources.urls")),
    path("w/<slug:slug>/rules/", include("kizuna.brands.urls")),
    path("w/<slug:slug>/triage/", include("kizuna.triage.urls")),
    path("w/<slug:slug>/", include("kizuna.replies.urls")),
    path("w/<slug:slug>/", include("kizuna.inbox.urls")),
]
