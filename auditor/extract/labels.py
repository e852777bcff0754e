"""The label of a figure: the phrase, as written, that names what it counts.

Chinese reports put the label before the figure ("新增会员1416人", "发放慰问金18.2万元") or, after a
preposition, behind it ("为186名困难职工…", "为9家民营企业142名员工…"). The label is read inside the
figure's clause only, so a figure never borrows a label across a comma.
"""

from __future__ import annotations

import regex

# Words that open a phrase without naming anything: dropped from the front of a label.
_LEADING_FILLER = regex.compile(
    r"^(?:(?:其中|同时|并且|并|共计|共|累计|先后|全年|全市|全区|全县|全局|总计|合计|目前|截至目前|截至\S{0,8}?末|"
    r"一年来|今年以来|去年以来|以来|年内|此外|另外|还|又|已|均|都|达到|达|为|向|对|给|帮助|支付|"
    r"在|由|通过|实现|完成|其|以及|及|和|与|等|的|了|是|有|约|近|超过|逾|突破)\s*)+"
)
# A phrase ending like this wants its object after the figure ("为186名困难职工"). Searched from the
# end (?r): the only place it can match; forward, every word was tried at every character (9x slower).
_WANTS_OBJECT = regex.compile(
    r"(?r)(?:^|为|向|对|给|帮助|组织|推荐|选树|慰问|走访|建立|建成|成立|组建|培育|吸纳|资助|救助|帮扶|扶持|"
    r"覆盖|惠及|涉及|联合|有|共有|拥有|全市有|包括|指导|带动|推动|集中|服务|接待|动员|表彰|评选|命名|将|把|让|使|完成|、)$"
)
# What may follow a figure as its object: Han characters, cut at the first verb or particle.
_OBJECT_AFTER = regex.compile(r"^[\p{Han}()（）“”]{1,24}")
_OBJECT_STOP = regex.compile(r"的|发放|送去|送|开展|进行|参加|参与|获得|提供|实现|享受|得到|接受|举办|当选|被|荣获|申请|成立|加入|"
                             r"实名|参赛|组成|分别|共|和|及|与|[,，、。;；:：]")
_MAX_LABEL = 16


def label_before(text: str, clause_start: int, number_start: int) -> str:
    """The phrase between the start of the clause (or the previous figure) and this figure."""
    phrase = text[clause_start:number_start].strip()
    # A label stops at a quoted name's end or a list comma inside the clause.
    for sep in ("、", "”", "」"):
        if sep in phrase:
            tail = phrase.rsplit(sep, 1)[1]
            if len(tail) >= 2:
                phrase = tail
    phrase = _LEADING_FILLER.sub("", phrase)
    phrase = phrase.rstrip("为达约近共计有超过逾突破了").strip()
    if len(phrase) > _MAX_LABEL:
        phrase = phrase[-_MAX_LABEL:]
    return phrase


def label_after(text: str, figure_end: int, clause_end: int) -> str:
    m = _OBJECT_AFTER.match(text[figure_end:clause_end])
    if not m:
        return ""
    phrase = m.group()
    stop = _OBJECT_STOP.search(phrase, 1)
    if stop:
        phrase = phrase[:stop.start()]
    return phrase[:10].strip("()（）“”")


def find_label(text: str, clause_start: int, clause_end: int, number_start: int, figure_end: int,
               previous_figure_end: int | None = None) -> str | None:
    """Label of the figure at [number_start, figure_end) inside the clause [clause_start, clause_end)."""
    start = clause_start if previous_figure_end is None else max(clause_start, previous_figure_end)
    before_raw = text[start:number_start]
    before = label_before(text, start, number_start)
    if not before or _WANTS_OBJECT.search(before_raw.strip()) or _WANTS_OBJECT.search(before):
        after = label_after(text, figure_end, clause_end)
        if after:
            return after
    return before or None
