"""Scripts (话术) are written once for every consultant: where the speaker says their own name the
text holds `SPEAKER`, and each reader sees their own name there."""

SPEAKER = "{顾问}"


def script_spoken_by(text: str, name: str) -> str:
    return text.replace(SPEAKER, name)
