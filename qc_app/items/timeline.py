"""An item's chain of custody as rows for the timeline page: pure, from its audit events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from qc_app.i18n import Message, pmsg, verbatim
from qc_app.items.workflow import TRANSITIONS
from qc_app.units import format_fen
from qc_app.warehouse.mass import ALARM_LABELS

EXTRA_LABELS: Mapping[str, Message] = {
    "declare": pmsg("action", "申报"),
    "alarm_raised": pmsg("action", "警报"),
    "alarm_cleared": pmsg("action", "警报解除"),
    # Recorded by items.hooks when a claim on the item's order is decided, or its certificate
    # is retired.
    "claim_upheld": pmsg("action", "理赔成立"),
    "claim_rejected": pmsg("action", "理赔驳回"),
    "certificate_revoked": pmsg("action", "证书吊销"),
    "certificate_reissued": pmsg("action", "证书重新签发"),
}
# The event's details worth a line of their own, by name.
NOTES: Mapping[str, Message] = {
    "kind": pmsg("field", "警报类型"),
    "reason": pmsg("field", "原因"),
    "note": pmsg("field", "备注"),
    "order": pmsg("field", "订单"),
    "certificate": pmsg("field", "证书"),
    "seal_no": pmsg("field", "封签号"),
    "waybill_no": pmsg("field", "运单号"),
    "consignment": pmsg("field", "送检单"),
    "claim": pmsg("field", "理赔"),
    "payout": pmsg("field", "赔付"),
}


class EventLike(Protocol):
    at: datetime
    actor: str
    action: str
    data: str


@dataclass(frozen=True)
class CustodyRow:
    at: datetime
    action: str
    label: Message
    actor: str
    station: str
    mass_g: str
    photos: tuple[str, ...]
    notes: tuple[tuple[Message, Message], ...]
    alarm: bool


def _label(action: str) -> Message:
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return EXTRA_LABELS.get(action) or verbatim(action)


def _note(key: str, value: object) -> Message:
    if key == "payout":
        return verbatim(format_fen(int(str(value))))
    if key == "kind":
        return ALARM_LABELS.get(str(value)) or verbatim(str(value))
    return verbatim(str(value))


def custody_rows(events: Iterable[EventLike]) -> list[CustodyRow]:
    rows = []
    for event in events:
        try:
            data: dict[str, Any] = json.loads(event.data)
        except ValueError:
            data = {}
        digest = data.get("photo_sha256")
        rows.append(
            CustodyRow(
                at=event.at,
                action=event.action,
                label=_label(event.action),
                actor=event.actor,
                station=str(data.get("station") or ""),
                mass_g=str(data.get("mass_g") or data.get("packing_mass_g") or ""),
                photos=(digest,) if isinstance(digest, str) else (),
                notes=tuple((name, _note(k, data[k])) for k, name in NOTES.items() if data.get(k)),
                alarm=event.action == "alarm_raised",
            )
        )
    return rows
