"""Settings by concern, each a class reading ``HUMANSEG_*`` environment variables.

``load_settings`` builds all of them at once (with overrides, e.g. command-line flags) into a
``Settings``; each part goes to what reads it.
"""

from humanseg.settings.access import AccessSettings
from humanseg.settings.fields import default_model_dir
from humanseg.settings.loading import (
    CONCERNS,
    InvalidSettings,
    Settings,
    load_settings,
    setting_fields,
)
from humanseg.settings.pipeline import PipelineSettings
from humanseg.settings.ray import RaySettings
from humanseg.settings.server import ServerSettings
from humanseg.settings.sources import SourceSettings
from humanseg.settings.video import VideoSettings

__all__ = [
    "CONCERNS",
    "AccessSettings",
    "InvalidSettings",
    "PipelineSettings",
    "RaySettings",
    "ServerSettings",
    "Settings",
    "SourceSettings",
    "VideoSettings",
    "default_model_dir",
    "load_settings",
    "setting_fields",
]
