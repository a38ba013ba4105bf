"""Delivery: how each platform is reached. A connector chooses one of three strategies from its
settings (an import file the admin uploads, the platform's API, or the platform reading the MIS
itself); the core calls the strategy and never asks which it is."""

from provisioner.delivery.api import ApiDelivery
from provisioner.delivery.base import (
    CRASH_ENV, ApplyResult, CleanupResult, Delivery, IssuedBatch, Job, Progress, UnnamedSlips, crashpoint,
)  # fmt: skip
from provisioner.delivery.file_import import FileDelivery, FileImport, PasteSheet
from provisioner.delivery.mis_sync import MisSync
from provisioner.delivery.paperwork import cards_owed, early_cards, print_cards, slips_not_named

__all__ = [
    "CRASH_ENV", "ApiDelivery", "ApplyResult", "CleanupResult", "Delivery", "FileDelivery", "FileImport", "PasteSheet",
    "IssuedBatch", "Job", "MisSync", "Progress", "UnnamedSlips", "cards_owed", "crashpoint", "early_cards", "print_cards",
    "slips_not_named",
]  # fmt: skip
