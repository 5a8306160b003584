"""Static reference data of the simulated business: SKUs, customers, carriers, remarks."""
from __future__ import annotations

import random

CHANNEL_WEIGHTS = (("tmall", 30), ("jd", 20), ("pdd", 15), ("web", 12), ("store", 8), ("b2b", 15))
CHANNEL_ORDER_PREFIX = {"tmall": "TM", "jd": "JD", "pdd": "PD", "web": "WB", "b2b": "PO"}
TAX_RATES = (("0.13", 85), ("0.09", 8), ("0.06", 7))
PAYMENT_METHODS = ("alipay", "wechat", "card", "unionpay")
CARRIERS = (("SF", "SF"), ("ZTO", "ZT"), ("YTO", "YT"), ("JDL", "JD"), ("DEPPON", "DP"))
WAREHOUSES = ("WHSH01", "WHGZ02", "WHBJ03", "WHCD04")  # ids: letters and digits only
CITIES = ("上海", "杭州", "苏州", "南京", "广州", "深圳", "北京", "天津", "成都", "武汉", "西安", "重庆")

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ("小林", "阿杰", "晓燕", "明", "婷婷", "大伟", "芳", "磊", "静", "强", "丽丽", "浩")
_COMPANY_PLACES = ("上海", "北京", "深圳", "广州", "杭州", "苏州", "宁波", "成都", "武汉", "南京", "天津", "厦门")
_COMPANY_WORDS = ("明远", "华信", "长城", "恒通", "金桥", "锦程", "宏达", "新世纪", "东方", "博远", "瑞丰", "嘉禾",
                  "同创", "天合", "永盛", "德胜")
_COMPANY_TRADES = ("贸易", "科技", "电子", "商贸", "供应链", "实业", "百货", "信息技术")


def make_skus(rng: random.Random, count: int = 240) -> list[tuple[str, int]]:
    """(sku, unit price in CNY cents); a few big-ticket items so thousands separators occur."""
    skus = []
    for i in range(count):
        if rng.random() < 0.1:
            price = rng.randint(1000, 9000) * 100
        else:
            price = rng.randint(990, 59900) // 10 * 10
        skus.append((f"SKU-{1001 + i}", price))
    return skus


def make_b2b_customers(rng: random.Random, count: int = 200) -> list[tuple[str, str]]:
    """(customer_id, legal Chinese name); names are unique (bank matching rule 2 relies on them)."""
    names: list[str] = []
    seen = set()
    while len(names) < count:
        name = rng.choice(_COMPANY_PLACES) + rng.choice(_COMPANY_WORDS) + rng.choice(_COMPANY_TRADES) + "有限公司"
        if name in seen:
            name = name.replace("有限公司", f"{len(names)}分公司")  # keep legal names unique
        seen.add(name)
        names.append(name)
    return [(f"C9{i:05d}", name) for i, name in enumerate(names)]


def nickname(rng: random.Random) -> str:
    """A consumer nickname (personal data; GBK-encodable like everything here)."""
    base = rng.choice(_SURNAMES) + rng.choice(_GIVEN) if rng.random() < 0.6 else rng.choice(_GIVEN)
    return base + (str(rng.randint(1, 999)) if rng.random() < 0.4 else "")


def remark_with_id(rng: random.Random, order_id: str, po: str) -> str:
    """A bank remark that spells the order id so that bank matching rule 1 finds it."""
    digits = order_id[2:]
    style = rng.randrange(6)
    if style == 0:
        return f"货款 {order_id}"
    if style == 1:
        return f"so-{digits[:4]}-{digits[4:8]}-{digits[8:]} payment"
    if style == 2:
        return f"{po} 货款/{order_id.lower()}"
    if style == 3:
        return f"付 S O {digits[:8]} {digits[8:]}"
    if style == 4:
        return f"合同款({order_id})"
    return f"REF:{order_id} 转账"


def remark_without_id(rng: random.Random, order_id: str) -> str:
    """A remark rule 1 cannot use: nothing, or the digits without the `SO` prefix."""
    return rng.choice(("货款", "转账", "支付货款", "往来款", f"付{order_id[2:]}", f"订单{order_id[2:10]}-{order_id[10:]}"))
