"""Set pieces: the declared components of an item, each judged, and the piece's name.

An item may declare its article type (戒指, 吊坠 …) and components: the metal (material code
and stamp) and each stone or jade part (material code, count; diamonds their carat; bead
strings the bead diameter). Every component is judged like a whole item of its material; one
that is not what was declared fails the piece, named in the reasons. Every bead of a string is
as declared unless the analyst records groups of beads that are not (how many, identified as
what): any such bead fails the piece. The naming of set pieces is data (`set_naming`, recalled
until checked against GB/T 16552-2017 §5.5). Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from qc_app.errors import FieldErrors, ValidationFailed
from qc_app.i18n import Message, msg
from qc_app.rules import grading
from qc_app.rules.engine import (
    BeadGroup,
    Judgement,
    Measurements,
    PartResult,
    Reason,
    RuleSet,
    judge_material,
    mass_tolerance_key,
    piece_reasons,
    validate_fields,
    verdict_of,
)
from qc_app.units import to_decimal

METAL = "precious_metal"
GROUPS = "beads_not_as_declared"  # a bead string component's groups, in the lab's body
Declared = dict[str, str]  # one component as declared: material, stamp / count, carat, bead_…
PART_KEYS = {
    METAL: ("material", "stamp"),
    "other": ("material", "count", "carat", "bead_diameter_mm"),
}


def articles(rules: RuleSet) -> Mapping[str, Mapping[str, str]]:
    return rules.raw["articles"]["types"]  # type: ignore[no-any-return]


def parse_text(text: str) -> list[dict[str, str]]:
    """The form's and the CSV's spelling: `AU750 stamp=18K; DIAMOND count=1 carat=0.30`."""
    parts = []
    for chunk in re.split(r"[;；]", text):
        tokens = chunk.split()
        if not tokens:
            continue
        part = {"material": tokens[0].upper()}
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            if not sep or not key or not value:
                raise ValidationFailed(
                    msg("组成部分写法应为「材质代码 键=值」，无法识别：{token}", token=token)
                )
            part[key] = value
        parts.append(part)
    return parts


def parse_declared(
    rules: RuleSet, article_type: object, components: object
) -> tuple[str | None, list[Declared]]:
    """The article type and the components as declared, checked and normalised (exact text)."""
    article = str(article_type).strip() if article_type not in (None, "") else None
    if article is not None and article not in articles(rules):
        raise ValidationFailed(
            msg(
                "未知的款式：{article}（可选 {choices}）",
                article=article,
                choices=" ".join(articles(rules)),
            )
        )
    if isinstance(components, str):
        components = parse_text(components)
    if components in (None, []):
        return article, []
    spec = rules.raw["components"]
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise ValidationFailed(msg("components 须为对象数组"))
    if len(components) > int(spec["max_parts"]):
        raise ValidationFailed(msg("组成部分最多 {max_parts} 个", max_parts=spec["max_parts"]))
    if article is None:
        raise ValidationFailed(msg("声明组成部分时须注明款式（article_type）"))
    declared = []
    for index, raw in enumerate(components, start=1):
        try:
            declared.append(_declared_part(rules, raw))
        except ValidationFailed as exc:
            raise ValidationFailed(
                msg("组成部分 {index}：{problem}", index=index, problem=exc.message)
            ) from exc
    metals = sum(1 for d in declared if rules.family_of(d["material"]) == METAL)
    if metals > int(spec["max_metals"]):
        raise ValidationFailed(msg("一件物品最多申报 {n} 种金属", n=spec["max_metals"]))
    return article, declared


def _declared_part(rules: RuleSet, raw: Mapping[str, Any]) -> Declared:
    code = str(raw.get("material") or "").strip().upper()
    if not code:
        raise ValidationFailed(msg("缺少材质代码（material）"))
    family = rules.family_of(code)
    allowed = PART_KEYS[METAL if family == METAL else "other"]
    unknown = sorted(str(k) for k in set(raw) - set(allowed))
    if unknown:
        raise ValidationFailed(msg("该材质不适用的项：{unknown}", unknown=", ".join(unknown)))
    part: Declared = {"material": code}
    if family == METAL:
        stamp = str(raw.get("stamp") or "").strip()
        if len(stamp) > 40:
            raise ValidationFailed(msg("印记过长（最多 40 字）"))
        if stamp:
            part["stamp"] = stamp
        return part
    count = to_decimal(raw.get("count", 1), field="count", places=Decimal(1))
    if not 1 <= count <= 10000:
        raise ValidationFailed(msg("数量须为 1–10000"))
    part["count"] = str(count)
    if raw.get("carat") not in (None, ""):
        if family != "diamond":
            raise ValidationFailed(msg("只有钻石申报克拉（carat）"))
        carat = to_decimal(raw["carat"], field="carat", places=Decimal("0.01"))
        if not Decimal("0.01") <= carat <= 500:
            raise ValidationFailed(msg("克拉须为 0.01–500"))
        part["carat"] = str(carat)
    if raw.get("bead_diameter_mm") not in (None, ""):
        diameter = to_decimal(
            raw["bead_diameter_mm"], field="bead_diameter_mm", places=Decimal("0.1")
        )
        if not 1 <= diameter <= 50:
            raise ValidationFailed(msg("珠径须为 1.0–50.0 mm"))
        part["bead_diameter_mm"] = str(diameter)
    return part


# --- measuring -------------------------------------------------------------------------------


def piece_fields(rules: RuleSet) -> Mapping[str, Mapping[str, Any]]:
    """What the lab records of the whole piece: total mass, brand mark, observations."""
    shared = rules.raw["fields"]
    own = rules.raw["components"]["piece_fields"]
    return {key: {**shared[key], **override} for key, override in own.items()}


def part_fields(rules: RuleSet, material: str) -> Mapping[str, Mapping[str, Any]]:
    """A component's form: its family's, with the mass optional (a set piece is weighed whole;
    a metal mass only when it can be weighed without its stones, never guessed), plus count and
    bead diameter for stones, and the estimated carat of set diamonds."""
    family = rules.family_of(material)
    fields = {
        key: {**spec, "required": False} if key == "mass_g" else spec
        for key, spec in rules.fields(family).items()
        if key != "brand_mark"
    }
    if family != METAL:
        shared = rules.raw["fields"]
        for key, override in rules.raw["components"]["part_fields"].items():
            fields[key] = {**shared[key], **override}
        if family == "diamond":
            fields["carat"] = {**shared["carat"], "required": False}
    return fields


def part_prefix(index: int) -> str:
    """A component's fields on the lab form and in `ValidationFailed.fields`: c1-metal, c2-…"""
    return f"c{index}-"


def is_bead_string(part: Mapping[str, str]) -> bool:
    """A component declared with its bead diameter is a string of beads."""
    return "bead_diameter_mm" in part


def group_fields(rules: RuleSet, material: str) -> Mapping[str, Mapping[str, Any]]:
    """What the analyst records of beads not as declared: how many, and what they were
    identified as, with the component family's own species choices and screening results."""
    family = rules.fields(rules.family_of(material))
    spec = rules.raw["components"]["bead_groups"]["fields"]
    fields: dict[str, Mapping[str, Any]] = {
        "count": {**rules.raw["fields"]["count"], **spec["count"]},
        "species": {**family["species"], **spec["species"]},
    }
    fields.update({key: f for key, f in family.items() if f["type"] == "bool"})
    return fields


def group_prefix(index: int, group: int) -> str:
    """A group's fields on the lab form and in `ValidationFailed.fields`: c1-g1-species …"""
    return f"{part_prefix(index)}g{group}-"


Groups = list[Measurements]  # one component's beads not as declared, each group's readings


def validate_piece(
    rules: RuleSet, declared: Sequence[Declared], raw: Mapping[str, Any]
) -> tuple[Measurements, list[Measurements], list[Groups]]:
    """The lab's body for a set piece: the piece's own fields and `components`, one object per
    declared component in the declared order; a bead string's object may list its beads not as
    declared (`beads_not_as_declared`). Every bad field of the piece, of every component and
    of every group is named at once (a component's as `c<index>-<key>`, a group's as
    `c<index>-g<n>-<key>`)."""
    given = raw.get("components")
    if not isinstance(given, list) or len(given) != len(declared):
        raise ValidationFailed(
            msg("须为每个申报的组成部分给出一组测量值（components，共 {n} 组）", n=len(declared))
        )
    errors = FieldErrors()
    piece = validate_fields(
        piece_fields(rules), {k: v for k, v in raw.items() if k != "components"}, errors
    )
    parts, groups = [], []
    for index, (part, values) in enumerate(zip(declared, given, strict=True), start=1):
        if not isinstance(values, dict):
            raise ValidationFailed(msg("组成部分 {index} 的测量值须为对象", index=index))
        found = FieldErrors()
        specs = part_fields(rules, part["material"])
        own = {k: v for k, v in values.items() if k != GROUPS}
        try:
            parts.append(validate_fields(specs, own, found, prefix=part_prefix(index)))
            groups.append(_validate_groups(rules, index, part, values.get(GROUPS), found))
        except ValidationFailed as exc:  # a key no field of the component has (the API's)
            raise ValidationFailed(_in_part(index, exc.message)) from exc
        for name, problem in found.fields.items():
            errors.add(name, _in_part(index, problem))
    errors.check()
    for index, (part, m, listed) in enumerate(zip(declared, parts, groups, strict=True), start=1):
        _check_group_counts(index, part, m, listed)
    return piece, parts, groups


def _validate_groups(
    rules: RuleSet, index: int, part: Declared, given: object, errors: FieldErrors
) -> Groups:
    if given in (None, []):
        return []
    if not is_bead_string(part):
        raise ValidationFailed(msg("只有申报了珠径的珠串可记录不符的珠子"))
    limit = int(rules.raw["components"]["bead_groups"]["max_groups"])
    if not isinstance(given, list) or not all(isinstance(g, dict) for g in given):
        raise ValidationFailed(msg("beads_not_as_declared 须为对象数组"))
    if len(given) > limit:
        raise ValidationFailed(msg("不符的珠子最多记录 {n} 组", n=limit))
    specs = group_fields(rules, part["material"])
    return [
        validate_fields(specs, group, errors, prefix=group_prefix(index, n))
        for n, group in enumerate(given, start=1)
    ]


def _bead_total(part: Declared, m: Measurements) -> Decimal:
    """The beads of the string: as counted by the lab, else as declared."""
    return Decimal(str(m.get("count", part["count"])))


def _check_group_counts(index: int, part: Declared, m: Measurements, groups: Groups) -> None:
    """Beads not as declared are some of the string's beads, never all of them or more."""
    if not groups:
        return
    total, listed = _bead_total(part, m), sum(Decimal(str(g["count"])) for g in groups)
    if listed >= total:
        problem = _in_part(
            index,
            msg(
                "不符的珠子共 {listed} 颗，须少于该串的 {total} 颗"
                "（整串都不是申报材质时，请直接鉴定该组成部分）",
                listed=listed,
                total=total,
            ),
        )
        raise ValidationFailed(
            problem, fields={group_prefix(index, len(groups)) + "count": problem}
        )


def _in_part(index: int, problem: Message) -> Message:
    return msg("组成部分 {index}：{problem}", index=index, problem=problem)


# --- judging ---------------------------------------------------------------------------------


def judge_piece(
    rules: RuleSet,
    *,
    article_type: str,
    declared: Sequence[Declared],
    declared_mass_g: Decimal,
    piece: Measurements,
    parts: Sequence[Measurements],
    groups: Sequence[Groups] = (),
    declared_brand: str = "",
    declared_text: str = "",
) -> Judgement:
    """Judge every component (a bead string's beads not as declared with it), then the piece
    (brand, total mass, recorded claims)."""
    every = list(groups) or [[] for _ in parts]
    results = [
        _judge_part(rules, index, part, m, found)
        for index, (part, m, found) in enumerate(zip(declared, parts, every, strict=True), start=1)
    ]
    reasons = [_named(rules, result, r) for result in results for r in result.reasons]
    metal = next((d["material"] for d in declared if rules.family_of(d["material"]) == METAL), None)
    reasons += piece_reasons(
        rules,
        tolerance_key=mass_tolerance_key(rules, metal) if metal else "default",
        declared_mass_g=declared_mass_g,
        m=piece,
        declared_brand=declared_brand,
        declared_text=declared_text,
    )
    name_zh, name_en = piece_name(rules, article_type, results)
    return Judgement(
        f"SET_{article_type.upper()}",
        name_zh,
        name_en,
        verdict_of(reasons),
        tuple(reasons),
        rules.version,
        parts=tuple(results),
    )


def _judge_part(
    rules: RuleSet, index: int, part: Declared, m: Measurements, groups: Groups
) -> PartResult:
    try:
        outcome, reasons = judge_material(rules, part["material"], m)
    except ValidationFailed as exc:
        # The rules could not name the component: said with its number, next to its field.
        raise ValidationFailed(
            _in_part(index, exc.message),
            fields={part_prefix(index) + k: _in_part(index, v) for k, v in exc.fields.items()},
        ) from exc
    graded = None
    if rules.family_of(part["material"]) == METAL:
        reasons += _stamp_as_declared(part, m)
    else:
        reasons += _count_as_declared(part, m)
        judged = tuple(_judge_group(rules, index, n, part, g) for n, g in enumerate(groups, 1))
        reasons += [_group_reason(part, m, group) for group in judged]
        carat = _measured_carat(m)
        reasons += _carat_as_declared(rules, part, carat)
        if grading.requested(m):
            graded = grading.grade(
                rules.raw["diamond_grading"],
                species=outcome.species,
                kind=outcome.kind,
                m=m,
                carat=carat,
                mounted=True,
            )
    return PartResult(index, part, outcome, tuple(reasons), m, graded, judged if groups else ())


def _judge_group(rules: RuleSet, index: int, n: int, part: Declared, g: Measurements) -> BeadGroup:
    """Some beads identified as something else: named as a stone is, and refused if what the
    analyst identified is in fact as declared (those beads need no group)."""
    readings = {k: v for k, v in g.items() if k != "count"}
    prefix = group_prefix(index, n)
    try:
        outcome, reasons = judge_material(rules, part["material"], readings)
    except ValidationFailed as exc:
        raise ValidationFailed(
            _in_group(index, n, exc.message),
            fields={prefix + k: _in_group(index, n, v) for k, v in exc.fields.items()},
        ) from exc
    if not any(r.decisive for r in reasons):
        problem = _in_group(
            index,
            n,
            msg(
                "{named_zh}与申报相符，不必列为不符的珠子",
                named_zh=outcome.name_zh,
                named_en=outcome.name_en,
            ),
        )
        raise ValidationFailed(problem, fields={prefix + "species": problem})
    return BeadGroup(Decimal(str(g["count"])), readings, outcome)


def _in_group(index: int, n: int, problem: Message) -> Message:
    return msg("组成部分 {index} 第 {n} 组不符的珠子：{problem}", index=index, n=n, problem=problem)


def _group_reason(part: Declared, m: Measurements, group: BeadGroup) -> Reason:
    """假一赔十: a string sold as 和田玉 with glass beads in it is not what was declared."""
    return Reason.said(
        "beads_not_as_declared",
        msg(
            "{total} 颗中 {count} 颗为{named_zh}",
            total=_bead_total(part, m),
            count=group.count,
            named_zh=group.outcome.name_zh,
            named_en=group.outcome.name_en,
        ),
        True,
    )


def _measured_carat(m: Measurements) -> Decimal | None:
    if "diamond_mass_g" in m:
        return grading.carat_of(Decimal(str(m["diamond_mass_g"])))
    if "carat" in m:
        return Decimal(str(m["carat"]))
    return None


def _stamp_as_declared(part: Declared, m: Measurements) -> list[Reason]:
    declared = part.get("stamp")
    if not declared:
        return []
    found = m.get("stamp")
    if not isinstance(found, str) or not found:
        return [
            Reason.said(
                "stamp_missing", msg("申报印记「{stamp}」，实物未见印记", stamp=declared), True
            )
        ]
    if _plain(found) != _plain(declared):
        return [
            Reason.said(
                "stamp_not_as_declared",
                msg(
                    "申报印记「{declared}」，实物印记为「{found}」", declared=declared, found=found
                ),
                True,
            )
        ]
    return []


def _plain(stamp: str) -> str:
    return re.sub(r"[\s:：]", "", stamp).upper()


def _count_as_declared(part: Declared, m: Measurements) -> list[Reason]:
    found = m.get("count")
    if found is None or Decimal(str(found)) == Decimal(part["count"]):
        return []
    return [
        Reason.said(
            "count_mismatch",
            msg("申报 {declared} 粒，实测 {found} 粒", declared=part["count"], found=found),
            True,
        )
    ]


def _carat_as_declared(rules: RuleSet, part: Declared, carat: Decimal | None) -> list[Reason]:
    if "carat" not in part or carat is None:
        return []
    tolerance = Decimal(rules.raw["components"]["carat_tolerance_ct"]["value"])
    if Decimal(part["carat"]) - carat > tolerance:
        return [
            Reason.said(
                "carat_short",
                msg(
                    "实测 {carat} ct，低于申报的 {declared} ct", carat=carat, declared=part["carat"]
                ),
                True,
            )
        ]
    return []


def _named(rules: RuleSet, result: PartResult, reason: Reason) -> Reason:
    """A component's reason, saying which component: the piece's reasons name each one."""
    declared = rules.declaration(result.declared["material"])
    label = msg(
        "组成部分 {index}（{declared_zh}）",
        index=result.index,
        declared_zh=declared["name_zh"],
        declared_en=declared["name_en"],
    )
    zh, en = label.render("zh"), label.render("en")
    return Reason(reason.code, f"{zh}：{reason.zh}", f"{en}: {reason.en}", reason.decisive)


def piece_name(rules: RuleSet, article_type: str, results: Sequence[PartResult]) -> tuple[str, str]:
    """The certificate name of a set piece (metal first, then the stones, then the article)."""
    naming = rules.raw["set_naming"]
    article = articles(rules)[article_type]
    metals = [r for r in results if rules.family_of(r.declared["material"]) == METAL]
    stones = [r for r in results if r not in metals]
    # A mixed string is named by every material in it (set_naming.mixed_strings).
    outcomes = [o for r in stones for o in (r.outcome, *(g.outcome for g in r.groups))]
    names = list(dict.fromkeys((o.name_zh, o.name_en) for o in outcomes))
    shown = names[: int(naming["max_named_stones"])]
    stones_zh = naming["stone_separator_zh"].join(zh for zh, _ in shown)
    stones_en = naming["stone_separator_en"].join(en.lower() for _, en in shown)
    if len(names) > len(shown):
        stones_zh += naming["more_suffix_zh"]
        stones_en += naming["more_suffix_en"]
    if not metals:
        en = naming["pattern_en_unset"].format(stones=stones_en, article=article["en"])
        return stones_zh + article["zh"], en[:1].upper() + en[1:]
    metal = metals[0].outcome
    if not stones:
        return metal.name_zh + article["zh"], f"{metal.name_en} {article['en']}"
    joiners = naming["joiner_zh"]
    modified = any(o.kind != "plain" for o in outcomes)
    families = {rules.family_of(r.declared["material"]) for r in stones}
    joiner = (
        joiners["modified"]
        if modified
        else next((joiners[f] for f in sorted(families) if f in joiners), joiners["default"])
    )
    en = naming["pattern_en"].format(metal=metal.name_en, article=article["en"], stones=stones_en)
    return metal.name_zh + joiner + stones_zh + article["zh"], en
