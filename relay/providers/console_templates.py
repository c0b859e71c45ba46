"""The console provider's own templates, so that the simulator works offline: one
invitation in a few languages and the demo workflows' openings, in the shape the Cloud API
lists them."""

INVITATION = "relay_invite"
INVITATION_BODIES = {
    "en_US": "Hello! {{1}} sent you a message. Please reply here to read it.",
    "es": "¡Hola! {{1}} le envió un mensaje. Responda aquí para leerlo.",
    "fr": "Bonjour ! {{1}} vous a envoyé un message. Répondez ici pour le lire.",
    "de": "Hallo! {{1}} hat Ihnen eine Nachricht gesendet. Antworten Sie hier, um sie zu lesen.",
    "pt_BR": "Olá! {{1}} enviou uma mensagem para você. Responda aqui para ler.",
    "hi": "नमस्ते! {{1}} ने आपको एक संदेश भेजा है। उसे पढ़ने के लिए यहाँ जवाब दें।",
}

# Opening templates of the demo workflows: the aggregator, the booking, the other side's alias.
OPENINGS = {
    "new_booking": "Hello! {{1}} has a new booking for you: {{2}}, from {{3}}. "
    "Please reply here to confirm it.",
    "interview_match": "Hello! {{1}} has an interview request for you: {{2}}, with {{3}}. "
    "Please reply here to choose a time.",
    "buyer_feedback": "Hello! {{1}}: {{3}} sent feedback about {{2}}. Please reply here.",
    "new_inquiry": "Hello! {{1}} has a new inquiry for you: {{2}}, from {{3}}. "
    "Please reply here to answer.",
}

CATALOGUE = [
    {
        "id": f"console-{INVITATION}-{language}",
        "name": INVITATION,
        "language": language,
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}],
    }
    for language, body in INVITATION_BODIES.items()
] + [
    {
        "id": f"console-{name}-en_US",
        "name": name,
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}],
    }
    for name, body in OPENINGS.items()
]
