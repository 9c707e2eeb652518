"""Helpers only; nothing is decorated."""


def slugify(title: str) -> str:
    return title.lower().replace(" ", "-")
