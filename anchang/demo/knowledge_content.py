"""Demo step `load_knowledge`: the tour route, scripts (说辞), must-know (应知应会) and standard phrases.

For both demo projects: the default stations (`stations_ensure_defaults`), two or three scripts per
station, a must-know sheet for the community and the standard phrases of the outside posts. Facts
are invented for the demo. Articles are found by (project, title) and existing ones are never
changed, so a rerun creates nothing and an editor's changes survive.

So that the manager's 动线合规 page has something to show, the ended first visits of earlier days
that have no ticks at all get the ticks their consultant would plausibly have made: most walked the
whole route, some skipped a station, a few skipped a required one. Today's visits are left alone
(they are the demo's day in progress), and a visit with any tick is never touched, so a rerun adds
nothing.
"""

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from anchang.demo.context import HIGH_RISE, TOWNHOUSE, DemoContext
from anchang.inventory.models import Project
from anchang.knowledge.models import Article, ArticleKind
from anchang.knowledge.services import article_create
from anchang.reception.models import Station, Visit, VisitKind, VisitState, VisitStation
from anchang.reception.stations import stations_ensure_defaults
from anchang.reception.vip import local_day_bounds


@dataclass(frozen=True)
class ArticleSpec:
    kind: str
    title: str
    body: str
    topic: str = ""
    station: str = ""


def _script(station: str, topic: str, title: str, body: str) -> ArticleSpec:
    return ArticleSpec(ArticleKind.SCRIPT, title, body.strip(), topic, station)


def _fact(topic: str, title: str, body: str) -> ArticleSpec:
    return ArticleSpec(ArticleKind.MUST_KNOW, title, body.strip(), topic)


def _phrase(topic: str, title: str, body: str) -> ArticleSpec:
    return ArticleSpec(ArticleKind.PHRASE, title, body.strip(), topic)


# --- scripts every project shares (the project's name filled in) ------------------------------------


def _shared_scripts(name: str) -> list[ArticleSpec]:
    return [
        _script(
            "parking",
            "停车迎宾",
            "停车场开场白",
            f"""
您好，欢迎来到{name}！访客车位在这边，您往右打一点方向，后面空间很宽，慢慢来。
（车停稳后拉开车门）您慢点下车，小心头。请问今天是过来看房的吗？之前有没有跟我们的置业顾问约好？
""",
        ),
        _script(
            "parking",
            "停车迎宾",
            "没有预约时用对讲通知前台",
            """
对讲：“前台请注意，停车场有两位客户到访，第一次来，没有预约，开一辆白色轿车，一分钟后到大门，请安排顾问在门口迎接。”
对客户：“已经帮您联系好了，顾问会在门口等您。这边请，台阶注意脚下。”
""",
        ),
        _script(
            "hall",
            "迎宾",
            "迎宾与自我介绍",
            f"""
上午好，欢迎光临{name}营销中心！我是置业顾问{{顾问}}，这是我的名片，有什么问题您随时找我。
请问您是第一次来吗？……好的，那我先给您倒杯茶。接下来我带您从区域模型开始看，大概四十分钟能把项目整体讲清楚，中间有任何问题随时打断我。
""",
        ),
        _script(
            "hall",
            "迎宾",
            "客户说“我找之前的顾问”",
            """
没问题，请问上次是哪位同事接待您的？我马上帮您联系。
您先这边坐，喝点水。他过来之前我先陪着您，有什么想先了解的，我也可以先帮您查。
（顾问到场后当面交接，再离开。）
""",
        ),
        _script(
            "registration",
            "登记",
            "请客户登记",
            """
麻烦您在这里做个简单登记，以后有新的房源或者优惠活动，我可以第一时间通知您。
这是我们的隐私说明，您的信息只用于这次购房服务，不会给到第三方，您看一下，同意的话在这里勾选。
顺便问一下，您是从哪里知道我们项目的？朋友介绍、网上看到，还是路过？
""",
        ),
        _script(
            "registration",
            "需求",
            "了解需求的五个问题",
            """
想跟您确认几件事，方便帮您挑最合适的房子：
1. 这次买房主要是自己住、改善，还是给家里老人或孩子准备？
2. 家里常住几口人？
3. 总价大概控制在什么范围？首付和月供怎么安排比较舒服？
4. 对楼层、朝向、户型有没有特别在意的地方？
5. 打算什么时候入住？
""",
        ),
        _script(
            "negotiation",
            "算价",
            "算价与付款方式",
            """
我按您选的这套给您算一下：总价是多少万，首付按三成是多少，剩下的做按揭，三十年等额本息每个月大概多少钱，我都写在这张算价单上，您可以带回去和家人商量。
付款方式有三种：一次性付款、商业贷款、公积金组合贷款。一次性付款有额外折扣，具体以当期销售政策为准，我不给您口头承诺政策之外的东西。
""",
        ),
        _script(
            "negotiation",
            "异议处理",
            "客户说“我再考虑考虑”",
            """
理解，买房是大事，多比较是应该的。方便说一下您主要在犹豫哪一点吗？是价格、楼层，还是想和家里人一起再看看？
……那这样，我把这套房的资料和算价单发给您，周末您带家人一起来看一次，我提前帮您留意这套房的状态。您看周六上午还是下午方便？
""",
        ),
        _script(
            "negotiation",
            "送客",
            "送客到门口",
            """
今天辛苦您了，我送您到门口。回去路上注意安全，到家后我把今天的资料发到您微信上。
后面有任何问题，随时打我电话，我们周末见。
（目送客户离开后，回到前台补全接待记录。）
""",
        ),
    ]


def _disclosure_scripts(adverse: str) -> list[ArticleSpec]:
    return [
        _script(
            "disclosure",
            "风险提示",
            "五证逐一展示",
            """
在您进一步看房之前，我先带您看一下项目的证照，这是买房前您应该知道的。
这张是国有土地使用证，这张是建设用地规划许可证，这两张是建设工程规划许可证和建筑工程施工许可证，最后这张是商品房预售许可证。
预售许可证上写明了可以销售的楼栋和房号，只有证上列出的房源才能认购，您选房时我会再跟您核对一次。
""",
        ),
        _script(
            "disclosure",
            "风险提示",
            "不利因素与样板房说明",
            f"""
旁边这块板是项目周边不利因素的公示：{adverse}这些内容在购房合同的附件里也写得很清楚。
另外提醒您，样板房里的家具、软装和部分造型只是展示效果，交付标准以合同约定为准。
如果您都清楚了，麻烦在确认单上签个名，表示我们已经向您说明过；不签也没关系，不影响您继续看房。
""",
        ),
    ]


def _phrases(name: str) -> list[ArticleSpec]:
    return [
        _phrase(
            "停车引导岗",
            "停车引导岗：迎客用语",
            f"""
车辆驶入时，面向来车站好，用手势把车引到访客车位。
车停稳后上前拉开车门，一只手挡在车门上沿：“先生/女士您好，欢迎来到{name}！请问您是来看房的吗？”
客户确认后：“请问您之前和我们的置业顾问预约过吗？”
有预约：“好的，请问是哪位顾问？我马上通知他，您这边请。”
没有预约：“没关系，我现在帮您联系一位置业顾问，请稍等。”随即用对讲机告知前台：来访人数、是否预约、车辆特征。
""",
        ),
        _phrase(
            "停车引导岗",
            "停车引导岗：雨天与烈日",
            """
下雨或太阳大的时候，拉开车门的同时把伞撑开，伞面偏向客户，一直陪到营销中心门口，交给门岗再返回。
客户的车停在露天位置时，主动问一句：“需要帮您的车罩上遮阳罩吗？”
客户离开前提前把遮阳罩收好：“请慢走，倒车注意后方，欢迎再来！”
""",
        ),
        _phrase(
            "门岗迎宾",
            "门岗迎宾：迎送用语",
            """
站在营销中心入口两侧，客户走到约三米处时微笑点头，行礼并说：“欢迎光临！”
客户离开时行礼：“谢谢光临，请慢走，欢迎再次光临！”
雨天主动接过客户的雨伞放进伞架：“地面有点滑，您小心脚下。”
""",
        ),
        _phrase(
            "样板房接待",
            "样板房接待：迎送用语",
            f"""
客户走到样板房门口约三米时起身微笑：“您好，欢迎参观{name}样板房。”
递上鞋套：“麻烦您穿一下鞋套，谢谢配合。”
客户离开时：“请慢走，鞋套可以放在门口的筐里，欢迎再来。”
""",
        ),
    ]


# --- 锦澜·滨江府: riverside high-rise ------------------------------------------------------------------

_RIVERSIDE_ADVERSE = (
    "地块东北角规划有一座 110 千伏变电站，距离最近的 6 栋约 160 米；闻涛路是城市主干道，"
    "临路一侧的 1 栋、2 栋白天会有一定的交通噪声；江对岸夜间有景观灯光。"
)


def _riverside_scripts() -> list[ArticleSpec]:
    return [
        _script(
            "region",
            "区位",
            "区位开场：从钱塘江说起",
            """
您看模型上这条就是钱塘江，对岸是钱江新城，杭州的行政和金融中心。我们项目在江南岸这里，从过江隧道出来开车十五分钟左右就到新城。
您平时上班在哪一片？……那您通勤基本在半小时以内。
""",
        ),
        _script(
            "region",
            "交通",
            "交通与生活配套三句话",
            """
第一，地铁：项目到最近的地铁站步行大约十分钟。
第二，路网：闻涛路沿江东西贯通，上快速路去机场、高铁站都在半小时左右。
第三，生活：一公里内有社区商业和社区卫生服务中心，大型商场开车五分钟。
学校这块我跟您说清楚：学区以教育部门每年公布的划片为准，我们不做任何承诺。
""",
        ),
        _script(
            "sandtable",
            "规划",
            "沙盘总述",
            """
滨江府总占地大约八万五千平方米，规划 1,986 户，分三期开发，现在在售的是一期六栋，共 612 户，容积率 2.8。
靠江的 1 栋、2 栋分别是 33 层和 32 层，江景最好；后面 3 栋、4 栋 26 层，5 栋、6 栋 18 层。
前后楼间距最宽的地方超过一百米，低楼层也有不错的采光。
""",
        ),
        _script(
            "sandtable",
            "户型",
            "按需求推荐楼栋与户型",
            """
您刚才说家里有老人，又比较在意采光，我建议重点看 2 栋和 4 栋的中间楼层。
A 户型或 D 户型，约 143 平方米四房，南北通透。
如果想把总价控制一下，3 栋的 C 户型约 118 平方米三房，朝东南，上午阳光很好。
B 户型约 98 平方米三房，是总价最友好的一款。
""",
        ),
        _script(
            "sandtable",
            "景观",
            "人车分流与中央花园",
            """
小区是人车分流的，车从江晖路一侧直接进地库，地面全部留给景观。
中间这片约一万一千平方米的中央花园，有儿童游乐区、老人休憩区，还有一条八百米的环形跑道。
""",
        ),
        *_disclosure_scripts(_RIVERSIDE_ADVERSE),
        _script(
            "showflat",
            "户型",
            "A 户型样板房讲解",
            """
这套就是 A 户型，建筑面积约 143 平方米，四房两厅两卫，南北通透。
客厅和餐厅连在一起，面宽将近七米六，过年一大家子吃饭也坐得下。主卧带独立衣帽间和卫生间，窗外正对江面。
再提醒一下，样板房的家具和软装是展示效果，交付以合同标准为准。
""",
        ),
        _script(
            "showflat",
            "户型",
            "B 户型样板房讲解（首改家庭）",
            """
B 户型约 98 平方米三房，是很多年轻家庭首套或第一次改善的选择。
厨房是 U 型操作台，做饭的动线很顺；阳台和客厅打通，视觉上宽了不少。次卧可以先做书房，等孩子大了再改成儿童房。
""",
        ),
        _script(
            "clubhouse",
            "会所",
            "会所介绍",
            """
会所大约两千二百平方米，有 25 米恒温泳池、健身房、阅览室和儿童活动室，业主刷脸就能进。
物业由锦澜物业提供，交付后有二十四小时管家服务，报修在手机上就能提交。
""",
        ),
        _script(
            "clubhouse",
            "业主会",
            "邀请加入锦澜会",
            """
我们有一个锦澜会，入会免费，会员可以参加周末的亲子烘焙、江边夜跑这些活动，新房源开放也会优先通知。
我帮您登记一下？以后有活动第一时间告诉您。
""",
        ),
    ]


def _riverside_facts() -> list[ArticleSpec]:
    return [
        _fact(
            "项目概况",
            "项目地址",
            """
杭州市滨江区闻涛路与江晖路交叉口东北侧。
营销中心在地块西南角，导航搜“锦澜·滨江府营销中心”即可。
交付后小区主入口在闻涛路，车行入口在江晖路。
""",
        ),
        _fact(
            "规划指标",
            "占地面积、建筑面积与容积率",
            """
总占地面积：约 8.5 万平方米
总建筑面积：约 33.6 万平方米（地上计容约 23.8 万平方米，地下约 9.8 万平方米）
容积率：2.8
绿地率：30%
建筑密度：约 18%
""",
        ),
        _fact(
            "面积与得房率",
            "得房率与公摊面积",
            """
一期住宅得房率约 78%（套内建筑面积 ÷ 建筑面积）。
例如 A 户型建筑面积约 143 平方米，套内建筑面积约 111.5 平方米，公摊面积约 31.5 平方米。
公摊包括本栋的电梯厅、楼梯间、设备间和外墙一半等公共部位，地下车库和会所不计入公摊。
面积以测绘报告和合同约定为准，交付后按实测面积多退少补。
""",
        ),
        _fact(
            "户数",
            "总户数与楼栋",
            """
全盘规划 1,986 户，分三期开发。
一期 6 栋共 612 户：1 栋 33 层、2 栋 32 层、3 栋和 4 栋 26 层、5 栋和 6 栋 18 层，每层 4 户，两梯四户。
一期户型：A 户型约 143 平方米四房、B 户型约 98 平方米三房、C 户型约 118 平方米三房、D 户型约 143 平方米四房。
""",
        ),
        _fact(
            "车位",
            "车位配置",
            """
地下机动车位 2,380 个，户车比约 1:1.2，其中约 20% 为充电车位。
访客车位 120 个（地面 40 个，地下 80 个）。
非机动车库设在各楼地下一层，带充电插座。
""",
        ),
        _fact(
            "建筑类型",
            "建筑类型与交付标准",
            """
高层住宅，钢筋混凝土剪力墙结构，外立面为石材与铝板。
精装修交付，入户门、厨卫、地板、中央空调、新风系统等按合同附件的交付标准执行。
样板房为展示效果，以合同约定为准。
""",
        ),
        _fact(
            "收费标准",
            "物业服务费",
            """
住宅：4.2 元/平方米·月（按建筑面积计）
沿街商铺：6.5 元/平方米·月
物业服务费含公共区域清洁、绿化养护、秩序维护、电梯运行维护等。
前期物业服务企业：锦澜物业服务有限公司。
""",
        ),
        _fact(
            "收费标准",
            "停车、家政与代收费用",
            """
地下车位管理费：150 元/月·个
临时停车：30 分钟内免费，之后每小时 5 元，单日最高 40 元
家政保洁：45 元/小时，2 小时起
会所泳池：业主年卡 1,200 元/人
水、电、燃气：按供应单位价格代收，物业不加价
""",
        ),
        _fact(
            "教育配套",
            "学校",
            """
小区内配建一所 12 班幼儿园，计划与一期同步交付。
周边 2 公里内有区属公办小学和初中各一所。
注意：学区以教育部门当年公布的划片为准，任何人不得向客户承诺学区。
""",
        ),
        _fact(
            "商业配套",
            "商业与购物",
            """
小区沿江晖路设约 1.2 万平方米社区商业，规划生鲜超市、药店、便利店和餐饮。
约 1.5 公里有一座大型购物中心，开车约 5 分钟。
""",
        ),
        _fact(
            "医疗配套",
            "医院与诊所",
            """
社区卫生服务中心：约 1 公里，步行 12 分钟左右。
三级综合医院（滨江院区）：约 4 公里，开车 10 分钟左右。
小区会所设有急救箱和 AED，物业管家接受过急救培训。
""",
        ),
        _fact(
            "休闲配套",
            "公园与休闲",
            """
沿江绿道和滨江公园：步行约 5 分钟。
小区中央花园约 1.1 万平方米，含儿童游乐区和 800 米环形跑道。
会所约 2,200 平方米：25 米恒温泳池、健身房、阅览室、儿童活动室。
""",
        ),
        _fact(
            "安防配套",
            "安防与门禁",
            """
人车分流，车辆直接进入地库。
小区出入口、单元门、电梯均为人脸识别门禁，访客由业主在手机上授权。
周界红外报警，公共区域视频监控全覆盖，监控中心 24 小时值守，夜间每两小时巡逻一次。
""",
        ),
        _fact(
            "交通",
            "交通出行",
            """
地铁：最近的地铁站约 800 米，步行约 10 分钟。
公交：小区周边 500 米内有 2 个公交站。
驾车：到钱江新城约 15 分钟，到高铁站约 25 分钟，到萧山机场约 30 分钟。
""",
        ),
        _fact(
            "常用电话",
            "常用联系电话",
            """
营销中心：0571-8000 1801（演示号码）
物业服务中心（交付后）：0571-8000 1802（演示号码）
24 小时安保值班：0571-8000 1803（演示号码）
供电服务热线：95598
紧急电话：报警 110，火警 119，急救 120
""",
        ),
    ]


# --- 锦澜·云溪里: stacked villas by the creek ------------------------------------------------------------

_CREEKSIDE_ADVERSE = (
    "项目西侧规划有一条城市次干道，预计在交付后开工；东南方向约 600 米处有一座垃圾中转站；"
    "云溪在汛期水位会上涨，溪边步道届时会临时封闭。"
)


def _creekside_scripts() -> list[ArticleSpec]:
    return [
        _script(
            "region",
            "区位",
            "区位开场：良渚的慢生活",
            """
这里是良渚，杭州城北一块节奏比较慢的板块。您看这片绿色是遗址公园，这条蓝线就是云溪，我们的项目就在溪边。
去城西科创走廊和未来科技城开车大约二十五分钟，不少在那边工作的客户周末会过来看。
""",
        ),
        _script(
            "region",
            "交通",
            "日常出行怎么讲",
            """
地铁站离我们约 1.8 公里，社区有接驳巴士，早晚高峰十五分钟一班；开车五分钟上绕城高速。
买菜有社区商业，大一点的采购去两公里外的商业街区。
您家平时主要是开车出行吗？家里有几辆车？（顺势了解车位需求）
""",
        ),
        _script(
            "sandtable",
            "规划",
            "沙盘总述",
            """
云溪里是纯叠墅社区，容积率只有 1.2，总共 386 户，一期六幢 61 户。
每幢三到四层，一楼带私家庭院，顶楼带露台，中间是平层大三房。1 幢、2 幢紧挨着溪水，是溪景最好的两排。
""",
        ),
        _script(
            "sandtable",
            "户型",
            "下叠、中叠、上叠怎么选",
            """
主要看您家的生活方式：喜欢种花、养宠物、家里有小朋友，下叠的庭院最实用，建筑面积约 239 平方米；
喜欢视野和阳光，上叠带大露台，约 212 平方米；想要好打理的平层，中叠约 182 平方米三房，总价也最友好。
边户会多出约 14 平方米，而且多一面采光。
""",
        ),
        *_disclosure_scripts(_CREEKSIDE_ADVERSE),
        _script(
            "showflat",
            "户型",
            "下叠庭院样板房讲解",
            """
进门先看这个院子，大约六十平方米，可以做菜园，也可以给孩子做个游乐角。
一楼是客餐厅和老人房，负一层是家庭影音室和储藏间。楼梯中间做了缓步台，老人上下也方便。
""",
        ),
        _script(
            "showflat",
            "户型",
            "上叠露台样板房讲解",
            """
上叠在三楼和四楼，有独立的入户厅。顶层这个露台约四十平方米，晚上在这里喝茶看溪景，是很多客户最喜欢的地方。
露台做了两道防水，排水口也特意加大了，这一点您可以放心。
""",
        ),
        _script(
            "clubhouse",
            "会所",
            "溪畔会所介绍",
            """
会所在溪边，有室内恒温泳池、瑜伽室、茶室和共享厨房，业主可以在手机上预约共享厨房招待朋友。
物业是锦澜物业，叠墅区每幢楼都有专属管家。
""",
        ),
        _script(
            "clubhouse",
            "业主会",
            "邀请参加溪畔活动",
            """
我们每个月在溪边办一次茶会，春秋还有园艺课，会员免费参加。
我帮您登记一下，下次活动您可以带家人一起来，顺便看看这里周末的样子。
""",
        ),
    ]


def _creekside_facts() -> list[ArticleSpec]:
    return [
        _fact(
            "项目概况",
            "项目地址",
            """
杭州市余杭区良渚街道云溪路 88 号。
营销中心在小区南门东侧，导航搜“锦澜·云溪里”即可。
""",
        ),
        _fact(
            "规划指标",
            "占地面积、建筑面积与容积率",
            """
总占地面积：约 6.4 万平方米
总建筑面积：约 11.2 万平方米（地上计容约 7.7 万平方米）
容积率：1.2
绿地率：35%
""",
        ),
        _fact(
            "面积与得房率",
            "得房率与公摊面积",
            """
叠墅得房率约 85%（套内建筑面积 ÷ 建筑面积），一梯两户、楼梯间小，公摊少。
例如中叠建筑面积约 182 平方米，套内建筑面积约 154.7 平方米，公摊面积约 27.3 平方米。
庭院、露台和地下室不计入建筑面积，也不分摊公共部位。
面积以测绘报告和合同约定为准，交付后按实测面积多退少补。
""",
        ),
        _fact(
            "户数",
            "总户数与楼栋",
            """
全盘规划 386 户，一期 6 幢共 61 户。
一期为三层和四层叠墅：
下叠带庭院，约 239 平方米四房；
中叠为平层，约 182 平方米三房；
上叠带露台，约 212 平方米四房；
边户面积另加约 14 平方米。
""",
        ),
        _fact(
            "车位",
            "车位配置",
            """
地下机动车位 800 个，户车比约 1:2，全部预留充电条件。
访客车位 40 个，设在南门和东门附近。
""",
        ),
        _fact(
            "建筑类型",
            "建筑类型与交付标准",
            """
叠加别墅（叠墅），三至四层，钢筋混凝土框架结构，坡屋顶，外立面为石材与真石漆。
毛坯交付，入户门、外窗、庭院围墙与露台防水按合同附件的交付标准执行。
""",
        ),
        _fact(
            "收费标准",
            "物业服务费",
            """
叠墅：6.8 元/平方米·月（按建筑面积计）
含公共区域清洁、绿化养护、秩序维护、专属管家服务。
私家庭院和露台由业主自行维护，物业可提供有偿园艺服务。
""",
        ),
        _fact(
            "收费标准",
            "停车、园艺与代收费用",
            """
地下车位管理费：200 元/月·个
临时停车：1 小时内免费，之后每小时 5 元，单日最高 30 元
有偿园艺服务：80 元/次起
水、电、燃气：按供应单位价格代收，物业不加价
""",
        ),
        _fact(
            "教育配套",
            "学校",
            """
周边 3 公里内有公办幼儿园、小学和初中各一所。
注意：学区以教育部门当年公布的划片为准，任何人不得向客户承诺学区。
""",
        ),
        _fact(
            "商业配套",
            "商业与购物",
            """
小区南门外有社区商业，规划生鲜超市、便利店和咖啡馆。
约 2 公里有一条商业街区，有超市、餐饮和银行网点。
""",
        ),
        _fact(
            "医疗配套",
            "医院与诊所",
            """
社区卫生服务中心：约 1.5 公里。
区级综合医院：约 6 公里，开车 15 分钟左右。
会所设有急救箱和 AED。
""",
        ),
        _fact(
            "休闲配套",
            "公园与休闲",
            """
小区沿云溪有约 600 米的溪畔步道。
遗址公园约 3 公里，适合周末骑行、散步。
会所：室内恒温泳池、瑜伽室、茶室、共享厨房。
""",
        ),
        _fact(
            "安防配套",
            "安防与门禁",
            """
南门和东门人脸识别门禁，车辆识别车牌进入地库。
每幢入户厅可视对讲，周界红外报警，溪边步道夜间有照明和监控。
监控中心 24 小时值守，夜间每两小时巡逻一次。
""",
        ),
        _fact(
            "交通",
            "交通出行",
            """
地铁：最近的地铁站约 1.8 公里，社区接驳巴士早晚高峰 15 分钟一班。
驾车：约 5 分钟上绕城高速，到城西科创走廊约 25 分钟。
""",
        ),
        _fact(
            "常用电话",
            "常用联系电话",
            """
营销中心：0571-8000 2801（演示号码）
物业服务中心：0571-8000 2802（演示号码）
24 小时安保值班：0571-8000 2803（演示号码）
供电服务热线：95598
紧急电话：报警 110，火警 119，急救 120
""",
        ),
    ]


def demo_articles(project_code: str, project_name: str) -> list[ArticleSpec]:
    """Everything the knowledge base of a demo project holds, in the order it is shown."""
    if project_code == HIGH_RISE:
        own_scripts, facts = _riverside_scripts(), _riverside_facts()
    elif project_code == TOWNHOUSE:
        own_scripts, facts = _creekside_scripts(), _creekside_facts()
    else:
        return []
    return [*_shared_scripts(project_name), *own_scripts, *facts, *_phrases(project_name)]


def load_knowledge(ctx: DemoContext) -> None:
    for code in (HIGH_RISE, TOWNHOUSE):
        project = ctx.projects.get(code)
        if project is None:
            continue
        ctx.record_created(Station, len(stations_ensure_defaults(project=project)))
        stations = {s.code: s for s in Station.objects.filter(project=project)}
        existing = set(Article.objects.filter(project=project).values_list("title", flat=True))
        created = 0
        for order, spec in enumerate(demo_articles(code, project.name), start=1):
            if spec.title in existing:
                continue
            article_create(
                project=project,
                kind=spec.kind,
                title=spec.title,
                body=spec.body,
                topic=spec.topic,
                station=stations.get(spec.station) if spec.station else None,
                sort_order=order,
            )
            existing.add(spec.title)
            created += 1
        ctx.record_created(Article, created)
        ctx.record_created(VisitStation, _tick_earlier_first_visits(ctx, project))


def _skipped_for(visit: Visit) -> set[str]:
    """Which stations this visit skipped: a fixed draw per visit, so every fresh demo looks the same."""
    draw = zlib.crc32(f"{visit.pk}:{visit.checked_in_at:%Y%m%d%H%M}".encode()) % 100
    if draw < 60:
        return set()
    if draw < 80:
        return {"parking", "clubhouse"}  # not required: still compliant
    if draw < 90:
        return {"disclosure"}
    return {"registration", "negotiation"}


def _tick_earlier_first_visits(ctx: DemoContext, project: Project) -> int:
    today_start, _ = local_day_bounds(timezone.localdate(ctx.now))
    route = list(Station.objects.filter(project=project, is_active=True).order_by("sort_order", "pk"))
    visits = list(
        Visit.objects.filter(
            project=project,
            kind=VisitKind.FIRST,
            state=VisitState.ENDED,
            checked_in_at__lt=today_start,
            consultant__isnull=False,
            stations_done__isnull=True,
        ).order_by("pk")
    )
    rows = []
    for visit in visits:
        walked = [s for s in route if s.code not in _skipped_for(visit)]
        end: datetime = visit.checked_out_at or visit.checked_in_at + timedelta(minutes=60)
        step = (end - visit.checked_in_at) / (len(walked) + 1)
        for index, station in enumerate(walked, start=1):
            rows.append(
                VisitStation(
                    visit=visit,
                    station=station,
                    done_at=visit.checked_in_at + step * index,
                    by_id=visit.consultant_id,
                    customer_confirmed=(visit.pk % 4 != 0) if station.is_risk_disclosure else None,
                )
            )
    VisitStation.objects.bulk_create(rows)
    return len(rows)
