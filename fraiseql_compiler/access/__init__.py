"""The access review: who can run each operation and what rows it then sees (``matrix``), what changed in
that between two manifests (``diff``), and both as text (``render``). It reads the manifest only."""
