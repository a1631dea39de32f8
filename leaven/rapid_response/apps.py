from django.apps import AppConfig


class RapidResponseConfig(AppConfig):
    name = "leaven.rapid_response"
    label = "rapid_response"
    verbose_name = "Rapid response"

    def ready(self) -> None:
        from leaven.messaging.services import reply_handler_register
        from leaven.messaging.services_retention import (
            inbound_hold_register,
            retention_hold_register,
        )
        from leaven.rapid_response.selectors import held_answer_texts, held_message_prefixes
        from leaven.rapid_response.services import alert_answer_by_text

        # A responder may answer an alert by texting back 1 or 2.
        reply_handler_register(alert_answer_by_text)
        # Alerts about an incident under a legal hold keep their texts while it lasts.
        retention_hold_register(held_message_prefixes)
        # So do the texts that answer them.
        inbound_hold_register(held_answer_texts)
