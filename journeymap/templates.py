"""Built-in journey map templates and the blank starting map.

Templates are versioned map documents (``data/templates/<id>.json``, written by
:func:`journeymap.model.map_to_json`), one per industry journey. Each is a clean map:
every touchpoint reachable from the first stage, no dead ends apart from designated
final touchpoints, no empty stage, and a few deliberate silo handoffs (carry ``none``)
whose transition notes explain what the customer loses at the switch.

The template id is the file name without ``.json``; only ids of files present in the
template folder are accepted, so an id can never point outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from journeymap.errors import UserInputError
from journeymap.model import DEFAULT_STAGES, JourneyMap, Stage, map_from_json, validation_error_to_user_error

__all__ = [
    "DEFAULT_STAGE_IDS",
    "TEMPLATE_DIR",
    "TemplateInfo",
    "blank_map",
    "list_templates",
    "load_template",
]

TEMPLATE_DIR: Path = Path(__file__).resolve().parents[1] / "data" / "templates"

# Stage ids shared by the blank map and every template, so maps stay comparable stage by
# stage even where a template renames the fourth stage ("Stay", "Service & support").
DEFAULT_STAGE_IDS = ("awareness", "consideration", "purchase", "service", "loyalty")


@dataclass(frozen=True)
class TemplateInfo:
    """What a template picker shows before a template is opened."""

    id: str
    name: str
    description: str
    touchpoints: int
    channels: int
    transitions: int


def _template_files(directory: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(directory.glob("*.json")) if path.is_file()}


def _read_template(path: Path) -> JourneyMap:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise UserInputError(
            f"cannot be read ({exc.strerror})",
            source=f"template {path.name}",
            hint="Check that the file is readable.",
        ) from None
    return map_from_json(text, source=f"template {path.name}")


def list_templates(*, directory: Path = TEMPLATE_DIR) -> list[TemplateInfo]:
    """The available templates with their sizes, sorted by name.

    Parameters
    ----------
    directory:
        Folder holding the template documents; the built-in folder by default.

    Returns
    -------
    list of TemplateInfo
        One entry per ``*.json`` document, sorted by name (then id).

    Raises
    ------
    UserInputError
        When a document in the folder is not a valid map (the message names the file).

    Examples
    --------
    >>> info = {t.id: t for t in list_templates()}["retail-bopis"]
    >>> info.name, info.touchpoints, info.transitions
    ('Retail: buy online, pick up in store', 25, 36)
    """
    infos = []
    for template_id, path in _template_files(directory).items():
        journey_map = _read_template(path)
        infos.append(
            TemplateInfo(
                id=template_id,
                name=journey_map.name,
                description=journey_map.description,
                touchpoints=len(journey_map.touchpoints),
                channels=len(journey_map.channels),
                transitions=len(journey_map.transitions),
            )
        )
    return sorted(infos, key=lambda info: (info.name.casefold(), info.id))


def load_template(template_id: str, *, directory: Path = TEMPLATE_DIR) -> JourneyMap:
    """The template with the given id, as a new map.

    Parameters
    ----------
    template_id:
        A template id as listed by :func:`list_templates` (``"retail-bopis"``).
    directory:
        Folder holding the template documents; the built-in folder by default.

    Raises
    ------
    UserInputError
        For an unknown id (the message names it and lists the known ones), or a
        template document that is not a valid map.

    Examples
    --------
    >>> m = load_template("telecom-support")
    >>> [s.name for s in m.stages]
    ['Awareness', 'Consideration', 'Purchase', 'Service & support', 'Loyalty']
    >>> load_template("pet-shop")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: templates: unknown template 'pet-shop'. Choose one of: ...
    """
    files = _template_files(directory)
    path = files.get(template_id)
    if path is None:
        known = ", ".join(files) or "(none installed)"
        raise UserInputError(
            f"unknown template '{template_id}'",
            source="templates",
            hint=f"Choose one of: {known}.",
        )
    return _read_template(path)


def blank_map(name: str) -> JourneyMap:
    """A new map with the five default stages and no channels, touchpoints or transitions.

    Raises
    ------
    UserInputError
        When the name is empty or longer than 200 characters (the message names the field).

    Examples
    --------
    >>> m = blank_map("Claims journey")
    >>> [(s.id, s.name) for s in m.stages][3]
    ('service', 'Onboarding/Service')
    >>> len(m.touchpoints), len(m.channels)
    (0, 0)
    """
    stages = tuple(
        Stage(id=stage_id, name=stage_name)
        for stage_id, stage_name in zip(DEFAULT_STAGE_IDS, DEFAULT_STAGES, strict=True)
    )
    try:
        return JourneyMap(name=name, stages=stages)
    except ValidationError as exc:
        error = validation_error_to_user_error(exc, source="new map")
        raise UserInputError(
            error.problem,
            source=error.source,
            location=error.location,
            hint="Give the map a name of 1 to 200 characters.",
        ) from None
