"""Running handlers locally: event builders, the CLI's ``invoke`` and ``serve``."""
