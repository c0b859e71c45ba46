"""Partners with their contacts. Contacts' real numbers go in and only come out masked."""

from rest_framework import serializers

from relay.fields import E164Field, LanguageField
from routing.models import Partner, PartnerContact


class PartnerContactCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = E164Field()
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    language = LanguageField(
        required=False,
        default="",
        help_text="What Switchboard writes to them in, e.g. es, pt-BR; else the pool's.",
    )


class PartnerCreateSerializer(serializers.ModelSerializer):
    contacts = PartnerContactCreateSerializer(many=True, required=False, default=list)

    class Meta:
        model = Partner
        fields = ["code", "name", "kind", "contacts"]

    def validate_contacts(self, contacts: list[dict]) -> list[dict]:
        phones = [contact["phone"] for contact in contacts]
        if len(phones) != len(set(phones)):
            raise serializers.ValidationError("the same phone number is listed twice")
        return contacts


class PartnerContactSerializer(serializers.ModelSerializer):
    masked_phone = serializers.CharField(source="contact.masked_identity", read_only=True)
    language = serializers.CharField(source="contact.language", read_only=True)

    class Meta:
        model = PartnerContact
        fields = ["id", "name", "role", "language", "masked_phone"]


class PartnerSerializer(serializers.ModelSerializer):
    contacts = PartnerContactSerializer(many=True, read_only=True)

    class Meta:
        model = Partner
        fields = ["id", "code", "name", "kind", "active", "contacts", "created_at"]
