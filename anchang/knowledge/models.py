from django.db import models
from django.utils.translation import gettext_lazy as _

from anchang.core.models import TimeStampedModel


class ArticleKind(models.TextChoices):
    SCRIPT = "script", _("说辞")
    MUST_KNOW = "must_know", _("应知应会")
    PHRASE = "phrase", _("岗位规范用语")


class Article(TimeStampedModel):
    """A script (说辞) for a station or topic, or a must-know entry (应知应会) of a project/community."""

    project = models.ForeignKey("inventory.Project", on_delete=models.CASCADE, related_name="articles")
    kind = models.CharField(_("类型"), max_length=20, choices=ArticleKind.choices)
    station = models.ForeignKey(
        "reception.Station",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("讲解点"),
    )
    topic = models.CharField(
        _("主题"), max_length=50, blank=True, help_text=_("如：区位、交通、学校、物业费")
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), max_length=5000)
    # 拼音 of the title and topic, so a search for "wyf" finds 物业费.
    search_pinyin = models.CharField(max_length=400, blank=True, editable=False)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_published = models.BooleanField(_("发布"), default=True)

    class Meta:
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识库")
        ordering = ["project", "kind", "sort_order", "pk"]
        indexes = [models.Index(fields=["project", "kind", "station"], name="article_lookup_idx")]

    def __str__(self) -> str:
        return self.title


class ArticleGram(models.Model):
    """One pair of neighbouring Chinese characters in an article, with where it occurs (see `grams`).

    The search's index for Chinese words: a trigram index (pg_trgm) cannot serve a two-character word
    such as 公摊 (no trigram can be taken from it, so PostgreSQL scans the whole index), and SQLite has
    none; this table with its unique (article, gram) index serves both databases the same way.
    Written by `article_update` whenever the text changes.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="grams")
    gram = models.CharField(max_length=2)
    weight = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "gram"], name="article_gram_unique")]

    def __str__(self) -> str:
        return self.gram
