"""Plugin discovery and the device registry.

Plugins are found through the entry-point group ``neuro.devices``; each entry point is loaded on
its own, so one that fails to import is recorded (distribution, version, error, a fix hint) and the
others still load. Environment switches:

- ``NEURO_STRICT_PLUGINS=1``: a plugin that fails to load raises instead of being recorded.
- ``NEURO_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (only the built-in ``ideal`` device
  and plugins registered with :func:`register_plugin`).
- ``NEURO_TRACE_HOOKS=1``: print every hook call and result to stderr (pluggy tracing).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .target import Target

ENTRY_POINT_GROUP = "neuro.devices"
HOOK_NAMES = tuple(name for name in dir(hookspecs) if name.startswith("neuro_"))


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DeviceInfo:
    """A registered device: what ``neuro_core.devices()`` returns per name."""

    name: str
    summary: str
    target: Target
    plugin: str
    distribution: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the Target included)."""
        return {
            "name": self.name,
            "summary": self.summary,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "target": self.target.to_dict(),
        }


@dataclass
class PluginInfo:
    """A plugin as discovery saw it: loaded (``error is None``) or not, with what it provides."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return dict(self.__dict__)


class Registry:
    """The plugin manager plus the map from device name to owning plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.devices: dict[str, DeviceInfo] = {}
        self.plugins: dict[str, PluginInfo] = {}
        self.conflicts: dict[str, list[DeviceInfo]] = {}
        self._owner: dict[str, object] = {}
        if _env_flag("NEURO_TRACE_HOOKS"):
            self.pm.trace.root.setwriter(sys.stderr.write)
            self.pm.enable_tracing()

    # -- loading ---------------------------------------------------------------------------------
    def load_entry_points(self, strict: bool | None = None) -> None:
        """Load every ``neuro.devices`` entry point, each on its own."""
        strict = _env_flag("NEURO_STRICT_PLUGINS") if strict is None else strict
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = entry_point.dist
            dist_name = dist.metadata["Name"] if dist is not None else "<unknown distribution>"
            version = dist.version if dist is not None else "?"
            try:
                plugin = entry_point.load()
                self.register(plugin, entry_point.name, dist_name, version)
            except Exception as exc:  # a broken plugin must not take the others down
                if strict:
                    raise PluginError(
                        f"plugin {entry_point.name!r} from {dist_name} {version} failed to load: {exc}"
                    ) from exc
                self.plugins[entry_point.name] = PluginInfo(
                    entry_point.name,
                    dist_name,
                    version,
                    error="".join(traceback.format_exception_only(type(exc), exc)).strip(),
                    hint=_fix_hint(exc, dist_name),
                )

    def register(self, plugin: object, name: str, distribution: str, version: str) -> None:
        """Register one plugin object and the devices it declares.

        Raises:
            PluginError: a misspelt hook (no such spec), or ``plugin`` raised while declaring devices.
                The plugin is unregistered again, so nothing of it stays half-loaded.
        """
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:  # a hook whose arguments do not match its spec
            raise PluginError(f"plugin {name!r} ({distribution} {version}) has an invalid hook: {exc}") from exc
        try:
            try:
                self.pm.check_pending()
            except pluggy.PluginValidationError as exc:
                raise PluginError(
                    f"plugin {name!r} ({distribution} {version}) implements a hook that does not exist: "
                    f"{exc}; known hooks: {', '.join(HOOK_NAMES)}"
                ) from exc
            declared: list[tuple[str, Target, str]] = []

            def register_device(device: str, target: Target, summary: str = "") -> None:
                if not isinstance(target, Target) or target.name != device:
                    raise PluginError(
                        f"plugin {name!r} registered device {device!r} with a Target named "
                        f"{getattr(target, 'name', target)!r}"
                    )
                declared.append((device, target, summary))

            others = [p for p in self.pm.get_plugins() if p is not plugin]
            self.pm.subset_hook_caller("neuro_register_devices", others)(register=register_device)
        except BaseException:
            self.pm.unregister(plugin)
            raise
        hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        info = PluginInfo(name, distribution, version, hooks=hooks)
        for device, target, summary in declared:
            entry = DeviceInfo(device, summary, target, name, distribution, version)
            if device in self.devices or device in self.conflicts:
                first = self.devices.pop(device, None)
                claims = self.conflicts.setdefault(device, [first] if first else [])
                claims.append(entry)
                self._owner.pop(device, None)
            else:
                self.devices[device] = entry
                self._owner[device] = plugin
            info.devices.append(device)
        self.plugins[name] = info

    # -- calling ---------------------------------------------------------------------------------
    def info(self, device: str) -> DeviceInfo:
        """The DeviceInfo of ``device``.

        Raises:
            DeviceNotFoundError: listing installed devices and suggesting a package.
            PluginError: two distributions claim the name.
        """
        from .errors import DeviceNotFoundError

        if device in self.conflicts:
            who = " and ".join(f"{c.distribution} (plugin {c.plugin!r})" for c in self.conflicts[device])
            raise PluginError(f"device {device!r} is registered by more than one plugin: {who}; uninstall one")
        if device not in self.devices:
            installed = ", ".join(sorted(self.devices)) or "none"
            family = device.split("-")[0]
            raise DeviceNotFoundError(
                f"no device named {device!r}; installed devices: {installed}. "
                f"If it is provided by a plugin, install it: pip install neuro-{family}"
            )
        return self.devices[device]

    def call(self, hook: str, device: str, **kwargs: Any) -> Any:
        """Call ``hook`` on the plugin that owns ``device`` (plus any wrappers of other plugins)."""
        info = self.info(device)
        owner = self._owner[device]
        caller = getattr(self.pm.hook, hook)
        others = [
            p
            for p in self.pm.get_plugins()
            if p is not owner
            and any(i.plugin is p and not i.wrapper and not i.hookwrapper for i in caller.get_hookimpls())
        ]
        result = self.pm.subset_hook_caller(hook, others)(device=device, target=info.target, **kwargs)
        if result is None:
            raise PluginError(f"plugin {info.plugin!r} ({info.distribution}) does not implement {hook} for {device!r}")
        return result

    def implements(self, hook: str, device: str) -> bool:
        """Whether the owner of ``device`` implements ``hook``."""
        owner = self._owner.get(device)
        return any(i.plugin is owner for i in getattr(self.pm.hook, hook).get_hookimpls())

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.devices))


def _fix_hint(exc: BaseException, distribution: str) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"a module it needs is missing: pip install {exc.name.split('.')[0]} (or reinstall {distribution})"
    if isinstance(exc, PluginError):
        return f"the plugin is incompatible with this neuro-core; upgrade {distribution} or report it to its authors"
    return f"reinstall or upgrade it (pip install -U {distribution}), or uninstall it (pip uninstall {distribution})"


_registry: Registry | None = None
_manual: list[tuple[object, str, str, str]] = []


def get_registry() -> Registry:
    """The process-wide registry, built on first use: the built-in ``ideal`` device, then entry
    points (unless ``NEURO_DISABLE_PLUGIN_AUTOLOAD``), then plugins from :func:`register_plugin`."""
    global _registry
    if _registry is None:
        from . import ideal

        registry = Registry()
        registry.register(ideal, "ideal", "neuro-core", _core_version())
        if not _env_flag("NEURO_DISABLE_PLUGIN_AUTOLOAD"):
            registry.load_entry_points()
        for args in _manual:
            registry.register(*args)
        _registry = registry
    return _registry


def register_plugin(plugin: object, name: str | None = None, distribution: str = "<local>", version: str = "0") -> None:
    """Register a plugin object by hand (tests, notebooks, plugins not installed as packages)."""
    name = name or str(getattr(plugin, "__name__", type(plugin).__name__))
    if _registry is not None:
        _registry.register(plugin, name, distribution, version)
    _manual.append((plugin, name, distribution, version))


def reset_registry() -> None:
    """Forget every plugin; the next use rediscovers them (for tests)."""
    global _registry
    _registry = None
    _manual.clear()


def _core_version() -> str:
    from . import __version__

    return __version__
