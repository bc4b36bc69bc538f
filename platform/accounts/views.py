from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .models import ApiToken
from .selectors import api_token_list
from .services import api_token_create, api_token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    created = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token = ApiToken.objects.filter(user=request.user, pk=request.POST.get("revoke")).first()
            if token:
                api_token_revoke(token=token)
            return redirect("token-list")
        _, created = api_token_create(user=request.user, name=request.POST.get("name", "default") or "default")
    return render(request, "accounts/tokens.html", {"tokens": api_token_list(user=request.user), "created": created})
