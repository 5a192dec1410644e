"""Knowledge base pages: search for site staff and the property desk, editing for managers."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from anchang.accounts.models import User
from anchang.accounts.navigation import current_project, project_page
from anchang.core.errors import DomainError
from anchang.inventory.models import Project
from anchang.knowledge import selectors, services
from anchang.knowledge.forms import ArticleForm, SearchForm
from anchang.knowledge.models import Article


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _project(request: HttpRequest, project_id: int, *, edit: bool = False) -> Project:
    user = _user(request)
    allowed = selectors.can_read_knowledge(user) and (not edit or selectors.can_edit_knowledge(user))
    return project_page(request, project_id, allowed=allowed)


def _article(request: HttpRequest, article_id: int, *, edit: bool = False) -> Article:
    user = _user(request)
    article = selectors.article_visible_to(user=user, article_id=article_id)
    if article is None or (edit and not selectors.can_edit_knowledge(user)):
        raise Http404
    return article


@login_required
@require_GET
def knowledge_home(request: HttpRequest) -> HttpResponse:
    """The knowledge base of the project the user works in."""
    project = current_project(request)
    if project is None or not selectors.can_read_knowledge(_user(request)):
        raise Http404
    return redirect("knowledge:list", project_id=project.pk)


@login_required
@require_GET
def knowledge_list(request: HttpRequest, project_id: int) -> HttpResponse:
    """Search and browse; an htmx request (live search, the visit screen's quick search) gets the results."""
    project = _project(request, project_id)
    user = _user(request)
    form = SearchForm(request.GET)
    q, kind = "", ""
    if form.is_valid():
        q, kind = form.cleaned_data["q"], form.cleaned_data["kind"]
    articles = selectors.article_search(
        project=project, q=q, kind=kind or None, include_unpublished=selectors.can_edit_knowledge(user)
    )
    context: dict[str, Any] = {
        "project": project,
        "form": form,
        "articles": articles,
        "q": q,
        "kind": kind,
        "compact": request.GET.get("compact") == "1",
        "can_edit": selectors.can_edit_knowledge(user),
        "active_nav": "knowledge",
    }
    if getattr(request, "htmx", False):
        return render(request, "knowledge/_results.html", context)
    return render(request, "knowledge/list.html", context)


@login_required
@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article(request, article_id)
    return render(
        request,
        "knowledge/detail.html",
        {
            "article": article,
            "project": article.project,
            "can_edit": selectors.can_edit_knowledge(_user(request)),
            "active_nav": "knowledge",
        },
    )


def _save(form: ArticleForm, project: Project, article: Article | None) -> Article | None:
    data = form.cleaned_data
    fields = {
        "kind": data["kind"],
        "title": data["title"],
        "body": data["body"],
        "topic": data["topic"],
        "station": data["station"],
        "sort_order": data["sort_order"] or 0,
        "is_published": data["is_published"],
    }
    try:
        if article is None:
            return services.article_create(project=project, **fields)
        return services.article_update(article=article, **fields)
    except DomainError as error:
        for name, message in error.fields.items():
            form.add_error(name if name in form.fields else None, message)
        if not error.fields:
            form.add_error(None, error.message)
        return None


def _form_page(request: HttpRequest, project: Project, article: Article | None) -> HttpResponse:
    """The editing form of a new (`article` None) or an existing article; saved, it goes to the article."""
    form = ArticleForm(request.POST or None, instance=article, project=project)
    if request.method == "POST" and form.is_valid():
        # The form validated against the instance; the service writes a fresh copy (and its 拼音).
        saved = _save(form, project, Article.objects.get(pk=article.pk) if article else None)
        if saved is not None:
            messages.success(request, _("已保存。"))
            return redirect("knowledge:detail", article_id=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "knowledge/form.html",
        {"form": form, "project": project, "article": article, "active_nav": "knowledge"},
        status=status,
    )


@login_required
def article_create(request: HttpRequest, project_id: int) -> HttpResponse:
    return _form_page(request, _project(request, project_id, edit=True), None)


@login_required
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article(request, article_id, edit=True)
    return _form_page(request, article.project, article)
