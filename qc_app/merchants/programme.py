"""The 鉴定验真 / 假一赔十 programme as data and pure functions: the agreement text and its
digest, and the eligibility checks. (Whether an order falls under the 假一赔十 obligation is
services.guarantee_in_force: SQL, so the consumer page's one query can carry it.)

No Flask, no session, no clock: services pass the records and the time in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from qc_app.i18n import Message, msg, pmsg

AGREEMENT_VERSION = "2026.11"
AGREEMENT_ZH = (
    "鉴定验真与假一赔十服务协议（版本 2026.11）\n\n"
    "一、商家自愿加入平台“鉴定验真”服务：开通后，商家发往质检仓的每件商品由具备 CMA/CNAS 资质的"
    "检测机构检测材质，合格品随附带签名二维码的证书发货。\n"
    "二、商家承诺所售商品的品牌与材质与商品页申报一致。经鉴定为品牌或材质假货的，商家按“假一赔十”"
    "向消费者赔付：退还实付货款，另赔付实付货款的十倍，并承担消费者的退货运费。\n"
    "三、假一赔十的范围仅限品牌与材质。重量、产地、品种、皮色不在赔付范围内；商品标题不得以这些内容"
    "暗示保障范围以外的承诺。\n"
    "四、消费者可在订单完成后 90 日内发起赔付申请；商家可接受或申辩，由平台裁定。\n"
    "五、商家可随时退出本服务。退出后新订单不再展示标签，退出前已成交订单的假一赔十义务继续有效。\n"
    "六、平台记录本协议的版本、文本摘要（SHA-256）、签署人与签署时间，作为双方约定的凭据。\n"
)
AGREEMENT_EN = """Authentication and 10x guarantee agreement (version 2026.11) — English summary.
Items sent to the QC warehouse are tested by an accredited lab; passed items ship with a signed
certificate. The merchant guarantees brand and material; a proven brand or material fake is paid
back as the price paid plus ten times the price plus postage. Weight, origin, variety and skin
colour are outside the guarantee. Claims within 90 days of order completion. The merchant may
leave at any time: labels stop for new orders, orders placed before leaving stay covered.
The Chinese text is the one signed; its SHA-256 is recorded with the signer and the time.
"""


def agreement_sha256(text: str = AGREEMENT_ZH) -> str:
    """The digest recorded with each signature: of the exact Chinese text that was shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The category whitelist of the programme: code → its name.
CATEGORIES: dict[str, Message] = {
    "jewelry": pmsg("category", "珠宝"),
    "diamond": pmsg("category", "钻石"),
    "jadeite": pmsg("category", "翡翠"),
    "gold": pmsg("category", "黄金"),
    "collectibles": pmsg("category", "文玩/收藏品"),
}
OTHER_CATEGORIES: dict[str, Message] = {
    "apparel": pmsg("category", "服饰"),
    "cosmetics": pmsg("category", "美妆"),
    "electronics": pmsg("category", "数码"),
}
# Every category a merchant may be recorded under: the whitelist plus the others.
ALL_CATEGORIES = CATEGORIES | OTHER_CATEGORIES

# GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters, the last a check.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def valid_licence_no(code: str) -> bool:
    code = code.strip().upper()
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


class Standing(Protocol):
    licence_no: str
    legal_rep_verified: bool
    categories: str
    serious_violations: int


@dataclass(frozen=True)
class Check:
    code: str
    ok: bool
    text: Message


def category_codes(categories: str) -> list[str]:
    return [c for c in (part.strip() for part in categories.split(",")) if c]


def eligibility(merchant: Standing) -> list[Check]:
    """The four checks of the rights centre, each with the reason shown to the merchant."""
    codes = category_codes(merchant.categories)
    outside = [c for c in codes if c not in CATEGORIES]
    return [
        Check(
            "licence",
            valid_licence_no(merchant.licence_no),
            msg("营业执照统一社会信用代码有效"),
        ),
        Check(
            "legal_rep",
            bool(merchant.legal_rep_verified),
            msg("法定代表人身份已核验"),
        ),
        Check(
            "categories",
            bool(codes) and not outside,
            msg("经营类目在白名单内（珠宝/钻石/翡翠/黄金、文玩/收藏品）"),
        ),
        Check(
            "violations",
            merchant.serious_violations == 0,
            msg("无严重违规记录"),
        ),
    ]
