"""Reading sent emails out of moto's ``/moto-api/data.json`` (shape captured from moto 5.2)."""

from __future__ import annotations

from infra.local.outbox import sent_emails

MOTO_DATA = {
    "ses": {
        "EmailIdentity": [{"email_identity": "taskport@example.com"}],
        "Message": [
            {
                "body": "body text",
                "destinations": {"ToAddresses": ["a@example.com"], "CcAddresses": []},
                "id": "msg-1",
                "source": "taskport@example.com",
                "subject": "hi",
            }
        ],
        "RawMessage": [
            {
                "destinations": ["b@example.com"],
                "id": "msg-2",
                "raw_data": "Subject: raw\r\n\r\nhello",
                "source": "taskport@example.com",
            }
        ],
        "TemplateMessage": [],
    },
    "s3": {},
}


def test_sent_emails_lists_simple_and_raw_messages() -> None:
    emails = sent_emails(MOTO_DATA)
    assert [(e.kind, e.message_id) for e in emails] == [
        ("Message", "msg-1"),
        ("RawMessage", "msg-2"),
    ]
    simple, raw = emails
    assert simple.subject == "hi"
    assert simple.body == "body text"
    assert simple.destinations["ToAddresses"] == ["a@example.com"]
    assert raw.destinations == {"ToAddresses": ["b@example.com"]}
    assert "hello" in raw.body


def test_no_ses_data_means_no_emails() -> None:
    assert sent_emails({}) == []
    assert sent_emails({"ses": {}}) == []
