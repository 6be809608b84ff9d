"""Hooks of the executed gallery (sphinx-gallery)."""


def reset_argv(gallery_conf, script_vars):
    """Every example runs in its quick mode at build time (each well under a minute)."""
    return ["--quick"]
