"""Import and export pages (filled in below)."""
