"""Everything PySide6: the bridge from the engine, the main window, the wizard and the screens."""
