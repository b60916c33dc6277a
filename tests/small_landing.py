"""The small landing folder the pipeline tests share: one small, valid file per export, raw phone numbers and
e-mails included (a full run on it takes the project's whole build, not the sample's data)."""

from __future__ import annotations

import json
from pathlib import Path

from contact_warehouse.loading.sources import EXPORTS_BY_NAME


def _csv(export: str, *rows: str) -> str:
    return "\n".join([",".join(EXPORTS_BY_NAME[export].main_table.column_names), *rows]) + "\n"


CALLS = _csv(
    "calls",
    "CA1,,inbound,(415) 555-0101,+18005550100,C1,billing,A1,2026-10-05T09:00:00Z,2026-10-05T09:01:00Z,"
    "2026-10-05T09:01:15Z,2026-10-05T09:08:00Z,30,5,60,completed,billing_question,false",
    "CA2,CA1,inbound,(415) 555-0101,+18005550100,C1,retention,A2,2026-10-05T09:08:00Z,2026-10-05T09:08:05Z,"
    "2026-10-05T09:08:30Z,2026-10-05T09:15:00Z,0,40,30,completed,cancel_service,true",
    "CA3,,inbound,+1 212 555 0199,+18005550100,,tech_support,,2026-10-05T10:00:00Z,2026-10-05T10:01:00Z,,"
    "2026-10-05T10:03:00Z,,,,abandoned,,",
    "CA4,,outbound,+18005550100,415.555.0101,C1,,A1,2026-10-06T15:00:00Z,,2026-10-06T15:00:10Z,"
    "2026-10-06T15:05:00Z,0,2,20,completed,payment_plan_set,true",
)
IVR = """call_id,seq,event_at,node,event_type,key
CA1,1,2026-10-05T09:00:05Z,main,menu_enter,
CA1,2,2026-10-05T09:00:20Z,main,key_press,2
CA1,3,2026-10-05T09:00:50Z,billing,to_queue,
CA3,1,2026-10-05T10:00:05Z,main,menu_enter,
CA3,2,2026-10-05T10:00:40Z,main,to_queue,
"""
SMS = """message_id,thread_id,direction,from_number,to_number,sent_at,agent_id,body,status
SM1,T1,inbound,+12125550199,+18005550100,2026-10-06T12:00:00Z,,My bill looks wrong,delivered
SM2,T1,outbound,+18005550100,+12125550199,2026-10-06T12:05:00Z,A1,Thanks - we fixed it,delivered
"""
SURVEYS = """response_id,survey_type,channel,contact_id,respondent,responded_at,score,comment
SV1,nps,voice,CA2,(415) 555-0101,2026-10-05T10:00:00Z,9,great help
SV2,csat,chat,CH1,Jane.Doe@Example.com,2026-10-05T12:00:00Z,4,
SV3,nps,sms,T1,C2,2026-10-06T13:00:00Z,3,slow answer
"""
FAQ_ARTICLES = """article_id,title,section,updated_at
KB-1,How to reset your password,account,2026-09-01T00:00:00Z
KB-2,Understanding your bill,billing,2026-09-01T00:00:00Z
"""
FAQ_VIEWS = """view_id,article_id,visitor_id,customer_ref,viewed_at,seconds_on_page,vote,search_query
V1,KB-2,vis1,,2026-10-05T08:50:00Z,40,down,bill wrong
V2,KB-1,vis2,C2,2026-10-06T08:00:00Z,60,up,
"""
CUSTOMERS = """customer_ref,email,phone,value_tier,timezone,created_at,churned_at
C1,Jane.Doe@Example.com,(415) 555-0101,high,America/Los_Angeles,2025-01-01T00:00:00Z,
C2,bob@example.org,+1 212 555 0199,standard,America/New_York,2025-02-01T00:00:00Z,
"""
CHATS = [
    {
        "id": "CH1",
        "created_at": "2026-10-05T11:00:00Z",
        "closed_at": "2026-10-05T11:20:00Z",
        "visitor": {"visitor_id": "vis1", "email": "jane.doe@example.com", "phone": None, "customer_ref": None},
        "bot": {"intent": "billing", "handed_over_at": "2026-10-05T11:05:00Z"},
        "agent_id": "A3",
        "tags": ["billing"],
        "rating": 4,
        "resolved": True,
        "messages": [
            {"id": "M1", "sent_at": "2026-10-05T11:00:00Z", "author": "customer", "text": "My invoice is wrong"},
            {"id": "M2", "sent_at": "2026-10-05T11:06:00Z", "author": "agent", "text": "Let me fix that for you"},
        ],
    },
]
FORMS = {
    "items": [
        {
            "response_id": "F1",
            "form_id": "contact",
            "submitted_at": "2026-10-06T09:00:00Z",
            "hidden": {"visitor_id": "vis2"},
            "answers": [
                {"field": "email", "type": "email", "value": "bob@example.org"},
                {"field": "phone", "type": "phone_number", "value": "+12125550199"},
                {"field": "topic", "type": "dropdown", "value": "billing"},
                {"field": "message", "type": "long_text", "value": "Question about my bill"},
            ],
        }
    ]
}


def write_landing(folder: Path) -> Path:
    """One small, valid file per export (raw phone numbers and e-mails included)."""
    files = {
        "calls/calls_2026-10-05.csv": CALLS,
        "ivr_events/ivr_events_2026-10-05.csv": IVR,
        "sms/sms_2026-10-06.csv": SMS,
        "surveys/surveys_2026-10-06.csv": SURVEYS,
        "faq_articles/faq_articles_2026-10-01.csv": FAQ_ARTICLES,
        "faq_views/faq_views_2026-10-06.csv": FAQ_VIEWS,
        "customers/customers_2026-10-06.csv": CUSTOMERS,
        "chat_conversations/chat_2026-10-05.jsonl": "".join(json.dumps(c) + "\n" for c in CHATS),
        "form_submissions/forms_2026-10-06.json": json.dumps(FORMS),
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder
