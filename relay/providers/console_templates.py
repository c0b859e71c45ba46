"""The console provider's own templates, so that the simulator works offline: one
invitation in a few languages, in the shape the Cloud API lists them."""

INVITATION = "relay_invite"
INVITATION_BODIES = {
    "en_US": "Hello! {{1}} sent you a message. Please reply here to read it.",
    "es": "¡Hola! {{1}} le envió un mensaje. Responda aquí para leerlo.",
    "fr": "Bonjour ! {{1}} vous a envoyé un message. Répondez ici pour le lire.",
    "de": "Hallo! {{1}} hat Ihnen eine Nachricht gesendet. Antworten Sie hier, um sie zu lesen.",
    "pt_BR": "Olá! {{1}} enviou uma mensagem para você. Responda aqui para ler.",
    "hi": "नमस्ते! {{1}} ने आपको एक संदेश भेजा है। उसे पढ़ने के लिए यहाँ जवाब दें।",
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
]
