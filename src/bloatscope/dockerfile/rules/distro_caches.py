"""The cache rules of apk (BS106), yum (BS107), dnf (BS108) and zypper (BS109).

apk keeps its package index; yum, dnf and zypper keep repository metadata and packages."""

from __future__ import annotations

from bloatscope.dockerfile.rules.arguments import option_value, subcommand
from bloatscope.dockerfile.rules.cache_rule import CacheRule
from bloatscope.dockerfile.rules.runs import Call, absolute
from bloatscope.dockerfile.shell_commands import Command

_APK_VALUE_OPTIONS = frozenset(
    ("-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir")
) | frozenset(("--repositories-file",))


class ApkCache(CacheRule):
    id = "BS106"
    name = "apk-cache"
    hadolint = "DL3019"
    title = "apk's package index left in the layer"
    group = "apk"
    fix = (
        "Use `apk add --no-cache ...`: apk then keeps neither the index nor the packages (or "
        "mount the cache: `RUN --mount=type=cache,target=/var/cache/apk apk add ...`)."
    )

    def fills(self, call: Call) -> bool:
        found = subcommand(call.command, ("apk",), _APK_VALUE_OPTIONS)
        return (
            found is not None
            and found[0] in ("add", "update")
            and "--no-cache" not in call.command.args
        )

    def caches(self, call: Call) -> tuple[str, ...]:
        folder = option_value(call.command.args, "--cache-dir")
        return (absolute(folder or "/var/cache/apk", call.cwd),)

    def cleans(self, command: Command) -> bool:
        return False  # `apk cache clean` drops stale packages, not the index

    def describe(self, command: Command) -> str:
        found = subcommand(command, ("apk",), _APK_VALUE_OPTIONS)
        verb = found[0] if found else "add"
        return f"`apk {verb}` without `--no-cache` leaves the package index in this layer"


class _CleanAfterInstall(CacheRule):
    """yum, dnf and zypper keep repository metadata (and some packages) after installing."""

    cause = None  # the analysis has no kind for these caches yet: nothing to measure
    programs: tuple[str, ...]
    installs: frozenset[str]
    clean_words: tuple[frozenset[str], str]  # the clean-up subcommand, and the word it needs
    value_options: frozenset[str]
    cache_dirs: tuple[str, ...]

    def fills(self, call: Call) -> bool:
        found = subcommand(call.command, self.programs, self.value_options)
        return found is not None and found[0] in self.installs

    def caches(self, call: Call) -> tuple[str, ...]:
        return self.cache_dirs

    def cleans(self, command: Command) -> bool:
        found = subcommand(command, self.programs, self.value_options)
        subcommands, needed = self.clean_words
        return found is not None and found[0] in subcommands and (not needed or needed in found[1])

    def describe(self, command: Command) -> str:
        found = subcommand(command, self.programs, self.value_options)
        return (
            f"`{command.name} {found[0] if found else 'install'}` leaves the repository "
            f"metadata and package cache ({self.cache_dirs[0]}) in this layer: nothing after "
            "it in this RUN cleans them"
        )


_RPM_VALUE_OPTIONS = frozenset(
    ("-c", "--config", "-d", "--debuglevel", "-e", "--errorlevel", "-x", "--exclude")
) | frozenset(("--enablerepo", "--disablerepo", "--installroot", "--releasever", "--setopt"))
_RPM_INSTALLS = frozenset(
    ("install", "groupinstall", "localinstall", "reinstall", "update", "upgrade", "downgrade")
)


class YumCleanup(_CleanAfterInstall):
    id = "BS107"
    name = "yum-cleanup"
    hadolint = "DL3032"
    title = "yum's metadata and cache left in the layer"
    programs = ("yum",)
    installs = _RPM_INSTALLS
    clean_words = (frozenset(("clean",)), "all")
    value_options = _RPM_VALUE_OPTIONS
    cache_dirs = ("/var/cache/yum",)
    fix = (
        "Mount the cache: `RUN --mount=type=cache,target=/var/cache/yum yum install -y ...`; or "
        "end this RUN with `&& yum clean all && rm -rf /var/cache/yum`."
    )


class DnfCleanup(_CleanAfterInstall):
    id = "BS108"
    name = "dnf-cleanup"
    hadolint = "DL3040"
    title = "dnf's metadata and cache left in the layer"
    programs = ("dnf", "dnf5", "microdnf")
    installs = _RPM_INSTALLS | frozenset(("in", "up", "rei", "distro-sync"))
    clean_words = (frozenset(("clean",)), "all")
    value_options = _RPM_VALUE_OPTIONS
    # dnf 4 and microdnf, then dnf 5 (Fedora 41 on)
    cache_dirs = ("/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5")
    fix = (
        "Mount the cache: `RUN --mount=type=cache,target=/var/cache/dnf dnf install -y ...`; or "
        "end this RUN with `&& dnf clean all`."
    )


class ZypperCleanup(_CleanAfterInstall):
    id = "BS109"
    name = "zypper-cleanup"
    hadolint = "DL3036"
    title = "zypper's metadata and cache left in the layer"
    programs = ("zypper",)
    installs = frozenset(("install", "in", "update", "up", "patch", "source-install", "si"))
    clean_words = (frozenset(("clean", "cc")), "")
    value_options = frozenset(("-R", "--root", "-c", "--config", "-D", "--reposd-dir")) | (
        frozenset(("-C", "--cache-dir", "--raw-cache-dir", "--solv-cache-dir", "--pkg-cache-dir"))
    )
    cache_dirs = ("/var/cache/zypp",)
    fix = (
        "Mount the cache: `RUN --mount=type=cache,target=/var/cache/zypp zypper install -y "
        "...`; or end this RUN with `&& zypper clean --all`."
    )
