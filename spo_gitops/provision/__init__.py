"""The provision pipeline: compile entities into desired resources, plan against state and what
providers read back, save and check plan files, apply them, reconcile, partition."""
