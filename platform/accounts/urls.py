"""The account pages: log in and out, API tokens (included at the site root by config/urls.py)."""
from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.views import token_list

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", token_list, name="token-list"),
]
