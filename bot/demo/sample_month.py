"""Sample month (October 2015) used by the summary tests and benchmarks.

``SAMPLE_TITLES`` are the 13 key work items in roster (document) order.
``SAMPLE_ROWS[i]`` holds the items of row ``i`` (1-based, rows 1..3) already split
and with their numbering stripped: ``(progress_items, plan_items)``.
``SAMPLE_RAW[i]`` holds the same cells as the source document had them, numbering
and stray spaces included: ``(progress_text, plan_text)``.
"""

from __future__ import annotations

SAMPLE_TITLES: list[str] = [
    "团的制度建设",
    "基层服务型团组织建设",
    "团干部队伍建设",
    "共青团宣传思想工作",
    "促进青年创新创业就业工作",
    "青年马克思主义者培养工程",
    "中学（中职）共青团工作",
    "少先队专业化建设工作",
    "两新组织和新兴领域青年工作",
    "青少年民族团结进步创建和对口支援工作",
    "青少年维权工作",
    "志愿服务重点工作",
    "港澳台青少年及国际青年交流工作",
]

_R1_PROGRESS = [
    "上报团中央传达学习宣传中央4号文件精神和中央党的会议精神工作方案；"
    "省委常委、政法委书记林少春召开协调会，就我省《实施意见》有关问题进行协商。",
    "抓紧督促各部门项目经费使用进度落实；继续有序推进机关及事业单位内审工作，"
    "按计划开展与各部门的情况碰头会，督促做好内审整改；组织开展我委机关及下属单位相关预算的填报工作。",
]
_R1_PLAN = [
    "收集兄弟省市改革方案，梳理可借鉴改革举措。",
    "进一步精简完善《共青团广东省委员会机关工作制度汇编》和《广东共青团战线工作指南》。",
]
_R2_PROGRESS = [
    "在全省下发《关于申报2015年省级示范性青少年综合服务平台的通知》（团粤办发[2015]85号），"
    "对全省创建活动进行动员部署。",
    "继续督促“活力在基层”优秀服务型团组织创建活动第一赛季各项目提交活动总结，"
    "推进第二赛季的项目复核工作，推进活力在基层工作与五四红旗团委创建工作进行融合对接。",
    "推动团员成为注册志愿者工作，截至目前，累计有1148360名团员注册成为志愿者。",
    "推进城乡区域化团建工作。城市方面，对10个城市街道区域化团建示范点进行实地考察，"
    "总结示范点的经验与不足，并报送材料给团中央。农村方面，按进度推进开展“百县千乡”分类示范创建活动。"
    "编印第8期《广东农青工作信息》简报（《团肇庆市委大力推进农村电子商务建设》）分发各地市；"
    "转发团中央《关于集中举办“百县千乡”分类示范创建工作述评会的通知》至各地市；"
    "与京东集团合作，组织11000多名乡村推广员在粤东西北开展扶贫、文化、体育、环保等方面活动847场（次）。",
]
_R2_PLAN = [
    "对2014年团中央支持的青少年综合服务平台建设经费使用、管理情况进行年度督查；"
    "开展2015年团中央支持的青少年综合服务平台的经费下拨工作；开展省级示范性青少年综合服务平台的认定工作。",
    "加大地市宣传力度，举办团员志愿者培训。",
    "计划11月份开展全省街道区域化团建集中活动月，通知正在拟下发；"
    "农村方面，11月-12月，重点开展“百县千乡”分类示范创建活动成果提升阶段工作。",
]
_R3_PROGRESS = [
    "举办第三期全省团干主体培训班，来自中职院校、中学、企业近340名团干参加轮训。",
    "全省发放《关于在 “团干部如何健康成长”大讨论活动中做好征集青年意见工作、"
    "开好民主（组织）生活会的通知》，"
    "并做好相关征求青年意见等工作；总结团省委开展大讨论活动经验，上报团中央。",
]
_R3_PLAN = [
    "督导各级择优配齐市、县团委书记班子和机关干部。",
    "落实第三期培训班实施方案，完善团干培训师资库建设。",
    "团省委党组以及各党组织开展“三严三实”专题三研讨；"
    "收集、整理全省“青年意见清单”，做好召开团省委党组民主生活会的准备。",
]

SAMPLE_ROWS: dict[int, tuple[list[str], list[str]]] = {
    1: (_R1_PROGRESS, _R1_PLAN),
    2: (_R2_PROGRESS, _R2_PLAN),
    3: (_R3_PROGRESS, _R3_PLAN),
}


def _numbered(items: list[str], fmt: str = "{n}.{text}", indent: str = "") -> str:
    return "\n".join(indent + fmt.format(n=n, text=t) for n, t in enumerate(items, 1))


SAMPLE_RAW: dict[int, tuple[str, str]] = {
    1: (_numbered(_R1_PROGRESS), _numbered(_R1_PLAN)),
    # The source had "1在全省…" (no dot) and "2. 继续…" (dot and a space).
    2: (
        "1"
        + _R2_PROGRESS[0]
        + "\n"
        + "\n".join(f"{n}. {t}" for n, t in enumerate(_R2_PROGRESS[1:], 2)),
        _numbered(_R2_PLAN),
    ),
    3: (_numbered(_R3_PROGRESS), _numbered(_R3_PLAN, indent="    ")),
}
