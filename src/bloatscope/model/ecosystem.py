"""The package ecosystems bloatscope reads: one name per kind of package database. Its own
module so that the command line can list them without loading the package model."""

from __future__ import annotations

import enum


class Ecosystem(enum.StrEnum):
    DPKG = "dpkg"
    APK = "apk"
    RPM = "rpm"
    PYTHON = "python"
    NPM = "npm"
    CONDA = "conda"
