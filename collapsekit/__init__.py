"""collapsekit."""
