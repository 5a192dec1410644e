"""Character pairs (二字片段) of Chinese text: what the knowledge search indexes and looks up.

Chinese has no spaces, so a word cannot be found by splitting on them. Every two neighbouring Chinese
characters of a title, topic or body are indexed instead; a query is split the same way, so 物业费
(物业 业费) finds 物业服务费 through 物业, and 公摊 finds 公摊面积 inside a longer sentence.
Pure functions without Django, so the data migration that indexes existing articles can use them.
"""

import re

# CJK Unified Ideographs, Extension A and the compatibility block: the characters of Chinese text.
_CHINESE_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Where a pair occurs, as bits of one number per (article, pair): a pair in the title and the body is 5.
# Summed over the query's pairs, title pairs outweigh topic pairs, which outweigh body pairs.
IN_TITLE, IN_TOPIC, IN_BODY = 4, 2, 1


def text_grams(text: str) -> list[str]:
    """The distinct neighbouring-character pairs of the Chinese runs in `text`, in reading order.

    `物业服务费` → [物业, 业服, 服务, 务费]; a single character or Latin letters give none.
    """
    grams: dict[str, None] = {}
    for run in _CHINESE_RUN.findall(text):
        for i in range(len(run) - 1):
            grams[run[i : i + 2]] = None
    return list(grams)


def article_gram_weights(*, title: str, topic: str, body: str) -> dict[str, int]:
    """Each pair of an article's text with the bits of where it occurs (IN_TITLE | IN_TOPIC | IN_BODY)."""
    weights: dict[str, int] = {}
    for text, bit in ((title, IN_TITLE), (topic, IN_TOPIC), (body, IN_BODY)):
        for gram in text_grams(text):
            weights[gram] = weights.get(gram, 0) | bit
    return weights


def grams_needed(query_grams: int) -> int:
    """How many of a query's pairs an article must contain to be found (when it lacks the whole query).

    Half of them, at least one: 物业费 (2 pairs) is found through 物业 alone, which is how people shorten
    words (物业服务费 → 物业费); a longer question such as 公摊面积是多少 (6 pairs) needs three, so the
    filler pairs 是多, 多少 alone do not bring in every article that asks something.
    """
    return max(1, query_grams // 2)
