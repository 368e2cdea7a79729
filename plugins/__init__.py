"""NoneBot plugins, one per capability. Each registers commands into bot.commands."""
