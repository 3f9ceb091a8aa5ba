"""The mails Tairyo sends until sales write their own (loaded into the admin by a migration).

The Japanese case mail keeps the shape of the mail customers already know.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any, TypedDict

from django.conf import settings


class TemplateText(TypedDict):
    subject: str
    body_text: str
    body_html: str


# The default templates' senders: these names, at the address of DEFAULT_FROM_EMAIL (on the
# mail provider's verified domain), so mail goes out from a real address without editing.
SENDER_NAMES = {"ja": "マネージドクラウド監視", "en": "Managed Cloud Monitoring"}
# What the first default templates said before; replaced by 0004 where nobody changed it.
OLD_FROM_EMAILS = {
    "ja": "マネージドクラウド監視 <noreply@tairyo.invalid>",
    "en": "Managed Cloud Monitoring <noreply@tairyo.invalid>",
}


def sender(language: str) -> str:
    """The default sender in ``language``: its display name at DEFAULT_FROM_EMAIL's address."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    # Not email.utils.formataddr: it would encode the Japanese name for the wire, and this is
    # shown in the admin; Django encodes it when the mail is sent.
    return f"{SENDER_NAMES.get(language, SENDER_NAMES['en'])} <{address}>"


_SUPPRESSED_JA = """{% if suppressed %}
この間、頻繁に発生と復旧を繰り返したため通知を省略したケース：
{% for item in suppressed %}・{{ item.occurred_at }} {{ item.case_id }} {{ item.host_name }} {{ item.event_label }}
{% endfor %}{% endif %}"""

_SUPPRESSED_EN = """{% if suppressed %}
Notifications left out meanwhile because these cases kept opening and closing:
{% for item in suppressed %}- {{ item.occurred_at }} {{ item.case_id }} {{ item.host_name }} {{ item.event_label }}
{% endfor %}{% endif %}"""

CASE_JA = TemplateText(
    subject=(
        "【{% if event == 'closed' %}復旧{% else %}障害 {{ severity }}{% endif %}】"
        "{{ host_display_name|default:monitor_name }} {{ monitor_name }}（ケースID: {{ case_id }}）"
    ),
    body_text="""マネージドクラウド {% if event == 'closed' %}障害の復旧を確認いたしました。{% elif event == 'worsened' %}障害の状態が悪化しました。{% elif event == 'improved' %}障害の状態が改善しました。{% elif event == 'renotified' %}障害が継続しております。{% else %}障害を検知いたしました。{% endif %}

発生日時　　　： {{ opened_at }}{% if closed_at %}
復旧日時　　　： {{ closed_at }}{% endif %}
障害対象サーバ： {{ host_display_name|default:"－" }}{% if host_memo %}（{{ host_memo }}）{% endif %}
ケースID　　　： {{ case_id }}
監視項目　　　： {{ monitor_name }}（{{ severity }}）
内容　　　　　： {{ message }}

詳細については下記Webサイトをご確認ください。
{{ case_url }}
"""
    + _SUPPRESSED_JA,
    body_html="",
)

CASE_EN = TemplateText(
    subject=(
        "[{% if event == 'closed' %}RECOVERED{% else %}{{ severity }}{% endif %}] "
        "{{ host_display_name|default:monitor_name }} {{ monitor_name }} (case {{ case_id }})"
    ),
    body_text="""Managed Cloud: {% if event == 'closed' %}the problem has recovered.{% elif event == 'worsened' %}the problem got worse.{% elif event == 'improved' %}the problem has eased.{% elif event == 'renotified' %}the problem continues.{% else %}a problem was detected.{% endif %}

Opened:   {{ opened_at }} ({{ time_zone }}){% if closed_at %}
Closed:   {{ closed_at }}{% endif %}
Host:     {{ host_display_name|default:"-" }}{% if host_memo %} ({{ host_memo }}){% endif %}
Case ID:  {{ case_id }}
Monitor:  {{ monitor_name }} ({{ severity }})
Message:  {{ message }}

Details: {{ case_url }}
"""
    + _SUPPRESSED_EN,
    body_html="",
)

DIGEST_JA = TemplateText(
    subject=(
        "【{% if category == 'recoveries' %}復旧{% else %}障害{% endif %} {{ count }}件】"
        "{{ organization }} {{ window_start }}〜{{ window_end }}"
    ),
    body_text="""マネージドクラウド {% if category == 'recoveries' %}{{ count }}件の障害の復旧を確認いたしました。{% else %}{{ count }}件の障害を検知いたしました。{% endif %}
多数の通知が短時間に集中したため、まとめてお知らせいたします。

{% for case in cases %}・{{ case.occurred_at }} {{ case.severity }} {{ case.host_display_name|default:"－" }} {{ case.monitor_name }}
  ケースID： {{ case.case_id }}  {{ case.case_url }}
{% endfor %}
詳細については各ケースのWebサイトをご確認ください。
"""
    + _SUPPRESSED_JA,
    body_html="",
)

DIGEST_EN = TemplateText(
    subject=(
        "[{{ count }} {% if category == 'recoveries' %}recovered{% else %}problems{% endif %}] "
        "{{ organization }} {{ window_start }} - {{ window_end }}"
    ),
    body_text="""Managed Cloud: {{ count }} {% if category == 'recoveries' %}problems recovered{% else %}problems detected{% endif %}.
Many notifications arrived within a short time, so they are listed together.

{% for case in cases %}- {{ case.occurred_at }} {{ case.severity }} {{ case.host_display_name|default:"-" }} {{ case.monitor_name }}
  Case {{ case.case_id }}: {{ case.case_url }}
{% endfor %}"""
    + _SUPPRESSED_EN,
    body_html="",
)

BUILT_IN = {
    ("case", "ja"): CASE_JA,
    ("case", "en"): CASE_EN,
    ("digest", "ja"): DIGEST_JA,
    ("digest", "en"): DIGEST_EN,
}


def ensure_default_templates(template_model: Any) -> None:
    """Create the default templates that are missing (the migration, and tests that flush)."""
    names = {"case": "Case mail", "digest": "Digest mail"}
    for (kind, language), text in BUILT_IN.items():
        template_model.objects.get_or_create(
            name=f"{names[kind]} ({language})",
            defaults={
                "kind": kind,
                "language": language,
                "is_default": True,
                "from_email": sender(language),
                **text,
            },
        )
