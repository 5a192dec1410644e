"""Plausible Chinese names for demo customers, drawn from a seeded random generator.

The lists are written for the demo: common surnames roughly in order of frequency, a few compound
surnames, and given-name characters that read as typically male or female. `HETERONYM_SURNAMES` are
surnames whose reading differs from the character's everyday one (单 shàn, 曾 zēng, 解 xiè, 仇 qiú,
朴 piáo): the customer search stores every reading, and the demo must contain some to try it.
"""

import random
from dataclasses import dataclass

# Single characters: every character of these strings is one surname or one given-name character.
COMMON_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭肖田董潘袁蔡蒋余于"
    "杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邹熊白孟秦邱江尹薛段雷侯龙史陶"
    "黎贺顾毛郝龚邵万钱严戴莫孔向汤俞应楼童傅"
)
COMPOUND_SURNAMES = ("欧阳", "上官", "司马")
HETERONYM_SURNAMES = ("单", "曾", "解", "仇", "朴")

MALE_GIVEN = tuple(
    "伟强磊军洋勇杰涛明超辉刚鹏华飞斌宇浩凯健俊帆旭宁龙林波晨峰博文志国建海东阳德平立"
    "新振家荣嘉睿泽宏昊天子诚毅铭远航锋哲彬"
)
FEMALE_GIVEN = tuple(
    "芳娜敏静丽艳娟霞燕玲婷雪慧颖琳洁倩佳欣悦怡萍红梅琴璐莉岚思雯晴瑶琪诗涵彤蕾薇月茜可馨妍露菲璇晓冰若清"
)

MALE = "male"
FEMALE = "female"


@dataclass(frozen=True)
class DemoName:
    name: str
    gender: str


def draw_name(rng: random.Random, *, surname: str | None = None) -> DemoName:
    """A surname and a one- or two-character given name matching a drawn gender."""
    if surname is None:
        roll = rng.random()
        surname = rng.choice(COMPOUND_SURNAMES) if roll < 0.02 else rng.choice(COMMON_SURNAMES)
    gender = MALE if rng.random() < 0.52 else FEMALE
    characters = MALE_GIVEN if gender == MALE else FEMALE_GIVEN
    # About a third of given names have one character (王磊); compound surnames take one more rarely.
    length = 1 if rng.random() < (0.15 if len(surname) == 2 else 0.35) else 2
    given = "".join(rng.sample(characters, length))
    return DemoName(f"{surname}{given}", gender)
